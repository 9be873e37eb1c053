#define BOOST_TEST_MODULE checkpoint_store
/// Checkpoints in the run file: a round trip bit for bit, a continued run dropping the rows
/// written after the checkpoint it resumed from, and a writer SIGKILLed inside a checkpoint write.
#include "analysis/io/run_store.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "run_fixtures.hpp"
#include "scratch_dir.hpp"
#include "writer_process.hpp"

using kktflow::Record;
using kktflow::RunSummary;
using kktflow::RunWriter;
using kktflow::testing::check_same;
using kktflow::testing::make_event;
using kktflow::testing::make_meta;
using kktflow::testing::make_record;
using kktflow::testing::make_theta;
using kktflow::testing::ScratchDir;
using kktflow::testing::throws_error_with;
using kktflow::testing::WriterProcess;

namespace {

/// A checkpoint whose every field encodes k, with values that show any rounding (1/3, a
/// subnormal, ±inf, NaN), and vectors whose lengths change with k.
kktflow::RunState make_checkpoint(std::int64_t k) {
  const auto x = static_cast<double>(k);
  kktflow::RunState c;
  const Eigen::Index n = 5 + k % 4;
  c.state = Eigen::VectorXd::LinSpaced(n, x / 3.0, x + 1e-310);
  c.dxdt = -c.state / 7.0;
  c.switches = Eigen::VectorXd::Constant(n + 1, x / 11.0);
  c.switch_velocity = Eigen::VectorXd::Constant(n + 1, -x / 13.0);
  c.prev_direction = k % 2 == 0 ? Eigen::VectorXd() : Eigen::VectorXd::Constant(3, x / 17.0);
  c.stepper_memory = Eigen::Vector2d(x * 1e-4 / 3.0, static_cast<double>(k % 2));
  c.log_t = x / 3.0;
  c.tau = x * 1e300;
  c.dt = x / 19.0;
  c.last_error = x / 23.0;
  c.log_loss = -x / 29.0;
  c.prev_record_log_t = x / 31.0;
  c.last_event_log_t = -std::numeric_limits<double>::infinity();
  c.record_dt_cap = std::numeric_limits<double>::infinity();
  c.next_record_log_t = x / 37.0;
  c.next_snapshot_log_t = x / 41.0;
  c.late_phase_log_t = std::numeric_limits<double>::quiet_NaN();
  c.wall_s = x / 43.0;
  c.step = k;
  c.points = k + 1;
  c.switch_count = k + 2;
  c.rejected = k + 3;
  c.event_restarts = k + 4;
  c.captures = k + 5;
  c.releases = k + 6;
  c.rhs_evals = k + 7;
  c.event_target = k % 3 - 1;
  c.short_of = k % 5 - 1;
  c.switch_velocity_stale = k % 2;
  c.recorded_now = (k + 1) % 2;
  c.late_stepper_active = k % 2;
  c.stopped_status = k % 8 - 1;
  c.side.assign(static_cast<std::size_t>(n + 1), k % 2);
  c.sliding.assign(static_cast<std::size_t>(k % 3), k);
  c.unlocated_until.assign(static_cast<std::size_t>(n + 1), k + 8);
  c.flip_history = {k, k + 9, k, k + 10};
  return c;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool same_bits(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  // An empty vector's data() is null, which memcmp must not see (UBSan), even for 0 bytes.
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0);
}

bool same_checkpoint(const kktflow::RunState& a, const kktflow::RunState& b) {
  return same_bits(a.state, b.state) && same_bits(a.dxdt, b.dxdt) && same_bits(a.switches, b.switches) &&
         same_bits(a.switch_velocity, b.switch_velocity) && same_bits(a.prev_direction, b.prev_direction) &&
         same_bits(a.stepper_memory, b.stepper_memory) && same_bits(a.log_t, b.log_t) && same_bits(a.tau, b.tau) &&
         same_bits(a.dt, b.dt) && same_bits(a.last_error, b.last_error) && same_bits(a.log_loss, b.log_loss) &&
         same_bits(a.prev_record_log_t, b.prev_record_log_t) && same_bits(a.last_event_log_t, b.last_event_log_t) &&
         same_bits(a.record_dt_cap, b.record_dt_cap) && same_bits(a.next_record_log_t, b.next_record_log_t) &&
         same_bits(a.next_snapshot_log_t, b.next_snapshot_log_t) && same_bits(a.late_phase_log_t, b.late_phase_log_t) &&
         same_bits(a.wall_s, b.wall_s) && a.step == b.step && a.points == b.points &&
         a.switch_count == b.switch_count && a.rejected == b.rejected && a.event_restarts == b.event_restarts &&
         a.captures == b.captures && a.releases == b.releases && a.rhs_evals == b.rhs_evals &&
         a.event_target == b.event_target && a.short_of == b.short_of &&
         a.switch_velocity_stale == b.switch_velocity_stale && a.recorded_now == b.recorded_now &&
         a.late_stepper_active == b.late_stepper_active && a.stopped_status == b.stopped_status && a.side == b.side &&
         a.sliding == b.sliding && a.unlocated_until == b.unlocated_until && a.flip_history == b.flip_history;
}

}  // namespace

