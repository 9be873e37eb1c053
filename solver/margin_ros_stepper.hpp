#pragma once
/// \file margin_ros_stepper.hpp
/// `margin_ros2`, `margin_ros3`: the late-phase methods for models whose margins are not linear in
/// the state (every model in θ coordinates: two_layer_leaky, deep, linear; FullCoordinates).
/// A Rosenbrock W-method on the flow itself, dθ/dν = f(θ), in Hairer & Wanner's transformed form
/// (Solving ODEs II, §IV.7, (7.25)–(7.27)), which needs no products with the matrix:
///   (1/(hγ)) W u_i = f(θ0 + Σ_{j<i} a_ij u_j) + Σ_{j<i} (c_ij/h) u_j,   i = 1..s,
///   θ1 = θ0 + Σ m_i u_i,   error estimate Σ e_i u_i,
/// with W = I − γh s G P Gᵀ at θ0 (margin_woodbury.hpp): the rank-n stiff part of the field's
/// Jacobian, taken exactly and inverted through Woodbury with n × n work; the curvature term
/// Σ w_i ∇²q_i is left out, which a W-method allows at no loss of order. s is
/// FlowSystem::velocity_scale. Two tableaus:
///   margin_ros2: ROS2 (Verwer, Spee, Blom & Hundsdorfer, SIAM J. Sci. Comput. 20, 1999): two
///                stages, order 2 for any W, L-stable, an order-1 embedded estimate;
///   margin_ros3: ROS34PW2 (Rang & Angermann, BIT Numer. Math. 45, 2005, 761–787): four stages,
///                order 3 for any W, L-stable and stiffly accurate, an order-2 embedded estimate.
/// A step costs the n margin gradients at θ0 (n VJPs, counted as n RHS evaluations), s − 1 RHS at
/// the stages and the RHS at θ1 the driver needs.
///
/// Late in a run the support margins rise together, which P annihilates, so W⁻¹ f ≈ f and the
/// error estimate measures only the drift of the direction and the weights: in normalized time
/// (flow_system.hpp) the field depends on θ only through its direction and θ grows linearly, so
/// the step grows ∝ σ, as region_ros2's grows ∝ τ on the span chart. In loss time with L = 2, θ
/// grows like e^{2γτ}, and the embedded estimate keeps the step at O(tol^{1/p}/γ)
/// (bench/late_phase_models measures both).
///
/// No frozen pattern is needed: the driver locates switches as for the explicit methods, and
/// holds sliding pairs, whose margin gradients carry their Filippov projection
/// (MarginSystem::margin_gradients).
#include "margin_woodbury.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

#include <vector>

namespace kktflow {

/// A Rosenbrock W-method in the transformed form above, from its published (α, Γ, b, b̂):
/// a = α Γ⁻¹, c = diag(Γ)⁻¹ − Γ⁻¹, m = bᵀ Γ⁻¹, e = (b − b̂)ᵀ Γ⁻¹ (Hairer & Wanner II, (7.26)).
struct RosenbrockTableau {
  int order = 0;         ///< of the method, for any W
  double gamma = 0;      ///< Γ's diagonal
  Eigen::MatrixXd a, c;  ///< s × s, strictly lower
  Eigen::VectorXd m, e;

  static RosenbrockTableau ros2();
  static RosenbrockTableau ros34pw2();
  Eigen::Index stages() const { return m.size(); }

  /// Buffers of one step's stages.
  struct Work {
    std::vector<Eigen::VectorXd> u;
    Eigen::VectorXd stage, rhs, f;
  };
  /// The stages of a step of size dt from x, whose first stage takes the velocity f0:
  /// velocity(y, f) evaluates a later stage's field, solve(rhs, u) applies W⁻¹; out = x + Σ m_i u_i
  /// and err = Σ e_i u_i.
  template <class Velocity, class Solve>
  void step(const Eigen::VectorXd& x, const Eigen::VectorXd& f0, double dt, Velocity&& velocity, Solve&& solve, Work& w,
            Eigen::VectorXd& out, Eigen::VectorXd& err) const {
    const double hg = gamma * dt;
    w.u.resize(static_cast<std::size_t>(stages()));
    w.f.resize(x.size());
    out = x;
    err.setZero(x.size());
    for (Eigen::Index i = 0; i < stages(); ++i) {
      if (i == 0) {
        w.rhs = f0;
      } else {
        w.stage = x;
        for (Eigen::Index j = 0; j < i; ++j) w.stage += a(i, j) * w.u[static_cast<std::size_t>(j)];
        velocity(w.stage, w.f);
        w.rhs = w.f;
      }
      for (Eigen::Index j = 0; j < i; ++j) w.rhs += (c(i, j) / dt) * w.u[static_cast<std::size_t>(j)];
      Eigen::VectorXd& u_i = w.u[static_cast<std::size_t>(i)];
      solve(w.rhs, u_i);
      u_i *= hg;
      out += m[i] * u_i;
      err += e[i] * u_i;
    }
  }
};

class MarginRosenbrock final : public ControlledStepper {
 public:
  MarginRosenbrock(const StepperOptions& options, RosenbrockTableau tableau)
      : ControlledStepper(options, tableau.order - 1), m_tableau(std::move(tableau)) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  /// Also forgets G: the driver resets a stepper when the field changed (sliding set, pattern).
  void reset() override {
    m_control.reset();
    m_x_linearized.resize(0);
  }
  /// Normalized time, where θ grows linearly late (flow_system.hpp; bench/late_phase_models).
  StepperTraits traits() const override {
    return {
        .category = StepperCategory::linearly_implicit, .order = m_tableau.order, .time_mode = TimeMode::normalized};
  }

 private:
  /// q, G, K and the margins' resolution at x (slow_manifold.hpp).
  void gradients_at(FlowSystem& sys, const Eigen::VectorXd& x);
  /// f = s G λ with λ the slow manifold's weights at x.
  void slow_velocity(FlowSystem& sys, const Eigen::VectorXd& x, Eigen::VectorXd& f);
  /// Everything a step from x needs before its stages; the attempts after a rejection reuse it.
  void linearize(FlowSystem& sys, const Eigen::VectorXd& x);
  /// The flow's velocity at a stage: the loss's, or the slow one where the step follows the slow
  /// manifold (follows_slow_manifold).
  void stage_velocity(FlowSystem& sys, const Eigen::VectorXd& y, double tau, Eigen::VectorXd& f);
  /// The local error's part in the differences of the margins that carry weight (its effect on
  /// log w), against kMarginTol.
  double margin_difference_error();

  RosenbrockTableau m_tableau;
  MarginWoodbury m_woodbury;
  Eigen::VectorXd m_x_linearized;  ///< where G was taken (empty: nowhere yet)
  double m_scale = 1;              ///< FlowSystem::velocity_scale at m_x_linearized
  double m_resolution = 1;         ///< slow_manifold.hpp's margin_resolution at the last gradients_at
  double m_tie_resolution = 1;     ///< and its step_resolution, at which the slow weights tie margins
  bool m_slow = false;             ///< the step from m_x_linearized follows the slow manifold (follows_slow_manifold)
  Eigen::MatrixXd m_G, m_K;
  Eigen::VectorXd m_q, m_w, m_v, m_f0;
  RosenbrockTableau::Work m_work;
  Eigen::VectorXd m_err, m_dq;
};

}  // namespace kktflow
