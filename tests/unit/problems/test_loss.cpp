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
