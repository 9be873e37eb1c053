#include "log_clock.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace kktflow {

double log_add_exp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(-std::abs(a - b)));
}

namespace {

/// log ∫ e^{−ℓ(u)} du over [u0, u1] by 8-point Gauss–Legendre panels spanning ≤ 4 units of ℓ
/// each (ours), so e^{−ℓ} varies by ≤ e^4 inside a panel.
template <class Ell>
double log_gauss_panels(const Ell& ell, double u0, double u1, double span) {
  // Gauss–Legendre nodes and weights on [−1, 1], 8 points (Abramowitz & Stegun 25.4.30).
  static constexpr std::array<double, 4> node{0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                              0.9602898564975363};
  static constexpr std::array<double, 4> weight{0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                                0.1012285362903763};
  const int panels = std::clamp(static_cast<int>(std::ceil(span / 4.0)), 1, 4096);
  const double half = 0.5 * (u1 - u0) / panels;
  double acc = -std::numeric_limits<double>::infinity();
  for (int p = 0; p < panels; ++p) {
    const double mid = u0 + (2 * p + 1) * half;
    for (std::size_t k = 0; k < node.size(); ++k)
      for (double sgn : {-1.0, 1.0})
        acc = log_add_exp(acc, std::log(weight[k] * half) - ell(mid + sgn * half * node[k]));
  }
  return acc;
}

// Where ℓ exceeds its minimum on [0, 1] by more than this, e^{−ℓ} adds less than e^{−60} ≈ 1e−26
// of the integral, far below double rounding (ours): the quadrature skips it. Late in a run one
// step spans up to ~1e8 units of log L, and panels of 4 units over all of it would be wasted.
constexpr double kNegligible = 60.0;

// Where ℓ's ulp reaches 1 (|ℓ| ≥ 2^52: late runs of models with L ≥ 2, log t ≳ 5e15) the window of
// width ~kNegligible/|ℓ'| that carries the integral lies below u's resolution, ℓ_min + kNegligible
// rounds to ℓ_min and the panels lose it; Laplace's method at the minimum takes over there.
constexpr double kUnresolvedLevel = 0x1p52;

/// log ∫₀¹ e^{−ℓ(u)} du for ℓ(u) = l0 + b u + c u² by Laplace's method at its minimum: at an
/// interior vertex with c > 0, e^{−ℓ(v)} √(π/c); at an end e with slope s = |ℓ'(e)|, e^{−ℓ(e)}(1 − e^{−s})/s,
/// exact for linear ℓ and good to O(c/s²) (~1/q late) otherwise.
double laplace_log_integral(double l0, double l1, double b, double c) {
  const double vertex = c > 0 ? -b / (2 * c) : -1.0;
  if (vertex > 0 && vertex < 1) return -(l0 + vertex * (b + c * vertex)) + 0.5 * std::log(std::numbers::pi / c);
  const bool at_end = l1 < l0;
  const double slope = std::abs(at_end ? b + 2 * c : b);
  const double share = slope > 0 ? std::log(-std::expm1(-slope)) - std::log(slope) : 0.0;
  return -(at_end ? l1 : l0) + share;
}

}  // namespace

double log_integral_exp_neg_quadratic(double l0, double lm, double l1, double h) {
  // ℓ(u) = l0 + b u + c u² on u ∈ [0, 1].
  const double b = -3 * l0 + 4 * lm - l1;
  const double c = 2 * l0 - 4 * lm + 2 * l1;
  auto ell = [&](double u) { return l0 + u * (b + c * u); };
  std::vector<double> cuts{0.0, 1.0};
  const double vertex = c != 0 ? -b / (2 * c) : -1.0;
  if (vertex > 0 && vertex < 1) cuts.push_back(vertex);
  const double ell_min = std::min({l0, l1, vertex > 0 && vertex < 1 ? ell(vertex) : l0});
  if (std::abs(ell_min) >= kUnresolvedLevel) return laplace_log_integral(l0, l1, b, c) + std::log(h);
  // Roots of ℓ(u) = ℓ_min + kNegligible bound the part of [0, 1] that matters.
  const double level = ell_min + kNegligible;
  auto add_root = [&](double u) {
    if (u > 0 && u < 1) cuts.push_back(u);
  };
  if (c == 0) {
    if (b != 0) add_root((level - l0) / b);
  } else if (const double disc = b * b - 4 * c * (l0 - level); disc >= 0) {
    // The cancellation-free pair (Numerical Recipes §5.6): late, |b| ~ 1e4 and c ~ rounding,
    // and (−b ± √disc)/(2c) loses the root that bounds the only part of the step that counts.
    const double q = -0.5 * (b + std::copysign(std::sqrt(disc), b));
    if (q != 0) {
      add_root(q / c);
      add_root((l0 - level) / q);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  double acc = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    const double u0 = cuts[k], u1 = cuts[k + 1];
    if (u1 <= u0 || ell(0.5 * (u0 + u1)) > level) continue;
    const double span = std::max({std::abs(ell(u1) - ell(u0)), std::abs(ell(0.5 * (u0 + u1)) - ell(u0))});
    acc = log_add_exp(acc, log_gauss_panels(ell, u0, u1, span));
  }
  return acc + std::log(h);
}

}  // namespace kktflow
