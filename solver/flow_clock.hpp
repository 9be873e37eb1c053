#pragma once
/// \file flow_clock.hpp
/// The run's clock, log t, kept in its RunState and advanced once per accepted step.
///
///  - Plain time (flow.time = "t"): the integration variable is t, so log t = log(τ).
///  - Loss time (flow.time = "loss"): t = ∫ e^{−log L} dτ, integrated over each step by the
///    quadratic through log L at the step's ends and its midpoint (log_clock.hpp). The midpoint
///    value comes from the stepper when it knows it (a method whose steps cross switches), else
///    from the step's cubic Hermite interpolant: with the activation pattern frozen the margins
///    are affine in the state, so q at the midpoint is (q0 + q1)/2 + dt/8 (q̇0 − q̇1) exactly,
///    from the margins and their velocities at the ends; otherwise the margins are evaluated at
///    the interpolant's midpoint (one evaluation, counted as a right-hand side).
///  - Normalized time (flow.time = "normalized", or a late-phase method that takes it): the same
///    quadrature of t = ∫ e^{−ℓ} dσ with the exponent ℓ = log L + (L − 1) log ‖θ‖
///    (FlowSystem::clock_exponent).
/// Past |log t| = 2^45 log t's ulp no longer resolves its O(log log t) offset from −ℓ, and the
/// rate the record cap needs is taken as −dℓ/dν instead (FlowSystem::clock_exponent_rate).
#include "flow_system.hpp"
#include "log_clock.hpp"

namespace kktflow {

class FlowClock {
 public:
  /// `log_t` is the run state's clock, which this advances.
  FlowClock(FlowSystem& system, double& log_t) : m_sys(system), m_log_t(log_t) {}

  double log_t() const { return m_log_t; }
  /// log(d log t/dν) at x with velocity dxdt and log L = log_loss: −ℓ − log t (ℓ =
  /// FlowSystem::clock_exponent; log L in loss time), −log t in t.
  double log_rate(double log_loss, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt) const;
  /// Makes `mode` the integration variable ν of the system (the same curve and clock); returns
  /// the ratio of the new velocity at x to the old, so dν_new = dν_old / ratio.
  double change_variable(TimeMode mode, const Eigen::VectorXd& x);

  /// The pattern the run holds frozen (nullptr: none); sizes the scratch vectors.
  void attach(FrozenPattern* pattern);
  /// Before a step from x with velocity dxdt: with a frozen pattern, takes q and q̇ at x once per
  /// step (the products at x are still memoised here).
  void prepare_step(const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt);
  /// The state moved (an accepted step): prepare_step must take q and q̇ again.
  void state_moved() { m_start_fresh = false; }
  /// Advances log t over the accepted step x0 → x1 of size dt from τ = tau0 (velocities f0, f1,
  /// log L l0, l1). `known_mid` is log L at the step's middle where the stepper knows it, NaN
  /// otherwise.
  void advance(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
               const Eigen::VectorXd& f1, double l0, double l1, double dt, double tau0, double known_mid);

 private:
  /// The clock's exponent ℓ at the step's cubic Hermite midpoint.
  double midpoint_exponent(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                           const Eigen::VectorXd& f1, double dt);

  FlowSystem& m_sys;
  double& m_log_t;
  FrozenPattern* m_pattern = nullptr;
  bool m_start_fresh = false;  ///< m_q_start and m_dq_start are at the step's start and pattern
  Eigen::VectorXd m_q_start, m_q_end, m_dq_start, m_dq_end, m_q_mid;
};

}  // namespace kktflow
