#pragma once
/// \file deep.hpp
/// Bias-free deep network with scalar output, each layer ReLU or linear (Le & Jegelka, "Training
/// invariances and the low-rank phenomenon: beyond linear networks", ICLR 2022; the all-linear
/// case is Ji & Telgarsky, "Gradient descent aligns the layers of deep linear networks", ICLR 2019):
///
///   h_0 = x,  z_l = W_l h_{l−1},  h_l = ψ_l(z_l) (l = 1..L),  f(x; θ) = h_L,
///   W_1 ∈ R^{m×d}, W_l ∈ R^{m×m} (1 < l < L), W_L ∈ R^{1×m};
///   ψ_l(z) = z (linear) or σ(z) = max(z, 0) (relu), and with skip = true every ReLU layer
///   with a square W_l carries an identity skip across its activation, ψ_l(z) = σ(z) + z.
///
/// L-homogeneous in θ (L = number of layers): every path from x to f crosses one W_l per layer and
/// every ψ_l is positively 1-homogeneous. (An identity skip from h_{l−1} to h_l would bypass W_l
/// and break homogeneity, so the skip here bypasses only the nonlinearity.)
/// Invariants under gradient flow: for each hidden neuron, ‖row_j W_l‖² − ‖col_j W_{l+1}‖² (ψ_l
/// positively homogeneous; Du, Hu, Lee, NeurIPS 2018); for a linear ψ_l the whole matrix
/// W_{l+1}ᵀW_{l+1} − W_l W_lᵀ (Arora, Cohen, Hazan 2018; Le & Jegelka §3).
/// Known answer (Le & Jegelka Thm 3.1/4.x, Ji & Telgarsky Thm 2.2): with exp/logistic loss on
/// separable data, the trailing linear layers (every ψ from layer l on linear) tend in direction
/// to rank 1 and adjacent ones align, |v_{l+1}ᵀu_l| → 1 (u, v top left/right singular vectors).
/// Convention: σ'(0) := 0, as in the papers. θ layout: W_1, …, W_L, each row-major.
#include "model.hpp"
#include "unit_balance.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

struct DeepParams {
  std::vector<std::string> layers{"relu", "relu", "linear", "linear"};  ///< ψ_l per layer; the last must be linear
  Eigen::Index width = 10;                                              ///< m, the width of every hidden layer
  bool skip = false;                                                    ///< ψ_l(z) = σ(z) + z on square ReLU layers
  double init_scale = 0.1;                                              ///< ω: every entry of W_l(0) ~ N(0, ω²)
  std::uint64_t seed = 0;
};

/// Throws std::invalid_argument naming the parameter (model.*), its value and the allowed range.
void validate(const DeepParams& p);

class DeepNet final : public Model {
 public:
  DeepNet(const Eigen::MatrixXd& X, const DeepParams& params);

  std::string kind() const override { return "deep"; }
  Eigen::Index dim() const override { return m_dim; }
  Eigen::Index num_samples() const override { return m_X.rows(); }
  int homogeneity() const override { return static_cast<int>(m_views.size()); }
  std::vector<LayerView> layers() const override { return m_views; }

  void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) override;
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) override;

  /// One per (ReLU neuron, sample): the pre-activations z_l of every ReLU layer, layer after
  /// layer, each m × n row-major.
  Eigen::Index num_switches() const override { return m_num_switches; }
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) override;
  /// Forward-mode derivative of the ReLU pre-activations: dz_l = dW_l h_{l−1} + W_l dh_{l−1}.
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) override;

  /// Held switch (layer l, unit j, sample i): ψ_l' ∈ kink_slopes is free; δ is that entry of the
  /// backward pass, ∂(Σ G F)/∂z_l, and the incoming coefficient is (W_{l+1}ᵀ δ_{l+1})_ji, which
  /// already carries the held δ of the layers above.
  bool supports_held_kinks() const override { return true; }
  void set_held(const std::vector<Eigen::Index>& switches) override;
  void vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held) override;
  /// [0, 1] for ReLU, [1, 2] for ReLU with the skip.
  std::pair<double, double> kink_slopes(Eigen::Index k) const override;
  /// Projects the held rows layer after layer (model.hpp), then, when the layers below the highest
  /// held one are all ReLU, restores their per-neuron balances by rescaling their units
  /// (unit_balance.hpp): the row projection keeps the held rows' norms but moves the columns of
  /// W_l, i.e. the balances of layer l − 1 (Le & Jegelka's ReLU layers drifted 1e-5 relative).
  void hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta) override;
  /// ‖row j of W_l‖·‖h_{l−1}(x_i)‖ for each ReLU switch, in switch order.
  void switch_scales(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> scales) override;

  const DeepParams& params() const { return m_params; }
  bool is_relu(std::size_t layer) const { return m_params.layers[layer] == "relu"; }
  /// Whether ψ_l carries the skip (σ(z) + z).
  bool has_skip(std::size_t layer) const;
  /// The trailing linear layers, in order: l with ψ_k linear for every k ≥ l, so that
  /// f(x) = W_L ⋯ W_l h_{l−1}(x) (the layers Le & Jegelka's rank-1 theorem is about).
  std::vector<std::size_t> trailing_linear_layers() const;
  /// θ(0): every entry N(0, ω²) from the seed.
  Eigen::VectorXd initial_theta() const;

 private:
  /// One pass of z_l, h_l for every layer into Z, H (H[0] is Xᵀ and never written).
  void propagate(const Eigen::Ref<const Eigen::VectorXd>& theta, std::vector<Eigen::MatrixXd>& Z,
                 std::vector<Eigen::MatrixXd>& H) const;
  /// grad = Σ_i G_i ∂F_i/∂θ; with delta_held, the held entries of δ are taken from it (and their
  /// incoming coefficients written to incoming_held).
  void backpropagate(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad,
                     const Eigen::Ref<const Eigen::VectorXd>* delta_held, Eigen::Ref<Eigen::VectorXd>* incoming_held);
  std::size_t highest_held_layer() const;
  /// Whether every layer below `layer` is ReLU (its units can be rescaled without changing f).
  bool relu_below(std::size_t layer) const;
  /// Maps onto W_1 … W_{top+1} (0-based layers 0 … top) inside theta.
  LayerChain chain_to(Eigen::Ref<Eigen::VectorXd> theta, std::size_t top) const;
  double psi(std::size_t layer, double z) const;
  double dpsi(std::size_t layer, double z) const;

  Eigen::MatrixXd m_X;
  DeepParams m_params;
  std::vector<LayerView> m_views;
  Eigen::Index m_dim = 0;
  Eigen::Index m_num_switches = 0;
  std::vector<Eigen::MatrixXd> m_Z, m_H;    ///< forward cache, rows_l × n (m_H[0] = Xᵀ)
  std::vector<Eigen::MatrixXd> m_Zs, m_Hs;  ///< switch-function cache, same shapes
  std::vector<Eigen::MatrixXd> m_dZ, m_dH;  ///< tangents for switch_velocity
  Eigen::VectorXd m_theta;                  ///< θ of the last forward
  Eigen::VectorXd m_theta_s;                ///< θ of the last switch_functions
  std::vector<Eigen::MatrixXd> m_delta;     ///< backward: ∂(Σ G_i F_i)/∂z_l, rows_l × n
  struct HeldSwitch {
    std::size_t layer;
    Eigen::Index row, sample;
  };
  std::vector<HeldSwitch> m_held;  ///< in switch order
};

}  // namespace kktflow
