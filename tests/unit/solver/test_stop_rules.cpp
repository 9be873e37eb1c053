// The stop rules: a margin flow's convergence needs every rule at one row (and a second row,
// the first has no direction change), budgets end the run in their order, and log t lands on
// stop.log_t_max within kLandingTol; the square loss's loss and critical-point rules.
#define BOOST_TEST_MODULE stop_rules
#include <boost/test/unit_test.hpp>

#include "solver/stop_rules.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

using namespace kktflow;

namespace {

/// A row that meets the default rules with room to spare.
Record converged_row() {
  Record r;
  r.kkt_eps = 1e-4;
  r.alignment_beta = 1 - 1e-8;
  r.direction_change = 1e-5;
  r.log_t = 10;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(convergence_needs_every_rule_at_one_row) {
  const StopRules rules;
  Record r = converged_row();
  BOOST_TEST(converged(rules, r, 2));
  BOOST_TEST(!converged(rules, r, 1));  // the first row: no direction change yet
  r.kkt_eps = 2e-3;
  BOOST_TEST(!converged(rules, r, 2));
  r = converged_row();
  r.alignment_beta = 1 - 1e-5;
  BOOST_TEST(!converged(rules, r, 2));
  r = converged_row();
  r.direction_change = 2e-3;
  BOOST_TEST(!converged(rules, r, 2));
  StopRules later = rules;
  later.log_t_min = 11;
  BOOST_TEST(!converged(later, converged_row(), 2));
}

BOOST_AUTO_TEST_CASE(a_rule_met_with_equality_counts) {
  StopRules rules;
  Record r = converged_row();
  rules.kkt_eps = r.kkt_eps;
  rules.direction_change = r.direction_change;
  BOOST_TEST(converged(rules, r, 2));
}

BOOST_AUTO_TEST_CASE(log_t_max_is_reached_within_the_landing_tolerance) {
  StopRules rules;
  rules.log_t_max = 1e6;
  // kLandingTol relative: 1e-12 × 1e6 = 1e-6 below the target counts, 1e-5 below does not.
  BOOST_TEST(reached_log_t_max(rules, 1e6 - 1e-7));
  BOOST_TEST(!reached_log_t_max(rules, 1e6 - 1e-5));
  BOOST_TEST(reached_log_t_max(rules, 2e6));
}

BOOST_AUTO_TEST_CASE(budgets_end_the_run_in_order_log_t_wall_steps) {
  StopRules rules;
  rules.log_t_max = 5;
  rules.wall_s = 10;
  rules.max_steps = 100;
  BOOST_TEST(!budget_reached(rules, 1, 1, 1).has_value());
  BOOST_TEST((*budget_reached(rules, 6, 11, 200) == Status::log_t_max));
  BOOST_TEST((*budget_reached(rules, 1, 11, 200) == Status::wall_budget));
  BOOST_TEST((*budget_reached(rules, 1, 1, 100) == Status::step_budget));
}

BOOST_AUTO_TEST_CASE(the_description_names_the_rule_and_its_figures) {
  StopRules rules;
  rules.wall_s = 10;
  Record r;
  r.log_t = 3;
  const std::string wall = describe_stop(rules, Status::wall_budget, r, 42);
  BOOST_TEST(wall.find("stop.wall_s = 10") != std::string::npos);
  BOOST_TEST(wall.find("after 42 steps") != std::string::npos);
  const std::string done = describe_stop(rules, Status::converged, converged_row(), 7);
  BOOST_TEST(done.find("ε_KKT = 0.0001 ≤ 0.001") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(validate_names_the_key_and_its_range) {
  StopRules rules;
  rules.kkt_eps = 0;
  try {
    validate(rules);
    BOOST_FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()) == "stop.kkt_eps = 0: must be > 0");
  }
}

BOOST_AUTO_TEST_CASE(the_loss_and_critical_point_rules_are_off_unless_set) {
  const StopRules margin_flow;  // a margin loss's flow: neither rule
  BOOST_TEST(!target_reached(margin_flow, -1e300, 0.0).has_value());
  StopRules square;
  square.loss = 1e-4;
  square.grad_norm = 1e-12;
  // L ≤ stop.loss converges, and takes precedence over a critical point at the same state.
  BOOST_TEST((target_reached(square, std::log(1e-4), 0.0) == Status::converged));
  BOOST_TEST((target_reached(square, -std::numeric_limits<double>::infinity(), 1.0) == Status::converged));
  BOOST_TEST((target_reached(square, std::log(0.25), 1e-12) == Status::stationary));
  BOOST_TEST(!target_reached(square, std::log(0.25), 2e-12).has_value());
  BOOST_TEST(!target_reached(square, std::log(2e-4), 1.0).has_value());
}

BOOST_AUTO_TEST_CASE(a_loss_stop_is_described_by_the_loss) {
  StopRules square;
  square.loss = 1e-4;
  Record r;
  r.log_loss = std::log(5e-5);
  r.log_t = 2;
  const std::string why = describe_stop(square, Status::converged, r, 40);
  BOOST_TEST(why.find("≤ stop.loss") != std::string::npos);
  BOOST_TEST(why.find("ε_KKT") == std::string::npos);
  BOOST_TEST(describe_stop(square, Status::stationary, r, 40).find("stop.grad_norm") != std::string::npos);
}
