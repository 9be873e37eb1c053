#include "analysis/verify/kl_ball.hpp"

#include "analysis/verify/directed_math.hpp"
#include "analysis/verify/interval.hpp"
#include "solver/nnls.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using interval::Fast;
using interval::RoundingScope;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Ours: κ' is this fraction of the floating-point bound, so interval Cholesky has room.
constexpr double kRateFraction = 0.9;

/// The support of the floating-point λ̂ as indices.
std::vector<Index> support_indices(const Equilibrium& eq) {
  std::vector<Index> out;
  for (std::size_t k = 0; k < eq.in_support.size(); ++k)
    if (eq.in_support[k] != 0) out.push_back(static_cast<Index>(k));
  return out;
}

/// The system c K_SS λ_S − μ' 1 = 0, 1ᵀλ_S = 1 (μ' = c μ), c a power of two near 1/max K_ii so
/// both blocks are O(1); scaling by c is exact.
MidRad support_system(const MidRad& K, const std::vector<Index>& S, double c) {
  const auto s = static_cast<Index>(S.size());
  MidRad A{Eigen::MatrixXd::Zero(s + 1, s + 1), Eigen::MatrixXd::Zero(s + 1, s + 1)};
  for (Index a = 0; a < s; ++a) {
    for (Index b = 0; b < s; ++b) {
      A.mid(a, b) = c * K.mid(S[static_cast<std::size_t>(a)], S[static_cast<std::size_t>(b)]);
      A.rad(a, b) = c * K.rad(S[static_cast<std::size_t>(a)], S[static_cast<std::size_t>(b)]);
    }
    A.mid(a, s) = -1.0;
    A.mid(s, a) = 1.0;
  }
  return A;
}

/// λ_S and μ of the support system in floating point (the last entry is μ' = c μ).
Eigen::VectorXd solve_support(const MidRad& K, const std::vector<Index>& S, double c) {
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(static_cast<Index>(S.size()) + 1);
  rhs[rhs.size() - 1] = 1.0;
  return support_system(K, S, c).mid.partialPivLu().solve(rhs);
}

/// Active-set refinement of NNLS's support in floating point (NNLS on a singular K may keep a
/// sample whose multiplier belongs at 0): drop the most negative multiplier, or add the sample
/// with the most negative gap, until neither exists (at most 2n rounds).
void refine_support(const MidRad& K, double c, Equilibrium& eq) {
  const Index n = K.mid.rows();
  for (Index round = 0; round < 2 * n; ++round) {
    const std::vector<Index> S = support_indices(eq);
    const Eigen::VectorXd x = solve_support(K, S, c);
    const auto s = static_cast<Index>(S.size());
    Index worst = 0;
    if (s > 1 && x.head(s).minCoeff(&worst) <= 0) {
      eq.in_support[static_cast<std::size_t>(S[static_cast<std::size_t>(worst)])] = 0;
      continue;
    }
    Eigen::VectorXd lambda = Eigen::VectorXd::Zero(n);
    for (Index a = 0; a < s; ++a) lambda[S[static_cast<std::size_t>(a)]] = x[a];
    Eigen::VectorXd gap = c * (K.mid * lambda) - Eigen::VectorXd::Constant(n, x[s]);
    for (const Index i : S) gap[i] = 0;
    // Ours: a gap below −1e-12 μ' is not rounding.
    if (gap.minCoeff(&worst) >= -1e-12 * std::abs(x[s])) return;
    eq.in_support[static_cast<std::size_t>(worst)] = 1;
  }
}

/// Checks λ̂_S > 0, μ > 0 and the gaps off S; fills the certified fields. Inside a RoundingScope.
void check_equilibrium(const MidRad& K, const std::vector<Index>& S, Equilibrium& eq) {
  const Index n = K.mid.rows();
  Fast mu = Fast(eq.mu_lo, eq.mu_hi);
  for (const Index i : S) {
    if (!(eq.lambda_lo[i] > 0)) {
      eq.failure = "λ̂ is not certified strictly positive on its support (sample " + std::to_string(i) + ")";
      return;
    }
  }
  if (!(eq.mu_lo > 0)) {
    eq.failure = "μ = ‖Σ λ̂_i ∇q_i‖² is not certified positive";
    return;
  }
  eq.gap_lo = kInf;
  for (Index k = 0; k < n; ++k) {
    if (eq.in_support[static_cast<std::size_t>(k)] != 0) continue;
    Fast g = -mu;
    for (const Index i : S) g += interval::around(K.mid(k, i), K.rad(k, i)) * Fast(eq.lambda_lo[i], eq.lambda_hi[i]);
    eq.gap_lo = std::min(eq.gap_lo, g.lower());
  }
  if (!(eq.gap_lo >= 0)) {
    eq.failure = "a non-support sample's margin gap g_k = (Kλ̂)_k − μ is not certified ≥ 0";
    return;
  }
  eq.verified = true;
}

