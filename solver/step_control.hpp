#pragma once
/// \file step_control.hpp
/// Error norm and step-size control shared by the adaptive steppers (stepper.cpp,
/// region_stepper.cpp).
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <string>

namespace kktflow {

/// max_i |err_i| / (abs + rel · max(|x_i|, |out_i|)), odeint's and Hairer's error norm.
inline double error_norm(const Eigen::VectorXd& x, const Eigen::VectorXd& out, const Eigen::VectorXd& err,
                         double abs_tol, double rel_tol) {
  double e = 0;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    e = std::max(e, std::abs(err[i]) / (abs_tol + rel_tol * std::max(std::abs(x[i]), std::abs(out[i]))));
  return e;
}

/// max_i |err_i| / (abs + rel · max(‖x‖_∞, ‖out‖_∞)): the error relative to the state's size
/// instead of each component's. For θ, whose direction is what a run is after, a local error e
/// moves the direction by ‖e‖/‖θ‖ whatever component it sits in; and late, the rounding of the
/// margins (u q, amplified by cancellation in the forward pass) reaches every component of a
/// step at u‖θ‖, which a per-component bound on components far below ‖θ‖ cannot tell from
/// truncation error (margin_ros_stepper.hpp).
inline double normwise_error_norm(const Eigen::VectorXd& x, const Eigen::VectorXd& out, const Eigen::VectorXd& err,
                                  double abs_tol, double rel_tol) {
  const double size = std::max(x.lpNorm<Eigen::Infinity>(), out.lpNorm<Eigen::Infinity>());
  return err.lpNorm<Eigen::Infinity>() / (abs_tol + rel_tol * size);
}

/// Step-size controller with PI stabilisation (Hairer, Nørsett & Wanner I, §II.4, and the DOPRI5
/// code: β = 0.04). Late in a run the step is limited by stability, not accuracy, and a plain
/// controller then alternates accept/reject; the integral term damps that oscillation.
class StepController {
 public:
  /// `error_order`: the order of the embedded error estimate's leading term minus one.
  explicit StepController(int error_order) : m_k(error_order + 1) {}

  double next(double dt, double err, bool accepted) {
    if (!std::isfinite(err)) return dt * 0.2;
    if (!accepted) {
      m_just_rejected = true;
      return dt * std::max(0.2, 0.9 * std::pow(err, -1.0 / m_k));
    }
    constexpr double beta = 0.04;
    const double e = std::max(err, 1e-10);
    double factor = 0.9 * std::pow(e, -(1.0 / m_k - 0.75 * beta)) * std::pow(m_err_old, beta);
    factor = std::clamp(factor, 0.2, m_just_rejected ? 1.0 : 5.0);
    m_err_old = std::max(err, 1e-4);
    m_just_rejected = false;
    return dt * factor;
  }
  void reset() {
    m_err_old = 1e-4;
    m_just_rejected = false;
  }
  /// The controller's memory (last error, whether the last attempt was rejected), for a checkpoint.
  Eigen::Vector2d memory() const { return {m_err_old, m_just_rejected ? 1.0 : 0.0}; }
  void restore(const Eigen::Vector2d& memory) {
    m_err_old = memory[0];
    m_just_rejected = memory[1] != 0;
  }

 private:
  int m_k;
  double m_err_old = 1e-4;
  bool m_just_rejected = false;
};

/// StepController memory from a checkpoint's stepper memory; throws std::invalid_argument
/// unless it holds exactly the controller's two values.
Eigen::Vector2d controller_memory(const Eigen::VectorXd& memory);

/// A stepper's memory that keeps more than its controller: the controller's two values, then `tail`.
Eigen::VectorXd memory_with_controller(const StepController& control, const Eigen::VectorXd& tail);
/// Restores `control` from such a memory and returns its tail; throws std::invalid_argument, with
/// `what` naming what the tail should hold, when there are fewer than two values.
Eigen::VectorXd restore_controller(StepController& control, const Eigen::VectorXd& memory, const std::string& what);

}  // namespace kktflow
