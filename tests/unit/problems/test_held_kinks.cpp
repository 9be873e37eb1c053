// Filippov sliding in θ coordinates (FullCoordinates with a model's held kinks) against a case
// solved in closed form, the same for two_layer_leaky, for deep = ["relu", "linear"] and for relu2
// with one neuron and one output (the same function when the outer weight is a; relu2's sliding
// solve is the one its square-loss flow uses): one neuron w ∈ R², a = 1,
//   x1 = (1, 0), y1 = +1;   x2 = (ρ, 1), y2 = −1;   w = (1, −ρ), so z1 = 1 > 0 and z2 = ⟨w, x2⟩ = 0.
// With loss weights c = (c1, c2) the ascent is dw = a (c1 φ'(z1) x1 − c2 φ'_2 x2), hence
//   ż2 = ⟨dw, x2⟩ = a (c1 ρ − c2 φ'_2 (1 + ρ²)).
// On the side z2 < 0 (φ'_2 = lower slope) ż2 > 0 and on z2 > 0 (φ'_2 = 1) ż2 < 0 exactly when the
// equivalent slope φ'_2 = c1 ρ / (c2 (1 + ρ²)), which zeroes ż2, lies in the slope range: then the
// pair slides (Filippov 1988, §4 "equivalent control"). ρ = 1/2, c = (1, 1) gives 0.4;
// c = (1, 0.3) gives 4/3 > 1, and the pair leaves its kink to the positive side.
#define BOOST_TEST_MODULE held_kinks
#include <boost/test/unit_test.hpp>

#include "problems/deep.hpp"
#include "problems/margin_system.hpp"
#include "problems/relu2.hpp"
#include "problems/two_layer_leaky.hpp"

#include <memory>

using namespace kktflow;

namespace {

constexpr double kRho = 0.5;

Eigen::MatrixXd inputs() {
  Eigen::MatrixXd X(2, 2);
  X << 1, 0, kRho, 1;
  return X;
}

Eigen::VectorXd labels() { return Eigen::Vector2d(1, -1); }

/// θ = (w, a) for both models: W1 = (1, −ρ), then the outer weight 1.
Eigen::VectorXd on_kink() { return Eigen::Vector3d(1, -kRho, 1); }

std::unique_ptr<Model> two_layer(const Eigen::MatrixXd& X) {
  return std::make_unique<TwoLayerLeaky>(X, TwoLayerLeakyParams{1, 0.2, 1.0, 0});
}

std::unique_ptr<Model> relu_linear(const Eigen::MatrixXd& X) {
  return std::make_unique<DeepNet>(X, DeepParams{{"relu", "linear"}, 1, false, 1.0, 0});
}

/// ż of both switches after the sliding ascent with loss weights c, switch 1 (neuron 0, sample 1) held.
Eigen::VectorXd held_ascent(Model& model, FullCoordinates& coords, const Eigen::Vector2d& c) {
  const Eigen::VectorXd theta = on_kink();
  Eigen::VectorXd q(2), dtheta(3), s(2), ds(2);
  coords.set_sliding({1});
  coords.margins(theta, q);
  coords.ascent(c, dtheta);
  model.switch_functions(theta, s);
  model.switch_velocity(dtheta, ds);
  return ds;
}

void check_equivalent_slope(std::unique_ptr<Model> (*make)(const Eigen::MatrixXd&)) {
  const Eigen::MatrixXd X = inputs();
  auto model = make(X);
  FullCoordinates coords(*model, labels());
  BOOST_TEST_REQUIRE(coords.supports_sliding());
  const Eigen::VectorXd ds = held_ascent(*model, coords, Eigen::Vector2d(1, 1));
  BOOST_TEST(std::abs(ds[1]) <= 1e-14);
  BOOST_TEST(coords.raw_sliding_slopes()[0] == 1 * kRho / (1 * (1 + kRho * kRho)), boost::test_tools::tolerance(1e-14));
  BOOST_TEST(coords.leaving_sliding().empty());
  // ż1 = a (c1 ⟨x1, x1⟩ − c2 φ'_2 ⟨x2, x1⟩) = 1 − 0.4 ρ.
  BOOST_TEST(ds[0] == 1 - 0.4 * kRho, boost::test_tools::tolerance(1e-14));
}

void check_leaving(std::unique_ptr<Model> (*make)(const Eigen::MatrixXd&)) {
  const Eigen::MatrixXd X = inputs();
  auto model = make(X);
  FullCoordinates coords(*model, labels());
  const Eigen::VectorXd ds = held_ascent(*model, coords, Eigen::Vector2d(1, 0.3));
  BOOST_TEST(coords.raw_sliding_slopes()[0] == kRho / (0.3 * (1 + kRho * kRho)), boost::test_tools::tolerance(1e-14));
  const auto leaving = coords.leaving_sliding();
  BOOST_TEST_REQUIRE(leaving.size() == 1u);
  BOOST_TEST(leaving[0].first == 1);
  BOOST_TEST(leaving[0].second);  // above the range: off to the positive side
  // The field at the clamped slope 1: ż2 = c1 ρ − c2 (1 + ρ²) = 0.125 > 0, towards the side it leaves to.
  BOOST_TEST(ds[1] == kRho - 0.3 * (1 + kRho * kRho), boost::test_tools::tolerance(1e-14));
}

std::unique_ptr<Model> relu2_one_neuron(const Eigen::MatrixXd& X) {
  return std::make_unique<Relu2>(X, Relu2Params{1, 1, 1.0, 0});
}

}  // namespace

