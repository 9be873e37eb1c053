#include "nnls.hpp"

#include <algorithm>
#include <vector>

namespace kktflow {

namespace {

// Solves K_PP s_P = b_P on the passive set P (least-squares if K_PP is singular).
Eigen::VectorXd solve_passive(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b,
                              const std::vector<Eigen::Index>& P) {
  const auto p = static_cast<Eigen::Index>(P.size());
  Eigen::MatrixXd Kpp(p, p);
  Eigen::VectorXd bp(p);
  for (Eigen::Index r = 0; r < p; ++r) {
    bp[r] = b[P[r]];
    for (Eigen::Index c = 0; c < p; ++c) Kpp(r, c) = K(P[r], P[c]);
  }
  return Kpp.completeOrthogonalDecomposition().solve(bp);
}

}  // namespace

NnlsResult nnls_normal(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b) {
  const Eigen::Index n = b.size();
  NnlsResult res;
  res.lambda = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  // Optimality tolerance (ours): gradients below 1e-13 of the problem's scale are rounding.
  const double tol = 1e-13 * std::max(b.cwiseAbs().maxCoeff(), 1e-300);
  const int max_iter = static_cast<int>(3 * n + 10);
  for (res.iterations = 0; res.iterations < max_iter; ++res.iterations) {
    const Eigen::VectorXd g = b - K * res.lambda;
    Eigen::Index j = -1;
    double best = tol;
    for (Eigen::Index i = 0; i < n; ++i)
      if (!passive[static_cast<std::size_t>(i)] && g[i] > best) best = g[i], j = i;
    if (j < 0) {
      res.converged = true;
      break;
    }
    passive[static_cast<std::size_t>(j)] = true;
    for (int inner = 0; inner < max_iter; ++inner) {
      std::vector<Eigen::Index> P;
      for (Eigen::Index i = 0; i < n; ++i)
        if (passive[static_cast<std::size_t>(i)]) P.push_back(i);
      const Eigen::VectorXd s = solve_passive(K, b, P);
      double alpha = 1.0;
      for (std::size_t r = 0; r < P.size(); ++r) {
        const auto rr = static_cast<Eigen::Index>(r);
        if (s[rr] <= 0) alpha = std::min(alpha, res.lambda[P[r]] / (res.lambda[P[r]] - s[rr]));
      }
      for (std::size_t r = 0; r < P.size(); ++r)
        res.lambda[P[r]] += alpha * (s[static_cast<Eigen::Index>(r)] - res.lambda[P[r]]);
      if (alpha >= 1.0) break;
      for (Eigen::Index i : P)
        if (res.lambda[i] <= 0) res.lambda[i] = 0, passive[static_cast<std::size_t>(i)] = false;
    }
  }
  return res;
}

}  // namespace kktflow
