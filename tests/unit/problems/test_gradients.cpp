// Analytic gradients against central differences, away from kinks (Eigen's NumericalDiff habit),
// and the span chart against θ-space: both must give the same margins and the same velocity.
#define BOOST_TEST_MODULE gradients
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/loss.hpp"

#include <Eigen/SVD>

#include <array>

using namespace kktflow;

#ifdef EIGEN_USE_BLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif

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

/// Freezes the activation pattern the state C is in.
void freeze_pattern_at(Leaky2Span& span, const Eigen::VectorXd& C) {
  Eigen::VectorXd s(span.num_switches());
  span.switch_functions(C, s);
  std::vector<std::int64_t> side(static_cast<std::size_t>(s.size()));
  for (Eigen::Index k = 0; k < s.size(); ++k) side[static_cast<std::size_t>(k)] = s[k] > 0;
  span.freeze_pattern(side);
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

BOOST_AUTO_TEST_CASE(compact_chart_is_an_isometry_of_theta) {
  // d = 40 > n + m = 11: the chart [X; W0] = R Qᵀ is a real reduction (dim 55 against 200).
  // Distances, and W's singular values, must be the same in θ_c as in θ (Q has orthonormal columns).
  const Dataset data = make_dataset(gaussian_spec(6, 40, 3));
  Leaky2FixedOuter model(data.X, Leaky2Params{5, 0.3, true, 0.5, 4});
  Leaky2Span span(model, data.y, model.initial_theta());
  BOOST_REQUIRE_EQUAL(span.compact_dim(), 5 * 11);
  const Eigen::VectorXd C1 = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.5, 0.7);
  const Eigen::VectorXd C2 = Eigen::VectorXd::LinSpaced(span.state_dim(), 0.3, -0.2);
  Eigen::VectorXd W1(model.dim()), W2(model.dim()), Wc1(span.compact_dim()), Wc2(span.compact_dim());
  span.lift(C1, W1);
  span.lift(C2, W2);
  span.lift_compact(C1, Wc1);
  span.lift_compact(C2, Wc2);
  BOOST_TEST(Wc1.norm() == W1.norm(), boost::test_tools::tolerance(1e-13));
  BOOST_TEST((Wc1 - Wc2).norm() == (W1 - W2).norm(), boost::test_tools::tolerance(1e-13));
  Eigen::VectorXd dWc(span.compact_dim()), dW(model.dim());
  span.lift_velocity_compact(C2, dWc);
  span.lift_velocity(C2, dW);
  BOOST_TEST((Wc1 - 0.7 * dWc).norm() == (W1 - 0.7 * dW).norm(), boost::test_tools::tolerance(1e-13));

  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const LayerView layer = span.compact_layer(model.layers()[0]);
  const Eigen::VectorXd s =
      Eigen::JacobiSVD<Eigen::MatrixXd>(Eigen::Map<const RowMajor>(W1.data(), 5, 40)).singularValues();
  const Eigen::VectorXd sc =
      Eigen::JacobiSVD<Eigen::MatrixXd>(Eigen::Map<const RowMajor>(Wc1.data(), layer.rows, layer.cols))
          .singularValues();
  BOOST_TEST((s - sc).norm() <= 1e-13 * s[0]);
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

BOOST_FIXTURE_TEST_CASE(region_gram_predicts_the_margins_along_region_ascent, Fixture) {
  // Inside a region (pattern frozen, sliding set fixed) margins are affine in the state and
  // region_ascent is linear, so q(C + region_ascent(c)) − q(C) = K c exactly, for any c;
  // and every sliding pair stays on its kink.
  Leaky2Span span(model, data.y, theta);
  Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.05, 0.05), s(span.num_switches());
  freeze_pattern_at(span, C);
  const std::vector<Eigen::Index> sliding{0, 1, 7, 12, 13};  // two pairs on neuron 0, others alone
  span.set_sliding(sliding);
  span.hold_on_sliding_surfaces(C);

  Eigen::VectorXd q0(data.n()), q1(data.n()), dC(span.state_dim());
  span.margins(C, q0);
  const Eigen::VectorXd c = Eigen::VectorXd::LinSpaced(data.n(), 0.3, 2.0);
  span.region_ascent(c, dC);
  const Eigen::VectorXd C1 = C + dC;
  span.margins(C1, q1);
  Eigen::MatrixXd K(data.n(), data.n());
  span.region_gram(K);
  BOOST_TEST((q1 - q0 - K * c).norm() <= 1e-12 * (K * c).norm());
  BOOST_TEST((K - K.transpose()).norm() <= 1e-14 * K.norm());
  span.switch_functions(C1, s);
  for (Eigen::Index k : sliding) BOOST_TEST(std::abs(s[k]) <= 1e-12);
}

