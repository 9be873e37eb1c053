#include "analysis/verify/limit_certificate.hpp"

#include "analysis/verify/directed_math.hpp"
#include "analysis/verify/interval.hpp"
#include "analysis/verify/limit_region.hpp"
#include "solver/product_threads.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <tuple>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using interval::Fast;
using interval::RoundingScope;

/// Ours: the search for the largest admissible KL radius stays in [kRhoFloor, kRhoCap]. Above 1
/// the coordinate bounds are too loose to keep a sign; below 1e-16 no double state resolves it.
constexpr double kRhoCap = 1.0;
constexpr double kRhoFloor = 1e-16;
/// Ours: the ball's radius is at least this fraction of the largest admissible one, so every
/// pre-activation keeps a margin well inside its limit rate.
constexpr double kRhoFraction = 0.25;

/// The margins' growth dq_i/ds = (Kν)_i as functionals, own index i.
Functionals growth_functionals(const MidRad& K, const Equilibrium& eq) {
  Functionals out;
  const Index n = K.mid.rows();
  const RoundingScope scope;
  for (Index i = 0; i < n; ++i) {
    Fast rest(0.0);
    Fast spread(0.0);
    double outside = 0;
    for (Index k = 0; k < n; ++k) {
      if (k == i) continue;
      const Fast b = interval::around(K.mid(i, k), K.rad(i, k));
      rest += b * Fast(eq.lambda_lo[k], eq.lambda_hi[k]);
      if (eq.in_support[static_cast<std::size_t>(k)] != 0)
        spread += Fast(eq.lambda_hi[k]) * square(Fast(interval::mag(b)));
      else
        outside = std::max(outside, interval::mag(b));
    }
    const Fast own = interval::around(K.mid(i, i), K.rad(i, i));
    out.add(i, rest.lower(), own.lower(), spread.upper(), outside,
            (rest + Fast(eq.lambda_lo[i], eq.lambda_hi[i]) * own).upper());
  }
  return out;
}

/// The margins the logistic loss's weights see: v = softmax(−q̃), q̃ = q + log(1 + e^{−q}).
MarginBounds logistic_margins(const MarginBounds& m) {
  MarginBounds out = m;
  const RoundingScope scope;
  for (Index i = 0; i < m.lo.size(); ++i) {
    const Fast q = Fast(m.q_ref) + Fast(m.lo[i], m.hi[i]);
    const Fast e = directed::exp(-q);
    out.lo[i] = (Fast(m.lo[i]) + Fast(directed::log1p_down(e.lower()))).lower();
    out.hi[i] = (Fast(m.hi[i]) + Fast(directed::log1p_up(e.upper()))).upper();
  }
  return out;
}

/// 2 max|K_ik| e^{−q_min}: the logistic perturbation of dKL/ds, while the margins grow.
double logistic_remainder(const MidRad& K, const MarginBounds& m) {
  const RoundingScope scope;
  Fast q_min(std::numeric_limits<double>::infinity());
  for (Index i = 0; i < m.lo.size(); ++i) q_min = min(q_min, Fast(m.q_ref) + Fast(m.lo[i], m.hi[i]));
  double k_max = 0;
  for (Index e = 0; e < K.mid.size(); ++e)
    k_max = std::max(k_max, (Fast(std::abs(K.mid.data()[e])) + Fast(K.rad.data()[e])).upper());
  return (Fast(2.0) * Fast(k_max) * Fast(directed::exp_up(-q_min.lower()))).upper();
}

/// The largest ρ in [kRhoFloor, kRhoCap] with `holds` true (bisection in log ρ; `holds` is
/// monotone: a larger ball only loosens every bound); 0 when it fails at kRhoFloor.
double largest_radius(const std::function<bool(double)>& holds) {
  if (!holds(kRhoFloor)) return 0;
  if (holds(kRhoCap)) return kRhoCap;
  double inside = std::log(kRhoFloor);
  double outside = std::log(kRhoCap);
  for (int k = 0; k < 60; ++k) {
    const double mid = 0.5 * (inside + outside);
    (holds(std::exp(mid)) ? inside : outside) = mid;
  }
  return std::exp(inside);
}

