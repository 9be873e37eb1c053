// Analytic gradients against central differences, away from kinks (Eigen's NumericalDiff habit),
// and the span chart against θ-space: both must give the same margins and the same velocity.
#define BOOST_TEST_MODULE gradients
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/loss.hpp"

using namespace kktflow;

namespace {

struct Fixture {
  Dataset data = make_dataset(gaussian_spec(6, 9, 3));
  Leaky2Params params{5, 0.3, true, 0.5, 4};
  Leaky2FixedOuter model{data.X, params};
  Eigen::VectorXd theta = model.initial_theta();
};

// Smallest |pre-activation|: central differences are valid only if h stays below it.
double distance_to_kink(Leaky2FixedOuter& model, const Eigen::VectorXd& theta) {
  Eigen::VectorXd s(model.num_switches());
  model.switch_functions(theta, s);
  return s.cwiseAbs().minCoeff();
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(vjp_matches_central_differences, Fixture) {
  const double h = 1e-6;
  BOOST_REQUIRE_GT(distance_to_kink(model, theta), 100 * h * data.X.rowwise().norm().maxCoeff());
  const Eigen::VectorXd G = Eigen::VectorXd::LinSpaced(data.n(), -1.0, 2.0);
  Eigen::VectorXd F(data.n()), grad(model.dim());
  model.forward(theta, F);
  model.vjp(G, grad);
  for (Eigen::Index k = 0; k < model.dim(); ++k) {
    Eigen::VectorXd tp = theta, tm = theta, Fp(data.n()), Fm(data.n());
    tp[k] += h;
    tm[k] -= h;
    model.forward(tp, Fp);
    model.forward(tm, Fm);
    const double fd = G.dot(Fp - Fm) / (2 * h);
    BOOST_TEST(grad[k] == fd, boost::test_tools::tolerance(1e-7));
  }
}

BOOST_FIXTURE_TEST_CASE(span_chart_matches_theta_space, Fixture) {
  // A state C gives W = W0 + C X; margins and the lifted velocity must equal the θ-space ones.
  Leaky2Span span(model, data.y, theta);
  Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.05, 0.05);
  Eigen::VectorXd W(model.dim()), q_span(data.n()), q_full(data.n());
  span.lift(C, W);
  span.margins(C, q_span);
  FullCoordinates full(model, data.y);
  full.margins(W, q_full);
  BOOST_TEST((q_span - q_full).norm() <= 1e-12 * q_full.norm());

  const Eigen::VectorXd w = Eigen::VectorXd::LinSpaced(data.n(), 0.1, 1.0);
  Eigen::VectorXd dC(span.state_dim()), dW_span(model.dim()), dW_full(model.dim());
  span.ascent(w, dC);
  span.lift_velocity(dC, dW_span);
  full.ascent(w, dW_full);
  BOOST_TEST((dW_span - dW_full).norm() <= 1e-12 * dW_full.norm());
}

BOOST_FIXTURE_TEST_CASE(gradient_gram_matches_explicit_gradients, Fixture) {
  Leaky2Span span(model, data.y, theta);
  Eigen::VectorXd C = Eigen::VectorXd::Zero(span.state_dim()), q(data.n());
  span.margins(C, q);
  Eigen::MatrixXd K_span(data.n(), data.n()), K_full(data.n(), data.n());
  span.gradient_gram(K_span);
  FullCoordinates full(model, data.y);
  full.margins(theta, q);
  full.gradient_gram(K_full);
  BOOST_TEST((K_span - K_full).norm() <= 1e-12 * K_full.norm());
}