/// kl(p‖x) = p log(p/x) + (1 − p) log((1 − p)/(1 − x)) = −p log1p((x − p)/p) − (1 − p) log1p((p − x)/(1 − p)),
/// for p in an interval inside (0, 1): the log1p form keeps the O(u) rounding of p/x out of a
/// value that is O((x − p)²).
Fast binary_kl(const Fast& p, double x) {
  const Fast one(1.0);
  const Fast gap = Fast(x) - p;
  return -(p * directed::log1p(gap / p)) - (one - p) * directed::log1p(-gap / (one - p));
}

double binary_kl(double p, double x) { return -p * std::log1p((x - p) / p) - (1 - p) * std::log1p((p - x) / (1 - p)); }

/// The root of kl(p‖x) = ρ between `inside` (kl < ρ) and `outside` (kl ≥ ρ), by bisection.
double kl_root(double p, double rho, double inside, double outside) {
  for (int k = 0; k < 200 && inside != outside; ++k) {
    const double mid = 0.5 * (inside + outside);
    if (mid == inside || mid == outside) break;
    (binary_kl(p, mid) < rho ? inside : outside) = mid;
  }
  return outside;
}

/// Moves an estimated root outward until kl(λ̂_i‖x) ≥ ρ is certified for every λ̂_i in its
/// enclosure; NaN when that fails. `toward` is 0 (lower root) or 1 (upper root).
double certified_root(const Fast& p, double rho, double estimate, double toward) {
  const double centre = median(p);
  // Ours: start 1e-10 of the root's distance from λ̂ (plus a few ulps) past it, ten times more per try.
  double step = 1e-10 * std::abs(estimate - centre) + 4 * std::numeric_limits<double>::epsilon() * estimate;
  for (int attempt = 0; attempt < 10; ++attempt, step *= 10) {
    const double x =
        toward == 0 ? std::max(estimate - step, 0.5 * estimate) : std::min(estimate + step, 0.5 * (1 + estimate));
    const bool beyond = toward == 0 ? x < p.lower() : x > p.upper();
    if (beyond && binary_kl(p, x).lower() >= rho) return x;
  }
  return kNaN;
}

/// g_min − 2 Δ max_{k∉S} Σ_{i∈S} |K_ik|, Δ ≥ max_{i∈S} |ν_i − λ̂_i| on the ball: what the
/// non-support weights add to −dD/dτ at least, per unit of their mass, after the cross term
/// 2 δ_Sᵀ K_SN w_N ≥ −2 Δ Σ_{k∉S} w_k Σ_{i∈S} |K_ik|.
double non_support_coupling(const MidRad& K, const Equilibrium& eq, const KlBall& ball) {
  if (!ball.certified) {
    double deviation = 0;
    for (Index i = 0; i < K.mid.rows(); ++i)
      if (eq.in_support[static_cast<std::size_t>(i)] != 0)
        deviation = std::max({deviation, eq.lambda[i] - ball.lo[i], ball.hi[i] - eq.lambda[i]});
    double coupling = 0;
    for (Index k = 0; k < K.mid.rows(); ++k) {
      if (eq.in_support[static_cast<std::size_t>(k)] != 0) continue;
      double column = 0;
      for (Index i = 0; i < K.mid.rows(); ++i)
        if (eq.in_support[static_cast<std::size_t>(i)] != 0) column += std::abs(K.mid(i, k));
      coupling = std::max(coupling, column);
    }
    return eq.gap_lo - 2 * deviation * coupling;
  }
  const RoundingScope scope;
  Fast deviation(0.0);
  for (Index i = 0; i < K.mid.rows(); ++i) {
    if (eq.in_support[static_cast<std::size_t>(i)] == 0) continue;
    deviation = max(deviation, max(Fast(eq.lambda_hi[i]) - Fast(ball.lo[i]), Fast(ball.hi[i]) - Fast(eq.lambda_lo[i])));
  }
  double coupling = 0;
  for (Index k = 0; k < K.mid.rows(); ++k) {
    if (eq.in_support[static_cast<std::size_t>(k)] != 0) continue;
    Fast column(0.0);
    for (Index i = 0; i < K.mid.rows(); ++i) {
      if (eq.in_support[static_cast<std::size_t>(i)] != 0)
        column += Fast(interval::mag(interval::around(K.mid(i, k), K.rad(i, k))));
    }
    coupling = std::max(coupling, column.upper());
  }
  return (Fast(eq.gap_lo) - Fast(2.0) * Fast(deviation.upper()) * Fast(coupling)).lower();
}

}  // namespace