/// ν_i/λ̂_i's range on the ball over S.
void weight_ratios(const Equilibrium& eq, const KlBall& ball, LimitCertificate& cert) {
  cert.weight_ratio_lo = std::numeric_limits<double>::infinity();
  cert.weight_ratio_hi = 0;
  for (Index i = 0; i < ball.lo.size(); ++i) {
    if (eq.in_support[static_cast<std::size_t>(i)] == 0) continue;
    cert.weight_ratio_lo = std::min(cert.weight_ratio_lo, ball.lo[i] / eq.lambda_hi[i]);
    cert.weight_ratio_hi = std::max(cert.weight_ratio_hi, ball.hi[i] / eq.lambda_lo[i]);
  }
}

/// The largest admissible radius (floating point, to choose the ball; the certified ball is
/// checked again): every sign functional positive on the ball; the logistic loss also needs
/// growing margins and a decay rate. With neither the radius is free: the largest with a decay
/// rate (any ball when there is none), and at least 4 KL(λ̂‖w_T).
double admissible_radius(const Region& region, const Functionals& signs, const Functionals& growth,
                         const Equilibrium& eq, bool logistic, double initial_kl) {
  const bool free = signs.size() == 0 && !logistic;
  const auto holds = [&](double rho) {
    const KlBall ball = estimate_ball(eq, rho);
    if (!(relative_margin(signs, eq, ball) > 0)) return false;
    if (!logistic) return !free || decay_rate(region.K, eq, ball) > 0;
    return relative_margin(growth, eq, ball) > 0 && decay_rate(region.K, eq, ball) > 0;
  };
  const double limit = largest_radius(holds);
  if (!free) return limit;
  return std::max(limit > 0 ? limit : kRhoCap, 4 * initial_kl);
}

/// The logistic loss's conditions on the certified ball; the reason when they fail.
std::optional<std::string> logistic_fails(const Region& region, const Functionals& growth, const Equilibrium& eq,
                                          const KlBall& ball, LimitCertificate& cert) {
  cert.growth = relative_margin(growth, eq, ball);
  cert.remainder = logistic_remainder(region.K, region.margins);
  const RoundingScope scope;
  const bool absorbed = cert.decay > 0 && (Fast(cert.decay) * Fast(cert.rho)).lower() > cert.remainder;
  if (cert.growth > 0 && absorbed) return std::nullopt;
  return fmt::format(
      "logistic loss: the margins' growth ({:.3g}) or the decay at the boundary (κρ = {:.3g}) does not "
      "absorb the perturbation 2 max|K| e^(−q_min) ≤ {:.3g}",
      cert.growth, cert.decay * cert.rho, cert.remainder);
}

/// The proof's steps 2–4 (limit_certificate.hpp) on an enclosed region; `signs` is empty for the
/// linear model. Fills `cert` and sets certified, or the reason it could not.
void prove(const Region& region, const Functionals& signs, const Equilibrium& eq, LossKind loss,
           LimitCertificate& cert) {
  const bool logistic = loss == LossKind::logistic;
  const MarginBounds margins = logistic ? logistic_margins(region.margins) : region.margins;
  cert.initial_kl = kl_upper(eq, margins.lo, margins.hi);
  const Functionals growth = logistic ? growth_functionals(region.K, eq) : Functionals{};
  cert.rho_limit = admissible_radius(region, signs, growth, eq, logistic, cert.initial_kl);
  if (!(cert.rho_limit > 0)) {
    cert.reason = signs.size() == 0
                      ? "the margins are not certified to grow at the limit"
                      : "the region's max-margin point is not strictly inside the region: some pre-activation does not "
                        "grow at the limit (it lies on the region's boundary)";
    return;
  }
  if (!(cert.initial_kl < cert.rho_limit)) {
    cert.reason = fmt::format(
        "the recorded state is outside the ball: KL(λ̂‖w_T) ≤ {:.3g} is not below the largest "
        "admissible radius {:.3g}",
        cert.initial_kl, cert.rho_limit);
    return;
  }
  cert.rho = std::max(kRhoFraction * cert.rho_limit, std::sqrt(cert.initial_kl * cert.rho_limit));
  const KlBall ball = certify_ball(eq, cert.rho);
  if (!ball.certified) {
    cert.reason = "the interval check failed: the ball's weight bounds could not be certified";
    return;
  }
  weight_ratios(eq, ball, cert);
  cert.decay = decay_rate(region.K, eq, ball);
  cert.sign_margin = relative_margin(signs, eq, ball);  // +∞ for the linear model: no sign to keep
  if (!(cert.sign_margin > 0)) {
    cert.reason = fmt::format(
        "the interval check failed: a sign margin over the ball is not certified positive ({:.3g})", cert.sign_margin);
    return;
  }
  if (logistic) {
    if (const std::optional<std::string> why = logistic_fails(region, growth, eq, ball, cert)) {
      cert.reason = *why;
      return;
    }
  }
  cert.certified = cert.initial_kl < cert.rho;
  if (!cert.certified) cert.reason = "the recorded state is not certified inside the ball";
}

