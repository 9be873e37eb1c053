// The record schedule: rows every max(record_every_log_t, record_relative·|log t|) of log t,
// snapshots at log t = 0, 1, r, r², …, a step cap that makes log t grow by one spacing at the
// exact rate, landing on stop.log_t_max, and the direction change between rows.
#define BOOST_TEST_MODULE record_schedule
#include <boost/test/unit_test.hpp>

#include "solver/record_schedule.hpp"

#include <cmath>
#include <limits>

using namespace kktflow;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(spacing_is_absolute_early_and_relative_late) {
  RunState state;
  const OutputSchedule out;  // 0.5 and 5 %
  const StopRules stop;
  const RecordSchedule schedule(out, stop, state);
  BOOST_TEST(schedule.spacing(2.0) == 0.5);
  BOOST_TEST(schedule.spacing(-30.0) == 1.5, tt::tolerance(1e-15));
  BOOST_TEST(schedule.spacing(100.0) == 5.0, tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(the_first_boundary_records_and_rows_follow_the_spacing) {
  RunState state;
  const OutputSchedule out;
  const StopRules stop;
  RecordSchedule schedule(out, stop, state);
  schedule.start();
  BOOST_TEST(schedule.row_due(-std::numeric_limits<double>::max()));
  schedule.row_recorded(100.0);
  BOOST_TEST(!schedule.row_due(104.9));
  BOOST_TEST(schedule.row_due(105.0));
}

BOOST_AUTO_TEST_CASE(snapshots_follow_the_ratio) {
  RunState state;
  OutputSchedule out;
  out.snapshot_ratio = 4;
  const StopRules stop;
  RecordSchedule schedule(out, stop, state);
  schedule.start();
  std::vector<double> at;
  for (int k = 0; k < 4; ++k) {
    at.push_back(state.next_snapshot_log_t);
    schedule.snapshot_taken();
  }
  BOOST_TEST(at == (std::vector<double>{0, 1, 4, 16}), tt::per_element());
}

BOOST_AUTO_TEST_CASE(the_step_cap_grows_log_t_by_one_spacing_at_the_exact_rate) {
  RunState state;
  const OutputSchedule out;
  StopRules stop;
  stop.log_t_max = 1e6;
  RecordSchedule schedule(out, stop, state);
  // At log t = 100 with d log t/dτ = e^r, one spacing (5) of log t takes 5 e^{−r} of τ.
  const double log_rate = -80.0;
  schedule.cap_step(100.0, log_rate);
  BOOST_TEST(state.record_dt_cap * std::exp(log_rate) == 5.0, tt::tolerance(1e-14));
  // Near stop.log_t_max the cap aims a hair past it, so that the run lands on it.
  stop.log_t_max = 100.2;
  schedule.cap_step(100.0, log_rate);
  BOOST_TEST(state.record_dt_cap * std::exp(log_rate) == (100.2 - 100.0) * (1 + kLandingOvershoot),
             tt::tolerance(1e-14));
  // A rate that overflows the cap leaves the step uncapped.
  schedule.cap_step(100.0, -1e4);
  BOOST_TEST(std::isinf(state.record_dt_cap));
}

BOOST_AUTO_TEST_CASE(direction_change_is_per_unit_log_t_and_zero_on_the_first_row) {
  RunState state;
  const OutputSchedule out;
  const StopRules stop;
  RecordSchedule schedule(out, stop, state);
  BOOST_TEST(schedule.direction_change(Eigen::Vector2d(1, 0), 1.0) == 0.0);
  // ‖(0.6, 0.8) − (1, 0)‖ = √(0.16 + 0.64) over Δ log t = 2.
  BOOST_TEST(schedule.direction_change(Eigen::Vector2d(0.6, 0.8), 3.0) == std::sqrt(0.8) / 2, tt::tolerance(1e-15));
  BOOST_TEST(state.prev_record_log_t == 3.0);
}