Equilibrium enclose_equilibrium(const MidRad& K) {
  const Index n = K.mid.rows();
  Equilibrium eq;
  const Eigen::VectorXd raw = nnls_normal(K.mid, Eigen::VectorXd::Ones(n)).lambda;
  eq.lambda_lo = eq.lambda_hi = Eigen::VectorXd::Zero(n);
  if (!(raw.sum() > 0)) {
    eq.failure = "the region's margin gradients have no positive combination (NNLS gives λ = 0)";
    return eq;
  }
  eq.lambda = raw / raw.sum();
  eq.in_support.assign(static_cast<std::size_t>(n), 0);
  // Ours: multipliers below 1e-9 of the largest are rounding (NNLS on a singular K leaves such),
  // and a sample left out wrongly only makes its gap g_k ≥ 0 uncertifiable.
  const double floor = 1e-9 * raw.maxCoeff();
  for (Index i = 0; i < n; ++i) eq.in_support[static_cast<std::size_t>(i)] = raw[i] > floor ? 1 : 0;
  const double c = std::ldexp(1.0, -std::ilogb(K.mid.diagonal().maxCoeff()));
  refine_support(K, c, eq);
  const std::vector<Index> S = support_indices(eq);
  eq.support_size = static_cast<Index>(S.size());
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(eq.support_size + 1);
  rhs[eq.support_size] = 1.0;
  const SolveEnclosure x = enclose_solution(support_system(K, S, c), rhs);
  if (!x.verified) {
    eq.failure = "the support system [K_SS −1; 1ᵀ 0] is not certified nonsingular";
    return eq;
  }
  const RoundingScope scope;
  for (std::size_t a = 0; a < S.size(); ++a) {
    const Fast value = interval::around(x.mid[static_cast<Index>(a)], x.rad);
    eq.lambda_lo[S[a]] = value.lower();
    eq.lambda_hi[S[a]] = value.upper();
    eq.lambda[S[a]] = x.mid[static_cast<Index>(a)];
  }
  const Fast mu = interval::around(x.mid[eq.support_size], x.rad) / Fast(c);
  eq.mu_lo = mu.lower();
  eq.mu_hi = mu.upper();
  eq.radius = x.rad;
  check_equilibrium(K, S, eq);
  return eq;
}

KlBall estimate_ball(const Equilibrium& eq, double rho) {
  const auto n = static_cast<Index>(eq.in_support.size());
  KlBall ball{rho, Eigen::VectorXd::Zero(n), Eigen::VectorXd::Constant(n, std::min(rho, 1.0)), false};
  for (Index i = 0; i < n; ++i) {
    if (eq.in_support[static_cast<std::size_t>(i)] == 0) continue;
    const double p = eq.lambda[i];
    if (eq.support_size == 1) {  // kl(1‖x) = −log x
      ball.lo[i] = std::exp(-rho);
      ball.hi[i] = 1.0;
      continue;
    }
    ball.lo[i] = kl_root(p, rho, p, 0.0);
    ball.hi[i] = kl_root(p, rho, p, 1.0);
  }
  return ball;
}

KlBall certify_ball(const Equilibrium& eq, double rho) {
  KlBall ball = estimate_ball(eq, rho);
  const RoundingScope scope;
  for (Index i = 0; i < ball.lo.size(); ++i) {
    if (eq.in_support[static_cast<std::size_t>(i)] == 0) continue;
    if (eq.support_size == 1) {
      ball.lo[i] = directed::exp_down(-rho);
      continue;
    }
    const Fast p(eq.lambda_lo[i], eq.lambda_hi[i]);
    ball.lo[i] = certified_root(p, rho, ball.lo[i], 0.0);
    ball.hi[i] = certified_root(p, rho, ball.hi[i], 1.0);
    if (std::isnan(ball.lo[i]) || std::isnan(ball.hi[i])) return ball;  // certified stays false
  }
  ball.certified = true;
  return ball;
}

