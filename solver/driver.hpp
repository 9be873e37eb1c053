#pragma once
/// \file driver.hpp
/// Integrates a FlowSystem with a Stepper, locates activation switches, holds chattering pairs
/// on their kinks (Filippov sliding), keeps the log-t clock, records at log-spaced times and
/// applies the stop rules (DESIGN §3). Never throws out of run(): the result carries a Status.
#include "flow_system.hpp"
#include "log_clock.hpp"
#include "metrics.hpp"
#include "observer.hpp"
#include "stepper.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kktflow {

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
  double record_relative = 0.01;    ///< … or by this fraction of log t, whichever is larger
  double snapshot_ratio = 2.0;      ///< snapshots at log t = 1, r, r², … (plus θ(0) and the end)
  int k_top = 4;                    ///< singular values per row
};

struct SlidingOptions {
  bool enabled = true;
  int flips = 3;                ///< a pair that flips this often …
  std::int64_t window_steps = 50;  ///< … within this many accepted steps is held on its kink
};

struct DriverOptions {
  StopRules stop;
  OutputSchedule output;
  SlidingOptions sliding;
  double dt_initial = 1e-3;   ///< first step in the integration variable
  double dt_max = 1e300;
};

/// Throws std::invalid_argument naming the key and its allowed range.
void validate(const DriverOptions& o);

struct RunResult {
  Status status = Status::converged;
  std::string reason;
  Record last;
  std::int64_t sliding_pairs = 0;
  std::int64_t rejected_steps = 0;   ///< attempts the error control refused
  std::int64_t event_restarts = 0;   ///< attempts shortened to end at a switch
};

class Driver {
 public:
  Driver(FlowSystem& system, Stepper& stepper, MetricsEvaluator& metrics, DriverOptions options);

  void add_observer(Observer& observer) { m_observers.push_back(&observer); }
  /// Runs from `state` (updated in place) until a stop rule fires or `interrupted()` is true.
  RunResult run(Eigen::VectorXd& state, const std::function<bool()>& interrupted);

 private:
  struct Flip {
    Eigen::Index index;
    double fraction;
    int new_sign;
  };
  bool has_flip(const Eigen::VectorXd& s0, const Eigen::VectorXd& s1) const;
  std::vector<Flip> flipped_switches(const Eigen::VectorXd& s0, const Eigen::VectorXd& s1, double dt) const;
  void advance_clock(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                     const Eigen::VectorXd& f1, double l0, double l1, double dt);
  void handle_flips(const std::vector<Flip>& flips, Eigen::VectorXd& x);
  void release_leaving(Eigen::VectorXd& x);
  void refresh_after_projection(Eigen::VectorXd& x);
  Record make_record(const Eigen::VectorXd& x);
  bool converged(const Record& r) const;
  void emit_event(Eigen::Index index, int new_sign);
  std::string describe(Status s, const Record& r) const;

  FlowSystem& m_sys;
  Stepper& m_stepper;
  MetricsEvaluator& m_metrics;
  DriverOptions m_opt;
  std::vector<Observer*> m_observers;

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
  Eigen::VectorXd m_dxdt, m_s, m_sdot;  ///< velocity, switch functions and their velocity at x
  bool m_sdot_stale = true;
  Eigen::Index m_event_target = -1;   ///< the switch the last shortened step aimed at
  Eigen::Index m_short_of = -1;       ///< … when that step ended before reaching it
  Eigen::VectorXd m_theta, m_prev_direction;
  double m_prev_record_log_t = 0;
  std::map<Eigen::Index, std::vector<std::int64_t>> m_flip_steps;
  std::vector<Eigen::Index> m_sliding;
};

}  // namespace kktflow
