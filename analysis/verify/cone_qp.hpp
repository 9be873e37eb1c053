#pragma once
/// \file cone_qp.hpp
/// A small dense convex QP over the cones that KKT multipliers live in:
///
///   min_v ½ vᵀHv − bᵀv   over   v ∈ 𝒦,   H symmetric positive semi-definite,
///   𝒦 = { v : v_h ≥ 0 for every head h,  γ v_h ≤ v_t ≤ v_h for every tail t of head h },
///
/// every variable that is neither a head nor a tail being free. With heads only this is NNLS in
/// normal-equation form (a hard-margin SVM dual, the dual of the pattern-restricted max-margin QP);
/// a head with tails is one sample's multiplier λ_i with the Clarke-subdifferential products
/// μ_ji = λ_i φ'_ji, φ'_ji ∈ [γ, 1], of the pairs (j, i) sitting on a kink (Lyu & Li 2020,
/// Def. of (ε, δ)-KKT with the Clarke subdifferential).
///
/// Method: primal active set (Nocedal & Wright 2006, Alg. 16.3; for heads only it is Lawson &
/// Hanson's NNLS, 1974, ch. 23). The working set is kept as states — a head is zero (its whole
/// group is 0) or positive, a tail is low (μ = γλ), high (μ = λ) or inside — so every equality-
/// constrained subproblem is an unconstrained least-squares problem in the free coordinates of
/// a substitution v = T x, solved exactly (pivoted LDLᵀ). Finite termination in exact arithmetic.
#include <Eigen/Dense>

#include <vector>

namespace kktflow {

/// Which variables are heads and which tails hang on them; the rest are free.
struct ConeStructure {
  std::vector<Eigen::Index> heads;
  std::vector<std::vector<Eigen::Index>> tails;  ///< tails[g]: the tails of heads[g] (may be empty)
  double ratio_low = 0;                          ///< γ ∈ [0, 1): tails lie in [γ v_h, v_h]
};

struct ConeQpResult {
  Eigen::VectorXd v;
  int iterations = 0;
  bool converged = false;
  /// The objective is unbounded below on 𝒦 (b has a component along a direction of 𝒦 in
  /// ker H). For a dual QP this certifies that the primal is infeasible.
  bool unbounded = false;
};

/// Solves the QP; H is N × N, b has N entries, every index of `cone` is in [0, N) and appears once.
/// Throws std::invalid_argument on inconsistent sizes or indices.
ConeQpResult solve_cone_qp(const Eigen::Ref<const Eigen::MatrixXd>& H, const Eigen::Ref<const Eigen::VectorXd>& b,
                           const ConeStructure& cone);

/// Bytes of the dense N × N arrays alive at once when a QP of N variables is built and solved:
/// H itself, then the face's reduced matrix with its LDLᵀ factor and, when that fails, the
/// complete orthogonal decomposition's two factors (ADMM's Cholesky factor is freed before).
/// Callers compare it with a budget before they build H: it grows as N², and a pattern QP can
/// have as many variables as pairs (m·n).
double cone_qp_bytes(Eigen::Index variables);

}  // namespace kktflow
