#pragma once
/// \file nnls.hpp
/// Non-negative least squares in normal-equation form:
///   min_{λ ≥ 0} ½ λᵀ K λ − bᵀ λ,   K symmetric positive semi-definite,
/// which is min_{λ≥0} ‖θ − G λ‖² with K = GᵀG, b = Gᵀθ. Lawson & Hanson (1974, ch. 23)
/// active-set method; exact in finitely many steps, n ≤ a few thousand. The passive set's K_PP
/// is kept as a Cholesky factor that grows by one row per added member (O(p²)) and is formed afresh
/// only when members leave, so a solve with p ≈ n supports costs O(n³) in all, not O(n⁴) (with a
/// new factorization per iteration a record at n = 1000 takes 44 s). Where K_PP is singular
/// (dependent gradients) the solves fall back to a complete orthogonal decomposition.
///
/// Seeded start (ours): Lawson–Hanson's outer loop may start from any feasible λ whose support is
/// the passive set. We start from the unconstrained solution's positive support, shrunk until the
/// restricted solution is positive (a few blocked Cholesky factorizations); late in a run nearly
/// every sample is a support vector and this is the answer, so the outer loop, which adds one
/// member per O(n²) iteration, has nothing left to do (a record at n = 1000: 0.01 s, against 0.13 s from an empty set).
/// Earlier, with a support of a third of the samples, that start leaves ~100 members to add; a
/// caller that knows a nearby problem's support (a run's previous record) seeds with it instead:
/// the Fashion-MNIST run's 245 records took 16.7 s from every index, and the run 14 s less
/// seeded (data/configs/fashion_mnist.toml, 116.7 s → 102.5 s).
#include <Eigen/Dense>

#include <vector>

namespace kktflow {

struct NnlsResult {
  Eigen::VectorXd lambda;
  int iterations = 0;
  bool converged = false;
};

/// `guess`, when given (sorted indices, e.g. the support of a nearby problem's solution), seeds the
/// passive set before every index does; the solution is the same bits either way when both end
/// on the same support (it is solved afresh on the support, in index order).
NnlsResult nnls_normal(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b,
                       const std::vector<Eigen::Index>& guess = {});

}  // namespace kktflow
