/// \file limit_checks.cpp
/// net_sign_functionals (limit_region.hpp): the functionals the fixed-outer net's region needs
/// positive, one per pair (j, i), own index i,
///   β_ji,k = s_ji a_j y_k φ'_jk Γ_ik,
/// bounded as kl_ball.hpp's relative_margin reads them. Every neuron shares Γ, so the m × n
/// values ⟨λ̂, β_ji⟩ and the spreads Σ_k λ̂_k β_ji,k² come from two m × n × n products rather
/// than m n separate sums (the demo has 5000 pairs over 50 samples). Each figure is a certified
/// bound: the ball's radius is chosen on them, and the same figures prove it.
#include "analysis/verify/interval.hpp"
#include "analysis/verify/limit_region.hpp"

#include <algorithm>
#include <cmath>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using interval::Fast;
using interval::RoundingScope;

Fast entry(const MidRad& A, Index i, Index k) { return interval::around(A.mid(i, k), A.rad(i, k)); }

Fast lambda_of(const Equilibrium& eq, Index k) { return {eq.lambda_lo[k], eq.lambda_hi[k]}; }

bool in_support(const Equilibrium& eq, Index k) { return eq.in_support[static_cast<std::size_t>(k)] != 0; }

/// The factors of the two products. Y = M Γ with M_jk = λ̂_k y_k φ'_jk (enclosed) gives
/// ⟨λ̂, β_ji⟩ = s_ji a_j Y_ji; A B with A_jk = λ̂_k φ'_jk² on S (0 off S) and B = Γ∘Γ (both
/// rounded up) bounds Σ_{k∈S} λ̂_k φ'_jk² Γ_ik² from above.
struct Factors {
  MidRad M;
  Eigen::MatrixXd A;
  Eigen::MatrixXd B;
};

Factors factors(const Leaky2Net& net, const NetPattern& pattern, const MidRad& gram, const Equilibrium& eq) {
  const Index m = net.width();
  const Index n = net.samples();
  Factors out{{Eigen::MatrixXd(m, n), Eigen::MatrixXd(m, n)}, Eigen::MatrixXd(m, n), Eigen::MatrixXd(n, n)};
  const RoundingScope scope;
  for (Index j = 0; j < m; ++j) {
    for (Index k = 0; k < n; ++k) {
      const Fast value = lambda_of(eq, k) * Fast(net.y[k] * pattern.slopes(j, k));  // y = ±1: exact
      out.M.mid(j, k) = median(value);
      out.M.rad(j, k) = std::max((Fast(value.upper()) - Fast(out.M.mid(j, k))).upper(),
                                 (Fast(out.M.mid(j, k)) - Fast(value.lower())).upper());
      out.A(j, k) = in_support(eq, k) ? (Fast(eq.lambda_hi[k]) * square(Fast(pattern.slopes(j, k)))).upper() : 0.0;
    }
  }
  for (Index e = 0; e < out.B.size(); ++e)
    out.B.data()[e] = square(Fast(interval::mag(interval::around(gram.mid.data()[e], gram.rad.data()[e])))).upper();
  return out;
}

}  // namespace

Functionals net_sign_functionals(const Leaky2Net& net, const NetPattern& pattern, const MidRad& gram,
                                 const Equilibrium& eq) {
  const Index m = net.width();
  const Index n = net.samples();
  const Factors f = factors(net, pattern, gram, eq);
  const MidRad Y = enclose_product(f.M, gram);
  const Eigen::MatrixXd spread = product_upper(f.A, f.B);
  Functionals out;
  const RoundingScope scope;
  for (Index j = 0; j < m; ++j) {
    const Fast a2 = square(Fast(net.a[j]));
    for (Index i = 0; i < n; ++i) {
      const Fast sa(pattern.signs(j, i) * net.a[j]);  // s = ±1: exact
      const Fast limit = sa * entry(Y, j, i);
      const Fast own = sa * Fast(net.y[i] * pattern.slopes(j, i)) * entry(gram, i, i);
      // max_{k∉S, k≠i} |β_ji,k| ≤ |a_j| √(max φ'_jk² B_ik).
      double outside_sq = 0;
      for (Index k = 0; k < n; ++k) {
        if (k != i && !in_support(eq, k))
          outside_sq = std::max(outside_sq, (square(Fast(pattern.slopes(j, k))) * Fast(f.B(i, k))).upper());
      }
      const double outside = (sqrt(Fast(outside_sq)) * Fast(std::abs(net.a[j]))).upper();
      // Σ_{k∈S∖i} λ̂_k β_ji,k² ≤ a_j² ((A B)_ji − A_ji B_ii): the own term is removed at its lower
      // bound, which leaves an upper bound.
      const Fast own_spread = in_support(eq, i) ? Fast(f.A(j, i)) * Fast(f.B(i, i)) : Fast(0.0);
      const double spread_ji = (a2 * max(Fast(spread(j, i)) - Fast(own_spread.lower()), Fast(0.0))).upper();
      out.add(i, (limit - lambda_of(eq, i) * own).lower(), own.lower(), spread_ji, outside, limit.upper());
    }
  }
  return out;
}

}  // namespace kktflow