BOOST_AUTO_TEST_CASE(checkpoint_round_trips_and_continuing_drops_later_rows) {
  const ScratchDir dir;
  const std::string path = dir.file("checkpoint.h5");
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {  // killed after the checkpoint: _exit leaves the SWMR-write mark
    try {
      RunWriter writer(path, make_meta(), false);
      writer.on_snapshot(make_theta(1e-4), -1);
      for (std::int64_t i = 0; i < 15; ++i) {
        if (i == 10) writer.on_checkpoint(make_checkpoint(3));
        writer.on_event(make_event(i));
        writer.on_record(make_record(i), make_theta(1.0));
        writer.on_snapshot(make_theta(2.0), i);
      }
      _exit(writer.failure().empty() ? 0 : 2);
    } catch (...) {
      _exit(1);
    }
  }
  int wait_status = 0;
  BOOST_REQUIRE(waitpid(child, &wait_status, 0) == child);
  BOOST_REQUIRE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);

  const kktflow::StoredCheckpoint stored = kktflow::read_checkpoint(path);
  BOOST_TEST(same_checkpoint(stored.driver, make_checkpoint(3)));
  BOOST_TEST(stored.rows.trajectory == 10);
  BOOST_TEST(stored.rows.events == 10);
  BOOST_TEST(stored.rows.snapshots == 11);
  BOOST_TEST(stored.sequence == 1);
  {
    RunWriter writer(path, stored.rows, "continued = true\n");
    writer.on_record(make_record(10), make_theta(1.0));
    writer.on_checkpoint(make_checkpoint(4));
    BOOST_TEST(writer.failure() == "");
  }
  const RunSummary s = kktflow::read_run_summary(path);
  BOOST_TEST(s.trajectory_rows == 11);
  BOOST_TEST(s.events == 10);
  BOOST_TEST(s.snapshots == 11);
  BOOST_TEST(s.status == "running");
  BOOST_TEST(s.config == "continued = true\n");
  const std::vector<Record> rows = kktflow::read_trajectory(path);
  BOOST_REQUIRE(rows.size() == 11U);
  check_same(rows.back(), make_record(10));
  const kktflow::StoredCheckpoint next = kktflow::read_checkpoint(path);
  BOOST_TEST(same_checkpoint(next.driver, make_checkpoint(4)));
  BOOST_TEST(next.sequence == 2);
  BOOST_TEST(next.rows.trajectory == 11);
}

BOOST_AUTO_TEST_CASE(a_kill_inside_a_checkpoint_write_keeps_the_previous_one) {
  // A writer overwrites checkpoints as fast as it can and is SIGKILLed at moments spread over
  // its writes: the checkpoint read back must always be one whole checkpoint, never a mix.
  const ScratchDir dir;
  for (int trial = 0; trial < 6; ++trial) {
    const std::string path = dir.file("kill" + std::to_string(trial) + ".h5");
    const WriterProcess writer_process([&](const WriterProcess& self) {
      RunWriter writer(path, make_meta(), false);
      writer.on_checkpoint(make_checkpoint(1));
      if (!self.tell_parent()) return 3;
      for (std::int64_t k = 2;; ++k) writer.on_checkpoint(make_checkpoint(k));
    });
    BOOST_REQUIRE(writer_process.await_child());
    usleep(static_cast<useconds_t>(2000 + 7919 * trial % 20000));
    writer_process.kill();
    const kktflow::StoredCheckpoint stored = kktflow::read_checkpoint(path);
    BOOST_TEST_INFO("trial " << trial << ": checkpoint " << stored.driver.step);
    BOOST_TEST(stored.driver.step >= 1);
    BOOST_TEST(same_checkpoint(stored.driver, make_checkpoint(stored.driver.step)));
  }
}

BOOST_AUTO_TEST_CASE(a_file_without_checkpoints_cannot_be_resumed) {
  const ScratchDir dir;
  const std::string path = dir.file("none.h5");
  { RunWriter writer(path, make_meta(), false); }
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_checkpoint(path); }, "no checkpoint was written"));
}
