#include "driver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace kktflow {

namespace {

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// A step is restarted at a switch unless the crossing already lies in its last 1e-6 (ours):
// the jump in the field then acts over ≤ 1e-6 of a step, below the local error tolerance.
constexpr double kEventFractionTol = 1e-6;
constexpr int kMaxEventRetries = 8;

}  // namespace

void validate(const DriverOptions& o) {
  auto require = [](bool ok, const std::string& key, double v, const std::string& range) {
    if (!ok) throw std::invalid_argument(key + " = " + sci(v) + ": " + range);
  };
  require(o.stop.kkt_eps > 0, "stop.kkt_eps", o.stop.kkt_eps, "must be > 0");
  require(o.stop.one_minus_beta > 0, "stop.one_minus_beta", o.stop.one_minus_beta, "must be > 0");
  require(o.stop.direction_change > 0, "stop.direction_change", o.stop.direction_change, "must be > 0");
  require(o.stop.wall_s > 0, "stop.wall_s", o.stop.wall_s, "must be > 0");
  require(o.stop.max_steps > 0, "stop.max_steps", static_cast<double>(o.stop.max_steps), "must be ≥ 1");
  require(o.output.record_every_log_t > 0, "output.record_every_log_t", o.output.record_every_log_t, "must be > 0");
  require(o.output.record_relative >= 0, "output.record_relative", o.output.record_relative, "must be ≥ 0");
  require(o.output.snapshot_ratio > 1, "output.snapshot_ratio", o.output.snapshot_ratio, "must be > 1");
  require(o.output.k_top >= 1, "output.k_top", o.output.k_top, "must be ≥ 1");
  require(o.sliding.flips >= 2, "flow.sliding_flips", o.sliding.flips, "must be ≥ 2");
  require(o.sliding.window_steps >= 1, "flow.sliding_window", static_cast<double>(o.sliding.window_steps), "must be ≥ 1");
  require(o.dt_initial > 0 && std::isfinite(o.dt_initial), "flow.dt_initial", o.dt_initial, "must be a finite number > 0");
  require(o.dt_max > 0, "flow.dt_max", o.dt_max, "must be > 0");
}

Driver::Driver(FlowSystem& system, Stepper& stepper, MetricsEvaluator& metrics, DriverOptions options)
    : m_sys(system), m_stepper(stepper), m_metrics(metrics), m_opt(options) {
  validate(m_opt);
}

bool Driver::has_flip(const Eigen::VectorXd& s0, const Eigen::VectorXd& s1) const {
  return ((s0.array() > 0) != (s1.array() > 0)).any();
}

std::vector<Driver::Flip> Driver::flipped_switches(const Eigen::VectorXd& s0, const Eigen::VectorXd& s1,
                                                  double dt) const {
  std::vector<Flip> flips;
  std::size_t next_sliding = 0;
  for (Eigen::Index k = 0; k < s0.size(); ++k) {
    while (next_sliding < m_sliding.size() && m_sliding[next_sliding] < k) ++next_sliding;
    if (next_sliding < m_sliding.size() && m_sliding[next_sliding] == k) continue;
    const bool pos0 = s0[k] > 0;
    const bool pos1 = s1[k] > 0;
    if (pos0 == pos1) continue;
    // Newton from the step's start, where the field is smooth on the current side: a crossing
    // estimate from both ends would mix in the other side's field and creep up on an
    // attracting kink geometrically (Zeno-like). Fall back to the chord when ṡ points away.
    const double chord = s0[k] / (s0[k] - s1[k]);
    const double newton = m_sdot[k] != 0 ? -s0[k] / (m_sdot[k] * dt) : -1.0;
    const double fraction = newton > 0 && newton <= 1 ? newton : chord;
    flips.push_back({k, fraction, pos1 ? 1 : -1});
  }
  return flips;
}

void Driver::advance_clock(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                           const Eigen::VectorXd& f1, double l0, double l1, double dt) {
  if (m_sys.mode() == TimeMode::t) {
    m_clock.set_plain_time(m_tau + dt);
    return;
  }
  const Eigen::VectorXd mid = 0.5 * (x0 + x1) + (dt / 8.0) * (f0 - f1);  // cubic Hermite at h/2
  const double lm = m_sys.log_loss_at(mid);
  m_sys.add_rhs_evals(1);
  m_clock.advance_loss_time(l0, lm, l1, dt);
}

void Driver::emit_event(Eigen::Index index, int new_sign) {
  const Eigen::Index n = m_sys.margins().num_samples();
  const SwitchEvent e{m_points, m_clock.log_t(), index / n, index % n, new_sign};
  for (auto* o : m_observers) o->on_event(e);
}