BOOST_FIXTURE_TEST_CASE(region_gram_follows_a_change_of_the_region, Fixture) {
  // region_gram is kept per region: after a pair moves to its other side, the Gram must be the
  // new region's (the identity q(C + region_ascent(c)) − q(C) = K c holds again) and differ.
  Leaky2Span span(model, data.y, theta);
  const Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.05, 0.05);
  freeze_pattern_at(span, C);
  Eigen::MatrixXd K_before(data.n(), data.n()), K(data.n(), data.n());
  span.region_gram(K_before);
  Eigen::VectorXd s(span.num_switches());
  span.switch_functions(C, s);
  span.set_side(3, !(s[3] > 0));
  span.region_gram(K);
  Eigen::VectorXd q0(data.n()), q1(data.n()), dC(span.state_dim());
  span.margins(C, q0);
  const Eigen::VectorXd c = Eigen::VectorXd::LinSpaced(data.n(), 0.3, 2.0);
  span.region_ascent(c, dC);
  span.margins(C + dC, q1);
  BOOST_TEST((K - K_before).norm() > 1e-3 * K.norm());
  BOOST_TEST((q1 - q0 - K * c).norm() <= 1e-12 * (K * c).norm());
}

BOOST_AUTO_TEST_CASE(region_gram_predicts_the_margins_with_many_sliding_pairs) {
  // As above with 720 sliding pairs (12 on each of 60 neurons): the projection term is summed
  // over chunks of 512 stacked rows (leaky2_span.cpp), so this crosses a chunk boundary.
  const Dataset data = make_dataset(gaussian_spec(40, 80, 5));
  const Leaky2FixedOuter model(data.X, {60, 0.3, true, 0.5, 6});
  Leaky2Span span(model, data.y, model.initial_theta());
  Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.02, 0.03);
  freeze_pattern_at(span, C);
  std::vector<Eigen::Index> sliding;
  for (Eigen::Index j = 0; j < 60; ++j)
    for (Eigen::Index r = 0; r < 12; ++r) sliding.push_back(j * 40 + (j + 3 * r) % 40);
  span.set_sliding(sliding);
  span.hold_on_sliding_surfaces(C);

  Eigen::VectorXd q0(40), q1(40), dC(span.state_dim());
  span.margins(C, q0);
  const Eigen::VectorXd c = Eigen::VectorXd::LinSpaced(40, 0.3, 2.0);
  span.region_ascent(c, dC);
  span.margins(C + dC, q1);
  Eigen::MatrixXd K(40, 40);
  span.region_gram(K);
  BOOST_TEST((q1 - q0 - K * c).norm() <= 1e-12 * (K * c).norm());
}

BOOST_AUTO_TEST_CASE(holding_carries_the_pre_activations_a_product_gives) {
  // hold_on_sliding_surfaces moves only the sliding pairs' coefficients and updates the memoised
  // Z by their rank-one terms instead of a product with Γ: the switch functions after it must be
  // those a chart that never held anything computes at the held state (720 pairs on 60 neurons).
  const Dataset data = make_dataset(gaussian_spec(40, 80, 5));
  const Leaky2FixedOuter model(data.X, {60, 0.3, true, 0.5, 6});
  Leaky2Span span(model, data.y, model.initial_theta());
  Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.02, 0.03);
  freeze_pattern_at(span, C);  // Z at C is memoised now
  std::vector<Eigen::Index> sliding;
  for (Eigen::Index j = 0; j < 60; ++j)
    for (Eigen::Index r = 0; r < 12; ++r) sliding.push_back(j * 40 + (j + 3 * r) % 40);
  span.set_sliding(sliding);
  Eigen::VectorXd before(span.num_switches()), carried(span.num_switches()), product(span.num_switches());
  span.switch_functions(C, before);
  span.hold_on_sliding_surfaces(C);
  span.switch_functions(C, carried);
  Leaky2Span fresh(model, data.y, model.initial_theta());
  fresh.switch_functions(C, product);
  BOOST_REQUIRE((before - product).norm() > 1e-3 * product.norm());  // the hold moved Z
  BOOST_TEST((carried - product).norm() <= 1e-13 * product.norm());
  for (Eigen::Index k : sliding) BOOST_TEST(std::abs(carried[k]) <= 1e-12 * product.norm());
}

BOOST_FIXTURE_TEST_CASE(frozen_margin_velocity_is_the_margins_affine_part, Fixture) {
  // With the pattern frozen, q is affine in the state (the frozen branch is continued across
  // kinks), so q(C + V) − q(C) = frozen_margin_velocity(V) for any V, however far: the driver's
  // clock takes the margins at a step's Hermite midpoint from this. Three directions in turn,
  // the first again last, also check that the memoised products answer for the right argument.
  Leaky2Span span(model, data.y, theta);
  const Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(span.state_dim(), -0.05, 0.05);
  freeze_pattern_at(span, C);
  Eigen::VectorXd q0(data.n()), q1(data.n()), dq(data.n());
  span.margins(C, q0);
  const std::array<Eigen::VectorXd, 3> directions{Eigen::VectorXd::LinSpaced(span.state_dim(), 0.4, -0.2),
                                                  Eigen::VectorXd::LinSpaced(span.state_dim(), -0.3, 0.5),
                                                  Eigen::VectorXd::LinSpaced(span.state_dim(), 0.4, -0.2)};
  for (const Eigen::VectorXd& V : directions) {
    span.frozen_margin_velocity(V, dq);
    span.margins(C + V, q1);
    BOOST_TEST((q1 - q0 - dq).norm() <= 1e-12 * dq.norm());
  }
}

