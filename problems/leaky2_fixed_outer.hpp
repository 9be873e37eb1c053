#pragma once
/// \file leaky2_fixed_outer.hpp
/// Two-layer leaky-ReLU network with a fixed outer layer (Frei, Vardi, Bartlett, Srebro, Hu,
/// "Implicit bias in leaky ReLU networks trained on high-dimensional data", ICLR 2023, §3):
///
///   f(x; W) = Σ_j a_j φ(⟨w_j, x⟩),  φ(z) = max(z, γz),  a_j = ±1/√m fixed,  W ∈ R^{m×d} trained.
///
/// 1-homogeneous in W. Known answer (Frei Thm 3.2): for nearly-orthogonal data gradient flow on
/// exp/logistic loss converges in direction to a KKT point of min ‖W‖_F² s.t. y_i f(x_i) ≥ 1,
/// and every such point has rank ≤ 2 and sign f(x) = sign⟨z, x⟩.
/// Exact invariant: ∂f/∂w_j ∈ span{x_i}, so W(t) − W(0) stays in the row span of X.
/// Convention: φ'(0) := γ (the left derivative; σ'(0) = 0 for ReLU, as in the papers).
#include "model.hpp"

#include <cstdint>

namespace kktflow {

struct Leaky2Params {
  Eigen::Index width = 100;    ///< m
  double gamma = 0.5;          ///< leaky slope γ ∈ [0, 1)
  bool balanced_signs = true;  ///< a_j = +1/√m for j < m/2, −1/√m after; else random signs
  double init_scale = 1e-3;    ///< ω: W(0) entries ~ N(0, ω²)
  std::uint64_t seed = 0;
};

/// Throws std::invalid_argument naming the parameter, its value and the allowed range.
void validate(const Leaky2Params& p);

class Leaky2FixedOuter final : public Model {
 public:
  Leaky2FixedOuter(const Eigen::MatrixXd& X, const Leaky2Params& params);

  std::string kind() const override { return "leaky2_fixed_outer"; }
  Eigen::Index dim() const override { return m_m * m_d; }
  Eigen::Index num_samples() const override { return m_X.rows(); }
  int homogeneity() const override { return 1; }
  std::vector<LayerView> layers() const override { return {{"W", m_m, m_d, 0}}; }

  void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) override;
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) override;

  Eigen::Index num_switches() const override { return m_m * m_X.rows(); }
  /// s_{j·n+i} = ⟨w_j, x_i⟩.
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) override;
  /// Pre-activations are linear in W: ds = s(dθ).
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) override {
    switch_functions(dtheta, ds);
  }

  const Eigen::VectorXd& outer() const { return m_a; }
  double gamma() const { return m_params.gamma; }
  const Leaky2Params& params() const { return m_params; }
  const Eigen::MatrixXd& inputs() const { return m_X; }
  Eigen::Index width() const { return m_m; }

  /// W(0) with entries N(0, ω²) from the seed, flattened row-major.
  Eigen::VectorXd initial_theta() const;

  /// φ(z), φ'(z) with φ'(0) = γ.
  double phi(double z) const { return z > 0 ? z : m_params.gamma * z; }
  double dphi(double z) const { return z > 0 ? 1.0 : m_params.gamma; }

 private:
  Eigen::MatrixXd m_X;
  Leaky2Params m_params;
  Eigen::Index m_m;
  Eigen::Index m_d;
  Eigen::VectorXd m_a;
  Eigen::MatrixXd m_Z;  ///< m × n pre-activations of the last forward
  Eigen::MatrixXd m_M;  ///< m × n backward coefficients a_j φ'(Z_ji) G_i
};

}  // namespace kktflow
