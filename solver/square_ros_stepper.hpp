#pragma once
/// \file square_ros_stepper.hpp
/// The square-loss flow's stiff-phase method: ROS34PW2 (Rang & Angermann, BIT Numer. Math. 45,
/// 2005, 761–787; four stages, order 3 for any W, L-stable, an order-2 embedded estimate) on
/// dθ/dt = f(θ) = −∇L(θ) in plain time, in the transformed form of margin_ros_stepper.hpp, with
/// W = I − hγ J and J the field's whole Jacobian at θ0 (−∇²L, with held pairs' sliding), by
/// forward differences of f, dense: dim f evaluations and a dim × dim LU a step.
///
/// Why: near a stationary point of positive loss the flow decays at rates set by ∇²L (Timor's
/// §3.2 data: ≈ 0.995 and 1.005 at L = 1/4), and dopri5's step grows until h λ_max reaches its
/// real-axis stability bound ≈ 3.3. There |R(hλ_max)| = 1: the fast mode neither decays nor grows
/// and ‖∇L‖ stays at the level it had when the bound was reached (measured: 2e-12 to 3e-11 for 20
/// of the 288 seeds, 20 000 steps at h = 3.29, t ≈ 6.5e4). An L-stable method damps it at any h
/// (R(∞) = 0), so ‖∇L‖ keeps falling. Why the whole J and not the Gauss–Newton part G Gᵀ/n that
/// margin_woodbury.hpp would invert cheaply: at those points the residual is O(1) and so is the
/// curvature term Σ_i r_i ∇²F_i (∇²L's nonzero eigenvalues 0.995, 1.005 against G Gᵀ/n's 0.5,
/// 0.5, 1.0), and ROS34PW2 with that W amplifies the mode by up to 6.5 per step as h → ∞
/// (measured), where with J it damps it.
#include "margin_ros_stepper.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

namespace kktflow {

class SquareRosenbrock final : public ControlledStepper {
 public:
  explicit SquareRosenbrock(const StepperOptions& options)
      : ControlledStepper(options, 2), m_tableau(RosenbrockTableau::ros34pw2()) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  /// Also forgets J: the driver resets a stepper when the field changed (sliding set, pattern).
  void reset() override {
    m_control.reset();
    m_x_linearized.resize(0);
  }
  StepperTraits traits() const override { return {.category = StepperCategory::linearly_implicit, .order = 3}; }

 private:
  /// J at x (velocity dxdt there), by forward differences.
  void linearize(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau);

  RosenbrockTableau m_tableau;
  Eigen::VectorXd m_x_linearized;  ///< where J was taken (empty: nowhere yet)
  Eigen::MatrixXd m_J;
  Eigen::PartialPivLU<Eigen::MatrixXd> m_lu;
  RosenbrockTableau::Work m_work;
  Eigen::VectorXd m_stage, m_f, m_err;  ///< the finite differences' point and field; the error estimate
};

}  // namespace kktflow
