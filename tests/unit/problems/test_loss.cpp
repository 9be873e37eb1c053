// Log-domain losses (loss.hpp) at extreme margins: log L and the weights stay finite and exact
// where L itself underflows every double.
#define BOOST_TEST_MODULE loss
#include <boost/test/unit_test.hpp>

#include "problems/loss.hpp"

#include <cmath>

using namespace kktflow;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(exp_loss_log_value_is_exact_at_huge_margins) {
  // L = (1/n) Σ e^{−q_i}: for q = (1e300, 1e300 + 1) it is e^{−1e300}(1 + e^{−1})/2, far below
  // the smallest double; its log is −1e300 + log((1 + e^{−1})/2) exactly.
  const MarginLoss loss(LossKind::exp);
  Eigen::VectorXd q(2);
  q << 1e300, 1e300;
  BOOST_TEST(loss.log_value(q) == -1e300, tt::tolerance(1e-15));
  q << 1000.0, 1001.0;
  BOOST_TEST(loss.log_value(q) == -1000.0 + std::log((1 + std::exp(-1.0)) / 2), tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(exp_weights_are_softmax_of_minus_q) {
  const MarginLoss loss(LossKind::exp);
  Eigen::VectorXd q(3), w(3);
  q << 5000.0, 5001.0, 5003.0;
  loss.weights(q, w);
  const double z = 1 + std::exp(-1.0) + std::exp(-3.0);
  BOOST_TEST(w[0] == 1 / z, tt::tolerance(1e-14));
  BOOST_TEST(w[1] == std::exp(-1.0) / z, tt::tolerance(1e-14));
  BOOST_TEST(w[2] == std::exp(-3.0) / z, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(logistic_matches_direct_formula_where_representable) {
  const MarginLoss loss(LossKind::logistic);
  for (double q : {-30.0, -1.0, 0.0, 0.5, 3.0, 30.0}) {
    BOOST_TEST(loss.log_ell(q) == std::log(std::log1p(std::exp(-q))), tt::tolerance(1e-13));
    BOOST_TEST(loss.log_minus_dell(q) == -std::log1p(std::exp(q)), tt::tolerance(1e-13));
  }
}

BOOST_AUTO_TEST_CASE(logistic_tends_to_exp_at_huge_margins) {
  // log(1 + e^{−q}) = e^{−q}(1 − e^{−q}/2 + …): log ℓ(q) = −q to double precision for q ≥ 40.
  const MarginLoss loss(LossKind::logistic);
  for (double q : {40.0, 800.0, 1e10, 1e300}) {
    BOOST_TEST(std::isfinite(loss.log_ell(q)));
    BOOST_TEST(loss.log_ell(q) == -q, tt::tolerance(1e-15));
    BOOST_TEST(loss.log_minus_dell(q) == -q, tt::tolerance(1e-15));
  }
}

BOOST_AUTO_TEST_CASE(smoothed_margin_numerator_is_q_min_for_one_sample) {
  // n = 1: ℓ^{-1}(nL) = q exactly (Lyu & Li 2020, smoothed margin).
  for (auto kind : {LossKind::exp, LossKind::logistic}) {
    const MarginLoss loss(kind);
    for (double q : {0.5, 3.0, 700.0, 1e6}) {
      Eigen::VectorXd v(1);
      v << q;
      BOOST_TEST(loss.inverse_of_total(loss.log_value(v), 1) == q, tt::tolerance(1e-12));
    }
  }
}

BOOST_AUTO_TEST_CASE(square_loss_value_gradient_and_two_class_targets) {
  // L = (1/2n) Σ_i ‖F_i − Y_i‖², n = 2 samples of k = 2 outputs; labels +1, −1 ↦ e1, e2.
  Eigen::VectorXd y(2);
  y << 1.0, -1.0;
  const Eigen::VectorXd Y = two_class_targets(y);
  BOOST_TEST((Y - Eigen::Vector4d(1, 0, 0, 1)).norm() == 0.0);
  const SquareLoss loss(Y, 2);
  Eigen::Vector4d F(0.5, 0.25, -1.0, 2.0);
  BOOST_TEST(loss.value(F) == (0.25 + 0.0625 + 1.0 + 1.0) / 4.0, tt::tolerance(1e-15));
  Eigen::VectorXd G(4);
  BOOST_TEST(loss.gradient(F, G) == loss.value(F), tt::tolerance(1e-15));
  const double h = 1e-6;
  for (Eigen::Index k = 0; k < 4; ++k) {
    Eigen::Vector4d Fp = F, Fm = F;
    Fp[k] += h;
    Fm[k] -= h;
    BOOST_TEST(G[k] == (loss.value(Fp) - loss.value(Fm)) / (2 * h), tt::tolerance(1e-8));
  }
  BOOST_TEST(loss.value(Y) == 0.0);
}
