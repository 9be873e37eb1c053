#pragma once
/// \file neuron_sweeps.hpp
/// The per-neuron half of the switch-batching steppers (switch_batch_stepper.hpp,
/// switch_radau_stepper.hpp) on the span chart (leaky2_span.hpp).
///
/// In loss time dC_ji/dτ = a_j φ'_ji y_i w_i(τ): the neurons couple only through the n loss
/// weights. Given the weights' path over a step as a cubic in their integral,
///   W(u h) = ∫₀^{uh} w = h (u b1 + u² b2 + u³ b3),   u ∈ [0, 1],
/// each neuron's pre-activations are cubics in u between its own switches,
///   Z_j(u) = Z_j(0) + h (u G1_j + u² G2_j + u³ G3_j),   G_p = region_ascent(b_p) Γ,
/// and every neuron is stepped on its own (in parallel): its switches are located in time order
/// as the roots of those cubics (grid and bisection, to 1e-13 of the step) and each moves the
/// neuron's row by the rank-one term a_j y_l Δφ' dz (W_l(u) − W_l(u_s)), dz = Γ_{l,:} projected
/// off the neuron's held kinks, O(n |S|) a switch. A switch after which the pair's field points
/// back at its kink is a sliding onset (Filippov: both sides attract): the neuron goes on with the
/// pair held, its cubic projected anew off the enlarged held set (O(n |S|) an onset), and the pair is
/// reported (captured()) for the driver's capture test at the step's end. A held pair's
/// equivalent slope, rate / (a_j y_l w_l(u)), is a ratio of quadratics in u between events; where
/// it leaves [γ, 1] (by kReleaseSlack, neuron_sweeps.cpp) the pair is released with its slope
/// clamped, a rank-one change of the cubic, O(n |S|), and the driver lets it go at the step's end
/// (its slope is out of range there too), so a release costs no step of its own.
///
/// Outputs: the margins at given nodes u_k (what the stepper's fixed-point or Newton iteration
/// needs), the state change over the step, the pre-activations at its end (the next step's
/// switch functions, without a product with Γ), the onsets met and where the first release was.
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <vector>

namespace kktflow {

class FlowSystem;
class Leaky2Span;
struct StepperOptions;

/// The span chart `sys` integrates on; throws std::logic_error naming `method` when it is another.
Leaky2Span& span_chart(FlowSystem& sys, const char* method);
/// Where a batched step (switch_batch, switch_radau) starts at x: its span chart (span_chart),
/// the switch functions Z(x) in `s` (row-major, the sweeps' input), the margins in `q0` and their
/// loss weights in `w0`, each sized here.
Leaky2Span& begin_batched_step(FlowSystem& sys, const char* method, const Eigen::VectorXd& x, Eigen::VectorXd& s,
                               Eigen::VectorXd& q0, Eigen::VectorXd& w0);
/// error_norm of the state change region_ascent(v) at x (`work` is the state-sized scratch).
double state_change_norm(Leaky2Span& span, const Eigen::VectorXd& x, const Eigen::VectorXd& v,
                         const StepperOptions& options, Eigen::VectorXd& work);

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The weights' path over a step (see the file comment): coefficients b_p and their products G_p.
struct WeightCubic {
  const Eigen::VectorXd& b1;
  const Eigen::VectorXd& b2;
  const Eigen::VectorXd& b3;
  const RowMajorMatrix& G1;
  const RowMajorMatrix& G2;
  const RowMajorMatrix& G3;
};

class NeuronSweeps {
 public:
  /// Steps every neuron of `span` (pattern and sliding set as frozen there) from pre-activations
  /// Z (m·n, row-major) over a step of length h along `path`; records the margins at `nodes`
  /// (ascending, in (0, 1]). Returns false when a neuron met more switches and onsets than
  /// kMaxEventsPerNeuron (chattering: the caller should refuse the step).
  bool run(const Leaky2Span& span, const Eigen::Ref<const Eigen::VectorXd>& Z, const WeightCubic& path, double h,
           const std::vector<double>& nodes);

  /// q_i(u_k) (n × nodes) of the last run.
  const Eigen::MatrixXd& margins() const { return m_q; }
  /// C(h) − C(0), m × n, of the last run.
  const RowMajorMatrix& state_change() const { return m_dC; }
  /// Z(h), m × n: the pre-activations at C(0) + state_change(), each neuron's cubic at u = 1.
  const RowMajorMatrix& end_pre_activations() const { return m_Z_end; }
  /// Switches j·n + l whose sliding onset the last run met, sorted.
  const std::vector<Eigen::Index>& captured() const { return m_captured; }
  /// u of the first release of a held pair in the last run (its equivalent slope left [γ, 1] by
  /// kReleaseSlack), 2 if none.
  double first_release() const { return m_first_release; }
  /// The step to retry a refused step of length h with, given the controller's `dt_next`: where
  /// the last run released a held pair, just past the first such release, so the released
  /// pair's transient starts where a step starts (the driver lets it go at the step's end).
  double retry_step(double dt_next, double h) const;

 private:
  /// One thread's work space for the neurons it sweeps, sized once per run.
  struct Lane {
    Eigen::MatrixXd P;      ///< the neuron's cubic: 4 × n coefficients in u = σ/h
    Eigen::MatrixXd GT;     ///< n × 3: a cubic's velocity coefficients, projected
    Eigen::MatrixXd T;      ///< n × 3: the unheld pairs' a y φ' b_p
    Eigen::MatrixXd kappa;  ///< |S| × 3: the held coefficients' rates (held_rates)
    Eigen::VectorXd slopes, dz, v, dC;
    Eigen::MatrixXd q;  ///< the neurons' shares of the margins at the nodes, n × nodes
    std::vector<char> positive, is_held;
    std::vector<Eigen::Index> held;           ///< the neuron's held samples, sorted
    Eigen::LLT<Eigen::MatrixXd> held_factor;  ///< of Γ_SS, S = held
    std::vector<Eigen::Index> captured;       ///< switches j·n + l whose onset the sweeps met
    bool overflow = false;                    ///< a neuron met kMaxEventsPerNeuron events
    double first_release = 2;                 ///< u of the lane's first release, 2 if none
  };

  void sweep_neuron(const Leaky2Span& span, const Eigen::Ref<const Eigen::VectorXd>& Z, const WeightCubic& path,
                    Eigen::Index j, double h, const std::vector<double>& nodes, Lane& lane);

  std::vector<Lane> m_lanes;
  Eigen::MatrixXd m_q;
  RowMajorMatrix m_dC, m_Z_end;
  std::vector<Eigen::Index> m_captured;
  double m_first_release = 2;
};

}  // namespace kktflow
