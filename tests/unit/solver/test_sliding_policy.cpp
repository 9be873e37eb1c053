// The sliding policy's bookkeeping: which pairs flip often enough to be tested, which are tested
// (and which pairs creeping up on a kink are near enough), and the flip history surviving a
// checkpoint. (Whether a tested pair is kept is Filippov's condition, tested in
// tests/unit/problems/test_held_kinks.cpp.)
#define BOOST_TEST_MODULE sliding_policy
#include <boost/test/unit_test.hpp>

#include "problems/two_layer_leaky.hpp"
#include "solver/sliding_policy.hpp"

using namespace kktflow;
namespace tt = boost::test_tools;

namespace {

/// A two-layer leaky net (held kinks supported) with m = 2 on n = 2 samples: four switches.
struct Net {
  Eigen::MatrixXd X = Eigen::MatrixXd::Identity(2, 2);
  Eigen::VectorXd y = (Eigen::VectorXd(2) << 1, -1).finished();
  TwoLayerLeaky model{X, TwoLayerLeakyParams{2, 0.5, 1e-3, 0}};
  FullCoordinates margins{model, y};
  FlowSystem system{margins, MarginLoss(LossKind::exp), TimeMode::loss};
  RunState state;
  SlidingOptions options;
  std::vector<char> none = std::vector<char>(4, 0);

