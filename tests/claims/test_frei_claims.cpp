#define BOOST_TEST_MODULE frei_claims
/// Each claim of `kktflow verify` must be able to fail. Runs built in memory around Frei's net on
/// exactly orthogonal data (x_i = e_i, the theorem's cleanest regime), whose rank-2 KKT point is
/// the polished point of the pattern sign(a_j y_i).
#include "analysis/verify/claim_registry.hpp"
#include "analysis/verify/kkt.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace kktflow;

namespace {

const std::vector<std::string> kFrei{
    "frei2023.rank_le_2",       "frei2023.two_families",      "frei2023.kkt",
    "frei2023.linear_boundary", "frei2023.global_max_margin", "frei2023.near_orthogonal"};

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&] { return normal(rng); });
}

/// n = 4 orthogonal samples in R^6, m = 6 neurons (three of each sign), γ = 0.5.
Leaky2Net orthogonal_net() {
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(4, 6);
  for (Eigen::Index i = 0; i < 4; ++i) X(i, i) = 1 + 0.25 * static_cast<double>(i);
  Eigen::VectorXd a(6);
  a << 1, 1, 1, -1, -1, -1;
  return make_leaky2_net(X, Eigen::Vector4d(1, -1, 1, -1), a / std::sqrt(6.0), 0.5);
}

/// A run of `net` held in memory, as the claim registry reads one: ending at W_final, with these
/// snapshots, exp loss and flow.rel_tol = 1e-8.
RunData run_data(const Leaky2Net& net, const Eigen::MatrixXd& W_final,
                 const std::vector<Eigen::MatrixXd>& snapshots = {}) {
  RunData run;
  run.kind = "leaky2_fixed_outer";
  run.model_attrs = {{"gamma", std::to_string(net.gamma)}};
  run.X = net.X;
  run.y = net.y;
  run.outer = net.a;
  run.theta_final = theta_from_weights(W_final);
  for (const Eigen::MatrixXd& W : snapshots) run.snapshots.push_back(theta_from_weights(W));
  run.loss = "exp";
  run.rel_tol = 1e-8;
  return run;
}

/// A run whose snapshots approach W_limit like the flow does (angle halving per snapshot) and
/// which ends at W_final.
RunData converging_run(const Eigen::MatrixXd& W_limit, const Eigen::MatrixXd& W_final) {
  const Eigen::MatrixXd noise = random_matrix(W_limit.rows(), W_limit.cols(), 9).normalized() * W_limit.norm();
  std::vector<Eigen::MatrixXd> snapshots;
  for (int k = 1; k <= 6; ++k) snapshots.push_back(W_limit + std::ldexp(0.3, -k) * noise);
  snapshots.push_back(W_final);
  return run_data(orthogonal_net(), W_final, snapshots);
}

const ClaimResult& find(const VerifyOutcome& outcome, const std::string& name) {
  const auto it = std::ranges::find(outcome.claims, name, &ClaimResult::name);
  BOOST_REQUIRE(it != outcome.claims.end());
  return *it;
}

Eigen::MatrixXd kkt_point() {
  const Leaky2Net net = orthogonal_net();
  return polish(net, frei_pattern(net)).W;
}

/// Trajectory rows after separation with the given smoothed margins and KKT residuals.
std::vector<Record> trajectory(const std::vector<double>& smoothed, const std::vector<double>& eps) {
  std::vector<Record> rows;
  for (std::size_t k = 0; k < smoothed.size(); ++k) {
    Record r;
    r.log_loss = -10.0 * static_cast<double>(k + 1);
    r.norm = 10.0 * static_cast<double>(k + 1);
    r.smoothed_margin = smoothed[k];
    r.kkt_eps = eps[k];
    rows.push_back(r);
  }
  return rows;
}

}  // namespace

BOOST_AUTO_TEST_CASE(converged_run_passes_every_frei_claim_with_certificates) {
  const Eigen::MatrixXd W = kkt_point();
  const RunData run = converging_run(W, W + 1e-4 * random_matrix(6, 6, 3));
  const VerifyOutcome outcome = verify_run(run, kFrei);
  for (const ClaimResult& c : outcome.claims) BOOST_TEST_CONTEXT(c.name << ": " << c.detail) {
      BOOST_TEST(c.passed);
    }
  BOOST_TEST(find(outcome, "frei2023.rank_le_2").certified);
  BOOST_TEST(find(outcome, "frei2023.kkt").certified);
  BOOST_TEST(find(outcome, "frei2023.linear_boundary").certified);
  BOOST_TEST(find(outcome, "frei2023.rank_le_2").value <= 1e-10);
  BOOST_TEST((outcome.finals.polished_theta - theta_from_weights(W)).norm() < 1e-13);
}

