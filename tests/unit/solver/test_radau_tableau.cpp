// The Radau IIA tableau switch_radau computes from its nodes, against the published one: Hairer &
// Wanner II, Table IV.5.6 (A), the real eigenvalue of A⁻¹ that RADAU5 calls U1 (3.6378342527445),
// and the error estimate's weights of their §IV.8, γ0 (13 + 7√6, 13 − 7√6, 1)/3 with γ0 = 1/U1
// (their (ŷ1 − y1) has the opposite sign of our y1 − ŷ1, hence their −13 ∓ 7√6).
#define BOOST_TEST_MODULE radau_tableau
#include <boost/test/unit_test.hpp>

#include "problems/loss.hpp"
#include "solver/active_newton.hpp"
#include "solver/margin_newton.hpp"
#include "solver/switch_radau_stepper.hpp"

#include <cmath>
#include <vector>

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

/// M = I − hα K (w wᵀ − diag v), formed densely: what margin_newton.hpp factors without forming.
Eigen::MatrixXcd newton_matrix(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v,
                               std::complex<double> h_alpha) {
  const Eigen::MatrixXd P = w * w.transpose() - Eigen::MatrixXd(v.asDiagonal());
  return Eigen::MatrixXcd::Identity(K.rows(), K.cols()) - h_alpha * (K * P).cast<std::complex<double>>();
}

BOOST_AUTO_TEST_CASE(margin_newton_solves_real_complex_and_transposed_systems) {
  // switch_radau's factors (margin_newton.hpp) against the dense M they stand for: backward errors
  // ‖M x − b‖ / (‖M‖ ‖x‖) from mild (h = 1) to stiff (h = 1e8) matrices, with softmax weights
  // spanning 300 decades (D = V^{1/2} underflows to 0 on the smallest) and the logistic loss's
  // ρ < 1. Measured: ≤ 6e-13 (LAPACK's LU of M: ~1e-15); the Sherman–Morrison form on the exp
  // loss's σ = 1 reached 1.5e-5 at h = 1e8, which the bound 1e-11 (ours) catches.
  const Eigen::Index n = 60;
  const Eigen::MatrixXd G = Eigen::MatrixXd::Random(2 * n, n);
  const Eigen::MatrixXd K = G.transpose() * G;
  const Eigen::VectorXd q = Eigen::VectorXd::LinSpaced(n, 0.0, 700.0);
  Eigen::VectorXd w(n), v(n);
  for (const LossKind kind : {LossKind::exp, LossKind::logistic}) {
    const MarginLoss loss(kind);
    loss.weights(q, w);
    loss.weights_jacobian_diagonal(q, w, v);
    const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1, 2);
    for (const double h : {1.0, 1e4, 1e8}) {
      const RadauTableau& t = radau_iia3();
      MarginJacobian J;
      J.compute(K, w, v);
      MarginNewton<double> real;
      real.compute(J, h * t.mu);
      const Eigen::MatrixXd M = newton_matrix(K, w, v, h * t.mu).real();
      for (const bool transposed : {false, true}) {
        const Eigen::VectorXd x = real.solve(b, transposed);
        const Eigen::MatrixXd Mt = transposed ? Eigen::MatrixXd(M.transpose()) : M;
        const double backward = (Mt * x - b).norm() / (Mt.norm() * x.norm());
        BOOST_TEST(backward < 1e-11, to_string(kind) << ", real, h = " << h << ", transposed " << transposed);
      }
      MarginNewton<std::complex<double>> complex;
      complex.compute(J, h * t.nu);
      const Eigen::MatrixXcd Mc = newton_matrix(K, w, v, h * t.nu);
      const Eigen::VectorXcd bc = b.cast<std::complex<double>>() * std::complex<double>(1.0, 1.0);
      const Eigen::VectorXcd x = complex.solve(bc);
      const double backward = (Mc * x - bc).norm() / (Mc.norm() * x.norm());
      BOOST_TEST(backward < 1e-11, to_string(kind) << ", complex, h = " << h);
    }
  }
}

