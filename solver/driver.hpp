#pragma once
/// \file driver.hpp
/// The integration loop: steps a FlowSystem with a Stepper from a state until a stop rule fires,
/// and hands rows, events, snapshots and checkpoints to its observers. Never throws out of
/// run(): the result carries a Status.
///
/// The loop is built from named parts, each in its own file:
///   flow_clock.hpp       log t, advanced over every accepted step;
///   event_policy.hpp     how activation switches are met (frozen pattern or sign-following);
///   sliding_policy.hpp   which pairs are held on their kinks (Filippov sliding);
///   record_schedule.hpp  when rows and snapshots are recorded, and the step cap that keeps rows
///                        evenly spaced in log t;
///   stop_rules.hpp       convergence and budgets;
///   run_state.hpp        everything that outlives a step, in one struct: the checkpoint.
/// A step goes: aim (the event policy may shorten it to a predicted switch), attempt, locate
/// crossings (the step is attempted again, or ended on its interpolant, at the first one),
/// advance the clock, then the switch bookkeeping (releases, crossings, captures), the hand-off
/// to a late-phase stepper, a row when one is due, and a checkpoint when one is due.
#include "event_policy.hpp"
#include "flow_clock.hpp"
#include "flow_system.hpp"
#include "metrics.hpp"
#include "observer.hpp"
#include "record_schedule.hpp"
#include "sliding_policy.hpp"
#include "stepper.hpp"
#include "stop_rules.hpp"

#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kktflow {

/// When a driver given a late-phase stepper (Driver::hand_off_to) switches to it: once every
/// sample is classified with L < ℓ(0)/n and log t ≥ max(log_t_min, stable_ratio · log t of the
/// last switch event), i.e. the activation pattern and sliding set have held while log t grew
/// by that factor. Both numbers are ours (bench/late_phase: the early phase's switch cascades
/// cost an order-2 method more steps than dopri5; the late phase costs dopri5 O(τ) steps).
/// The square loss's flow, which has no margins to classify with, switches once a step of
/// dopri5's sat at its stability bound (stability_bound.hpp; after the swap, m_x_new and m_f_new
/// hold the step's start).
struct LatePhaseOptions {
  double stable_ratio = 2.0;
  double log_t_min = 1.0;
};

struct DriverOptions {
  StopRules stop;
  OutputSchedule output;
  SlidingOptions sliding;
  LatePhaseOptions late;
  /// Event-driven switching (event_policy.hpp: FrozenPatternEvents) for systems that offer a
  /// FrozenPattern and adaptive steppers; off, the field follows sign(s) at every stage.
  bool freeze_pattern = true;
  double dt_initial = 1e-3;  ///< first step in the integration variable
  double dt_max = 1e300;
  /// Observers get a checkpoint at the start, after the first step boundary this many wall
  /// seconds after the last one (0: every step), and at the end of a run that can go on. 30 s
  /// is ours: a kill loses at most that much work, and a checkpoint (about 0.4 MB on the demo)
  /// that often costs little next to the integration.
  double checkpoint_every_s = 30;
};

/// Throws std::invalid_argument naming the key and its allowed range.
void validate(const DriverOptions& o);

struct RunResult {
  Status status = Status::converged;
  std::string reason;
  Record last;
  std::int64_t sliding_pairs = 0;
  std::int64_t rejected_steps = 0;  ///< attempts the error control refused
  std::int64_t event_restarts = 0;  ///< steps shortened to end at a switch (attempted again or interpolated)
  std::int64_t captures = 0;        ///< pairs put on their kinks (events with new_sign 0)
  std::int64_t releases = 0;        ///< pairs let off their kinks (events with new_sign ±2)
  double late_phase_log_t = std::numeric_limits<double>::quiet_NaN();  ///< log t of the hand-off; NaN: none
};

class Driver {
 public:
  Driver(FlowSystem& system, Stepper& stepper, RowMetrics& metrics, DriverOptions options);

  void add_observer(Observer& observer) { m_observers.push_back(&observer); }
  /// Switches to `late` for the rest of the run when LatePhaseOptions says the late phase has
  /// begun. Throws std::invalid_argument as the constructor does for a stepper it cannot drive.
  void hand_off_to(Stepper& late);
  /// Makes the next run() continue from `checkpoint` (its state replaces run()'s argument)
  /// instead of starting afresh; the observers then get no θ(0) snapshot. `last_row` is the
  /// run's last trajectory row before the checkpoint, if any: the result reports it should the
  /// run stop before it records again (a checkpoint taken at the end stops at once). Throws
  /// std::invalid_argument when the checkpoint does not fit this system or these steppers.
  void resume_from(RunState checkpoint, std::optional<Record> last_row);
  /// Runs from `state` (updated in place) until a stop rule fires or `interrupted()` is true.
  RunResult run(Eigen::VectorXd& state, const std::function<bool()>& interrupted);