BOOST_AUTO_TEST_CASE(hand_made_rank_three_direction_fails_rank_and_kkt) {
  // W_final = the KKT point plus a rank-3 part as large as itself; the snapshots do not approach
  // it, so verify has no polished limit and judges W_final.
  const Eigen::MatrixXd W_star = kkt_point();
  Eigen::MatrixXd bump = Eigen::MatrixXd::Zero(6, 6);
  bump(0, 4) = bump(1, 5) = bump(3, 4) = W_star.norm();
  const Eigen::MatrixXd W = W_star + bump;
  const RunData run = run_data(orthogonal_net(), W, {W_star, W_star, W_star, W});
  const VerifyOutcome outcome = verify_run(run, kFrei);
  const ClaimResult& rank = find(outcome, "frei2023.rank_le_2");
  BOOST_TEST(!rank.passed);
  BOOST_TEST(rank.value > 0.1);
  BOOST_TEST(!rank.certified);
  BOOST_TEST(!find(outcome, "frei2023.kkt").passed);
  BOOST_TEST(!find(outcome, "frei2023.two_families").passed);
  BOOST_TEST(outcome.finals.polished_theta.size() == 0);
}

BOOST_AUTO_TEST_CASE(perturbed_point_fails_kkt) {
  const Eigen::MatrixXd W_star = kkt_point();
  const Eigen::MatrixXd W = W_star + 0.1 * W_star.norm() * random_matrix(6, 6, 4).normalized();
  const VerifyOutcome outcome = verify_run(converging_run(W_star, W), {"frei2023.kkt"});
  BOOST_TEST(outcome.claims.size() == 1u);
  BOOST_TEST(!outcome.claims.front().passed);
  BOOST_TEST(outcome.claims.front().value > 1e-2);
}

BOOST_AUTO_TEST_CASE(correlated_low_dimensional_data_do_not_meet_the_regime) {
  // n = 50 samples y_i μ + N(0, I) in R^5: pairwise correlations as large as the norms.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd X(50, 5);
  Eigen::VectorXd y(50);
  for (Eigen::Index i = 0; i < 50; ++i) {
    y[i] = i % 2 == 0 ? 1 : -1;
    for (Eigen::Index k = 0; k < 5; ++k) X(i, k) = normal(rng) + (k == 0 ? 3 * y[i] : 0.0);
  }
  Eigen::VectorXd a(4);
  a << 1, 1, -1, -1;
  const Leaky2Net net = make_leaky2_net(X, y, a / 2, 0.5);
  const RunData run = run_data(net, random_matrix(4, 5, 6));
  const ClaimResult regime = verify_run(run, {"frei2023.near_orthogonal"}).claims.front();
  BOOST_TEST(!regime.passed);
  BOOST_TEST(regime.value < 1e-2);
  BOOST_TEST(regime.detail.find("NOT met") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lyu_li_claims_fail_on_decreasing_margin_and_growing_residual) {
  RunData run = run_data(orthogonal_net(), kkt_point());
  run.trajectory = trajectory({1.0, 1.1, 1.2, 1.3}, {1e-2, 5e-3, 3e-3, 2e-3});
  VerifyOutcome ok = verify_run(run, {"lyuli2020.smoothed_margin_monotone", "lyuli2020.kkt_rate"});
  BOOST_TEST(ok.claims[0].passed);
  BOOST_TEST(ok.claims[1].passed);
  run.trajectory = trajectory({1.0, 1.1, 1.05, 1.3}, {1e-2, 2e-2, 3e-2, 5e-2});
  VerifyOutcome bad = verify_run(run, {"lyuli2020.smoothed_margin_monotone", "lyuli2020.kkt_rate"});
  BOOST_TEST(!bad.claims[0].passed);
  BOOST_TEST(std::abs(bad.claims[0].value - 0.05 / 1.1) < 1e-12);
  BOOST_TEST(!bad.claims[1].passed);
  BOOST_TEST(bad.claims[1].value > 0);
}

BOOST_AUTO_TEST_CASE(global_max_margin_fails_when_a_competitor_is_better) {
  // The final direction is a worse KKT point: the polish of a pattern with one flipped pair.
  const Leaky2Net net = orthogonal_net();
  Pattern s = frei_pattern(net);
  s(0, 1) = static_cast<std::int8_t>(-s(0, 1));
  const Eigen::MatrixXd worse = polish(net, s).W;
  const ClaimResult r = verify_run(converging_run(worse, worse), {"frei2023.global_max_margin"}).claims.front();
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.value > 1 + 1e-3);
}

BOOST_AUTO_TEST_CASE(unknown_claim_lists_the_known_ones) {
  const RunData run = run_data(orthogonal_net(), kkt_point());
  try {
    static_cast<void>(verify_run(run, {"frei2023.nope"}));
    BOOST_FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("known claims: frei2023.rank_le_2") != std::string::npos);
  }
}
