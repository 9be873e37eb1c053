#pragma once
/// \file margin_woodbury.hpp
/// The matrix of a linearly implicit step for the loss-time field F(θ) = Σ_i w_i(q(θ)) ∇q_i(θ)
/// of any homogeneous model, in θ coordinates: W = I − c G P Gᵀ, where G = [∇q_1 … ∇q_n]
/// (P × n, MarginSystem::margin_gradients), P = ∂w/∂q (n × n) and c = hγ times the time
/// variable's velocity scale (FlowSystem::velocity_scale). The field's Jacobian is
/// ∂F/∂θ = G P Gᵀ + Σ_i w_i ∇²q_i; the first term has rank n and carries the stiffness (‖GᵀG‖
/// grows like ‖θ‖^{2(L−1)}), the curvature term is left out (a W-method: Rosenbrock methods of
/// W type keep their order for any matrix; Hairer & Wanner II, §IV.7).
///
/// W⁻¹ through Woodbury, with n × n work only:
///   W⁻¹ b = b + c G (I − c P K)⁻¹ P Gᵀ b,   K = GᵀG.
/// P = w wᵀ − diag(v), v = w ρ (MarginLoss::weights_jacobian), is −D (I − s sᵀ) D with D = V^{1/2}
/// and s = D⁻¹ w; where σ = ‖s‖² ≤ 1 (exp: σ = 1), I − s sᵀ = R² with R = I − k s sᵀ,
/// k = 1/(1 + √(1 − σ)), and the push-through identity gives the symmetric form
///   (I − c P K)⁻¹ P = −D R S⁻¹ R D,   S = I + c R D K D R  (S ⪰ I: Cholesky, no pivoting)
/// as in margin_newton.hpp. P is applied before the solve, never after it: late, Gᵀb is nearly a
/// multiple of D s (the support margins all rise together, and P annihilates that), c‖K‖ ~ q,
/// and an unprojected solve would multiply its rounding by c‖K‖. For σ > 1 (logistic loss, by
/// e^{−q}) s is scaled to ‖s‖ = 1, a matrix within O(σ − 1) of P, which a W-method allows.
///
/// Where the margins' rounding reaches O(1) the weights are rounding (slow_manifold.hpp), and
/// the stepper takes the flow on its slow manifold instead, which is not stiff: W is then I.
#include <Eigen/Dense>

namespace kktflow {

class MarginWoodbury {
 public:
  /// Factors W for margin gradients G (kept by reference: it must outlive the solves), their Gram
  /// K = GᵀG, weights w with v = w ρ, and c.
  void compute(const Eigen::MatrixXd& G, const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v,
               double c);
  /// out = W⁻¹ b. out may not alias b.
  void solve(const Eigen::VectorXd& b, Eigen::VectorXd& out);
  /// out = G P Gᵀ b with the P that W uses (so that W = I − c G P Gᵀ exactly, as a W-method's
  /// order conditions require of the matrix in its stages). out may not alias b.
  void jacobian_times(const Eigen::VectorXd& b, Eigen::VectorXd& out);

 private:
  const Eigen::MatrixXd* m_G = nullptr;
  double m_c = 0;
  double m_k = 0;  ///< R = I − k s sᵀ
  Eigen::VectorXd m_d, m_s, m_y;
  Eigen::MatrixXd m_S;  ///< S, then its Cholesky factor
  Eigen::LLT<Eigen::MatrixXd> m_llt;
};

}  // namespace kktflow