BOOST_FIXTURE_TEST_CASE(region_ascent_is_the_ascent_while_sliding_slopes_stay_in_range, Fixture) {
  Leaky2Span span(model, data.y, theta);
  const Eigen::VectorXd C = Eigen::VectorXd::Zero(span.state_dim());
  freeze_pattern_at(span, C);
  // The first pair whose equivalent slope at these weights lies inside [γ, 1], so no clamp acts.
  Eigen::VectorXd q(data.n()), w(data.n()), d_ascent(span.state_dim()), d_region(span.state_dim());
  Eigen::Index held = -1;
  for (Eigen::Index k = 0; k < span.num_switches() && held < 0; ++k) {
    span.set_sliding({k});
    Eigen::VectorXd Ck = C;
    span.hold_on_sliding_surfaces(Ck);
    span.margins(Ck, q);
    MarginLoss(LossKind::exp).weights(q, w);
    span.ascent(w, d_ascent);
    if (span.leaving_sliding().empty()) held = k;
  }
  BOOST_REQUIRE_GE(held, 0);
  span.region_ascent(w, d_region);
  BOOST_TEST((d_region - d_ascent).norm() <= 1e-14 * d_ascent.norm());
}

// The KKT residual's NNLS (solver/metrics.cpp) needs K as the Gram of λ ↦ ascent(λ) for every λ,
// not only for the weights of the last ascent: on a sliding pair the equivalent slope depends on
// the weights, and a Gram taken at the flow's slopes mismeasured ε_KKT by 1e6× late in
// frei2023_outside. So for weights v other than those K was taken after, vᵀKv = ‖dθ(v)‖².
BOOST_FIXTURE_TEST_CASE(gradient_gram_is_the_gram_of_the_sliding_ascent_at_any_weights, Fixture) {
  Leaky2Span span(model, data.y, theta);
  const Eigen::VectorXd C = Eigen::VectorXd::Zero(span.state_dim());
  freeze_pattern_at(span, C);
  Eigen::VectorXd q(data.n()), w(data.n()), v(data.n()), dstate(span.state_dim()), dtheta(model.dim());
  Eigen::VectorXd Ck = C;
  Eigen::Index held = -1;
  for (Eigen::Index k = 0; k < span.num_switches() && held < 0; ++k) {
    span.set_sliding({k});
    Ck = C;
    span.hold_on_sliding_surfaces(Ck);
    span.margins(Ck, q);
    MarginLoss(LossKind::exp).weights(q, w);
    for (Eigen::Index i = 0; i < data.n(); ++i) v[i] = w[i] * (1.0 + 0.3 * std::sin(3.0 * static_cast<double>(i)));
    span.ascent(v, dstate);
    if (!span.leaving_sliding().empty()) continue;
    span.ascent(w, dstate);
    if (span.leaving_sliding().empty()) held = k;
  }
  BOOST_REQUIRE_GE(held, 0);
  Eigen::MatrixXd K(data.n(), data.n());
  span.gradient_gram(K);  // after ascent(w): the slopes in force are w's
  span.ascent(v, dstate);
  span.lift_velocity(dstate, dtheta);
  BOOST_TEST(std::abs(v.dot(K * v) - dtheta.squaredNorm()) <= 1e-12 * dtheta.squaredNorm());
}

BOOST_AUTO_TEST_CASE(products_with_the_gram_are_the_same_bits_on_one_thread_or_two) {
  // The span chart shares the rows of C Γ between the product threads, one GEMM each: every
  // entry must come out as the single product gives it, or a run would depend on its threads.
  const Dataset data = make_dataset(gaussian_spec(300, 40, 5));
  const Leaky2FixedOuter model(data.X, Leaky2Params{37, 0.5, true, 1e-2, 6});
  const Eigen::VectorXd C = Eigen::VectorXd::LinSpaced(37 * 300, -1, 1).array().sin();
  std::array<Eigen::VectorXd, 2> s, ds;
#ifdef EIGEN_USE_BLAS
  openblas_set_num_threads(1);  // as a run has it (solver/product_threads.hpp)
#endif
  for (const int threads : {1, 2}) {
    Eigen::setNbThreads(threads);
    Leaky2Span fresh(model, data.y, model.initial_theta());
    s[threads - 1].resize(fresh.num_switches());
    ds[threads - 1].resize(fresh.num_switches());
    fresh.switch_functions(C, s[threads - 1]);
    fresh.switch_velocity(C.reverse(), ds[threads - 1]);
  }
  Eigen::setNbThreads(0);
  BOOST_TEST((s[0].array() == s[1].array()).all());
  BOOST_TEST((ds[0].array() == ds[1].array()).all());
}
