#pragma once
/// \file record_schedule.hpp
/// When a run records: a trajectory row each time log t has grown by max(record_every_log_t,
/// record_relative · |log t|), a snapshot of θ at log t = 0, 1, r, r², …, and steps capped so
/// that no late step jumps past a row. The rate is exact: d log t/dτ = 1/(L t) in loss time
/// (1/t in plain time), so rows stay evenly spaced in log t even where a late-phase stepper could
/// jump decades of log t in one step, and a run lands on stop.log_t_max instead of stepping past
/// it (two runs stopped there end at one point of the flow, which verify --refine compares).
#include "record.hpp"
#include "run_state.hpp"
#include "stop_rules.hpp"

namespace kktflow {

struct OutputSchedule {
  double record_every_log_t = 0.5;  ///< a trajectory row each time log t grows by this …
  double record_relative = 0.05;    ///< … or by this fraction of log t, whichever is larger
  double snapshot_ratio = 4.0;      ///< snapshots at log t = 1, r, r², … (plus θ(0) and the end); 4 is ours
  int k_top = 4;                    ///< singular values per row
};

/// Throws std::invalid_argument naming the key (output.*) and its allowed range.
void validate(const OutputSchedule& schedule);

/// The record and snapshot thresholds of a run, kept in its RunState.
class RecordSchedule {
 public:
  RecordSchedule(const OutputSchedule& output, const StopRules& stop, RunState& state)
      : m_out(output), m_stop(stop), m_state(state) {}

  /// A fresh run: the first step boundary records, and its first snapshot is at log t = 0.
  void start();
  /// The log-t spacing of rows at log t.
  double spacing(double log_t) const;
  /// Sets RunState::record_dt_cap, the step in the integration variable over which log t grows
  /// by about one spacing (and no further than stop.log_t_max) at the rate e^log_rate.
  void cap_step(double log_t, double log_rate);
  bool row_due(double log_t) const { return log_t >= m_state.next_record_log_t; }
  /// A row was recorded at log t.
  void row_recorded(double log_t) { m_state.next_record_log_t = log_t + spacing(log_t); }
  bool snapshot_due(double log_t) const { return log_t >= m_state.next_snapshot_log_t; }
  void snapshot_taken();
  /// ‖θ̂ − θ̂_prev‖ / (log t − log t_prev) for the direction θ̂ of a row at log t (0 for the first
  /// row), and θ̂ becomes the previous direction.
  double direction_change(const Eigen::VectorXd& direction, double log_t);

 private:
  const OutputSchedule& m_out;
  const StopRules& m_stop;
  RunState& m_state;
};

}  // namespace kktflow
