#include "analysis/verify/competitors.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <random>

namespace kktflow {
namespace {

using Index = Eigen::Index;

Eigen::MatrixXd gaussian(Index rows, Index cols, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&] { return normal(rng); });
}

Competitor polished_competitor(const Leaky2Net& net, const Pattern& pattern, std::string label,
                               const CompetitorSettings& settings) {
  const Polished p = polish(net, pattern, settings.max_sign_constraints);
  if (!p.feasible) {
    const std::string why =
        p.over_memory ? fmt::format(" (QP not computed: {} variables, {:.3g} GB)", p.dual_variables, p.dual_bytes / 1e9)
        : p.capped    ? " (QP capped)"
                      : " (infeasible)";
    return {std::move(label) + why, -std::numeric_limits<double>::infinity(), false};
  }
  const double margin = normalized_margin(net, p.W);
  return {std::move(label), margin, margin > 0};
}

/// Rows α w* (a_j > 0) and −β w* (a_j < 0): f(x) = (Σ_{a_j>0} a_j) φ(α u) + (Σ_{a_j<0} a_j) φ(−β u)
/// with u = ⟨w*, x⟩, so each ratio costs O(n); ‖W‖² = |J+| α² + |J−| β² (‖w*‖ = 1).
Competitor svm_lift(const Leaky2Net& net, const LinearSvm& svm) {
  Competitor best{"two-family lift of the SVM direction", -std::numeric_limits<double>::infinity(), false};
  if (!svm.separable) return best;
  const Eigen::VectorXd u = net.X * svm.w.normalized();
  const double a_plus = (net.a.array() > 0).select(net.a, 0.0).sum();
  const double a_minus = (net.a.array() < 0).select(net.a, 0.0).sum();
  const auto plus = static_cast<double>((net.a.array() > 0).count());
  const auto minus = static_cast<double>(net.width()) - plus;
  constexpr int kGrid = 2000;
  for (int k = 0; k <= kGrid; ++k) {
    const double t = std::numbers::pi / 2 * k / kGrid;
    const double alpha = plus > 0 ? std::cos(t) / std::sqrt(plus) : 0.0;
    const double beta = minus > 0 ? std::sin(t) / std::sqrt(minus) : 0.0;
    double q_min = std::numeric_limits<double>::infinity();
    for (Index i = 0; i < net.samples(); ++i) {
      const double f = a_plus * leaky(alpha * u[i], net.gamma) + a_minus * leaky(-beta * u[i], net.gamma);
      q_min = std::min(q_min, net.y[i] * f);
    }
    const double norm = std::sqrt(plus * alpha * alpha + minus * beta * beta);
    if (norm > 0 && q_min / norm > best.margin) best.margin = q_min / norm, best.feasible = q_min > 0;
  }
  return best;
}

Pattern flipped(const Pattern& pattern, double rate, std::mt19937_64& rng) {
  std::bernoulli_distribution flip(rate);
  Pattern out = pattern;
  for (Index i = 0; i < out.size(); ++i) {
    if (out(i) == 0) out(i) = 1;
    if (flip(rng)) out(i) = static_cast<std::int8_t>(-out(i));
  }
  return out;
}

/// Normalized gradient descent on the exponential loss in data-span coordinates (W = C X,
/// Z = C Γ): C ← C + η ‖W‖ G/‖G X‖, G_ji = a_j φ'(Z_ji) y_i softmax(−q)_i, from C ~ N(0, 1e-6).
/// A crude stand-in for the flow from another initialization; only its final pattern is used.
Pattern gradient_descent_pattern(const Leaky2Net& net, int steps, std::mt19937_64& rng) {
  const Index m = net.width();
  const Index n = net.samples();
  Eigen::MatrixXd C = 1e-3 * gaussian(m, n, rng);
  Eigen::MatrixXd G(m, n);
  for (int step = 0; step < steps; ++step) {
    const Eigen::MatrixXd Z = C * net.gram;
    Eigen::VectorXd q = Eigen::VectorXd::Zero(n);
    for (Index i = 0; i < n; ++i) {
      for (Index j = 0; j < m; ++j) q[i] += net.a[j] * leaky(Z(j, i), net.gamma);
      q[i] *= net.y[i];
    }
    const Eigen::VectorXd w = (-(q.array() - q.minCoeff())).exp().matrix();
    for (Index i = 0; i < n; ++i) {
      for (Index j = 0; j < m; ++j) G(j, i) = net.a[j] * (Z(j, i) > 0 ? 1.0 : net.gamma) * net.y[i] * w[i];
    }
    const double g_norm = std::sqrt((G * net.gram).cwiseProduct(G).sum());
    const double w_norm = std::sqrt((C * net.gram).cwiseProduct(C).sum());
    C += 0.05 * std::max(w_norm, 1e-3) / g_norm * G;
  }
  return activation_pattern(net, C * net.X);
}

}  // namespace

std::vector<Competitor> find_competitors(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W_limit,
                                         const LinearSvm& svm, const CompetitorSettings& settings) {
  std::mt19937_64 rng(settings.seed);
  std::vector<Competitor> out;
  out.push_back(svm_lift(net, svm));
  out.push_back(polished_competitor(net, frei_pattern(net), "Frei pattern sign(a_j y_i)", settings));
  for (double sigma : settings.perturbations) {
    const Eigen::MatrixXd noise = gaussian(W_limit.rows(), W_limit.cols(), rng);
    const Eigen::MatrixXd W = W_limit + sigma * W_limit.norm() / noise.norm() * noise;
    out.push_back(
        polished_competitor(net, activation_pattern(net, W), fmt::format("limit + {} noise", sigma), settings));
  }
  const Pattern limit_pattern = activation_pattern(net, W_limit);
  for (double rate : settings.flip_rates) {
    out.push_back(polished_competitor(net, flipped(limit_pattern, rate, rng),
                                      fmt::format("limit pattern, {}% flipped", 100 * rate), settings));
  }
  for (int k = 0; k < settings.gd_inits; ++k) {
    out.push_back(polished_competitor(net, gradient_descent_pattern(net, settings.gd_steps, rng),
                                      fmt::format("gradient descent from init {}", k + 1), settings));
  }
  return out;
}

}  // namespace kktflow