void Driver::handle_flips(const std::vector<Flip>& flips, Eigen::VectorXd& x) {
  bool sliding_changed = false;
  for (const Flip& f : flips) {
    ++m_switches;
    emit_event(f.index, f.new_sign);
    if (!m_opt.sliding.enabled || !m_sys.margins().supports_sliding()) continue;
    auto& history = m_flip_steps[f.index];
    history.push_back(m_step);
    std::erase_if(history, [&](std::int64_t s) { return s + m_opt.sliding.window_steps < m_step; });
    if (static_cast<int>(history.size()) >= m_opt.sliding.flips) {
      m_sliding.insert(std::lower_bound(m_sliding.begin(), m_sliding.end(), f.index), f.index);
      m_flip_steps.erase(f.index);
      emit_event(f.index, 0);
      sliding_changed = true;
    }
  }
  if (sliding_changed) m_sys.margins().set_sliding(m_sliding);
  if (!m_sliding.empty()) refresh_after_projection(x);
}

void Driver::release_leaving(Eigen::VectorXd& x) {
  const auto leaving = m_sys.margins().leaving_sliding();
  if (leaving.empty()) return;
  for (const auto& [k, above] : leaving) {
    m_sliding.erase(std::remove(m_sliding.begin(), m_sliding.end(), k), m_sliding.end());
    emit_event(k, above ? 2 : -2);
  }
  m_sys.margins().set_sliding(m_sliding);
  refresh_after_projection(x);
}

void Driver::refresh_after_projection(Eigen::VectorXd& x) {
  m_sys.margins().hold_on_sliding_surfaces(x);
  m_sys(x, m_dxdt, m_tau);
  m_sys.margins().switch_functions(x, m_s);
  m_sdot_stale = true;
  m_stepper.reset();
}

Record Driver::make_record(const Eigen::VectorXd& x) {
  Record r;
  m_metrics.evaluate(x, r, m_theta);
  r.step = m_step;
  r.tau = m_tau;
  r.log_t = m_clock.log_t();
  r.switches = m_switches;
  r.sliding = static_cast<std::int64_t>(m_sliding.size());
  r.rhs_evals = m_sys.rhs_evals();
  r.dt = m_dt;
  r.err_estimate = m_last_error;
  r.wall_s = now_s() - m_wall0;
  const Eigen::VectorXd direction = m_theta / r.norm;
  if (m_prev_direction.size() == direction.size() && r.log_t > m_prev_record_log_t)
    r.direction_change = (direction - m_prev_direction).norm() / (r.log_t - m_prev_record_log_t);
  m_prev_direction = direction;
  m_prev_record_log_t = r.log_t;
  return r;
}

bool Driver::converged(const Record& r) const {
  const StopRules& s = m_opt.stop;
  return m_points > 1 && r.kkt_eps <= s.kkt_eps && 1.0 - r.alignment_beta <= s.one_minus_beta &&
         r.direction_change <= s.direction_change && r.log_t >= s.log_t_min;
}

std::string Driver::describe(Status s, const Record& r) const {
  const std::string at = " at log t = " + sci(r.log_t) + " after " + std::to_string(m_step) + " steps";
  switch (s) {
    case Status::converged:
      return "ε_KKT = " + sci(r.kkt_eps) + " ≤ " + sci(m_opt.stop.kkt_eps) + ", 1−β = " + sci(1 - r.alignment_beta) +
             " ≤ " + sci(m_opt.stop.one_minus_beta) + ", direction change " + sci(r.direction_change) + " ≤ " +
             sci(m_opt.stop.direction_change) + at;
    case Status::log_t_max: return "log t reached stop.log_t_max = " + sci(m_opt.stop.log_t_max) + at;
    case Status::wall_budget: return "wall time reached stop.wall_s = " + sci(m_opt.stop.wall_s) + " s" + at;
    case Status::step_budget: return "step count reached stop.max_steps = " + std::to_string(m_opt.stop.max_steps) + at;
    case Status::non_finite: return "the state or the loss became non-finite" + at;
    case Status::no_progress: return "the step size fell below 1e-13 of τ" + at;
    case Status::interrupted: return "interrupted by a signal" + at;
  }
  return "unknown";
}

