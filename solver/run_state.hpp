#pragma once
/// \file run_state.hpp
/// The state of an integration loop (driver.hpp), held in one struct: the driver and its parts
/// (clock, event policy, sliding policy, record schedule) read and write these fields and keep
/// nothing else that outlives a step. A checkpoint is this struct, saved whole (the run file's
/// /checkpoint), and a resumed run restores it whole and continues bit for bit.
///
/// A checkpoint is taken only at a step boundary: after an accepted step and its switch
/// bookkeeping, recording and stop tests, before the next attempt. There the attempt loop holds
/// nothing of its own (no event retry is pending), so the driver's members, the active stepper's
/// controller memory and the system's evaluation counter are the whole state. The velocity, the
/// switch functions and log L at the state are stored, not recomputed: a recomputation could
/// differ in the last bit from the values the run carried (e.g. dopri5's first-same-as-last
/// stage), and bit-exactness is the point. Integers and flags are int64, so the HDF5 store maps
/// every field to a native f64 or i64 dataset.
#include <Eigen/Core>

#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace kktflow {

// Switch indices are stored as they are used (k = neuron·n + sample, an Eigen::Index).
static_assert(std::is_same_v<Eigen::Index, std::int64_t>, "RunState keeps switch indices as int64");

struct RunState {
  // The flow.
  Eigen::VectorXd state;            ///< x, the integrated state
  Eigen::VectorXd dxdt;             ///< the velocity at x
  Eigen::VectorXd switches;         ///< s(x), the switch functions
  Eigen::VectorXd switch_velocity;  ///< ṡ(x); meaningful when switch_velocity_stale is 0
  Eigen::VectorXd prev_direction;   ///< θ̂ at the last record, in the metrics' chart (empty before the first)
  Eigen::VectorXd stepper_memory;   ///< the active stepper's controller memory (Stepper::memory)

  // Clock and recorder thresholds.
  double log_t = -std::numeric_limits<double>::infinity();  ///< log t; −∞ at t = 0
  double tau = 0;
  double dt = 0;  ///< the controller's next step
  double last_error = -1;
  double log_loss = 0;  ///< log L at x
  double prev_record_log_t = 0;
  double last_event_log_t = -std::numeric_limits<double>::infinity();
  double record_dt_cap = std::numeric_limits<double>::infinity();
  double next_record_log_t = 0;
  double next_snapshot_log_t = 0;
  double late_phase_log_t = std::numeric_limits<double>::quiet_NaN();  ///< log t of the hand-off; NaN: none yet
  double wall_s = 0;                                                   ///< wall-clock seconds of the run so far

  // Counters and flags.
  std::int64_t step = 0;
  std::int64_t points = 0;
  std::int64_t switch_count = 0;
  std::int64_t rejected = 0;
  std::int64_t event_restarts = 0;
  std::int64_t captures = 0;
  std::int64_t releases = 0;
  std::int64_t rhs_evals = 0;
  std::int64_t event_target = -1;
  std::int64_t short_of = -1;
  std::int64_t switch_velocity_stale = 1;
  std::int64_t recorded_now = 0;
  std::int64_t late_stepper_active = 0;  ///< 1 once the driver handed off to its late-phase stepper
  /// The Status the run stopped with when the checkpoint was taken at its end; −1 while it runs.
  /// A run resumed from it stops there again (unless cleared to extend the run).
  std::int64_t stopped_status = -1;

  // The pattern and the sliding bookkeeping.
  std::vector<std::int64_t> side;             ///< committed side (1: s > 0) of every switch
  std::vector<std::int64_t> sliding;          ///< switches held on their kinks, sorted
  std::vector<std::int64_t> unlocated_until;  ///< per switch: crossings unlocated before this step
  std::vector<std::int64_t> flip_history;     ///< (switch, step) pairs, flattened: recent flips per switch
};

}  // namespace kktflow
