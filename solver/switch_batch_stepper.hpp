#pragma once
/// \file switch_batch_stepper.hpp
/// `switch_batch`: the early-phase method of the span chart (leaky2_span.hpp) when switches are
/// many. An event-driven step ends at every activation switch, and the early phase of a
/// small-init run has O(m n) of them (bench/scale at (n, d, m) = (1000, 10000, 1000): ~5e5), so
/// its step count is the switch count. This method takes hundreds of switches in one step.
///
/// Structure (loss time, dC_ji/dτ = a_j φ'_ji y_i w_i(τ)): the neurons couple only through the n
/// loss weights w(τ). Given w on a step, each neuron's row moves on its own, and between its own
/// switches its pre-activations are Z_j(σ) = Z_j(0) + Σ_i a_j D_ji y_i Γ_{i,:} W_i(σ), with
/// W(σ) = ∫₀^σ w. So:
///  1. w on [0, h] is the quadratic through w(0), w(h/2), w(h) (3-stage Lobatto IIIA collocation,
///     order 4): W is a cubic and every Z_ji(σ) a cubic in σ, formed by two products with Γ.
///  2. Per neuron (in parallel), its switches are located in time order as the roots of those
///     cubics (grid and bisection, to 1e-13 of the step); each moves the neuron's row by the
///     rank-one term a_j y_l Δφ' dz (W_l(σ) − W_l(σ_s)), dz = Γ_{l,:} projected off the neuron's
///     held kinks (project_off_held in the .cpp), O(n |S|) a switch.
///  3. The margins at h/2 and h follow, hence new weights there; the step is iterated to a fixed
///     point in w (Picard; converged when the change moves C(h) by ≤ 1e-3 of the error norm).
///  4. The error estimate is Simpson's rule against the trapezoid rule for W(h), mapped to C.
/// A switch after which the pair's field points back at its kink is a sliding onset (Filippov:
/// both sides attract, the equivalent slope lies in [γ, 1]). The neuron goes on with the pair held
/// on its kink: its cubic is formed anew from there with its held pairs' pre-activations fixed
/// (a rank-|S| projection, O(n²) a onset), and the driver's capture test takes the pairs the step
/// held (Stepper::held_inside_step) at its end. Releases are the driver's, at the step's end:
/// inside a step the held set only grows, with unclamped equivalent slopes, as region_ros2 holds
/// it. Needs the driver to freeze the pattern; the driver moves its pattern on to every pair whose
/// side changed over the step, and reports those switches at the step's end.
#include "step_control.hpp"
#include "stepper.hpp"

#include <Eigen/Cholesky>

#include <vector>

namespace kktflow {

class Leaky2Span;

class SwitchBatch final : public Stepper {
 public:
  explicit SwitchBatch(const StepperOptions& options) : m_opt(options), m_control(2) {}

  StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau, double dt,
                      Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) override;
  void reset() override { m_control.reset(); }
  Eigen::VectorXd memory() const override { return m_control.memory(); }
  void restore_memory(const Eigen::VectorXd& memory) override { m_control.restore(controller_memory(memory)); }
  int order() const override { return 4; }
  bool needs_frozen_pattern() const override { return true; }
  bool resolves_switches() const override { return true; }
  double midpoint_log_loss() const override { return m_log_loss_mid; }
  std::vector<Eigen::Index> held_inside_step() const override { return m_captured; }

 private:
  /// One thread's work space for the neurons it sweeps, sized once per run.
  struct Lane {
    Eigen::MatrixXd P;              ///< the neuron's cubic: 4 × n coefficients in u = σ/h
    Eigen::MatrixXd T, GT;          ///< n × 3: a cubic's coefficient weights and their product with Γ
    Eigen::VectorXd slopes, dz, v, dC, exits;
    Eigen::MatrixXd q;              ///< the neurons' shares of the margins at u = 1/2 and 1, n × 2
    std::vector<char> positive, is_held;
    std::vector<Eigen::Index> held;        ///< the neuron's held samples, sorted
    Eigen::LLT<Eigen::MatrixXd> held_factor;  ///< of Γ_SS, S = held
    std::vector<Eigen::Index> captured;    ///< switches j·n + l whose onset the sweeps met
    bool overflow = false;                 ///< a neuron met kMaxEventsPerNeuron events
  };

  /// The weights' quadratic on the step: W(u h) = h (u b1 + u² b2 + u³ b3).
  void set_weight_cubic();
  /// G = region_ascent(w) Γ for the current wm, w1 (G0 is fixed for the step).
  void node_products(Leaky2Span& span);
  /// Steps every neuron through its switches and onsets on the current cubic: the margins at
  /// u = 1/2 and 1 into m_q's columns, and the state change over the step into m_dC.
  void sweep(Leaky2Span& span, double h);
  void sweep_neuron(const Leaky2Span& span, Eigen::Index j, double h, Lane& lane);
  /// The first sweep's weights at the nodes, w0 + σ ẇ0 with ẇ0 = (∂w/∂q) q̇0 and q̇0 the frozen
  /// pattern's margin velocity, and their products with Γ (linear in w: one product, with ẇ0).
  /// Against the constant w0 it saved one to two sweeps a step (bench/scale at (200, 2000, 100):
  /// 3 660 → 2 662 early RHS evaluations together with kFixedPointTol).
  void predict_node_weights(FlowSystem& sys, Leaky2Span& span, double h);
  /// error_norm of the state change region_ascent(v) at x.
  double state_norm(Leaky2Span& span, const Eigen::VectorXd& x, const Eigen::VectorXd& v);

  StepperOptions m_opt;
  StepController m_control;
  double m_log_loss_mid = 0;
  Eigen::VectorXd m_q0, m_dq0, m_dw0, m_w0, m_wm, m_w1, m_b1, m_b2, m_b3, m_wm_new, m_w1_new, m_s, m_work, m_scratch, m_scratch_state;
  Eigen::MatrixXd m_q;  ///< margins at u = 1/2 and 1, n × 2
  using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMajorMatrix m_G0, m_Gm, m_G1;  ///< region_ascent(w) Γ at the three nodes, m × n
  RowMajorMatrix m_dC;              ///< the state change over the step, m × n
  std::vector<Lane> m_lanes;
  std::vector<Eigen::Index> m_captured;
};

}  // namespace kktflow
