#pragma once
/// \file two_layer_leaky.hpp
/// Two-layer leaky-ReLU network with both layers trained (Lyu, Li, Wang, Arora, "Gradient descent
/// on two-layer nets: margin maximization and simplicity bias", NeurIPS 2021):
///
///   f(x; θ) = Σ_j a_j φ(⟨w_j, x⟩),  φ(z) = max(z, αz),  θ = (W ∈ R^{m×d}, a ∈ R^m), both trained.
///
/// 2-homogeneous in θ. Invariant: φ'(z) z = φ(z), so d/dt a_j² = d/dt ‖w_j‖² along gradient flow
/// (in any time reparametrization) and a_j² − ‖w_j‖² is conserved for every neuron j.
/// Known answer (their Thm 3.2 setting): on symmetric linearly separable data ((x, y) and (−x, −y)
/// both present) from small init, the normalized margin min_i y_i f(x_i)/‖θ‖² tends to the global
/// optimum (1+α)γ_lin/4 (γ_lin the linear hard-margin SVM margin; ‖θ‖² = ‖W‖_F² + ‖a‖²), and
/// f is linear with f(x) − f(−x) = (1+α)⟨Σ_j a_j w_j, x⟩, the vector Σ_j a_j w_j ∥ w*.
/// Convention: φ'(0) := α (the left derivative, as for leaky2_fixed_outer).
/// θ layout: W row-major (m·d entries), then a (m entries).
#include "first_layer.hpp"
#include "model.hpp"

#include <cstdint>

namespace kktflow {

struct TwoLayerLeakyParams {
  Eigen::Index width = 20;   ///< m
  double alpha = 0.5;        ///< leaky slope α ∈ [0, 1)
  double init_scale = 1e-3;  ///< ω: every entry of W(0) and a(0) ~ N(0, ω²)
  std::uint64_t seed = 0;
};

/// Throws std::invalid_argument naming the parameter (model.*), its value and the allowed range.
void validate(const TwoLayerLeakyParams& p);

class TwoLayerLeaky final : public FirstLayerModel {
 public:
  TwoLayerLeaky(const Eigen::MatrixXd& X, const TwoLayerLeakyParams& params);

  std::string kind() const override { return "two_layer_leaky"; }
  Eigen::Index dim() const override { return m_first.size() + m_m; }
  int homogeneity() const override { return 2; }
  std::vector<LayerView> layers() const override { return {m_first.view(), {"a", 1, m_m, m_first.size()}}; }

  void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) override;
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) override;

  /// Held pair (j, i): φ'_ji ∈ [α, 1] is free; δ_ji = a_j φ'_ji G_i, the coefficient of x_i in
  /// dw_j, so the incoming coefficient is a_j G_i. ȧ_j does not see it (φ(0) = 0).
  void vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held) override;
  std::pair<double, double> kink_slopes(Eigen::Index) const override { return {m_params.alpha, 1.0}; }

  const TwoLayerLeakyParams& params() const { return m_params; }
  /// θ(0): W and a with entries N(0, ω²) from the seed.
  Eigen::VectorXd initial_theta() const;

 private:
  /// m_M = a_j φ'(Z_ji) G_i, the backward coefficient of every pair.
  void backward_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G);
  /// dW = M X, da = Φ G.
  void gradient_from_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) const;
  double phi(double z) const { return z > 0 ? z : m_params.alpha * z; }
  double dphi(double z) const { return z > 0 ? 1.0 : m_params.alpha; }

  TwoLayerLeakyParams m_params;
  Eigen::Index m_m;
  Eigen::MatrixXd m_Z;    ///< m × n pre-activations of the last forward
  Eigen::MatrixXd m_Phi;  ///< m × n activations φ(Z)
  Eigen::MatrixXd m_M;    ///< m × n backward coefficients a_j φ'(Z_ji) G_i
  Eigen::VectorXd m_a;    ///< a of the last forward
};

/// Per neuron j: a_j² − ‖w_j‖², the quantity gradient flow conserves.
Eigen::VectorXd neuron_balance(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Index width,
                               Eigen::Index features);

}  // namespace kktflow
