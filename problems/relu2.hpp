#pragma once
/// \file relu2.hpp
/// Depth-2 bias-free ReLU network with vector outputs (Timor, Vardi, Shamir, "Implicit
/// regularization towards rank minimization in ReLU networks", ALT 2023, §3):
///
///   N(x; θ) = V σ(W x),  σ(z) = max(z, 0),  W ∈ R^{m×d} (rows w_j), V ∈ R^{k×m} (columns v_j),
///
/// trained with the square loss (loss.hpp, SquareLoss). 2-homogeneous in θ = (W, V).
/// Invariant: σ'(z) z = σ(z), so along gradient flow d/dt ‖w_j‖² = d/dt ‖v_j‖² and the per-neuron
/// balance ‖w_j‖² − ‖v_j‖² is conserved (Du, Hu, Lee, NeurIPS 2018; Timor et al. use it in §3).
/// Known answers on their §3.2 data (two unit inputs x1, x2 at angle ∡ > π/2, labels e1, e2, m = 2):
///  - Thm 1: a rank-1 zero-loss net exists: w1 = x1/‖x1‖ − x2/‖x2‖, w2 = −w1 (rank1_zero_loss_theta);
///  - yet zero-loss limits of GF from small init have W ≈ diag(s1, s2)·[x1; x2], rank 2 with
///    srank = 2/(1 + |cos∡|) (≈ 1.980 for x1,2 = (±1, 0.99)/‖·‖);
///  - closed form: with v_i(0) = 0 and w_i(0) active on x_i only, s_i = ⟨w_i, x_i⟩ tends to
///    s∞ with s∞² = (s0² + √(s0⁴ + 4))/2 (from s² − a² = s0² and a s = 1 at zero loss, a = ‖v_i‖).
/// Convention: σ'(0) := 0, as in the paper. θ layout: W row-major (m·d), then V row-major (k·m).
/// Outputs: F is n × k row-major (num_outputs() = k).
#include "first_layer.hpp"
#include "model.hpp"

#include <cstdint>

namespace kktflow {

struct Relu2Params {
  Eigen::Index width = 2;    ///< m
  Eigen::Index outputs = 2;  ///< k
  double init_radius =
      1e-4;  ///< every row of W(0) and column of V(0) uniform on the sphere of this radius (Timor §3.2)
  std::uint64_t seed = 0;
};

/// Throws std::invalid_argument naming the parameter (model.*), its value and the allowed range.
void validate(const Relu2Params& p);

class Relu2 final : public FirstLayerModel {
 public:
  Relu2(const Eigen::MatrixXd& X, const Relu2Params& params);

  std::string kind() const override { return "relu2"; }
  Eigen::Index dim() const override { return m_first.size() + m_k * m_m; }
  Eigen::Index num_outputs() const override { return m_k; }
  int homogeneity() const override { return 2; }
  std::vector<LayerView> layers() const override { return {m_first.view(), {"V", m_k, m_m, m_first.size()}}; }

  void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) override;
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) override;

  /// Held pair (j, i) (Filippov sliding on ⟨w_j, x_i⟩ = 0): σ'_ji ∈ [0, 1] is free; the backward
  /// coefficient of x_i in dw_j is δ_ji = σ'_ji g_ji with incoming g_ji = (Vᵀ Gᵀ)_ji. dV does not
  /// see it (σ(0) = 0), so the balance ‖w_j‖² − ‖v_j‖² stays conserved on the kink.
  void vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held) override;
  std::pair<double, double> kink_slopes(Eigen::Index) const override { return {0.0, 1.0}; }

  const Relu2Params& params() const { return m_params; }
  /// θ(0): rows of W and columns of V independent and uniform on the sphere of radius init_radius.
  Eigen::VectorXd initial_theta() const;

 private:
  Relu2Params m_params;
  Eigen::Index m_m, m_d, m_k;
  Eigen::MatrixXd m_Z;   ///< m × n pre-activations of the last forward
  Eigen::MatrixXd m_H;   ///< m × n activations σ(Z)
  Eigen::MatrixXd m_V;   ///< V of the last forward
  Eigen::MatrixXd m_dZ;  ///< m × n backward buffer
  /// dW = m_dZ X and dV = G Hᵀ from the backward coefficients in m_dZ.
  void gradient_from_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) const;
};

/// Per neuron j: ‖w_j‖² − ‖v_j‖², the quantity gradient flow conserves.
Eigen::VectorXd relu2_balance(const Eigen::Ref<const Eigen::VectorXd>& theta, const Relu2Params& p,
                              Eigen::Index features);

/// Thm 1's rank-1 zero-loss net for two samples with labels e1, e2 (m = k = 2, any d):
/// w1 = x1/‖x1‖ − x2/‖x2‖, w2 = −w1, v_i = e_i / ⟨w_i, x_i⟩. Needs ⟨x1, x2⟩ < ‖x1‖‖x2‖ (distinct
/// directions), so that ⟨w_i, x_i⟩ > 0 ≥ ⟨w_i, x_j⟩. X is 2 × d.
Eigen::VectorXd rank1_zero_loss_theta(const Eigen::MatrixXd& X);

/// The closed-form start: v_i(0) = 0, w_i(0) = s0 x_i/‖x_i‖ (active on x_i only when ⟨x1, x2⟩ < 0).
Eigen::VectorXd closed_form_start(const Eigen::MatrixXd& X, double s0);
/// s∞ = √((s0² + √(s0⁴ + 4))/2), the limit of ⟨w_i, x_i⟩ from closed_form_start (unit x_i).
double closed_form_limit(double s0);

}  // namespace kktflow