  Net() {
    state.switches = Eigen::Vector4d(1, 1, -1, -1);
    state.switch_velocity = Eigen::Vector4d::Zero();
    state.side = {1, 1, 0, 0};
    state.unlocated_until.assign(4, 0);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_pair_is_tested_after_enough_flips_within_the_window) {
  Net net;
  net.options.flips = 3;
  net.options.window_steps = 50;
  SlidingPolicy sliding(net.system, net.options, net.state);
  sliding.start();
  for (const std::int64_t step : {0, 10}) {
    net.state.step = step;
    BOOST_TEST(!sliding.flips_often(1));
  }
  net.state.step = 20;
  BOOST_TEST(sliding.flips_often(1));
  // Spread over more than the window, the oldest flips no longer count.
  for (const std::int64_t step : {100, 160}) {
    net.state.step = step;
    BOOST_TEST(!sliding.flips_often(2));
  }
  net.state.step = 220;
  BOOST_TEST(!sliding.flips_often(2));
}

BOOST_AUTO_TEST_CASE(the_flip_history_survives_a_checkpoint) {
  Net net;
  net.options.flips = 3;
  SlidingPolicy sliding(net.system, net.options, net.state);
  sliding.start();
  for (const std::int64_t step : {4, 5}) {
    net.state.step = step;
    sliding.flips_often(3);
  }
  sliding.save_flips();
  BOOST_TEST(net.state.flip_history == (std::vector<std::int64_t>{3, 4, 3, 5}), tt::per_element());
  RunState restored = net.state;
  SlidingPolicy resumed(net.system, net.options, restored);
  resumed.start();
  restored.step = 6;
  BOOST_TEST(resumed.flips_often(3));  // the third flip within the window
}

BOOST_AUTO_TEST_CASE(tested_pairs_are_those_at_kinks_and_those_that_flip_often) {
  Net net;
  SlidingPolicy sliding(net.system, net.options, net.state);
  sliding.start();
  const auto events = make_event_policy(net.system, net.state, sliding.mask(), nullptr);
  const Eigen::VectorXd x = Eigen::VectorXd::Zero(net.model.dim());
  BOOST_TEST(sliding.candidates({2, 0}, {3, 2}, *events, x) == (std::vector<Eigen::Index>{0, 2, 3}), tt::per_element());
  net.options.capture_on_arrival = false;
  BOOST_TEST(sliding.candidates({2, 0}, {3}, *events, x) == (std::vector<Eigen::Index>{3}), tt::per_element());
  net.options.enabled = false;
  BOOST_TEST(sliding.candidates({2, 0}, {3}, *events, x).empty());
}

// W = [[z, 1], [1, 1]], a = (1, −1) on X = I, y = (1, −1): q_0 = φ(z) − 1, q_1 = 0. Holding pair
// (unit 0, sample 0) moves w_0 to (0, √(1 + z²)) (its norm kept): q_0 changes by −z and q_1 by
// −(√(1 + z²) − 1), so the margins' difference moves by z − √(1 + z²) + 1 ≈ z − z²/2, against
// kMarginTol = 0.01.
BOOST_AUTO_TEST_CASE(an_approaching_pair_is_tested_once_holding_it_leaves_the_weights_as_they_are) {
  Net net;
  SlidingPolicy sliding(net.system, net.options, net.state);
  sliding.start();
  const auto theta = [](double z) { return (Eigen::VectorXd(6) << z, 1, 1, 1, 1, -1).finished(); };
  BOOST_TEST(sliding.near_enough({0}, theta(0.005)) == (std::vector<Eigen::Index>{0}), tt::per_element());
  BOOST_TEST(sliding.near_enough({0}, theta(0.02)).empty());
  BOOST_TEST(net.margins.sliding().empty());  // the trial holds are undone
}

BOOST_AUTO_TEST_CASE(holding_updates_the_state_the_mask_and_the_system) {
  Net net;
  SlidingPolicy sliding(net.system, net.options, net.state);
  sliding.start();
  sliding.hold({1, 3});
  BOOST_TEST(net.state.sliding == (std::vector<std::int64_t>{1, 3}), tt::per_element());
  BOOST_TEST(sliding.mask() == (std::vector<char>{0, 1, 0, 1}), tt::per_element());
  BOOST_TEST(net.margins.sliding() == (std::vector<Eigen::Index>{1, 3}), tt::per_element());
  sliding.hold({});
  BOOST_TEST(sliding.mask() == net.none, tt::per_element());
}

// One unit (m = 1) on x_0 = (0, 1), x_1 = (s, c), y = (1, −1), θ = (w, a) with w = (u, 0): pair
// (unit 0, sample 0) sits on its kink, and for u > 0 sample 1 is on the positive side. The pair's
// equivalent slope keeps ⟨ẇ, x_0⟩ = a (G_0 σ + G_1 c) = 0 with G_i = y_i w_i and
// w_1/w_0 = exp(q_0 − q_1) = exp(a u s), so σ(u) = c exp(a u s): for a = −1 it falls through
// γ = 1/2, for a = 1 it rises through 1. The step u: 0.2 → 1 is cut where the straight line
// between σ(0.2) and σ(1) meets the end it left through.
BOOST_AUTO_TEST_CASE(a_held_pair_leaves_where_its_slope_reaches_the_end_it_left_through) {
  const double c = 0.8, s = 0.6, gamma = 0.5;
  const Eigen::MatrixXd X = (Eigen::MatrixXd(2, 2) << 0, 1, s, c).finished();
  const Eigen::VectorXd y = (Eigen::VectorXd(2) << 1, -1).finished();
  TwoLayerLeaky model{X, TwoLayerLeakyParams{1, gamma, 1e-3, 0}};
  FullCoordinates margins{model, y};
  FlowSystem system{margins, MarginLoss(LossKind::exp), TimeMode::loss};
  RunState state;
  SlidingOptions options;
  SlidingPolicy sliding(system, options, state);
  sliding.start();
  sliding.hold({0});
  Eigen::VectorXd field(3);
  for (const double a : {-1.0, 1.0}) {
    const auto theta = [a](double u) { return (Eigen::VectorXd(3) << u, 0, a).finished(); };
    const auto sigma = [&](double u) { return c * std::exp(a * u * s); };
    const double bound = a < 0 ? gamma : 1.0;
    system(theta(1), field, 0);  // the step's end, where the driver's release test looks
    BOOST_TEST(sliding.exit_fraction(theta(0.2), 0, theta(1), 0.8) == (bound - sigma(0.2)) / (sigma(1) - sigma(0.2)),
               tt::tolerance(1e-12));
    BOOST_TEST(margins.leaving_sliding().size() == 1u);  // the system's slopes are the end's again
    system(theta(0.3), field, 0);                        // σ(0.3) stays inside [γ, 1]
    BOOST_TEST(sliding.exit_fraction(theta(0.2), 0, theta(0.3), 0.1) == 1.0);
  }
}