BOOST_AUTO_TEST_CASE(relu2_equivalent_slope_is_the_closed_form) { check_equivalent_slope(relu2_one_neuron); }
BOOST_AUTO_TEST_CASE(relu2_pair_leaves_when_the_slope_exceeds_one) { check_leaving(relu2_one_neuron); }
BOOST_AUTO_TEST_CASE(two_layer_equivalent_slope_is_the_closed_form) { check_equivalent_slope(two_layer); }
BOOST_AUTO_TEST_CASE(relu_linear_equivalent_slope_is_the_closed_form) { check_equivalent_slope(relu_linear); }
BOOST_AUTO_TEST_CASE(two_layer_pair_leaves_when_the_slope_exceeds_one) { check_leaving(two_layer); }
BOOST_AUTO_TEST_CASE(relu_linear_pair_leaves_when_the_slope_exceeds_one) { check_leaving(relu_linear); }

BOOST_AUTO_TEST_CASE(hold_on_kinks_zeroes_held_pre_activations_in_every_layer) {
  // Random deep net: pairs held in both ReLU layers land exactly on their kinks after one pass.
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(6, 4);
  DeepNet net(X, DeepParams{{"relu", "relu", "linear"}, 3, false, 1.0, 5});
  Eigen::VectorXd theta = net.initial_theta();
  const std::vector<Eigen::Index> held{0, 4, 7, 18 + 2, 18 + 9, 18 + 10};  // layer 1: 18 switches
  net.set_held(held);
  net.hold_on_kinks(theta);
  Eigen::VectorXd s(net.num_switches());
  net.switch_functions(theta, s);
  for (Eigen::Index k : held) BOOST_TEST(std::abs(s[k]) <= 1e-14);
}

