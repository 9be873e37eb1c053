#pragma once
/// \file switch_batch_stepper.hpp
/// `switch_batch`: the early-phase method of the span chart (leaky2_span.hpp) when switches are
/// many. An event-driven step ends at every activation switch, and the early phase of a
/// small-init run has O(m n) of them (bench/scale at (n, d, m) = (1000, 10000, 1000): ~5e5), so
/// its step count is the switch count. This method takes hundreds of switches in one step.
///
/// Structure (loss time, dC_ji/dτ = a_j φ'_ji y_i w_i(τ)): the neurons couple only through the n
/// loss weights w(τ), and given their path over a step NeuronSweeps (neuron_sweeps.hpp) steps
/// every neuron through its own switches and sliding onsets. Here:
///  1. w on [0, h] is the quadratic through w(0), w(h/2), w(h) (3-stage Lobatto IIIA collocation,
///     order 4): W = ∫w is a cubic, and the sweeps' coefficients take two products with Γ.
///  2. The sweeps give the margins at h/2 and 1, hence new weights there; the step is iterated to
///     a fixed point in w (Picard, from the weights' first-order Taylor polynomial; converged when
///     the change moves C(h) by ≤ 3e-2 of the error norm). Picard contracts only while
///     h‖J‖ ≲ 1: where the weights are stiff, switch_radau (Newton) is the method.
///  3. The error estimate is Simpson's rule against the trapezoid rule for W(h), mapped to C.
/// The driver's capture test takes the pairs the step held (StepAttempt::held) at its
/// end; releases are the driver's, at the step's end. Needs the driver to freeze the pattern; the
/// driver moves its pattern on to every pair whose side changed over the step, and reports those
/// switches at the step's end.
#include "neuron_sweeps.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

#include <vector>

namespace kktflow {

class Leaky2Span;

class SwitchBatch final : public ControlledStepper {
 public:
  explicit SwitchBatch(const StepperOptions& options) : ControlledStepper(options, 2) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  StepperTraits traits() const override { return {StepperCategory::switch_resolving, 4}; }

 private:
  /// The weights' quadratic on the step: W(u h) = h (u b1 + u² b2 + u³ b3).
  void set_weight_cubic();
  /// G = region_ascent(w) Γ for the current wm, w1 (G0 is fixed for the step).
  void node_products(Leaky2Span& span);
  /// Steps every neuron through its switches and onsets on the current cubic (NeuronSweeps): the
  /// margins at u = 1/2 and 1, the state change over the step and the onsets met.
  void sweep(Leaky2Span& span, double h);
  /// The first sweep's weights at the nodes, w0 + σ ẇ0 with ẇ0 = (∂w/∂q) q̇0 and q̇0 the frozen
  /// pattern's margin velocity, and their products with Γ (linear in w: one product, with ẇ0).
  /// Against the constant w0 it saves one to two sweeps a step (bench/scale at (200, 2000, 100):
  /// 2 662 early RHS evaluations against 3 660, together with kFixedPointTol).
  void predict_node_weights(FlowSystem& sys, Leaky2Span& span, double h);

  double m_log_loss_mid = 0;
  Eigen::VectorXd m_q0, m_dq0, m_dw0, m_w0, m_wm, m_w1, m_b1, m_b2, m_b3, m_wm_new, m_w1_new, m_s, m_work, m_scratch,
      m_scratch_state;
  RowMajorMatrix m_G0, m_Gm, m_G1;  ///< region_ascent(w) Γ at the three nodes, m × n
  RowMajorMatrix m_P1, m_P2, m_P3;  ///< region_ascent(b_p) Γ, the cubic's coefficients, m × n
  NeuronSweeps m_sweeps;
  bool m_sweeps_ok = true;  ///< no neuron of the last sweep chattered
  std::vector<Eigen::Index> m_captured;
};

}  // namespace kktflow
