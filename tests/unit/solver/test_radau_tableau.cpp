// The Radau IIA tableau switch_radau computes from its nodes, against the published one: Hairer &
// Wanner II, Table IV.5.6 (A), the real eigenvalue of A⁻¹ that RADAU5 calls U1 (3.6378342527445),
// and the error estimate's weights of their §IV.8, γ0 (13 + 7√6, 13 − 7√6, 1)/3 with γ0 = 1/U1
// (their (ŷ1 − y1) has the opposite sign of our y1 − ŷ1, hence their −13 ∓ 7√6).
#define BOOST_TEST_MODULE radau_tableau
#include <boost/test/unit_test.hpp>

#include "solver/switch_radau_stepper.hpp"

#include <cmath>

using namespace kktflow;

BOOST_AUTO_TEST_CASE(radau_iia_matrix_is_the_published_one) {
  const double r6 = std::sqrt(6.0);
  Eigen::Matrix3d A;
  A << (88 - 7 * r6) / 360, (296 - 169 * r6) / 1800, (-2 + 3 * r6) / 225,  //
      (296 + 169 * r6) / 1800, (88 + 7 * r6) / 360, (-2 - 3 * r6) / 225,   //
      (16 - r6) / 36, (16 + r6) / 36, 1.0 / 9;
  BOOST_TEST((radau_iia3().A - A).cwiseAbs().maxCoeff() < 1e-15);
  BOOST_TEST(radau_iia3().c[0] == (4 - r6) / 10, boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(eigen_decomposition_reassembles_the_matrix) {
  const RadauTableau& t = radau_iia3();
  BOOST_TEST(1 / t.mu == 3.6378342527445, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(t.nu.imag() > 0);
  const Eigen::Matrix3cd D = Eigen::Vector3cd(t.mu, t.nu, std::conj(t.nu)).asDiagonal();
  BOOST_TEST((t.V * D * t.Vinv - t.A.cast<std::complex<double>>()).cwiseAbs().maxCoeff() < 1e-14);
  BOOST_TEST(t.V.col(0).imag().cwiseAbs().maxCoeff() == 0.0);
}

BOOST_AUTO_TEST_CASE(error_weights_are_hairer_and_wanners) {
  const double r6 = std::sqrt(6.0);
  const RadauTableau& t = radau_iia3();
  const Eigen::Vector3d expected = t.mu * Eigen::Vector3d(13 + 7 * r6, 13 - 7 * r6, 1) / 3;
  BOOST_TEST((t.e - expected).cwiseAbs().maxCoeff() < 1e-13);
}

BOOST_AUTO_TEST_CASE(weight_cubic_interpolates_the_stage_weights) {
  // W'(u h)/h = b1 + 2u b2 + 3u² b3 must equal w_k at u = c_k for any stage weights: B maps them so.
  const RadauTableau& t = radau_iia3();
  const Eigen::Vector3d w(0.3, -1.2, 2.5), b = t.B * w;
  for (int k = 0; k < 3; ++k)
    BOOST_TEST(b[0] + 2 * t.c[k] * b[1] + 3 * t.c[k] * t.c[k] * b[2] == w[k], boost::test_tools::tolerance(1e-13));
}

BOOST_AUTO_TEST_CASE(newton_lu_solves_real_complex_and_transposed_systems) {
  // switch_radau's LAPACK factors (newton_lu.hpp) against the residual of the systems they solve.
  const Eigen::Index n = 60;
  const Eigen::MatrixXd M = Eigen::MatrixXd::Random(n, n) + 4 * Eigen::MatrixXd::Identity(n, n);
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1, 2);
  NewtonLU<double> real;
  real.compute(M);
  BOOST_TEST((M * real.solve(b) - b).norm() < 1e-12 * b.norm());
  BOOST_TEST((M.transpose() * real.solve(b, true) - b).norm() < 1e-12 * b.norm());
  const Eigen::MatrixXcd Mc = M.cast<std::complex<double>>() * std::complex<double>(0.5, -2.0);
  const Eigen::VectorXcd bc = b.cast<std::complex<double>>() * std::complex<double>(1.0, 1.0);
  NewtonLU<std::complex<double>> complex;
  complex.compute(Mc);
  BOOST_TEST((Mc * complex.solve(bc) - bc).norm() < 1e-12 * bc.norm());
}