 private:
  /// What one accepted step leaves for its bookkeeping.
  struct Step {
    double dt = 0;
    StepAttempt attempt;
    std::vector<Flip> flips;
    bool at_event = false;  ///< aimed at or shortened to a switch
  };

  /// Throws std::invalid_argument when `s` needs what this system or these options lack.
  void require_support_for(const Stepper& s) const;
  /// Switches the system to the integration variable `s` needs (StepperTraits::time_mode), if
  /// any; with `rescale` (a hand-off mid-run) the velocity at x and the next step follow.
  void adopt_time_of(const Stepper& s, const Eigen::VectorXd& x, bool rescale);
  /// Sizes the buffers and sets up the parts for a run from m_state (fresh or restored), with
  /// `pattern` held frozen inside steps (nullptr: the field follows sign(s)).
  void start_parts(FrozenPattern* pattern);
  /// Sets up m_state at x for a fresh run, and snapshots θ(0).
  void start_fresh(Eigen::VectorXd& x);
  /// Continues from m_resume: x becomes its state.
  void restore(Eigen::VectorXd& x);
  enum class Attempt { accepted, again, failed };
  /// One attempt of a step from x: `accepted` (into m_x_new, m_f_new, m_s_new and `step`),
  /// `again` (rejected, or shortened to a switch), or `failed` with the Status that ends the run.
  Attempt attempt_step(const Eigen::VectorXd& x, Step& step, Status& failure);
  /// The switch bookkeeping after an accepted step of size dt: releases, crossings, captures,
  /// the pattern moved on past located switches.
  void after_step(const Step& step, Eigen::VectorXd& x);
  /// Holds x on the sliding surfaces and re-evaluates the field there; resets the stepper's
  /// history when the field itself changed (sliding set or pattern).
  void refresh_after_projection(Eigen::VectorXd& x, bool field_changed);
  void report_switches(const std::vector<Eigen::Index>& crossed, const std::vector<Eigen::Index>& captured);
  void emit_event(Eigen::Index index, int new_sign);
  /// After an accepted step of size dt: true when the late phase has begun (LatePhaseOptions).
  bool late_phase_begun(double dt) const;
  Record make_record(const Eigen::VectorXd& x);
  /// Records a row (and a snapshot when one is due) if the schedule says so; true when it converged.
  bool record_if_due(const Eigen::VectorXd& x, RunResult& result);
  /// The run state as it stands, the checkpoint; `stopped`: the Status the run ends with.
  void emit_checkpoint(std::optional<Status> stopped = std::nullopt);
  bool checkpoint_due() const;
  /// The closing row and snapshot, and the result's counters.
  void finish(const Eigen::VectorXd& x, Status status, std::int64_t points_at_start, RunResult& result);

  FlowSystem& m_sys;
  Stepper* m_method;          ///< the stepper in use
  Stepper* m_late = nullptr;  ///< the late-phase stepper to hand off to, if any
  RowMetrics& m_metrics;
  DriverOptions m_opt;
  std::vector<Observer*> m_observers;

  RunState m_state;
  FlowClock m_clock{m_sys, m_state.log_t};
  RecordSchedule m_schedule{m_opt.output, m_opt.stop, m_state};
  SlidingPolicy m_sliding{m_sys, m_opt.sliding, m_state};
  std::unique_ptr<EventPolicy> m_events;

  double m_wall0 = 0;              ///< now_s() at the run's start, less the wall time it resumed with
  double m_last_checkpoint_s = 0;  ///< wall clock (now_s) of the last checkpoint
  std::optional<RunState> m_resume;
  std::optional<Record> m_resume_last_row;
  std::optional<Status> m_stop_at_once;  ///< a run resumed from the checkpoint taken at its end
  // Buffers, sized once per run.
  Eigen::VectorXd m_x_new, m_f_new, m_s_new;
  Eigen::VectorXd m_sdot_end;    ///< ṡ at a step's end, where the event policy locates on the interpolant
  Eigen::VectorXd m_x_located;   ///< a step's end moved back to a located switch
  Eigen::VectorXd m_theta;       ///< θ, lifted only for snapshots and the end of the run
  Eigen::VectorXd m_theta_c;     ///< θ's isometric image (MarginSystem::lift_compact)
  int m_event_retries = 0;       ///< attempts of this step shortened to a switch so far
  double m_dt_before_event = 0;  ///< the controller's step before an event shortened it
};

}  // namespace kktflow