RunResult Driver::run(Eigen::VectorXd& x, const std::function<bool()>& interrupted) {
  RunResult result;
  m_wall0 = now_s();
  MarginSystem& ms = m_sys.margins();
  m_dxdt.resize(x.size());
  m_s.resize(ms.num_switches());
  m_sdot.resize(ms.num_switches());
  Eigen::VectorXd x_new(x.size()), f_new(x.size()), s_new(ms.num_switches());
  m_theta.resize(ms.theta_dim());

  try {
    m_sys(x, m_dxdt, m_tau);
    ms.switch_functions(x, m_s);
    ms.lift(x, m_theta);
    for (auto* o : m_observers) o->on_snapshot(m_theta, -1);
    m_dt = m_opt.dt_initial;
    double next_record = -std::numeric_limits<double>::infinity();
    double next_snapshot = 0.0;
    int event_retries = 0;
    double dt_before_event = 0;   // the controller's step before an event shortened it
    bool recorded_now = false;
    Status status = Status::converged;

    for (;;) {
      if (interrupted()) { status = Status::interrupted; break; }
      if (now_s() - m_wall0 > m_opt.stop.wall_s) { status = Status::wall_budget; break; }
      if (m_step >= m_opt.stop.max_steps) { status = Status::step_budget; break; }

      const double l0 = m_sys.last_log_loss();
      const double dt = std::min(m_dt, m_opt.dt_max);
      const StepAttempt a = m_stepper.attempt(m_sys, x, m_dxdt, m_tau, dt, x_new, f_new);
      if (!a.accepted) {
        if (!m_stepper.adaptive()) { status = Status::non_finite; break; }
        ++m_rejected;
        m_dt = a.dt_next;
        if (m_dt < 1e-13 * std::max(1.0, std::abs(m_tau))) { status = Status::no_progress; break; }
        continue;
      }
      ms.switch_functions(x_new, s_new);
      if (m_sdot_stale && has_flip(m_s, s_new)) {
        ms.switch_velocity(m_dxdt, m_sdot);
        m_sdot_stale = false;
      }
      const auto flips = flipped_switches(m_s, s_new, dt);
      if (!flips.empty() && m_stepper.adaptive() && event_retries < kMaxEventRetries) {
        const Flip first = *std::min_element(flips.begin(), flips.end(),
                                             [](const Flip& a, const Flip& b) { return a.fraction < b.fraction; });
        // Zeno guard: a pair we already stepped up to once and fell short of is approaching its
        // kink asymptotically; stepping to it again would shrink geometrically. Let the error
        // control handle the crossing instead.
        const bool zeno = first.index == m_short_of;
        if (!zeno && first.fraction < 1.0 - kEventFractionTol && first.fraction * dt > 1e-14 * (1.0 + std::abs(m_tau))) {
          m_event_target = first.index;
          if (event_retries == 0) dt_before_event = dt;
          m_dt = dt * first.fraction * (1.0 + 1e-9);   // end the step just past the first crossing
          ++event_retries;
          ++m_event_restarts;
          continue;
        }
      }
      const bool event_step = event_retries > 0;
      event_retries = 0;
      m_short_of = event_step && flips.empty() ? m_event_target : -1;
      if (!a.has_dxdt_out) m_sys(x_new, f_new, m_tau + dt);
      const double l1 = m_sys.last_log_loss();
      if (!x_new.allFinite() || !std::isfinite(l1)) { status = Status::non_finite; break; }
      advance_clock(x, x_new, m_dxdt, f_new, l0, l1, dt);
      m_tau += dt;
      m_last_error = a.error;
      x.swap(x_new);
      m_dxdt.swap(f_new);
      m_s.swap(s_new);
      m_sdot_stale = true;
      ++m_step;
      m_dt = !m_stepper.adaptive() ? dt : event_step ? std::max(a.dt_next, dt_before_event) : a.dt_next;
      handle_flips(flips, x);
      if (!m_sliding.empty()) release_leaving(x);
      if (!std::isfinite(m_sys.last_log_loss())) { status = Status::non_finite; break; }

      recorded_now = false;
      if (m_clock.log_t() >= next_record) {
        result.last = make_record(x);
        ++m_points;
        recorded_now = true;
        for (auto* o : m_observers) o->on_record(result.last, m_theta);
        next_record = m_clock.log_t() + std::max(m_opt.output.record_every_log_t,
                                                 m_opt.output.record_relative * std::abs(m_clock.log_t()));
        if (m_clock.log_t() >= next_snapshot) {
          for (auto* o : m_observers) o->on_snapshot(m_theta, m_points - 1);
          next_snapshot = next_snapshot <= 0 ? 1.0 : next_snapshot * m_opt.output.snapshot_ratio;
        }
        if (converged(result.last)) { status = Status::converged; break; }
      }
      if (m_clock.log_t() >= m_opt.stop.log_t_max) { status = Status::log_t_max; break; }
    }
    if (!recorded_now && x.allFinite()) {
      result.last = make_record(x);
      ++m_points;
      for (auto* o : m_observers) o->on_record(result.last, m_theta);
    }
    if (x.allFinite()) {
      ms.lift(x, m_theta);
      for (auto* o : m_observers) o->on_snapshot(m_theta, m_points - 1);
    }
    result.status = status;
    result.reason = describe(status, result.last);
  } catch (const std::exception& e) {
    result.status = Status::non_finite;
    result.reason = std::string("numerical failure: ") + e.what();
  }
  result.sliding_pairs = static_cast<std::int64_t>(m_sliding.size());
  result.rejected_steps = m_rejected;
  result.event_restarts = m_event_restarts;
  for (auto* o : m_observers) o->on_finish(m_theta, result.status, result.reason);
  return result;
}

}  // namespace kktflow
