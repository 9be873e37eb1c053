#pragma once
/// \file region_stepper.hpp
/// `region_ros2`, `region_ros3`: region-wise reduction, integrated by a linearly implicit
/// L-stable method (ROS2 below, or ROS34PW2 of order 3, region_margins.hpp's RegionTableau).
/// The late-phase stepper (docs/method.md, "Late phase").
///
/// Inside an activation region (pattern frozen, sliding set fixed: FrozenPattern) the margins
/// are affine in the state and the ascent is linear in the loss weights, so from a state x0 with
/// margins q0 the loss-time flow dx/dτ = ascent(w(q)) is exactly
///   x(τ0 + σ) = x0 + region_ascent(c(σ)),   dc/dσ = w(q0 + K c),   c(0) = 0,
/// with K = region_gram() (n × n). Late in a run this n-dimensional ODE is stiff: the weights
/// equalize the support margins at rate ~‖K‖ while the direction creeps like 1/τ, so an explicit
/// method's step stays O(1/‖K‖) and τ = 1e10 costs ~1e10 steps. We take ROS2 (Verwer, Spee,
/// Blom & Hundsdorfer, SIAM J. Sci. Comput. 20, 1999): two stages, order 2 for any Jacobian
/// (a W-method), L-stable, γ = 1 + 1/√2:
///   (I − γhJ) k1 = f(c0),   (I − γhJ) k2 = f(c0 + h k1) − 2 k1,
///   c1 = c0 + (3/2) h k1 + (1/2) h k2,   error estimate c1 − (c0 + h k1) = (h/2)(k1 + k2),
/// with J = (∂w/∂q)(q0) K. Late, w is nearly constant and J w ≈ 0 (softmax is blind to a
/// common shift of the support margins), so the estimate shrinks and the controller's step
/// grows ∝ τ by itself: a log clock without a change of variable. (Stepping in s = log(1 + τ)
/// instead measured 20× more steps to log t = 1e6 on the demo: there c ∝ e^s is curved and the
/// first-order embedded estimate charges for it.)
///
/// In a type wider than double the margins are carried from step to step (region_margins.hpp)
/// and restarted from the state only when the region changes, so the state's rounding never
/// reaches the weights. In double they are taken from the state at every step: carried in
/// double they gather a rounding of u‖q‖ a step, and on frei2023_outside that broke the run
/// down at log t ≈ 6e12 (290 000 steps, ε_KKT back to 3e-2), while taken from the state their
/// error stays at u‖θ‖ times the margins' condition.
///
/// A step costs two weight evaluations and an n × n LU (n samples), two region ascents and the
/// one full right-hand side at its end that the driver needs to locate switches. It needs the
/// driver to freeze the pattern (DriverOptions::freeze_pattern) and a system with
/// FrozenPattern; the driver resets the stepper whenever the pattern or the sliding set
/// changes, which is when K is recomputed.
#include "region_margins.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

#include <memory>

namespace kktflow {

class RegionRosenbrock final : public Stepper {
 public:
  explicit RegionRosenbrock(const StepperOptions& options, const RegionTableau& tableau = RegionTableau::ros2())
      : m_opt(options),
        m_order(tableau.order),
        m_control(tableau.order - 1),
        m_margins(make_region_margins(options.precision, tableau)),
        m_carry_margins(!(options.precision == Precision{})) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  void reset() override {
    m_control.reset();
    m_have_gram = false;
    m_margins->clear();
  }
  /// The controller's memory and the carried margins. K is a function of the frozen pattern and
  /// sliding set, which the driver restores, so it is recomputed on the first step.
  Eigen::VectorXd memory() const override;
  void restore_memory(const Eigen::VectorXd& memory) override;
  StepperTraits traits() const override {
    return {.category = StepperCategory::region, .order = m_order, .abs_tol = m_opt.abs_tol, .rel_tol = m_opt.rel_tol};
  }

 private:
  /// The velocity at a step's end x, for the driver: the flow's, except where the step follows
  /// the slow manifold (slow_manifold.hpp) with pairs held, where the loss's weights at x carry
  /// the step's error and the held slopes, read off them by the driver's release test, would too.
  void end_velocity(FlowSystem& sys, const Eigen::VectorXd& x, double tau, Eigen::VectorXd& f);

  StepperOptions m_opt;
  int m_order;
  StepController m_control;
  std::unique_ptr<RegionMargins> m_margins;
  bool m_carry_margins;
  bool m_have_gram = false;
  Eigen::MatrixXd m_K;
  Eigen::VectorXd m_q0, m_c, m_c_err, m_dx, m_dx_err, m_q_end, m_theta_c;
};

}  // namespace kktflow