BOOST_AUTO_TEST_CASE(hold_on_kinks_keeps_the_held_rows_norms) {
  // model.hpp: the nearest point on {wᵀh_k = 0} ∩ {‖w‖ = ‖w_j‖} is ‖w_j‖ P w_j / ‖P w_j‖, so the
  // per-neuron balance ‖w_j‖² − ‖c_j‖² of the first layer (c_j: column j of the next layer, untouched) stays.
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(6, 4);
  DeepNet net(X, DeepParams{{"relu", "relu", "linear"}, 3, false, 1.0, 5});
  Eigen::VectorXd theta = net.initial_theta();
  const Eigen::VectorXd before = theta;
  net.set_held({0, 1, 7});  // row 0 at samples 0 and 1, row 1 at sample 1 (switch = row · n + sample)
  net.hold_on_kinks(theta);
  const Eigen::Map<const RowMajorMatrix> W0(before.data(), 3, 4), W1(theta.data(), 3, 4);
  for (Eigen::Index j = 0; j < 2; ++j) {
    BOOST_TEST(W1.row(j).norm() == W0.row(j).norm(), boost::test_tools::tolerance(1e-14));
    // Along P w_j: w_j's component off the held inputs keeps its direction.
    const Eigen::MatrixXd H =
        j == 0 ? Eigen::MatrixXd(X.topRows(2).transpose()) : Eigen::MatrixXd(X.row(1).transpose());
    const Eigen::VectorXd Pw =
        W0.row(j).transpose() - H * H.completeOrthogonalDecomposition().solve(W0.row(j).transpose());
    BOOST_TEST((W1.row(j).transpose().normalized() - Pw.normalized()).norm() <= 1e-14);
  }
  BOOST_TEST((theta.tail(theta.size() - 12) - before.tail(before.size() - 12)).norm() == 0.0);
}

BOOST_AUTO_TEST_CASE(sliding_gram_is_the_gram_of_the_projected_ascent) {
  // K_ik = ⟨g_i, g_k⟩ with g_i the unclamped sliding ascent of weights e_i. For weight e_2 alone
  // ż2 = −φ'_2 (1 + ρ²) = 0 forces φ'_2 = 0, so g_2 = 0; for e_1, the W-part of g_1 is x1
  // projected off x2, and its a-part φ(z1) = 1.
  const Eigen::MatrixXd X = inputs();
  auto model = two_layer(X);
  FullCoordinates coords(*model, labels());
  Eigen::VectorXd q(2);
  coords.set_sliding({1});
  coords.margins(on_kink(), q);
  Eigen::MatrixXd K(2, 2);
  coords.gradient_gram(K);
  const Eigen::Vector2d x1(1, 0), x2(kRho, 1);
  const Eigen::Vector2d p1 = x1 - x1.dot(x2) / x2.squaredNorm() * x2;
  // da_j = Σ G_i φ(z_i): only sample 1 moves a (φ(z2) = 0), by φ(z1) = 1.
  BOOST_TEST(K(0, 0) == p1.squaredNorm() + 1.0, boost::test_tools::tolerance(1e-13));
  BOOST_TEST(std::abs(K(1, 1)) <= 1e-13);
  BOOST_TEST(std::abs(K(0, 1)) <= 1e-13);
}

BOOST_AUTO_TEST_CASE(a_row_is_not_projected_off_an_input_of_rounding_size) {
  // model.hpp: an input ‖h‖ ≤ kNegligibleInput · max ‖h‖ (every feature below off or held there)
  // is left out; projecting w = (1, 1) off h = (1e-18, 3e-18) would turn it by 1.1 rad for nothing.
  Eigen::MatrixXd H(2, 2);
  H << 1, 1e-18, 0, 3e-18;
  Eigen::VectorXd w(2);
  w << 1, 1;
  project_rows_off_inputs(Eigen::Map<RowMajorMatrix>(w.data(), 1, 2), H, {{0, 1}});
  BOOST_TEST(w[0] == 1.0);
  BOOST_TEST(w[1] == 1.0);
  // The same row held at the full-size input h = (1, 0) goes to ‖w‖ e2.
  project_rows_off_inputs(Eigen::Map<RowMajorMatrix>(w.data(), 1, 2), H, {{0, 0}});
  BOOST_TEST(std::abs(w[0]) <= 1e-15);
  BOOST_TEST(w[1] == std::sqrt(2.0), boost::test_tools::tolerance(1e-15));
}