BOOST_AUTO_TEST_CASE(margin_newton_factors_are_the_same_bits_on_one_thread_or_two) {
  // Past a few hundred samples the factorization shares its trailing updates between the
  // product threads; each thread updates whole block columns, so the factors, and every solve,
  // must not depend on how many threads there are.
  const Eigen::Index n = 600;
  const Eigen::MatrixXd G = Eigen::MatrixXd::Random(n / 2, n);
  const Eigen::MatrixXd K = G.transpose() * G;
  const MarginLoss loss(LossKind::exp);
  Eigen::VectorXd w(n), v(n);
  loss.weights(Eigen::VectorXd::LinSpaced(n, 0.0, 30.0), w);
  loss.weights_jacobian_diagonal(Eigen::VectorXd::LinSpaced(n, 0.0, 30.0), w, v);
  MarginJacobian J;
  J.compute(K, w, v);
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1, 2);
  const RadauTableau& t = radau_iia3();
  std::vector<Eigen::VectorXd> real_solutions;
  std::vector<Eigen::VectorXcd> complex_solutions;
  for (const int threads : {1, 2}) {
    Eigen::setNbThreads(threads);
    MarginNewton<double> real;
    real.compute(J, 1e3 * t.mu);
    MarginNewton<std::complex<double>> complex;
    complex.compute(J, 1e3 * t.nu);
    real_solutions.push_back(real.solve(b));
    complex_solutions.push_back(complex.solve(b.cast<std::complex<double>>()));
  }
  Eigen::setNbThreads(0);
  BOOST_TEST((real_solutions[0].array() == real_solutions[1].array()).all());
  BOOST_TEST((complex_solutions[0].array() == complex_solutions[1].array()).all());
  const Eigen::MatrixXd M = newton_matrix(K, w, v, 1e3 * t.mu).real();
  BOOST_TEST((M * real_solutions[0] - b).norm() / (M.norm() * real_solutions[0].norm()) < 1e-11);
}

BOOST_AUTO_TEST_CASE(active_set_newton_sets_aside_only_what_its_bound_allows) {
  // ActiveSetNewton (active_newton.hpp) against the dense M: its solves invert M + E with
  // ‖E‖_∞ ≤ 1e-2 (its kDroppedPart), so ‖M x − b‖_∞ ≤ 1e-2 ‖x‖_∞ for M⁻¹ and the same for the
  // transposed solve with ‖Eᵀ‖_∞ ≤ n ‖E‖_max; it must set samples aside where the weights span
  // hundreds of decades, and none where they are equal and h K is large.
  const Eigen::Index n = 300;
  const Eigen::MatrixXd G = Eigen::MatrixXd::Random(2 * n, n) / std::sqrt(2.0 * n);
  const Eigen::MatrixXd K = G.transpose() * G;
  const RadauTableau& t = radau_iia3();
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(n, -1, 2);
  for (const double spread : {0.0, 700.0}) {
    const Eigen::VectorXd q = Eigen::VectorXd::LinSpaced(n, 0.0, spread);
    Eigen::VectorXd w(n), v(n);
    const MarginLoss loss(LossKind::exp);
    loss.weights(q, w);
    loss.weights_jacobian_diagonal(q, w, v);
    for (const double h : {1e-3, 1.0, 1e4}) {
      ActiveSetNewton newton;
      newton.compute(K, w, v, h, t.mu, t.nu);
      const bool expect_reduced = spread > 0 || h < 1e-2;
      BOOST_TEST((newton.active_size() < n) == expect_reduced, "spread " << spread << ", h = " << h);
      const Eigen::MatrixXd M = newton_matrix(K, w, v, h * t.mu).real();
      const Eigen::VectorXd x = newton.solve_real(b);
      BOOST_TEST((M * x - b).lpNorm<Eigen::Infinity>() <= 1e-2 * x.lpNorm<Eigen::Infinity>(), "h = " << h);
      const Eigen::VectorXd xt = newton.solve_real(b, true);
      BOOST_TEST((M.transpose() * xt - b).lpNorm<Eigen::Infinity>() <= 1e-2 * n * xt.lpNorm<Eigen::Infinity>());
      const Eigen::MatrixXcd Mc = newton_matrix(K, w, v, h * t.nu);
      const Eigen::VectorXcd bc = b.cast<std::complex<double>>() * std::complex<double>(1.0, 1.0);
      const Eigen::VectorXcd xc = newton.solve_complex(bc);
      BOOST_TEST((Mc * xc - bc).lpNorm<Eigen::Infinity>() <= 1e-2 * xc.lpNorm<Eigen::Infinity>());
    }
  }
}
