// top_singular_values (solver/metrics.hpp), what every trajectory row's σ and stable rank come
// from, against matrices built with known singular values: W = U diag(s) Vᵀ with orthonormal U, V.
#define BOOST_TEST_MODULE spectrum
#include <boost/test/unit_test.hpp>

#include "solver/metrics.hpp"

#include <Eigen/QR>

using namespace kktflow;

namespace {

/// rows × cols with singular values s (descending), from the QR factors of random matrices.
Eigen::MatrixXd with_singular_values(Eigen::Index rows, Eigen::Index cols, const Eigen::VectorXd& s) {
  const Eigen::Index r = s.size();
  const Eigen::MatrixXd U = Eigen::HouseholderQR<Eigen::MatrixXd>(Eigen::MatrixXd::Random(rows, r)).householderQ() *
                            Eigen::MatrixXd::Identity(rows, r);
  const Eigen::MatrixXd V = Eigen::HouseholderQR<Eigen::MatrixXd>(Eigen::MatrixXd::Random(cols, r)).householderQ() *
                            Eigen::MatrixXd::Identity(cols, r);
  return U * s.asDiagonal() * V.transpose();
}

/// A spectrum of 300 values: `top` first, then a tail falling from tail_start geometrically.
Eigen::VectorXd spectrum(std::initializer_list<double> top, double tail_start) {
  Eigen::VectorXd s(300);
  Eigen::Index i = 0;
  for (double v : top) s[i++] = v;
  for (double v = tail_start; i < s.size(); v *= 0.97) s[i++] = v;
  return s;
}

void check(const Eigen::MatrixXd& W, const Eigen::VectorXd& s, double rel_tol) {
  const TopSingularValues top = top_singular_values(W, 4);
  BOOST_REQUIRE_EQUAL(top.sigma.size(), 4);
  for (Eigen::Index i = 0; i < 4; ++i) BOOST_TEST(top.sigma[i] == s[i], boost::test_tools::tolerance(rel_tol));
  BOOST_TEST(top.frobenius2 == s.squaredNorm(), boost::test_tools::tolerance(1e-12));
}

}  // namespace

BOOST_AUTO_TEST_CASE(gram_route_on_a_wide_matrix_with_a_resolved_tail) {
  // Short side 300 > 256 and σ4/σ1 = 1e-2: the Gram's values, accurate to ~u σ1²/σ4² ≈ 1e-12.
  const Eigen::VectorXd s = spectrum({50, 18, 0.9, 0.5}, 0.3);
  check(with_singular_values(300, 700, s), s, 1e-10);
}

BOOST_AUTO_TEST_CASE(gram_route_on_a_tall_matrix_without_a_head) {
  // No gap λ_{p+1} ≤ λ_p/4: the Gram's values, accurate to ~u σ1²/(2σ4²) ≈ 2e-16.
  const Eigen::VectorXd s = spectrum({7, 6, 5, 4}, 1.0);
  check(with_singular_values(700, 300, s), s, 1e-10);
}

BOOST_AUTO_TEST_CASE(an_unresolved_tail_is_deflated) {
  // σ3/σ1 = 1e-9: the Gram cannot see σ3 (its eigenvalue 1e-18 σ1² is below u σ1²); with σ1, σ2
  // projected out it can, to ~u σ1 (σ1/σ2)² ≈ 7e-16 absolutely, 7e-7 of σ3 (dgesvd: ~1e-7).
  const Eigen::VectorXd s = spectrum({1, 0.4, 1e-9, 5e-10}, 1e-10);
  check(with_singular_values(300, 700, s), s, 1e-5);
}

BOOST_AUTO_TEST_CASE(a_tail_three_scales_down_is_deflated_twice) {
  // σ2/σ1 = 1e-5 (resolved only by deflating σ1), σ3/σ2 = 1e-5 (by deflating σ2 in turn).
  const Eigen::VectorXd s = spectrum({1, 1e-5, 1e-10, 9e-11}, 5e-11);
  check(with_singular_values(700, 300, s), s, 1e-4);
}

BOOST_AUTO_TEST_CASE(a_late_run_spectrum_is_deflated_from_a_sketch) {
  // What records see late in bench/scale's largest case: a rank-2 head 1e7 times the rest
  // (σ3/σ1 ≈ 1e-7 at ε_KKT ≈ 1e-6) over a slowly falling bulk. The head is found by the
  // randomized range finder, the bulk from the deflated rest: ~u σ1 (σ1/σ2)² ≈ 1e-9 absolutely,
  // 7e-9 of σ3 (dgesvd: u σ1 ≈ 3e-10, 2e-9 of σ3).
  const Eigen::VectorXd s = spectrum({1.4e6, 5.1e5, 0.15, 0.147}, 0.14);
  check(with_singular_values(400, 900, s), s, 5e-8);
}
