#define BOOST_TEST_MODULE kkt
#include "analysis/verify/cone_qp.hpp"
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/svm.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <random>

using namespace kktflow;

namespace {

constexpr double kGamma = 0.5;

/// Frei's net on the smallest case solved by hand: x1 = e1 (y = +1), x2 = e2 (y = −1), two
/// neurons a = (c, −c), c = 1/√2. On the pattern sign(a_j y_i), KKT gives
///   w1 = c(λ1 x1 − γλ2 x2),  w2 = c(−γλ1 x1 + λ2 x2),  q_i = c²λ_i(1 + γ²) = 1,
/// so λ_i = 2/(1 + γ²), ‖W‖² = 4/(1 + γ²), normalized margin √(1 + γ²)/2.
Leaky2Net hand_net() {
  const double c = 1 / std::sqrt(2.0);
  return make_leaky2_net(Eigen::Matrix2d::Identity(), Eigen::Vector2d(1, -1), Eigen::Vector2d(c, -c), kGamma);
}

Eigen::MatrixXd hand_solution() {
  const double c = 1 / std::sqrt(2.0);
  const double lambda = 2 / (1 + kGamma * kGamma);
  return c * lambda * (Eigen::Matrix2d() << 1, -kGamma, -kGamma, 1).finished();
}

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&] { return normal(rng); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(theta_and_weights_round_trip_row_major) {
  const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(6, 0, 5);
  const Eigen::MatrixXd W = weights_from_theta(theta, 2, 3);
  BOOST_TEST(W(0, 2) == 2.0);
  BOOST_TEST(W(1, 0) == 3.0);
  BOOST_TEST(theta_from_weights(W) == theta);
  BOOST_CHECK_THROW(weights_from_theta(theta, 4, 2), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(polish_matches_the_hand_solution) {
  const Leaky2Net net = hand_net();
  const Polished p = polish(net, frei_pattern(net));
  BOOST_TEST(p.feasible);
  BOOST_TEST(p.converged);
  BOOST_TEST(p.active_signs == 0);
  BOOST_TEST((p.W - hand_solution()).norm() < 1e-14);
  const double lambda = 2 / (1 + kGamma * kGamma);
  BOOST_TEST((p.lambda - Eigen::Vector2d(lambda, lambda)).norm() < 1e-14);
  BOOST_TEST(std::abs(normalized_margin(net, p.W) - std::sqrt(1 + kGamma * kGamma) / 2) < 1e-14);
}

BOOST_AUTO_TEST_CASE(polished_margin_is_the_brute_force_maximum) {
  // Every direction of R^{2×2} on a seeded sample of the sphere: none beats the polished margin,
  // and the best comes close to it (the hand case is Frei's global optimum).
  const Leaky2Net net = hand_net();
  const double polished = normalized_margin(net, polish(net, frei_pattern(net)).W);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  double best = -1;
  for (int k = 0; k < 200000; ++k) {
    const Eigen::Matrix2d W = Eigen::Matrix2d::NullaryExpr([&] { return normal(rng); });
    best = std::max(best, normalized_margin(net, W));
  }
  BOOST_TEST(best <= polished + 1e-12);
  BOOST_TEST(best >= polished - 1e-2);
}

BOOST_AUTO_TEST_CASE(kkt_residual_vanishes_at_the_solution_and_not_nearby) {
  const Leaky2Net net = hand_net();
  const KktResidual at = clarke_kkt(net, 3.0 * hand_solution());  // scale does not matter
  BOOST_TEST(at.converged);
  BOOST_TEST(at.epsilon < 1e-14);
  BOOST_TEST(std::abs(at.delta) < 1e-14);
  BOOST_TEST(at.kinks == 0);
  const Eigen::MatrixXd perturbed =
      hand_solution() + 0.1 * hand_solution().norm() * random_matrix(2, 2, 5).normalized();
  const KktResidual off = clarke_kkt(net, perturbed);
  BOOST_TEST(off.epsilon / off.norm_tilde > 1e-2);
}

BOOST_AUTO_TEST_CASE(clarke_slopes_are_fitted_on_a_kink) {
  // x1 = (1, 0) (y = +1), x2 = (1, 1) (y = −1), a = (1, −1), γ = 0.2. W = M X with
  //   w1 = λ1 x1 − t λ2 x2 = (0.5, −0.5),  w2 = −λ1 x1 + λ2 x2 = (0.25, 1.25),  λ = (1, 1.25), t = 0.4,
  // puts ⟨w1, x2⟩ = 0 exactly: W is stationary only with the Clarke slope φ'_12 = t ∈ [γ, 1].
  const Leaky2Net net = make_leaky2_net((Eigen::Matrix2d() << 1, 0, 1, 1).finished(), Eigen::Vector2d(1, -1),
                                        Eigen::Vector2d(1, -1), 0.2);
  const Eigen::Matrix2d W = (Eigen::Matrix2d() << 0.5, -0.5, 0.25, 1.25).finished();
  const KktResidual clarke = clarke_kkt(net, W);
  BOOST_TEST(clarke.kinks == 1);
  BOOST_TEST(clarke.epsilon < 1e-14);
  BOOST_TEST(std::abs(clarke.slopes(0, 1) - 0.4) < 1e-12);
  const double q_min = 0.25;  // q = (λ1/2 − (λ2 − λ1), 2λ2 − λ1) = (0.25, 1.5)
  BOOST_TEST((clarke.lambda - Eigen::Vector2d(1, 1.25) / q_min).norm() < 1e-12);
  // Without the Clarke range (no pair counts as a kink) the slope is fixed at φ'(0) = γ.
  const KktResidual fixed = clarke_kkt(net, W, -1.0);
  BOOST_TEST(fixed.kinks == 0);
  BOOST_TEST(fixed.epsilon / fixed.norm_tilde > 1e-2);
}

BOOST_AUTO_TEST_CASE(non_separating_point_has_infinite_residual) {
  const Leaky2Net net = hand_net();
  const KktResidual r = clarke_kkt(net, -hand_solution());
  BOOST_TEST(std::isinf(r.epsilon));
}

BOOST_AUTO_TEST_CASE(infeasible_pattern_is_detected) {
  // Sample 1 (y = +1) gets slope-weighted contributions a_j y_1 s_j1 ⟨·⟩ ≤ 0 from both neurons.
  const Leaky2Net net = hand_net();
  Pattern s = frei_pattern(net);
  s(0, 0) = -1;
  s(1, 0) = 1;
  const Polished p = polish(net, s);
  BOOST_TEST(!p.feasible);
}

BOOST_AUTO_TEST_CASE(polish_generates_violated_sign_constraints) {
  // The pattern flips pair (0, 1) of the hand case: the QP must hold ⟨w1, x2⟩ ≥ 0, which the
  // unconstrained optimum on that pattern violates, so the constraint ends active (⟨w1, x2⟩ = 0).
  const Leaky2Net net = hand_net();
  Pattern s = frei_pattern(net);
  s(0, 1) = 1;
  const Polished p = polish(net, s);
  BOOST_TEST(p.feasible);
  BOOST_TEST(p.rounds == 2);
  BOOST_TEST(p.active_signs == 1);
  BOOST_TEST(std::abs(p.W.row(0).dot(net.X.row(1))) < 1e-14);
  BOOST_TEST(margins(net, p.W).minCoeff() > 1 - 1e-12);
  BOOST_TEST(normalized_margin(net, p.W) < normalized_margin(net, hand_solution()));
}

BOOST_AUTO_TEST_CASE(polish_refuses_a_round_whose_dual_exceeds_its_budget) {
  // The flipped pair of the hand case needs a second round with one sign constraint: a dual of
  // 3 variables. A budget of 2 variables solves round 1 and refuses round 2 before building it.
  const Leaky2Net net = hand_net();
  Pattern s = frei_pattern(net);
  s(0, 1) = 1;
  const Polished refused = polish(net, s, std::numeric_limits<Eigen::Index>::max(), cone_qp_bytes(2));
  BOOST_TEST(!refused.feasible);
  BOOST_TEST(refused.capped);
  BOOST_TEST(refused.over_memory);
  BOOST_TEST(refused.rounds == 2);
  BOOST_TEST(refused.dual_variables == 3);
  BOOST_TEST(refused.dual_bytes == cone_qp_bytes(3));
  BOOST_TEST(polish_refusal(refused).find("not computed: round 2 needs a dense dual of 3 variables") == 0u);
  const Polished solved = polish(net, s, std::numeric_limits<Eigen::Index>::max(), cone_qp_bytes(3));
  BOOST_TEST(solved.feasible);
  BOOST_TEST(!solved.over_memory);
  BOOST_TEST(polish_refusal(solved).empty());
}

BOOST_AUTO_TEST_CASE(polish_of_an_unconverged_pattern_stays_within_its_budget) {
  // A random pattern violates a large share of its m·n sign constraints at once: the dual it
  // asks for is far beyond n, and polish must refuse it instead of building it.
  const Eigen::Index n = 40, m = 30;
  Eigen::VectorXd y = Eigen::VectorXd::Ones(n);
  y.tail(n / 2).setConstant(-1);
  Eigen::VectorXd a = Eigen::VectorXd::Constant(m, 1 / std::sqrt(double(m)));
  a.tail(m / 2) *= -1;
  const Leaky2Net net = make_leaky2_net(random_matrix(n, 10, 3), y, a, kGamma);
  const Pattern pattern = activation_pattern(net, random_matrix(m, 10, 4));
  const double budget = cone_qp_bytes(n + 20);
  const Polished p = polish(net, pattern, std::numeric_limits<Eigen::Index>::max(), budget);
  BOOST_TEST(p.over_memory);
  BOOST_TEST(p.dual_variables > n + 20);
  BOOST_TEST(p.dual_bytes > budget);
  // The budget grows as N²; it admits the first round at n = 1000 with 100 kinks, and refuses a
  // dual with a variable per pair at that size.
  BOOST_TEST(cone_qp_bytes(2000) == 4 * cone_qp_bytes(1000));
  BOOST_TEST(cone_qp_bytes(1000 + 100) <= kPolishMemoryBytes);
  BOOST_TEST(cone_qp_bytes(100 * 1000) > kPolishMemoryBytes);
}

BOOST_AUTO_TEST_CASE(svm_matches_closed_forms) {
  // x1 = e1 (+1), x2 = e2 (−1), x3 = 2 e1 (+1, not a support vector): w* = (1, −1), γ_lin = 1/√2.
  const Eigen::MatrixXd X = (Eigen::MatrixXd(3, 2) << 1, 0, 0, 1, 2, 0).finished();
  const LinearSvm svm = hard_margin_svm(X, Eigen::Vector3d(1, -1, 1));
  BOOST_TEST(svm.separable);
  BOOST_TEST(svm.converged);
  BOOST_TEST((svm.w - Eigen::Vector2d(1, -1)).norm() < 1e-14);
  BOOST_TEST((svm.alpha - Eigen::Vector3d(1, 1, 0)).norm() < 1e-14);
  BOOST_TEST(std::abs(svm.margin - 1 / std::sqrt(2.0)) < 1e-15);
  BOOST_TEST(svm.kkt_residual < 1e-14);
  BOOST_TEST(std::abs(linear_margin(X, Eigen::Vector3d(1, -1, 1), svm.w) - svm.margin) < 1e-15);
}

BOOST_AUTO_TEST_CASE(svm_reports_non_separable_data) {
  const Eigen::MatrixXd X = (Eigen::MatrixXd(2, 2) << 1, 0, 1, 0).finished();
  BOOST_TEST(!hard_margin_svm(X, Eigen::Vector2d(1, -1)).separable);
}
