#define BOOST_TEST_MODULE certify
#include "analysis/verify/certify.hpp"

#include <Eigen/SVD>
#include <boost/test/unit_test.hpp>

#include <cfenv>
#include <cmath>
#include <random>

using namespace kktflow;

namespace {

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&] { return normal(rng); });
}

/// The Frei net of test_kkt's hand case (x = e1, e2; y = ±1; a = ±1/√2; γ = 0.5) and its KKT point.
Leaky2Net hand_net() {
  const double c = 1 / std::sqrt(2.0);
  return make_leaky2_net(Eigen::Matrix2d::Identity(), Eigen::Vector2d(1, -1), Eigen::Vector2d(c, -c), 0.5);
}

}  // namespace

BOOST_AUTO_TEST_CASE(kkt_certificate_at_the_polished_point) {
  const Leaky2Net net = hand_net();
  const Polished p = polish(net, frei_pattern(net));
  const KktCertificate cert = certify_kkt(net, p.W, p.lambda, frei_pattern(net));
  BOOST_TEST(cert.valid);
  BOOST_TEST(cert.non_strict == 0);
  BOOST_TEST(cert.epsilon_upper < 1e-14);
  BOOST_TEST(cert.epsilon_relative_upper < 1e-14);
  BOOST_TEST(cert.delta_upper < 1e-14);
  BOOST_TEST(cert.q_min_lower <= 1.0);
  BOOST_TEST(cert.q_min_upper >= 1.0 - 1e-15);
  BOOST_TEST(cert.q_min_lower > 1 - 1e-14);
  // Both pre-activations of each neuron are ±λc(1 or γ) of unit data: strict by γ/√(1 + γ²).
  BOOST_TEST(std::abs(cert.strictness_lower - 0.5 / std::sqrt(1.25)) < 1e-14);
}

BOOST_AUTO_TEST_CASE(kkt_certificate_of_a_perturbed_point_is_large) {
  const Leaky2Net net = hand_net();
  const Polished p = polish(net, frei_pattern(net));
  const Eigen::MatrixXd W = p.W + 0.05 * random_matrix(2, 2, 3);
  const KktCertificate cert = certify_kkt(net, W, p.lambda, activation_pattern(net, W));
  BOOST_TEST(cert.valid);
  BOOST_TEST(cert.epsilon_relative_upper > 1e-3);
}

BOOST_AUTO_TEST_CASE(kink_pairs_invalidate_the_kkt_certificate) {
  const Leaky2Net net = make_leaky2_net((Eigen::Matrix2d() << 1, 0, 1, 1).finished(), Eigen::Vector2d(1, -1),
                                        Eigen::Vector2d(1, -1), 0.2);
  const Eigen::Matrix2d W = (Eigen::Matrix2d() << 0.5, -0.5, 0.25, 1.25).finished();  // ⟨w1, x2⟩ = 0
  const KktCertificate cert = certify_kkt(net, W, Eigen::Vector2d(4, 5), activation_pattern(net, W));
  BOOST_TEST(!cert.valid);
  BOOST_TEST(cert.non_strict == 1);
  BOOST_TEST(cert.strictness_lower == 0.0);
}

BOOST_AUTO_TEST_CASE(rank_bound_encloses_the_float_ratio_and_fails_rank_three) {
  // Exactly rank 3 with σ = (3, 2, 1): W = U diag(σ) Vᵀ from random orthonormal U, V.
  const Eigen::MatrixXd U =
      Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(8, 3, 1)).householderQ() * Eigen::MatrixXd::Identity(8, 3);
  const Eigen::MatrixXd V =
      Eigen::HouseholderQR<Eigen::MatrixXd>(random_matrix(20, 3, 2)).householderQ() * Eigen::MatrixXd::Identity(20, 3);
  const Eigen::MatrixXd W = U * Eigen::Vector3d(3, 2, 1).asDiagonal() * V.transpose();
  const RankCertificate cert = certify_rank2(W);
  BOOST_TEST(std::abs(cert.ratio_float - 1.0 / 3) < 1e-12);
  BOOST_TEST(cert.ratio_upper >= cert.ratio_float);
  BOOST_TEST(cert.ratio_upper < 1.0 / 3 + 1e-12);
  BOOST_TEST(cert.sigma1_lower <= 3.0);
  BOOST_TEST(cert.sigma1_lower > 3.0 - 1e-12);
}

BOOST_AUTO_TEST_CASE(rank_two_matrix_gets_a_tiny_certified_ratio) {
  const Eigen::MatrixXd W = random_matrix(30, 2, 4) * random_matrix(2, 50, 5);
  const RankCertificate cert = certify_rank2(W);
  BOOST_TEST(cert.ratio_upper < 1e-13);
  BOOST_TEST(cert.ratio_upper >= 0.0);
}

BOOST_AUTO_TEST_CASE(certificates_restore_the_rounding_mode) {
  std::fesetround(FE_TONEAREST);
  static_cast<void>(certify_rank2(random_matrix(5, 7, 6)));
  BOOST_TEST(std::fegetround() == FE_TONEAREST);
}

BOOST_AUTO_TEST_CASE(two_families_and_linear_boundary_of_the_hand_case) {
  const Leaky2Net net = hand_net();
  const Polished p = polish(net, frei_pattern(net));
  const FamilyCertificate fam = certify_two_families(net, p.W);
  BOOST_TEST(fam.positive);
  BOOST_TEST(fam.angle_upper < 1e-15);  // one row per family: parallel to itself
  const BoundaryCertificate b = certify_linear_boundary(net, fam, p.lambda);
  BOOST_TEST(b.proven);
  BOOST_TEST(b.a_lower > 0);
  BOOST_TEST(b.b_lower > 0);
  BOOST_TEST(b.wedge_upper < 1e-14);
  // z = Σ λ_i y_i c_i x_i with c_i = 1 + γ for both labels (one neuron per sign): z ∥ (1, −1).
  const Eigen::VectorXd z = frei_predictor(net, p.lambda);
  BOOST_TEST(std::abs(z[0] + z[1]) < 1e-14 * z.norm());
}

BOOST_AUTO_TEST_CASE(non_parallel_rows_fail_the_family_claim) {
  // Two neurons with a_j > 0 pointing along e1 and e2: not one family.
  const Leaky2Net net = make_leaky2_net(Eigen::Matrix2d::Identity(), Eigen::Vector2d(1, -1),
                                        Eigen::Vector3d(1, 1, -1) / std::sqrt(3.0), 0.5);
  const Eigen::MatrixXd W = (Eigen::MatrixXd(3, 2) << 1, 0, 0, 1, -1, -1).finished();
  const FamilyCertificate fam = certify_two_families(net, W);
  // Each row is π/4 from p = e1 + e2; the bound asin s ≤ s/√(1 − s²) = tan(π/4) is tight only
  // for small angles.
  BOOST_TEST(std::abs(fam.angle_float - std::atan(1.0)) < 1e-12);
  BOOST_TEST(fam.angle_upper >= std::atan(1.0));
  BOOST_TEST(fam.angle_upper <= 1 + 1e-12);
}