/// The rest point, with the certificate's figures or the reason it is not enclosed.
std::optional<Equilibrium> equilibrium(const Region& region, LimitCertificate& cert) {
  Equilibrium eq = enclose_equilibrium(region.K);
  cert.samples = region.K.mid.rows();
  cert.support = eq.support_size;
  cert.lambda_radius = eq.radius;
  if (!eq.verified) {
    cert.reason = "λ̂ is not certified: " + eq.failure;
    return std::nullopt;
  }
  return eq;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Multiply-adds of the certificate's largest products (Γ, P, the sign functionals, θ*): as for a
/// run, two threads only where they pay (solver/product_threads.hpp).
double product_work(Index n, Index m, Index d) {
  const auto [nn, mm, dd] = std::tuple{static_cast<double>(n), static_cast<double>(m), static_cast<double>(d)};
  return nn * nn * dd + mm * nn * (nn + dd);
}

}  // namespace

LimitCertificate certify_limit(const Leaky2Net& net, const Eigen::MatrixXd& W, LossKind loss) {
  const auto start = std::chrono::steady_clock::now();
  const ScopedProductThreads threads(product_work(net.samples(), net.width(), net.features()));
  LimitCertificate cert;
  const NetPattern pattern = net_pattern(net, W);
  cert.pairs = pattern.signs.size();
  cert.not_strict = pattern.not_strict;
  cert.kinks = pattern.kinks;
  if (pattern.not_strict > 0) {
    cert.reason = fmt::format("{} pre-activations are not certified nonzero at θ_T", pattern.not_strict);
  } else {
    const MidRad gram = enclose_product(net.X, Eigen::MatrixXd(net.X.transpose()));
    const Region region = net_region(net, pattern, gram);
    if (const std::optional<Equilibrium> eq = equilibrium(region, cert)) {
      cert.angle = angle_between(W, net_limit(net, pattern, eq->lambda));
      prove(region, net_sign_functionals(net, pattern, gram, *eq), *eq, loss, cert);
    }
  }
  if (!cert.certified && pattern.kinks > 0) {
    cert.reason = fmt::format(
        "sliding pairs present: {} pairs sit within {:g} ‖w_j‖‖x_i‖ of their kink (Filippov "
        "sliding), and the argument covers strict patterns only; on the strict pattern: {}",
        pattern.kinks, kKinkThreshold, cert.reason);
  }
  cert.seconds = seconds_since(start);
  return cert;
}

LimitCertificate certify_linear_limit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& theta,
                                      LossKind loss) {
  const auto start = std::chrono::steady_clock::now();
  const ScopedProductThreads threads(product_work(X.rows(), 1, X.cols()));
  LimitCertificate cert;
  const MidRad gram = enclose_product(X, Eigen::MatrixXd(X.transpose()));
  const Region region = linear_region(X, y, theta, gram);
  if (const std::optional<Equilibrium> eq = equilibrium(region, cert)) {
    cert.angle = angle_between(theta, X.transpose() * eq->lambda.cwiseProduct(y));
    prove(region, {}, *eq, loss, cert);
  }
  cert.seconds = seconds_since(start);
  return cert;
}

}  // namespace kktflow
