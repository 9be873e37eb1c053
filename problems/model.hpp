#pragma once
/// \file model.hpp
/// The network interface the flow integrates. A model is bound to its inputs X at
/// construction, so every buffer is sized once and forward/vjp allocate nothing.
#include <Eigen/Dense>

#include <string>
#include <utility>
#include <vector>

namespace kktflow {

/// A named block of the flat parameter vector θ: rows × cols, row-major, at `offset`.
struct LayerView {
  std::string name;
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  Eigen::Index offset = 0;
};

/// Ours: inputs this much smaller than a layer's largest are rounding (project_rows_off_inputs).
inline constexpr double kNegligibleInput = 1e-12;

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A held switch of one weight layer: its row (the unit) and its sample.
struct HeldUnit {
  Eigen::Index row = 0;
  Eigen::Index sample = 0;
};

/// Switches k = row · n + sample (one weight layer, n samples) as held units, in their order.
std::vector<HeldUnit> held_units(const std::vector<Eigen::Index>& switches, Eigen::Index samples);

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string kind() const = 0;
  /// Number of parameters, dim θ.
  virtual Eigen::Index dim() const = 0;
  /// Number of samples the model is bound to.
  virtual Eigen::Index num_samples() const = 0;
  /// Outputs per sample, k: forward fills F as n × k, row-major (sample after sample), and vjp
  /// takes G of the same shape. 1 for every scalar-output model.
  virtual Eigen::Index num_outputs() const { return 1; }
  /// L such that f(x; cθ) = c^L f(x; θ) for c > 0.
  virtual int homogeneity() const = 0;
  /// Layers of θ, in order, each row-major.
  virtual std::vector<LayerView> layers() const = 0;

  /// F_i = f(x_i; θ) ∈ R^k for the bound inputs (F has n·k entries). Caches what vjp needs.
  virtual void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) = 0;
  /// grad = Σ_i G_i ∂F_i/∂θ at the θ of the last forward call.
  virtual void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) = 0;

  /// Number of switch functions: the pre-activations whose signs define the activation pattern.
  virtual Eigen::Index num_switches() const = 0;
  /// s_k(θ); the vector field is smooth while no s_k changes sign.
  virtual void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) = 0;
  /// ds = (∂s/∂θ) dθ at the θ of the last switch_functions call.
  virtual void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) = 0;

  /// Filippov sliding, an optional capability. A *held* switch k sits on its kink
  /// z_k = 0, where the activation's slope is free in kink_slopes(k). Every switch is a
  /// pre-activation z_k of sample i(k), and the VJP is linear in (G, δ_held), where
  /// δ_k = ∂(Σ_i G_i F_i)/∂z_k is the backward coefficient at z_k: vjp_held takes δ_k on held
  /// switches from `delta_held` instead of ψ'(z_k) g_k, and returns each g_k (the coefficient
  /// reaching z_k from above) in `incoming_held`, so that the slope it stands for is δ_k / g_k.
  /// Working with δ instead of the slope keeps the sliding condition ż_held = 0 linear in the
  /// unknowns even when held switches sit in several layers (a slope multiplies the ones below it).
  virtual bool supports_held_kinks() const { return false; }
  /// The held switches, sorted; vjp_held's vectors follow this order.
  virtual void set_held(const std::vector<Eigen::Index>& switches);
  virtual void vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                        Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held);
  /// The activation's slopes on the negative and the positive side of switch k's kink.
  virtual std::pair<double, double> kink_slopes(Eigen::Index k) const;
  /// Moves θ so every held switch is exactly 0 (up to rounding): each held unit's incoming weight
  /// row is projected off the inputs it is held at, layer after layer (a correction in layer l
  /// moves only the pre-activations of layers ≥ l, so one pass suffices).
  virtual void hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta);
  /// The Cauchy–Schwarz bound of each switch, ‖row‖·‖input‖ ≥ |z_k| (the unit's incoming weights
  /// and the sample's input to that layer): the size z_k has without cancellation, against which a
  /// pre-activation is judged to sit on its kink.
  virtual void switch_scales(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> scales);
};

/// For each unit in `held` (sorted by row), the point nearest to its row w_j of W on the set
/// {w : wᵀh_k = 0 for every input column h_k of H it is held at, ‖w‖ = ‖w_j‖}: the projection P w_j
/// onto the inputs' orthogonal complement, rescaled to ‖w_j‖ (for P w_j ≠ 0 the nearest point of a
/// sphere ∩ subspace is along P w_j). Keeping ‖w_j‖ keeps the per-neuron balance ‖w_j‖² − ‖c_j‖²
/// (c_j the unit's outgoing weights), which the Filippov field conserves exactly (Du, Hu, Lee
/// 2018, Thm 2.1, holds on a kink too: a held pair has z = 0 and adds nothing to either side); the
/// least-norm projection alone lowers ‖w_j‖² by ‖w_j − P w_j‖² at every capture. Shared by every
/// model whose switches are pre-activations W h (hold_on_kinks).
/// Inputs with ‖h_k‖ ≤ kNegligibleInput · max_k ‖h_k‖ are left out: a ReLU feature that is off or
/// held at a sample leaves only rounding there (‖h‖ ≈ 1e-18 was seen), and projecting a row off it
/// moves the row by O(1) to zero a pre-activation that is already rounding-size.
void project_rows_off_inputs(Eigen::Map<RowMajorMatrix> W, const Eigen::Ref<const Eigen::MatrixXd>& H,
                             const std::vector<HeldUnit>& held);

}  // namespace kktflow
