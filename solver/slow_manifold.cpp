#include "slow_manifold.hpp"

#include "nnls.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kktflow {

namespace {
// Ours: the bound u ‖θ‖ ‖∇q‖ times this. On lyu2021_symmetric at log t ≈ 1e13 one step's error in
// the margin differences, all of it rounding of the stage margins, was ~150 u ‖θ‖ ‖∇q‖ (3.3 units of
// margin, measured); with 64 here the loss's weights were still taken there and went one-hot.
constexpr double kRoundingFactor = 1024;
// Ours: samples more than this many resolutions above the least margin carry a weight below
// e^{−40} ≈ 4e−18 of the others': not tied.
constexpr double kTiedGap = 40;
}  // namespace

double margin_rounding(double theta_norm, const Eigen::MatrixXd& K) {
  return kRoundingFactor * std::numeric_limits<double>::epsilon() * theta_norm * std::sqrt(K.diagonal().maxCoeff());
}

double margin_resolution(double theta_norm, const Eigen::MatrixXd& K) {
  return std::max(1.0, margin_rounding(theta_norm, K));
}

double step_resolution(double theta_norm, const Eigen::MatrixXd& K, double rel_tol) {
  return std::max(margin_resolution(theta_norm, K), rel_tol * theta_norm * std::sqrt(K.diagonal().maxCoeff()));
}

bool follows_slow_manifold(double resolution, double q_min, double rel_tol) {
  return resolution > 1 || q_min * rel_tol >= 1;
}

std::optional<double> slow_manifold_resolution(double theta_norm, const Eigen::MatrixXd& K, double q_min,
                                               double rel_tol) {
  const double resolution = step_resolution(theta_norm, K, rel_tol);
  if (!follows_slow_manifold(resolution, q_min, rel_tol)) return std::nullopt;
  return resolution;
}

Eigen::VectorXd slow_weights(const Eigen::VectorXd& q, const Eigen::MatrixXd& K, double resolution) {
  const double q_min = q.minCoeff();
  std::vector<Eigen::Index> tied;
  for (Eigen::Index i = 0; i < q.size(); ++i)
    if (q[i] - q_min <= kTiedGap * resolution) tied.push_back(i);
  // min_{x≥0} ‖G x‖²/k + (1ᵀx − 1)² has x = t λ with λ the minimum-norm point (for x = t λ, λ on the
  // simplex, the least value over t is ‖Gλ‖²/(k + ‖Gλ‖²), increasing in ‖Gλ‖), also where the tied
  // gradients are dependent and K_SS singular; k = max_i K_ii keeps the two terms comparable.
  const double scale = K.diagonal().maxCoeff();
  const auto m = static_cast<Eigen::Index>(tied.size());
  const Eigen::MatrixXd M = K(tied, tied) / scale + Eigen::MatrixXd::Ones(m, m);
  const Eigen::VectorXd lambda_tied = nnls_normal(M, Eigen::VectorXd::Ones(m)).lambda;
  Eigen::VectorXd lambda = Eigen::VectorXd::Zero(q.size());
  // x = t λ with t = k/(k + ‖Gλ‖²) > 0: the sum is positive, even where 0 lies in the hull.
  const double total = lambda_tied.sum();
  for (std::size_t k = 0; k < tied.size(); ++k) lambda[tied[k]] = lambda_tied[static_cast<Eigen::Index>(k)] / total;
  return lambda;
}

}  // namespace kktflow
