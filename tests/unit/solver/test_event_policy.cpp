// The two event policies on switch states set by hand: where each puts a crossing, which pairs
// it counts as at their kinks, and its guards against Zeno cascades.
#define BOOST_TEST_MODULE event_policy
#include <boost/test/unit_test.hpp>

#include "problems/leaky2_span.hpp"
#include "solver/event_policy.hpp"

#include <cmath>

using namespace kktflow;
namespace tt = boost::test_tools;

namespace {

/// The fixed-outer net with m = 2 neurons on n = 2 samples: four switches, a span chart that
/// freezes patterns, and a run state whose switch functions the tests set.
struct TwoByTwo {
  Eigen::MatrixXd X = Eigen::MatrixXd::Identity(2, 2);
  Eigen::VectorXd y = (Eigen::VectorXd(2) << 1, -1).finished();
  Leaky2FixedOuter model{X, Leaky2Params{2, 0.5, true, 1e-3, 0}};
  Leaky2Span span{model, y, model.initial_theta()};
  FlowSystem system{span, MarginLoss(LossKind::exp), TimeMode::loss};
  RunState state;
  std::vector<char> sliding = std::vector<char>(4, 0);

  TwoByTwo() {
    state.switches = Eigen::Vector4d(1, 1, -1, -1);
    state.switch_velocity = Eigen::Vector4d::Zero();
    state.side = {1, 1, 0, 0};
    state.unlocated_until.assign(4, 0);
    state.switch_velocity_stale = 0;
    state.dt = 1;
  }
  std::unique_ptr<EventPolicy> frozen() { return make_event_policy(system, state, sliding, span.frozen_pattern()); }
  std::unique_ptr<EventPolicy> following() { return make_event_policy(system, state, sliding, nullptr); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(frozen_policy_locates_a_crossing_on_the_cubic_interpolant) {
  // s: 1 → −1 over the step with ṡ = −3 at its start and −1 at its end (dt = 1): the Hermite
  // cubic is t² − 3t + 1 (its t³ terms cancel), first zero (3 − √5)/2.
  TwoByTwo net;
  net.state.switch_velocity[0] = -3;
  auto events = net.frozen();
  const Eigen::Vector4d s1(-1, 1, -1, -1), sdot1(-1, 0, 0, 0);
  const auto flips = events->flipped_switches(s1, 1.0);
  BOOST_TEST_REQUIRE(flips.size() == 1u);
  const Flip first = events->first_crossing(flips, s1, sdot1, 1.0);
  BOOST_TEST(first.index == 0);
  BOOST_TEST(first.new_sign == -1);
  BOOST_TEST(first.fraction == (3 - std::sqrt(5.0)) / 2, tt::tolerance(1e-11));
  BOOST_TEST(events->locates_on_interpolant());
}

BOOST_AUTO_TEST_CASE(sign_following_policy_takes_newton_from_the_step_start) {
  TwoByTwo net;
  net.state.switch_velocity[0] = -4;  // Newton: s0 + ṡ0 t dt = 0 at t = 1/4 with dt = 1
  net.state.switch_velocity[1] = 1;   // moving away: the chord s0/(s0 − s1) = 1/3 with s1 = −2
  auto events = net.following();
  const Eigen::Vector4d s1(-1, -2, -1, -1);
  const auto flips = events->flipped_switches(s1, 1.0);
  BOOST_TEST_REQUIRE(flips.size() == 2u);
  BOOST_TEST(flips[0].fraction == 0.25);
  BOOST_TEST(flips[1].fraction == 1.0 / 3.0, tt::tolerance(1e-15));
  BOOST_TEST(events->first_crossing(flips, s1, s1, 1.0).index == 0);
  BOOST_TEST(!events->locates_on_interpolant());
}

BOOST_AUTO_TEST_CASE(frozen_policy_aims_at_the_first_switch_due) {
  TwoByTwo net;
  net.state.switch_velocity = Eigen::Vector4d(-4, -2, 0, 0.5);  // due at 0.25, 0.5, never, 2
  const auto aimed = net.frozen()->aim(1.0);
  BOOST_TEST_REQUIRE(aimed.has_value());
  BOOST_TEST(aimed->second == 0);
  BOOST_TEST(aimed->first == 0.25 * (1 + 1e-6), tt::tolerance(1e-15));
  BOOST_TEST(!net.following()->aim(1.0).has_value());  // the field follows sign(s): no aiming
}

BOOST_AUTO_TEST_CASE(zeno_guards_differ_by_policy) {
  TwoByTwo net;
  net.state.step = 10;
  net.state.unlocated_until[2] = 11;  // chattering: unlocated for one more step
  net.state.short_of = 1;             // the last shortened step fell short of switch 1
  BOOST_TEST(net.frozen()->zeno_guarded(2));
  BOOST_TEST(!net.frozen()->zeno_guarded(1));
  BOOST_TEST(net.following()->zeno_guarded(2));
  BOOST_TEST(net.following()->zeno_guarded(1));
  net.state.step = 11;
  BOOST_TEST(!net.frozen()->zeno_guarded(2));
}

BOOST_AUTO_TEST_CASE(frozen_policy_moves_on_pairs_due_at_or_past_their_kinks) {
  TwoByTwo net;
  net.state.dt = 1.0;
  net.state.switches = Eigen::Vector4d(1e-7, 1, 1e-3, -1);
  net.state.switch_velocity = Eigen::Vector4d(-1, 0, 1, 0);
  // 0: due in 1e-7 ≤ kKinkReach·dt; 2: committed negative but already past its kink and moving on.
  const auto at_kinks = net.frozen()->pairs_at_kinks({}, {});
  BOOST_TEST(at_kinks == (std::vector<Eigen::Index>{0, 2}), tt::per_element());
  BOOST_TEST(net.following()->pairs_at_kinks({}, {}).empty());
}

BOOST_AUTO_TEST_CASE(sign_following_policy_hands_approaching_pairs_to_the_sliding_test) {
  TwoByTwo net;
  net.state.dt = 0.5;
  net.state.switch_velocity = Eigen::Vector4d(-4, -1, 0, 0);  // due at 0.25 (within dt) and at 1
  BOOST_TEST(net.following()->approaching_kinks({}) == (std::vector<Eigen::Index>{0}), tt::per_element());
  BOOST_TEST(net.following()->approaching_kinks({0}).empty());
  BOOST_TEST(net.frozen()->approaching_kinks({}).empty());
  auto events = net.following();
  net.state.switches = Eigen::Vector4d(-1, 1, 1, -1);
  events->settle_sides();
  BOOST_TEST(net.state.side == (std::vector<std::int64_t>{0, 1, 1, 0}), tt::per_element());
}

BOOST_AUTO_TEST_CASE(frozen_policy_takes_a_crossing_that_cannot_matter_at_the_step_end) {
  // Sample 1 far past the margin (q_1 ≈ 1000: its loss weight underflows to 0), so its pairs'
  // sides move nothing the error control can see; sample 0 carries all the weight. Both cross
  // inside the step, sample 1's pair first: the frozen policy locates sample 0's once it knows
  // the method's tolerances, and the earlier one without them.
  TwoByTwo net;
  net.state.state = Eigen::Vector4d(0, -1000, 0, 1000);  // C, rows by neuron: C_01 and C_11 on sample 1
  Eigen::VectorXd dxdt(4);
  net.system(net.state.state, dxdt, 0.0);
  BOOST_TEST_REQUIRE(net.system.last_weights()[1] == 0.0);
  BOOST_TEST_REQUIRE(net.system.last_weights()[0] == 1.0);
  net.state.switches = Eigen::Vector4d(1, 1, -1, -1);
  net.state.switch_velocity = Eigen::Vector4d(-2, -4, 0, 0);
  const Eigen::Vector4d s1(-1, -3, -1, -1), sdot1(-2, -4, 0, 0);  // zeros at 1/2 and 1/4
  auto events = net.frozen();
  const auto flips = events->flipped_switches(s1, 1.0);
  BOOST_TEST(events->first_crossing(flips, s1, sdot1, 1.0).index == 1);
  BOOST_TEST(events->aim(1.0)->second == 1);
  events->weigh_crossings_against(1e-10, 1e-8);
  const Flip first = events->first_crossing(flips, s1, sdot1, 1.0);
  BOOST_TEST(first.index == 0);
  BOOST_TEST(first.fraction == 0.5, tt::tolerance(1e-11));
  BOOST_TEST(events->aim(1.0)->second == 0);
}
