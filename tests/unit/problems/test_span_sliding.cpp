// The span chart's Filippov slopes where a held pair's own sample carries no weight, and what a
// switch's side changes in the field of a frozen pattern.
#define BOOST_TEST_MODULE span_sliding
#include <boost/test/unit_test.hpp>

#include "problems/leaky2_span.hpp"

#include <cmath>

using namespace kktflow;

// x_0 = (0, 1), x_1 = (s, c), y = (1, −1), pair (unit 0, sample 0) held. Its slope σ keeps
// ⟨ẇ_0, x_0⟩ = a_0 (y_0 w_0 σ + y_1 w_1 D_01 c) = 0, so σ = c D_01 w_1 / w_0: with w_0 = 0 and
// w_1 > 0 no slope in [γ, 1] holds it (σ → +∞ as w_0 → 0+), and it leaves above; with no weight
// on either sample every slope does, and it stays.
BOOST_AUTO_TEST_CASE(a_pair_whose_sample_has_no_weight_leaves_unless_nothing_pushes_it) {
  const double c = 0.8, s = 0.6;
  const Eigen::MatrixXd X = (Eigen::MatrixXd(2, 2) << 0, 1, s, c).finished();
  const Eigen::VectorXd y = (Eigen::VectorXd(2) << 1, -1).finished();
  const Leaky2FixedOuter model(X, Leaky2Params{2, 0.5, true, 1e-3, 0});
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(4);
  theta[0] = 1;  // unit 0: w = (1, 0), on sample 0's kink, sample 1 on its positive side
  theta[2] = 1;
  Leaky2Span span(model, y, theta);
  span.set_sliding({0});
  Eigen::VectorXd state = span.initial_state(), q(2), dstate(span.state_dim());
  span.margins(state, q);
  span.ascent(Eigen::Vector2d(0, 1), dstate);
  const auto leaving = span.leaving_sliding();
  BOOST_TEST_REQUIRE(leaving.size() == 1u);
  BOOST_TEST(leaving[0].first == 0);
  BOOST_TEST(leaving[0].second);  // above 1
  BOOST_TEST(std::isinf(span.sliding_headroom()(0, 1)));
  span.ascent(Eigen::Vector2d(0, 0), dstate);
  BOOST_TEST(span.leaving_sliding().empty());
}

// switch_jump_error is the error norm of region_ascent's change when the pair changes sides:
// computed here from two evaluations of the field, one on each side, with a pair of the same
// neuron held so that the change reaches the held pair through the Filippov solve.
BOOST_AUTO_TEST_CASE(switch_jump_error_is_the_error_norm_of_the_field_change) {
  const Eigen::MatrixXd X = (Eigen::MatrixXd(3, 2) << 1, 0.2, 0.3, 1, 0.6, 0.8).finished();
  const Eigen::VectorXd y = (Eigen::VectorXd(3) << 1, -1, 1).finished();
  const Leaky2FixedOuter model(X, Leaky2Params{2, 0.5, true, 1e-3, 0});
  Eigen::VectorXd theta(4);
  theta << 1, -0.3, 0.5, 1;
  Leaky2Span span(model, y, theta);
  const Eigen::VectorXd w = (Eigen::VectorXd(3) << 0.5, 0.3, 0.2).finished();
  // The held pair's coefficient is 0, so its tolerance is abs_tol alone: where the change reaches
  // it, it sets the norm.
  Eigen::VectorXd state = Eigen::VectorXd::LinSpaced(span.state_dim(), -2, 3);
  state[1] = 0;
  const double abs_tol = 1e-10, rel_tol = 1e-6;
  for (const bool held : {false, true}) {
    span.set_sliding(held ? std::vector<Eigen::Index>{1} : std::vector<Eigen::Index>{});  // unit 0, sample 1
    span.freeze_pattern({1, 1, 1, 0, 1, 0});
    Eigen::VectorXd before(span.state_dim()), after(span.state_dim());
    for (const Eigen::Index k : {Eigen::Index{0}, Eigen::Index{2}, Eigen::Index{4}}) {
      span.region_ascent(w, before);
      span.set_side(k, false);
      span.region_ascent(w, after);
      span.set_side(k, true);
      const Eigen::ArrayXd scale = abs_tol + rel_tol * state.array().abs();
      const double expected = ((after - before).array().abs() / scale).maxCoeff();
      BOOST_TEST(span.switch_jump_error(k, w, state, abs_tol, rel_tol) == expected,
                 boost::test_tools::tolerance(1e-12));
    }
  }
}
