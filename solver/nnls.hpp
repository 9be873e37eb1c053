#pragma once
/// \file nnls.hpp
/// Non-negative least squares in normal-equation form:
///   min_{λ ≥ 0} ½ λᵀ K λ − bᵀ λ,   K symmetric positive semi-definite,
/// which is min_{λ≥0} ‖θ − G λ‖² with K = GᵀG, b = Gᵀθ. Lawson & Hanson (1974, ch. 23)
/// active-set method; exact in finitely many steps, n ≤ a few thousand.
#include <Eigen/Dense>

namespace kktflow {

struct NnlsResult {
  Eigen::VectorXd lambda;
  int iterations = 0;
  bool converged = false;
};

NnlsResult nnls_normal(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b);

}  // namespace kktflow
