#pragma once
/// \file driver.hpp
/// Integrates a FlowSystem with a Stepper, locates activation switches, holds pairs on kinks
/// whose field attracts from both sides (Filippov sliding), keeps the log-t clock, records at
/// log-spaced times and applies the stop rules (DESIGN §3). Never throws out of run(): the
/// result carries a Status.
///
/// Event-driven switching (DriverOptions::freeze_pattern): between switch events the activation
/// pattern is frozen, so every step integrates a smooth field and the error control never meets a
/// kink. Each switch ends a step (aimed by Newton, located on the step's Hermite interpolant);
/// there the pair is tested for sliding and either held on its kink or moved to its new side.
#include "flow_system.hpp"
#include "log_clock.hpp"
#include "metrics.hpp"
#include "observer.hpp"
#include "stepper.hpp"

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kktflow {

class FrozenPattern;

struct StopRules {
  double kkt_eps = 1e-3;            ///< converged when ε_KKT ≤ this …
  double one_minus_beta = 1e-6;     ///< … and 1 − β ≤ this …
  double direction_change = 1e-3;   ///< … and ‖Δθ̂‖ per unit log t ≤ this, all at one record
  double log_t_min = 0;             ///< … and log t ≥ this
  double log_t_max = 1e6;
  double wall_s = 3600;
  std::int64_t max_steps = 100'000'000;
};

struct OutputSchedule {
  double record_every_log_t = 0.5;  ///< a trajectory row each time log t grows by this …
  double record_relative = 0.05;    ///< … or by this fraction of log t, whichever is larger
  double snapshot_ratio = 4.0;      ///< snapshots at log t = 1, r, r², … (plus θ(0) and the end); 4 is ours
  int k_top = 4;                    ///< singular values per row
};

/// Filippov sliding: when a (neuron, sample) pair is held on its kink. A pair is *tested* when it
/// reaches its kink at a located switch event (capture_on_arrival) or when it flipped `flips`
/// times within `window_steps` accepted steps; the test puts it on its kink and keeps it there if
/// its equivalent slope lies in [γ, 1], i.e. the field on both sides points into the kink.
/// A held pair is released when that slope leaves [γ, 1].
struct SlidingOptions {
  bool enabled = true;
  int flips = 3;                   ///< a pair that flips this often …
  std::int64_t window_steps = 50;  ///< … within this many accepted steps is tested
  bool capture_on_arrival = true;  ///< test every pair at the switch event where it reaches its kink
};

/// When a driver given a late-phase stepper (Driver::hand_off_to) switches to it: once every
/// sample is classified with L < ℓ(0)/n and log t ≥ max(log_t_min, stable_ratio · log t of the
/// last switch event), i.e. the activation pattern and sliding set have held while log t grew
/// by that factor. Both numbers are ours (bench/late_phase: the early phase's switch cascades
/// cost an order-2 method more steps than dopri5; the late phase costs dopri5 O(τ) steps).
struct LatePhaseOptions {
  double stable_ratio = 2.0;
  double log_t_min = 1.0;
};

struct DriverOptions {
  StopRules stop;
  OutputSchedule output;
  SlidingOptions sliding;
  LatePhaseOptions late;
  /// Event-driven switching for systems that offer FrozenPattern (leaky2_span.hpp) and adaptive
  /// steppers: the activation pattern is held fixed inside each step; a step is aimed at the first
  /// switch Newton predicts, each crossing is located on the step's Hermite interpolant and the
  /// step redone to end just past it, and the pattern moves on only there. Off: the field follows
  /// sign(s) at every stage and the error control absorbs the kinks.
  bool freeze_pattern = true;
  double dt_initial = 1e-3;   ///< first step in the integration variable
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
  std::int64_t rejected_steps = 0;   ///< attempts the error control refused
  std::int64_t event_restarts = 0;   ///< steps shortened to end at a switch (attempted again or interpolated)
  std::int64_t captures = 0;         ///< pairs put on their kinks (events with new_sign 0)
  std::int64_t releases = 0;         ///< pairs let off their kinks (events with new_sign ±2)
  double late_phase_log_t = std::numeric_limits<double>::quiet_NaN();  ///< log t of the hand-off; NaN: none
};

class Driver {
 public:
  Driver(FlowSystem& system, Stepper& stepper, MetricsEvaluator& metrics, DriverOptions options);

  void add_observer(Observer& observer) { m_observers.push_back(&observer); }
  /// Switches to `late` for the rest of the run when LatePhaseOptions says the late phase has
  /// begun. Throws std::invalid_argument as the constructor does for a stepper it cannot drive.
  void hand_off_to(Stepper& late);
  /// Makes the next run() continue from `checkpoint` (its state replaces run()'s argument)
  /// instead of starting afresh; the observers then get no θ(0) snapshot. `last_row` is the
  /// run's last trajectory row before the checkpoint, if any: the result reports it should the
  /// run stop before it records again (a checkpoint taken at the end stops at once). Throws
  /// std::invalid_argument when the checkpoint does not fit this system or these steppers.
  void resume_from(DriverCheckpoint checkpoint, std::optional<Record> last_row);
  /// Runs from `state` (updated in place) until a stop rule fires or `interrupted()` is true.
  RunResult run(Eigen::VectorXd& state, const std::function<bool()>& interrupted);

 private:
  struct Flip {
    Eigen::Index index;
    double fraction;
    int new_sign;
  };
  /// Throws std::invalid_argument when `s` needs what this system or these options lack.
  void require_support_for(const Stepper& s) const;
  /// Switches the system to the integration variable `s` needs (Stepper::time_mode), if any; with
  /// `rescale` (a hand-off mid-run) the velocity at x and the next step follow.
  void adopt_time_of(const Stepper& s, const Eigen::VectorXd& x, bool rescale);
  bool late_phase_begun() const;
  bool sliding_on() const;
  bool zeno_guarded(Eigen::Index index) const;
  /// A non-sliding switch whose sign at the step's end differs from its committed side.
  bool any_flip(const Eigen::VectorXd& s1) const;
  std::vector<Flip> flipped_switches(const Eigen::VectorXd& s1, double dt) const;
  /// Fraction of the step at which switch k first leaves its committed side on the cubic Hermite
  /// interpolant of the step (exact in s, which is affine in the state).
  double hermite_crossing(Eigen::Index k, const Eigen::VectorXd& s1, const Eigen::VectorXd& sdot1, double dt) const;
  /// The crossing to restart the step at (index −1: none): the earliest of flips, on the step's
  /// Hermite interpolant when the pattern is frozen (m_sdot_end holds ṡ at the step's end).
  Flip first_crossing(const std::vector<Flip>& flips, const Eigen::VectorXd& s1, double dt) const;
  /// Ends the accepted step x → x_new at fraction `fraction` of dt on its cubic Hermite
  /// interpolant (Stepper::ends_on_interpolant), instead of attempting the shorter step: x_new,
  /// f_new, s_new and dt then describe the step to there.
  void end_at_switch(const Eigen::VectorXd& x, double fraction, double& dt, Eigen::VectorXd& x_new,
                     Eigen::VectorXd& f_new, Eigen::VectorXd& s_new);
  /// Time until switch k reaches its kink at its current velocity; +∞ when it moves away.
  double time_to_kink(Eigen::Index k) const;
  /// The non-sliding switch with the least time_to_kink below dt: that time and its index (−1: none).
  std::pair<double, Eigen::Index> first_switch_due(double dt) const;
  void advance_clock(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                     const Eigen::VectorXd& f1, double l0, double l1, double dt);
  /// The clock's exponent (FlowSystem::clock_exponent; log L in loss time) at the step's cubic
  /// Hermite midpoint x_m = (x0 + x1)/2 + dt/8 (f0 − f1). With the pattern frozen the margins are
  /// affine in the state, so q(x_m) = (q0 + q1)/2 + dt/8 (J f0 − J f1) exactly, from m_q_start and m_dq_start (taken at x0 and f0 before the step's first attempt)
  /// and products the step has already taken; otherwise one margin evaluation at x_m.
  double midpoint_log_loss(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                           const Eigen::VectorXd& f1, double dt);
  /// After an accepted step of size dt: releases, captures and moves the pattern past located switches.
  void after_step(const std::vector<Flip>& flips, Eigen::VectorXd& x, double dt);
  /// The sliding candidates after a step of a method that resolves switches
  /// (Stepper::resolves_switches): the pairs it held inside the step, and of the pairs that crossed
  /// those that crossed in its last kLocatedTol, at their kinks now; the others crossed
  /// transversally inside the step.
  std::vector<Eigen::Index> arrived_at_end(const std::vector<Eigen::Index>& crossed, double dt) const;
  /// Pairs that crossed in the step or (frozen pattern) are due at their kinks right after it.
  std::vector<Eigen::Index> pairs_at_kinks(const std::vector<Flip>& flips,
                                           const std::vector<Eigen::Index>& released) const;
  /// Pairs to test for sliding, sorted: those at their kinks (when capture_on_arrival), those
  /// that flip often, and those creeping up on an attracting kink.
  std::vector<Eigen::Index> capture_candidates(const std::vector<Eigen::Index>& at_kinks,
                                               const std::vector<Eigen::Index>& often) const;
  /// Field following sign(s): non-sliding pairs due at their kinks within the next step.
  std::vector<Eigen::Index> approaching_attracting_kinks(const std::vector<Eigen::Index>& crossed) const;
  void report_switches(const std::vector<Eigen::Index>& crossed, const std::vector<Eigen::Index>& captured);
  std::vector<Eigen::Index> release_leaving();
  std::vector<Eigen::Index> capture_attracted(std::vector<Eigen::Index> candidates, Eigen::VectorXd& x);
  bool flips_often(Eigen::Index index);
  void set_side(Eigen::Index k, bool positive);
  void set_sliding(std::vector<Eigen::Index> pairs);
  /// Holds x on the sliding surfaces and re-evaluates the field there; resets the stepper's
  /// history when the field itself changed (sliding set or pattern).
  void refresh_after_projection(Eigen::VectorXd& x, bool field_changed = true);
  /// The log-t spacing of trajectory rows at log t (OutputSchedule).
  double record_spacing(double log_t) const;
  /// Caps the next step so log t grows by about one record spacing at its present rate, and
  /// does not pass stop.log_t_max.
  void cap_step_by_record_spacing(const Eigen::VectorXd& x);
  bool reached_log_t_max() const;
  Record make_record(const Eigen::VectorXd& x);
  bool converged(const Record& r) const;
  /// Sets up the loop's state at `x` for a fresh run, and snapshots θ(0).
  void start_fresh(Eigen::VectorXd& x);
  /// Sets up the loop's state from m_resume (x becomes its state).
  void restore(Eigen::VectorXd& x);
  DriverCheckpoint checkpoint(const Eigen::VectorXd& x) const;
  /// `stopped`: the Status the run ends with, for the checkpoint taken at its end.
  void emit_checkpoint(const Eigen::VectorXd& x, std::optional<Status> stopped = std::nullopt);
  bool checkpoint_due() const;
  void emit_event(Eigen::Index index, int new_sign);
  std::string describe(Status s, const Record& r) const;

  FlowSystem& m_sys;
  Stepper* m_method;             ///< the stepper in use
  Stepper* m_late = nullptr;     ///< the late-phase stepper to hand off to, if any
  MetricsEvaluator& m_metrics;
  DriverOptions m_opt;
  std::vector<Observer*> m_observers;
  FrozenPattern* m_pattern = nullptr;  ///< set while a run freezes the system's pattern

  LogClock m_clock;
  double m_tau = 0;
  double m_dt = 0;
  double m_last_error = -1;
  std::int64_t m_step = 0;
  std::int64_t m_points = 0;
  std::int64_t m_switches = 0;
  double m_wall0 = 0;
  std::int64_t m_rejected = 0;
  std::int64_t m_event_restarts = 0;
  std::int64_t m_captures = 0;
  std::int64_t m_releases = 0;
  Eigen::VectorXd m_dxdt, m_s, m_sdot;  ///< velocity, switch functions and their velocity at x
  bool m_sdot_stale = true;
  std::vector<char> m_side;           ///< committed side (s > 0) of every switch; the frozen pattern
  Eigen::Index m_event_target = -1;   ///< the switch the last shortened step aimed at
  Eigen::Index m_short_of = -1;       ///< … when that step ended before reaching it
  Eigen::VectorXd m_theta;            ///< θ, lifted only for snapshots and the end of the run
  Eigen::VectorXd m_theta_c, m_prev_direction;  ///< θ's isometric image (MarginSystem::lift_compact)
  double m_prev_record_log_t = 0;
  std::map<Eigen::Index, std::vector<std::int64_t>> m_flip_steps;
  std::vector<Eigen::Index> m_sliding;  ///< sorted
  std::vector<char> m_is_sliding;       ///< m_sliding as a mask over all switches
  std::vector<std::int64_t> m_unlocated_until;  ///< chattering pairs: crossings not located before this step
  double m_last_event_log_t = -std::numeric_limits<double>::infinity();
  double m_record_dt_cap = std::numeric_limits<double>::infinity();
  double m_log_loss_x = 0;              ///< log L at x (the system's last evaluation may be elsewhere)
  double m_next_record = 0;             ///< log t of the next trajectory row
  double m_next_snapshot = 0;           ///< log t of the next snapshot
  bool m_recorded_now = false;          ///< the last step boundary recorded a row
  double m_late_phase_log_t = std::numeric_limits<double>::quiet_NaN();
  double m_last_checkpoint_s = 0;       ///< wall clock (now_s) of the last checkpoint
  std::optional<DriverCheckpoint> m_resume;
  std::optional<Record> m_resume_last_row;
  std::optional<Status> m_stop_at_once;   ///< a run resumed from the checkpoint taken at its end
  Eigen::VectorXd m_sdot_end;
  Eigen::VectorXd m_x_located;  ///< a step's end moved back to a located switch (end_at_switch)
  // Margins at the step's start and end and their velocities, for midpoint_log_loss.
  Eigen::VectorXd m_q_start, m_q_end, m_dq_start, m_dq_end, m_q_mid;
  bool m_q_start_fresh = false;  ///< m_q_start is at the step's x and pattern
};

}  // namespace kktflow
