#include "log_clock.hpp"

#include <algorithm>
#include <array>

namespace kktflow {

double log_add_exp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(-std::abs(a - b)));
}

double log_integral_exp_neg_quadratic(double l0, double lm, double l1, double h) {
  // Gauss–Legendre nodes and weights on [−1, 1], 8 points (Abramowitz & Stegun 25.4.30).
  static constexpr std::array<double, 4> node{0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                                              0.9602898564975363};
  static constexpr std::array<double, 4> weight{0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                                0.1012285362903763};
  // ℓ(u) = l0 + b u + c u² on u ∈ [0, 1].
  const double b = -3 * l0 + 4 * lm - l1;
  const double c = 2 * l0 - 4 * lm + 2 * l1;
  auto ell = [&](double u) { return l0 + u * (b + c * u); };
  // Panels (ours): at most 4 units of ℓ each, so e^{−ℓ} varies by ≤ e^4 inside a panel.
  const double span = std::max({std::abs(l1 - l0), std::abs(lm - l0), std::abs(l1 - lm)});
  const int panels = std::clamp(static_cast<int>(std::ceil(span / 4.0)), 1, 4096);
  double acc = -std::numeric_limits<double>::infinity();
  for (int p = 0; p < panels; ++p) {
    const double lo = static_cast<double>(p) / panels;
    const double half = 0.5 / panels;
    const double mid = lo + half;
    for (std::size_t k = 0; k < node.size(); ++k)
      for (double sgn : {-1.0, 1.0}) {
        const double u = mid + sgn * half * node[k];
        acc = log_add_exp(acc, std::log(weight[k] * half) - ell(u));
      }
  }
  return acc + std::log(h);
}

}  // namespace kktflow
