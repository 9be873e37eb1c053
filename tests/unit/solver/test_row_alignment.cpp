// The rows' β = cos∠(θ, −∇L) on a state reached by steps held to rel_tol, in closed form.
//
// Linear predictor on x₁ = e₁, x₂ = e₂, both labelled +1, exp loss: the max-margin direction is
// (1, 1)/√2 with both samples support vectors, the least-norm point of their gradients' hull is
// (1/2, 1/2). At θ = s (1, 1) + δ (1, −1) the margins are s ± δ, the loss's weights are
// ∝ (e^{−δ}, e^{δ}), and
//   with the loss's weights:   β = ((s+δ) e^{−δ} + (s−δ) e^{δ}) / (‖θ‖ √(e^{−2δ} + e^{2δ})),
//   on the slow manifold:      β = s / √(s² + δ²).
// A step held to rel_tol leaves an error of up to rel_tol ‖θ‖ in θ, so margins closer than that
// are not told apart: with rel_tol q_min ≥ 1 the δ below is step error, and β must be the slow
// manifold's (slow_manifold.hpp), where the loss's weights are one-hot and put β near 1/√2.
#define BOOST_TEST_MODULE row_alignment
#include <boost/test/unit_test.hpp>

#include "problems/linear.hpp"
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"
#include "solver/metrics.hpp"

#include <cmath>

using namespace kktflow;

namespace {

struct TwoSupportVectors {
  LinearModel model{Eigen::MatrixXd::Identity(2, 2)};
  FullCoordinates margins{model, Eigen::VectorXd::Ones(2)};
  MarginLoss loss{LossKind::exp};

  /// 1 − β of the row at θ = s (1, 1) + δ (1, −1), for steps held to rel_tol.
  double one_minus_beta(double s, double delta, double rel_tol) {
    MetricsEvaluator metrics(margins, loss, model.layers()[0], 1, rel_tol);
    const Eigen::Vector2d theta(s + delta, s - delta);
    Record row;
    Eigen::VectorXd theta_c;
    metrics.evaluate(theta, row, theta_c);
    return 1.0 - row.alignment_beta;
  }
};

double loss_weights_beta(double s, double delta) {
  const double a = std::exp(-delta), b = std::exp(delta);
  return ((s + delta) * a + (s - delta) * b) / (std::hypot(s + delta, s - delta) * std::hypot(a, b));
}

}  // namespace

BOOST_AUTO_TEST_CASE(beta_is_taken_on_the_slow_manifold_once_rel_tol_q_reaches_one) {
  TwoSupportVectors f;
  const double s = 1e10, delta = 100, rel_tol = 1e-8;  // rel_tol q_min ≈ 100; δ < rel_tol ‖θ‖ ≈ 141
  // The state alone (rel_tol 0, rounding ≈ 3e-3 of a margin unit here) keeps the loss's weights:
  // one-hot, β ≈ 1/√2. This is the scenario the rule exists for.
  BOOST_TEST(f.one_minus_beta(s, delta, 0.0) == 1.0 - loss_weights_beta(s, delta), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(f.one_minus_beta(s, delta, 0.0) > 0.29);
  // Held to rel_tol: 1 − β = 1 − s/√(s² + δ²) ≈ δ²/(2 s²) = 5e-17, i.e. zero to rounding.
  BOOST_TEST(std::abs(f.one_minus_beta(s, delta, rel_tol)) <= 1e-14);
}

BOOST_AUTO_TEST_CASE(beta_keeps_the_loss_weights_while_the_steps_resolve_the_margins) {
  TwoSupportVectors f;
  const double s = 10, delta = 1, rel_tol = 1e-8;  // rel_tol q_min ≈ 9e-8
  BOOST_TEST(f.one_minus_beta(s, delta, rel_tol) == 1.0 - loss_weights_beta(s, delta),
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(f.one_minus_beta(s, delta, rel_tol) > 0.2);  // 0.27, the slow manifold's would be 5e-3
}