double relative_margin(const Functionals& f, const Equilibrium& eq, const KlBall& ball) {
  // An estimate ball is evaluated the same way, about the float λ̂: directed rounding only makes
  // the estimate a little more conservative.
  const RoundingScope scope;
  double ratio = 0;  // r ≥ max_{k∈S} hi_k/λ̂_k
  for (Index k = 0; k < ball.hi.size(); ++k) {
    if (eq.in_support[static_cast<std::size_t>(k)] == 0) continue;
    const double lambda = ball.certified ? eq.lambda_lo[k] : eq.lambda[k];
    ratio = std::max(ratio, (Fast(ball.hi[k]) / Fast(lambda)).upper());
  }
  double worst = std::numeric_limits<double>::infinity();
  for (std::size_t p = 0; p < f.size(); ++p) {
    const Index i = f.own[p];
    const double weight = f.own_lo[p] >= 0 ? ball.lo[i] : ball.hi[i];
    const Fast lower = Fast(f.rest_lo[p]) + Fast(weight) * Fast(f.own_lo[p]) -
                       sqrt(Fast(2.0) * Fast(ball.rho) * Fast(ratio) * Fast(f.spread[p])) -
                       Fast(ball.rho) * Fast(f.outside[p]);
    if (!(lower.lower() > 0) || !(f.limit_hi[p] > 0)) return std::min(worst, lower.lower());
    worst = std::min(worst, (lower / Fast(f.limit_hi[p])).lower());
  }
  return worst;
}

double kl_upper(const Equilibrium& eq, const Eigen::VectorXd& r_lo, const Eigen::VectorXd& r_hi) {
  const RoundingScope scope;
  Fast sum(0.0);
  Fast partition(0.0);
  for (Index k = 0; k < r_lo.size(); ++k) {
    partition += directed::exp(Fast(-r_hi[k], -r_lo[k]));
    if (eq.in_support[static_cast<std::size_t>(k)] == 0) continue;
    const Fast lambda(eq.lambda_lo[k], eq.lambda_hi[k]);
    sum += lambda * (directed::log(lambda) + Fast(r_lo[k], r_hi[k]));
  }
  return (sum + directed::log(partition)).upper();
}

double decay_rate(const MidRad& K, const Equilibrium& eq, const KlBall& ball) {
  const std::vector<Index> S = support_indices(eq);
  const auto s = static_cast<Index>(S.size());
  Eigen::MatrixXd scaled(s, s);  // diag(√lo_S) K_SS diag(√lo_S)
  for (Index a = 0; a < s; ++a)
    for (Index b = 0; b < s; ++b) scaled(a, b) = std::sqrt(ball.lo[S[a]] * ball.lo[S[b]]) * K.mid(S[a], S[b]);
  const double kappa =
      kRateFraction * Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(scaled, Eigen::EigenvaluesOnly).eigenvalues()[0];
  if (!(kappa > 0)) return kNaN;
  if (!ball.certified) return s == K.mid.rows() ? kappa : std::min(kappa, non_support_coupling(K, eq, ball));
  MidRad shifted{Eigen::MatrixXd(s, s), Eigen::MatrixXd(s, s)};  // K_SS − κ' diag(1/lo_S)
  {
    const RoundingScope scope;
    for (Index a = 0; a < s; ++a) {
      for (Index b = 0; b < s; ++b) {
        Fast entry = interval::around(K.mid(S[a], S[b]), K.rad(S[a], S[b]));
        if (a == b) entry -= Fast(kappa) / Fast(ball.lo[S[a]]);
        shifted.mid(a, b) = median(entry);
        shifted.rad(a, b) = std::max((Fast(entry.upper()) - Fast(shifted.mid(a, b))).upper(),
                                     (Fast(shifted.mid(a, b)) - Fast(entry.lower())).upper());
      }
    }
  }
  if (!certify_positive_definite(shifted)) return kNaN;
  if (s == K.mid.rows()) return kappa;
  const double coupling = non_support_coupling(K, eq, ball);
  return coupling > 0 ? std::min(kappa, coupling) : kNaN;
}

}  // namespace kktflow
