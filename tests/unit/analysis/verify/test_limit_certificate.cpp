#define BOOST_TEST_MODULE limit_certificate
/// The certified limit (limit_certificate.hpp): a two-sample net whose region, limit and
/// admissible radius are derived by hand; a state whose pre-activation will cross zero (shown
/// by integrating its region's flow) is refused; on a random net the certificate's inequalities
/// are re-checked in plain floating point on points of the ball's boundary; the linear model
/// certifies from any state; the logistic loss's perturbation; the claim through the registry.
#include "analysis/verify/claim_registry.hpp"
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/limit_certificate.hpp"
#include "analysis/verify/svm.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

using namespace kktflow;

namespace {

constexpr double kC = 0.25;     // ⟨x1, x2⟩
constexpr double kGamma = 0.5;  // leaky slope

/// x1 = (1, 0), x2 = (c, √(1 − c²)), y = (1, −1), a = (1, −1)/√2. In Frei's pattern
/// s_ji = sign(a_j y_i) the slopes are φ' = [1 γ; γ 1], so P = [(1+γ²)/2, γ; γ, (1+γ²)/2] and
/// K = y yᵀ ∘ Γ ∘ P = [(1+γ²)/2, −cγ; −cγ, (1+γ²)/2]: symmetric, so λ̂ = (½, ½), and
/// W* = Σ_k λ̂_k G_k has rows (x1 − γx2)/(2√2) and (x2 − γx1)/(2√2).
Leaky2Net two_sample_net() {
  const Eigen::Matrix2d X = (Eigen::Matrix2d() << 1, 0, kC, std::sqrt(1 - kC * kC)).finished();
  const double h = 1 / std::sqrt(2.0);
  return make_leaky2_net(X, Eigen::Vector2d(1, -1), Eigen::Vector2d(h, -h), kGamma);
}

Eigen::MatrixXd two_sample_limit(const Leaky2Net& net) {
  Eigen::Matrix2d W;
  W.row(0) = net.X.row(0) - kGamma * net.X.row(1);
  W.row(1) = net.X.row(1) - kGamma * net.X.row(0);
  return W / (2 * std::sqrt(2.0));
}

/// t with kl(½‖½ ± t) = ρ: −½ log(1 − 4t²) = ρ.
double half_width(double rho) { return 0.5 * std::sqrt(-std::expm1(-2 * rho)); }

/// √2 × the certificate's lower bound over the ball N_ρ (kl_ball.hpp, the file comment) for the
/// two kinds of pair, in closed form in ρ. Both samples are in the support, lo, hi = ½ ∓ t and
/// r = hi/λ̂ = 2 hi, so the spread term is √(2ρ r λ̂_k β_k²) = √(2ρ hi) |β_k| for the other sample k:
///  pair (1, 2): β = (−c, γ)/√2, so √2·bound = −c/2 + γ lo − c √(2ρ hi), limit (γ − c)/2;
///  pair (1, 1): β = (1, −γc)/√2, so √2·bound = −γc/2 + lo − γc √(2ρ hi), limit (1 − γc)/2.
/// (2, 1) and (2, 2) mirror them. Returns the smaller bound relative to its limit value.
double hand_sign_margin(double rho) {
  const double t = half_width(rho);
  const double lo = 0.5 - t;
  const double root = std::sqrt(2 * rho * (0.5 + t));
  const double cross = (-kC / 2 + kGamma * lo - kC * root) / ((kGamma - kC) / 2);
  const double own = (-kGamma * kC / 2 + lo - kGamma * kC * root) / ((1 - kGamma * kC) / 2);
  return std::min(cross, own);
}

/// The largest ρ with hand_sign_margin(ρ) > 0: the root of the closed form above, by bisection.
double hand_rho_limit() {
  double inside = 1e-6;
  double outside = 1.0;
  for (int k = 0; k < 200; ++k) {
    const double mid = 0.5 * (inside + outside);
    (hand_sign_margin(mid) > 0 ? inside : outside) = mid;
  }
  return inside;
}

/// A run of `net` held in memory, ending at W.
RunData run_data(const Leaky2Net& net, const Eigen::MatrixXd& W, const std::string& config = "") {
  RunData run;
  run.kind = "leaky2_fixed_outer";
  run.model_attrs = {{"gamma", "0.5"}};
  run.config = config;
  run.X = net.X;
  run.y = net.y;
  run.outer = net.a;
  run.theta_final = theta_from_weights(W);
  run.loss = "exp";
  return run;
}

/// W with the given pre-activations Z = W Xᵀ.
Eigen::MatrixXd weights_with(const Leaky2Net& net, const Eigen::Matrix2d& Z) { return Z * net.X.transpose().inverse(); }

Eigen::VectorXd softmax_neg(const Eigen::VectorXd& q) {
  const Eigen::ArrayXd e = (-(q.array() - q.minCoeff())).exp();
  return e / e.sum();
}

double kl(const Eigen::VectorXd& p, const Eigen::VectorXd& w) {
  double sum = 0;
  for (Eigen::Index i = 0; i < p.size(); ++i)
    if (p[i] > 0) sum += p[i] * std::log(p[i] / w[i]);
  return sum;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_samples_certify_with_the_hand_radius) {
  const Leaky2Net net = two_sample_net();
  const Eigen::MatrixXd W = 64 * two_sample_limit(net);  // on the ray of the limit: w(θ_T) = λ̂
  const LimitCertificate cert = certify_limit(net, W, LossKind::exp);
  BOOST_TEST_INFO(cert.reason);
  BOOST_REQUIRE(cert.certified);
  BOOST_TEST(cert.support == 2);
  BOOST_TEST(cert.initial_kl < 1e-12);
  BOOST_TEST(cert.angle < 1e-12);
  // The admissible radius of the bound, derived above, and below the exact one: the pair (1, 2)
  // keeps its sign iff γν₂ − cν₁ > 0, i.e. ν₂ > c/(γ + c) = 1/3, i.e. ρ < kl(½‖⅓) = ½ log(9/8).
  const double limit = hand_rho_limit();
  BOOST_TEST(std::abs(cert.rho_limit - limit) <= 1e-6 * limit);
  BOOST_TEST(cert.rho_limit < 0.5 * std::log(9.0 / 8));
  BOOST_TEST(cert.rho == 0.25 * cert.rho_limit);
  BOOST_TEST(std::abs(cert.sign_margin - hand_sign_margin(cert.rho)) <= 1e-8);
  // κ' = 0.9 λ_min(lo K), λ_min(K) = (1 + γ²)/2 − cγ = ½.
  const double lo = 0.5 - half_width(cert.rho);
  BOOST_TEST(std::abs(cert.decay - 0.9 * lo * 0.5) <= 1e-9);
  BOOST_TEST(std::abs(cert.weight_ratio_lo - 2 * lo) <= 1e-9);
}

BOOST_AUTO_TEST_CASE(a_state_whose_pre_activation_will_cross_is_refused) {
  const Leaky2Net net = two_sample_net();
  // z₁₂ = −0.1 just below its kink, and q₂ − q₁ = 5 so that w ≈ (1, 0) pushes it up:
  // q₁ = (z₁₁ − γ z₂₁)/√2 = 30/√2, q₂ = (z₂₂ − γ z₁₂)/√2.
  const double z22 = 30 + 5 * std::sqrt(2.0) - 0.05;
  const Eigen::Matrix2d Z = (Eigen::Matrix2d() << 20, -0.1, -20, z22).finished();
  const Eigen::MatrixXd W = weights_with(net, Z);
  BOOST_REQUIRE(activation_pattern(net, W) == frei_pattern(net));
  // The region's flow: c' = softmax(−(q₀ + K c)), z₁₂ = −0.1 + (c c₁ − γ c₂)/√2, by RK4.
  const Eigen::Matrix2d K = (Eigen::Matrix2d() << 0.625, -kC * kGamma, -kC * kGamma, 0.625).finished();
  const Eigen::VectorXd q0 = margins(net, W);
  const auto field = [&](const Eigen::VectorXd& c) { return softmax_neg(q0 + K * c); };
  Eigen::VectorXd c = Eigen::VectorXd::Zero(2);
  double largest = -0.1;
  for (int step = 0; step < 2000; ++step) {
    const double h = 0.005;
    const Eigen::VectorXd k1 = field(c), k2 = field(c + h / 2 * k1), k3 = field(c + h / 2 * k2), k4 = field(c + h * k3);
    c += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    largest = std::max(largest, -0.1 + (kC * c[0] - kGamma * c[1]) / std::sqrt(2.0));
  }
  BOOST_TEST(largest > 0.05);  // z₁₂ crosses zero: the pattern does not hold
  const LimitCertificate cert = certify_limit(net, W, LossKind::exp);
  BOOST_TEST(!cert.certified);
  BOOST_TEST(cert.reason.find("outside the ball") != std::string::npos);
  BOOST_TEST(cert.initial_kl > cert.rho_limit);
}

BOOST_AUTO_TEST_CASE(certificate_rechecked_in_floating_point) {
  // A random net near its limit: Gaussian data (n = 6, d = 40), m = 8, Frei's pattern polished.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd X = Eigen::MatrixXd::NullaryExpr(6, 40, [&] { return normal(rng); });
  Eigen::VectorXd a(8);
  a << 1, 1, 1, 1, -1, -1, -1, -1;
  const Leaky2Net net =
      make_leaky2_net(X, (Eigen::VectorXd(6) << 1, -1, 1, -1, 1, 1).finished(), a / std::sqrt(8.0), 0.5);
  const Polished p = polish(net, frei_pattern(net));
  BOOST_REQUIRE(p.feasible && p.active_signs == 0);
  const Eigen::MatrixXd W = 1e3 * p.W + 1e-4 * Eigen::MatrixXd::NullaryExpr(8, 40, [&] { return normal(rng); });
  const LimitCertificate cert = certify_limit(net, W, LossKind::exp);
  BOOST_TEST_INFO(cert.reason);
  BOOST_REQUIRE(cert.certified);
  BOOST_REQUIRE(std::isfinite(cert.decay));
  // λ̂ from the polishing QP (another solver), K and β from the gradients directly.
  const Eigen::VectorXd lambda = p.lambda / p.lambda.sum();
  const Pattern s = frei_pattern(net);
  std::vector<Eigen::MatrixXd> G(6, Eigen::MatrixXd::Zero(8, 40));
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 8; ++j) G[i].row(j) = net.y[i] * net.a[j] * (s(j, i) > 0 ? 1.0 : 0.5) * X.row(i);
  Eigen::MatrixXd K(6, 6);
  for (int i = 0; i < 6; ++i)
    for (int k = 0; k < 6; ++k) K(i, k) = (G[i].array() * G[k].array()).sum();
  const double mu = lambda.dot(K * lambda);
  BOOST_TEST(((K * lambda).array() >= mu * (1 - 1e-9)).all());  // λ̂ minimises νᵀKν over Δ
  BOOST_TEST(kl(lambda, softmax_neg(margins(net, W))) <= cert.initial_kl * (1 + 1e-6) + 1e-15);
  // Points on the KL sphere of radius ρ along random directions of the simplex's tangent.
  for (int trial = 0; trial < 3000; ++trial) {
    Eigen::VectorXd dir = Eigen::VectorXd::NullaryExpr(6, [&] { return normal(rng); });
    dir.array() -= dir.mean();
    double inside = 0, outside = 1;
    for (int i = 0; i < 6; ++i)
      if (dir[i] < 0) outside = std::min(outside, -lambda[i] / dir[i] * (1 - 1e-12));
    for (int k = 0; k < 100; ++k) {
      const double mid = 0.5 * (inside + outside);
      (kl(lambda, lambda + mid * dir) < cert.rho ? inside : outside) = mid;
    }
    const Eigen::VectorXd nu = lambda + inside * dir;
    const double D = kl(lambda, nu);
    // dD/dτ = (λ̂ − ν)ᵀ K ν ≤ −κ D.
    BOOST_TEST((lambda - nu).dot(K * nu) <= -cert.decay * D * (1 - 1e-9));
    for (int j = 0; j < 8; ++j) {
      for (int i = 0; i < 6; ++i) {
        double at_nu = 0, at_limit = 0;  // ⟨ν, β_ji⟩, ⟨λ̂, β_ji⟩, β_ji,k = s_ji ⟨G_k's row j, x_i⟩
        for (int k = 0; k < 6; ++k) {
          const double beta = s(j, i) * G[k].row(j).dot(X.row(i));
          at_nu += nu[k] * beta;
          at_limit += lambda[k] * beta;
        }
        BOOST_TEST(at_nu >= cert.sign_margin * at_limit * (1 - 1e-9));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(linear_model_certifies_from_any_state) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd X = Eigen::MatrixXd::NullaryExpr(10, 5, [&] { return normal(rng); });
  const Eigen::VectorXd w0 = Eigen::VectorXd::NullaryExpr(5, [&] { return normal(rng); });
  const Eigen::VectorXd y = (X * w0).array().sign().matrix();
  const LinearSvm svm = hard_margin_svm(X, y);
  BOOST_REQUIRE(svm.separable);
  // From θ = 0 every weight is 1/n: KL(λ̂‖w) = Σ λ̂_i log(n λ̂_i), finite; every KL ball is invariant.
  const LimitCertificate zero = certify_linear_limit(X, y, Eigen::VectorXd::Zero(5), LossKind::exp);
  BOOST_TEST_INFO(zero.reason);
  BOOST_TEST(zero.certified);
  BOOST_TEST(zero.pairs == 0);
  // On the ray of w* the support vectors' margins are equal, so w is uniform on S, not λ̂ = α/Σα:
  // the certified KL bounds KL(λ̂‖w) from above, tightly.
  const Eigen::VectorXd theta = 1e3 * svm.w;
  const LimitCertificate late = certify_linear_limit(X, y, theta, LossKind::exp);
  BOOST_TEST(late.certified);
  BOOST_TEST(late.angle < 1e-12);  // θ* ∝ Σ λ̂_i y_i x_i = w*
  const double exact = kl(svm.alpha / svm.alpha.sum(), softmax_neg(y.cwiseProduct(X * theta)));
  BOOST_TEST(exact > 1e-3);
  BOOST_TEST(late.initial_kl >= exact - 1e-12);
  BOOST_TEST(late.initial_kl <= exact + 1e-8);
}

BOOST_AUTO_TEST_CASE(logistic_loss_needs_large_margins) {
  const Leaky2Net net = two_sample_net();
  // At q ≈ 64 μ/… ≫ 1 the perturbation 2 max|K| e^{−q_min} is negligible; at q ≈ 0.01 it is O(1).
  const LimitCertificate late = certify_limit(net, 64 * two_sample_limit(net), LossKind::logistic);
  BOOST_TEST_INFO(late.reason);
  BOOST_TEST(late.certified);
  BOOST_TEST(late.remainder < 1e-6);
  BOOST_TEST(late.growth > 0);
  const LimitCertificate early = certify_limit(net, 0.05 * two_sample_limit(net), LossKind::logistic);
  BOOST_TEST(!early.certified);
  BOOST_TEST(early.reason.find("logistic") != std::string::npos);
  BOOST_TEST(
      certify_limit(net, 0.05 * two_sample_limit(net), LossKind::exp).certified);  // the exp loss needs no margin
}

BOOST_AUTO_TEST_CASE(claim_through_the_registry) {
  const Leaky2Net net = two_sample_net();
  const std::vector<std::string> name{"lyuli2020.limit_certified"};
  const ClaimResult pass = verify_run(run_data(net, 64 * two_sample_limit(net)), name).claims.at(0);
  BOOST_TEST(pass.passed);
  BOOST_TEST(pass.certified);
  BOOST_TEST(!pass.not_certified);
  BOOST_TEST(pass.value < 1);
  const double z22 = 30 + 5 * std::sqrt(2.0) - 0.05;
  const Eigen::Matrix2d Z = (Eigen::Matrix2d() << 20, -0.1, -20, z22).finished();
  const ClaimResult open = verify_run(run_data(net, weights_with(net, Z)), name).claims.at(0);
  BOOST_TEST(!open.passed);
  BOOST_TEST(open.not_certified);
  BOOST_TEST(open.detail.rfind("not certified: ", 0) == 0);
  // Plain gradient descent is not the flow the certificate is about.
  BOOST_CHECK_THROW(verify_run(run_data(net, 64 * two_sample_limit(net), "[flow]\nstepper = \"gd\"\n"), name),
                    std::invalid_argument);
}
