#include "driver.hpp"

#include "product_threads.hpp"
#include "run_text.hpp"
#include "stability_bound.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

namespace {

/// Shortened attempts of one step before its crossings are taken at its end (ours).
constexpr int kMaxEventRetries = 8;

/// log L of a state the flow can go on from: finite, or −∞ where the square loss is exactly 0
/// (a margin loss's log L is finite at every finite state).
bool valid_log_loss(double log_loss) {
  return !std::isnan(log_loss) && log_loss != std::numeric_limits<double>::infinity();
}

/// Thaws the system's pattern however run() ends.
struct ThawOnExit {
  FrozenPattern* pattern;
  ~ThawOnExit() {
    if (pattern) pattern->thaw_pattern();
  }
};

}  // namespace

void validate(const DriverOptions& o) {
  validate(o.stop);
  validate(o.output);
  validate(o.sliding);
  auto require = [](bool ok, const std::string& key, double v, const std::string& range) {
    if (!ok) throw std::invalid_argument(key + " = " + sci(v) + ": " + range);
  };
  require(o.dt_initial > 0 && std::isfinite(o.dt_initial), "flow.dt_initial", o.dt_initial,
          "must be a finite number > 0");
  require(o.dt_max > 0, "flow.dt_max", o.dt_max, "must be > 0");
  require(o.checkpoint_every_s >= 0 && std::isfinite(o.checkpoint_every_s), "store.checkpoint_seconds",
          o.checkpoint_every_s, "must be a finite number ≥ 0");
  require(o.late.stable_ratio >= 1 && std::isfinite(o.late.stable_ratio), "flow.late_phase_ratio", o.late.stable_ratio,
          "must be a finite number ≥ 1");
  require(std::isfinite(o.late.log_t_min), "flow.late_phase_log_t", o.late.log_t_min, "must be finite");
}

Driver::Driver(FlowSystem& system, Stepper& stepper, RowMetrics& metrics, DriverOptions options)
    : m_sys(system), m_method(&stepper), m_metrics(metrics), m_opt(options) {
  validate(m_opt);
  require_support_for(stepper);
}

void Driver::hand_off_to(Stepper& late) {
  require_support_for(late);
  m_late = &late;
}

void Driver::require_support_for(const Stepper& stepper) const {
  const StepperTraits traits = stepper.traits();
  if (traits.time_mode && m_sys.mode() == TimeMode::t)
    throw std::invalid_argument(
        "flow.stepper = \"margin_ros2\" or \"margin_ros3\" integrates in normalized time, "
        "not in t: needs flow.time = \"loss\" or \"normalized\"");
  if (!traits.needs_frozen_pattern()) return;
  const std::string name =
      traits.resolves_switches() ? "\"switch_batch\" or \"switch_radau\"" : "\"region_ros2\" or \"region_ros3\"";
  if (m_sys.mode() != TimeMode::loss)
    throw std::invalid_argument("flow.stepper = " + name + " integrates in loss time: needs flow.time = \"loss\"");
  if (!m_opt.freeze_pattern || !m_sys.margins().frozen_pattern())
    throw std::invalid_argument("flow.stepper = " + name +
                                " needs flow.freeze_pattern = true and a model with a frozen-pattern chart "
                                "(leaky2_fixed_outer with flow.coordinates = \"span\")");
}

void Driver::adopt_time_of(const Stepper& stepper, const Eigen::VectorXd& x, bool rescale) {
  const auto mode = stepper.traits().time_mode;
  if (!mode || *mode == m_sys.mode()) return;
  const double ratio = m_clock.change_variable(*mode, x);  // dν_new = dν_old / ratio
  if (!rescale) return;
  m_state.dxdt *= ratio;
  m_state.dt /= ratio;
  m_state.switch_velocity_stale = 1;
  m_schedule.cap_step(m_clock.log_t(), m_clock.log_rate(m_state.log_loss, x, m_state.dxdt));
}

bool Driver::late_phase_begun(double dt) const {
  if (m_sys.square_loss()) return at_stability_bound(dt, m_x_new, m_f_new, m_state.state, m_state.dxdt);
  const double n = static_cast<double>(m_sys.margins().num_samples());
  const bool separated = m_state.log_loss < m_sys.loss().log_ell_zero() - std::log(n);
  const double log_t = m_clock.log_t();
  return separated && log_t >= m_opt.late.log_t_min && log_t >= m_opt.late.stable_ratio * m_state.last_event_log_t;
}

void Driver::emit_event(Eigen::Index index, int new_sign) {
  const Eigen::Index n = m_sys.margins().num_samples();
  const SwitchEvent e{m_state.points, m_clock.log_t(), index / n, index % n, new_sign};
  m_state.last_event_log_t = e.log_t;
  for (auto* o : m_observers) o->on_event(e);
}

void Driver::refresh_after_projection(Eigen::VectorXd& x, bool field_changed) {
  m_sys.margins().hold_on_sliding_surfaces(x);
  m_sys(x, m_state.dxdt, m_state.tau);
  m_state.log_loss = m_sys.last_log_loss();
  m_sys.margins().switch_functions(x, m_state.switches);
  m_state.switch_velocity_stale = 1;
  // Holding unchanged surfaces moves x by rounding only, on the same smooth field: the stepper's
  // history (step-size memory, extrapolation tableau) stays valid then. A method that resolves
  // switches inside its steps met this change of field inside the step it just took, so its
  // step-size memory stays valid too.
  if (field_changed && !m_method->traits().resolves_switches()) m_method->reset();
}

void Driver::report_switches(const std::vector<Eigen::Index>& crossed, const std::vector<Eigen::Index>& captured) {
  // A captured pair never crossed in the Filippov solution: it reports the capture (0) only.
  for (Eigen::Index k : crossed) {
    if (std::binary_search(captured.begin(), captured.end(), k)) continue;
    ++m_state.switch_count;
    emit_event(k, m_state.side[static_cast<std::size_t>(k)] ? 1 : -1);
  }
  for (Eigen::Index k : captured) {
    ++m_state.captures;
    m_sliding.forget_flips(k);
    emit_event(k, 0);
  }
}

void Driver::after_step(const Step& step, Eigen::VectorXd& x) {
  m_sys.margins().switch_velocity(m_state.dxdt, m_state.switch_velocity);
  m_state.switch_velocity_stale = 0;
  const auto report = [this](Eigen::Index k, int new_sign) { emit_event(k, new_sign); };
  const auto released =
      m_sliding.on() && !m_sliding.empty() ? m_sliding.release_leaving(*m_events, report) : std::vector<Eigen::Index>{};
  const auto crossed = m_events->pairs_at_kinks(step.flips, released);
  std::vector<Eigen::Index> often;
  for (Eigen::Index k : crossed) {
    m_events->set_side(k, m_state.side[static_cast<std::size_t>(k)] == 0);
    if (m_sliding.flips_often(k)) often.push_back(k);
  }
  const StepperTraits traits = m_method->traits();
  const auto at_kinks =
      traits.resolves_switches() ? m_events->arrived_at_end(step.attempt.held, crossed, step.dt) : crossed;
  const auto candidates = m_sliding.candidates(at_kinks, often, *m_events, x);
  std::vector<Eigen::Index> captured;
  if (!candidates.empty()) {
    captured = m_sliding.capture_attracted(candidates, x);
    refresh_after_projection(x, true);
  }
  // A pair that keeps crossing and cannot slide chatters: for a window its crossings are taken at
  // step ends, unlocated, so it costs one step per crossing instead of a Zeno cascade of slivers.
  for (Eigen::Index k : often)
    if (!std::binary_search(captured.begin(), captured.end(), k))
      m_state.unlocated_until[static_cast<std::size_t>(k)] = m_state.step + m_opt.sliding.window_steps;
  const bool pattern_moved = m_events->frozen() && !crossed.empty();
  const bool field_changed = pattern_moved || !released.empty();
  // The region methods (region_ros2, switch_batch, switch_radau) move the state by region_ascent,
  // which keeps the held pairs on their kinks, so holding them again only moves x by rounding, at
  // the price of a product with Γ.
  const bool hold = field_changed || (!m_sliding.empty() && !traits.needs_frozen_pattern());
  if (candidates.empty() && hold) refresh_after_projection(x, field_changed);
  report_switches(crossed, captured);
  m_events->settle_sides();
}

Driver::Attempt Driver::attempt_step(const Eigen::VectorXd& x, Step& step, Status& failure) {
  MarginSystem& ms = m_sys.margins();
  const StepperTraits traits = m_method->traits();
  const bool resolving = traits.resolves_switches();
  m_events->weigh_crossings_against(traits.abs_tol, traits.rel_tol);
  if (!resolving) m_clock.prepare_step(x, m_state.dxdt);
  double dt = traits.fixed_step > 0 ? traits.fixed_step : std::min({m_state.dt, m_opt.dt_max, m_state.record_dt_cap});
  bool predicted = false;
  if (m_event_retries == 0 && !resolving) {
    if (const auto aimed = m_events->aim(dt)) {
      predicted = true;
      m_state.event_target = aimed->second;
      m_dt_before_event = dt;
      dt = aimed->first;
    }
  }
  StepAttempt a = m_method->attempt(m_sys, x, m_state.dxdt, m_state.tau, dt, m_x_new, m_f_new);
  if (!a.accepted) {
    if (!traits.adaptive()) {
      failure = Status::non_finite;
      return Attempt::failed;
    }
    ++m_state.rejected;
    m_state.dt = a.dt_next;
    if (m_state.dt < 1e-13 * std::max(1.0, std::abs(m_state.tau))) {
      failure = Status::no_progress;
      return Attempt::failed;
    }
    return Attempt::again;
  }
  ms.switch_functions(m_x_new, m_s_new);
  if (m_state.switch_velocity_stale != 0 && !resolving && m_events->any_flip(m_s_new)) {
    ms.switch_velocity(m_state.dxdt, m_state.switch_velocity);
    m_state.switch_velocity_stale = 0;
  }
  auto flips = m_events->flipped_switches(m_s_new, dt);
  bool have_f_new = a.has_dxdt_out;
  if (!flips.empty() && !resolving && traits.adaptive() && m_event_retries < kMaxEventRetries) {
    if (m_events->locates_on_interpolant()) {  // the step's field is smooth: its Hermite interpolant locates switches
      if (!have_f_new) m_sys(m_x_new, m_f_new, m_state.tau + dt);
      have_f_new = true;
      ms.switch_velocity(m_f_new, m_sdot_end);
    }
    const Flip first = m_events->first_crossing(flips, m_s_new, m_sdot_end, dt);
    if (first.index >= 0 && first.fraction < 1.0 - m_events->end_tolerance() &&
        first.fraction * dt > 1e-14 * (1.0 + std::abs(m_state.tau))) {
      m_state.event_target = first.index;
      if (m_event_retries == 0 && !predicted) m_dt_before_event = dt;
      ++m_state.event_restarts;
      const double fraction = first.fraction * (1.0 + m_events->overshoot());
      if (!m_events->locates_on_interpolant() || !traits.ends_on_interpolant) {
        m_state.dt = dt * fraction;
        ++m_event_retries;
        return Attempt::again;
      }
      end_step_on_interpolant(m_sys, x, m_state.dxdt, m_state.tau, fraction, dt, m_x_new, m_f_new, m_s_new,
                              m_x_located);
      flips = m_events->flipped_switches(m_s_new, dt);
      predicted = true;
    }
  }
  if (!have_f_new) m_sys(m_x_new, m_f_new, m_state.tau + dt);
  // A held pair whose slope left its range inside the step: the step is cut to where it left,
  // as to a switch (SlidingPolicy::exit_fraction). A method that resolves switches released it
  // inside the step already (neuron_sweeps.hpp); the step's end lets it go.
  if (traits.adaptive() && !resolving && m_event_retries < kMaxEventRetries) {
    const double exit = m_sliding.exit_fraction(x, m_state.tau, m_x_new, dt);
    if (exit < 1.0 - m_events->end_tolerance() && exit * dt > 1e-14 * (1.0 + std::abs(m_state.tau))) {
      if (m_event_retries == 0 && !predicted) m_dt_before_event = dt;
      m_state.event_target = -1;
      ++m_state.event_restarts;
      m_state.dt = dt * exit * (1.0 + m_events->overshoot());
      ++m_event_retries;
      return Attempt::again;
    }
  }
  step.at_event = m_event_retries > 0 || predicted;
  m_event_retries = 0;
  m_state.short_of = step.at_event && flips.empty() ? m_state.event_target : -1;
  step.dt = dt;
  step.attempt = std::move(a);
  step.flips = std::move(flips);
  return Attempt::accepted;
}

Record Driver::make_record(const Eigen::VectorXd& x) {
  Record r;
  m_metrics.evaluate(x, r, m_theta_c);
  r.step = m_state.step;
  r.tau = m_state.tau;
  r.log_t = m_clock.log_t();
  r.switches = m_state.switch_count;
  r.sliding = static_cast<std::int64_t>(m_state.sliding.size());
  r.rhs_evals = m_sys.rhs_evals();
  r.dt = m_state.dt;
  r.err_estimate = m_state.last_error;
  r.wall_s = now_s() - m_wall0;
  r.direction_change = m_schedule.direction_change(m_theta_c / r.norm, r.log_t);  // distances in θ_c are θ's
  return r;
}

bool Driver::record_if_due(const Eigen::VectorXd& x, RunResult& result) {
  m_state.recorded_now = 0;
  const double log_t = m_clock.log_t();
  if (!m_schedule.row_due(log_t)) return false;
  result.last = make_record(x);
  ++m_state.points;
  m_state.recorded_now = 1;
  for (auto* o : m_observers) o->on_record(result.last, m_theta_c);
  m_schedule.row_recorded(log_t);
  if (m_schedule.snapshot_due(log_t)) {
    m_sys.margins().lift(x, m_theta);
    for (auto* o : m_observers) o->on_snapshot(m_theta, m_state.points - 1);
    m_schedule.snapshot_taken();
  }
  return converged(m_opt.stop, result.last, m_state.points);
}

RunResult Driver::run(Eigen::VectorXd& state, const std::function<bool()>& interrupted) {
  RunResult result;
  m_wall0 = now_s();
  FrozenPattern* pattern =
      m_opt.freeze_pattern && m_method->traits().adaptive() ? m_sys.margins().frozen_pattern() : nullptr;
  const ThawOnExit thaw{pattern};
  const ScopedProductThreads threads(rhs_work(m_sys.margins()));
  Eigen::VectorXd& x = m_state.state;
  Status status = Status::converged;
  try {
    if (m_resume) {
      if (m_resume_last_row) result.last = *m_resume_last_row;
      m_state = std::move(*m_resume);
      m_resume.reset();
      start_parts(pattern);
      restore(x);
    } else {
      m_state = RunState{};
      x = state;
      start_parts(pattern);
      start_fresh(x);
      emit_checkpoint();
    }
    const std::int64_t points_at_start = m_state.points;
    for (;;) {
      if (m_stop_at_once) {
        status = *m_stop_at_once;
        m_stop_at_once.reset();
        break;
      }
      const double field_norm = m_opt.stop.grad_norm > 0 ? m_state.dxdt.norm() : 0.0;
      if (const auto reached = target_reached(m_opt.stop, m_state.log_loss, field_norm)) {
        status = *reached;
        break;
      }
      if (interrupted()) {
        status = Status::interrupted;
        break;
      }
      if (const auto budget = budget_reached(m_opt.stop, m_clock.log_t(), now_s() - m_wall0, m_state.step)) {
        status = *budget;
        break;
      }
      const double l0 = m_state.log_loss;
      Step step;
      const Attempt outcome = attempt_step(x, step, status);
      if (outcome == Attempt::failed) break;
      if (outcome == Attempt::again) continue;
      const double l1 = m_sys.last_log_loss();
      if (!m_x_new.allFinite() || !valid_log_loss(l1)) {
        status = Status::non_finite;
        break;
      }
      m_clock.advance(x, m_x_new, m_state.dxdt, m_f_new, l0, l1, step.dt, m_state.tau, step.attempt.log_loss_mid);
      m_state.tau += step.dt;
      m_state.last_error = step.attempt.error;
      x.swap(m_x_new);
      m_state.dxdt.swap(m_f_new);
      m_state.switches.swap(m_s_new);
      m_state.log_loss = l1;
      m_schedule.cap_step(m_clock.log_t(), m_clock.log_rate(m_state.log_loss, x, m_state.dxdt));
      m_state.switch_velocity_stale = 1;
      m_clock.state_moved();
      ++m_state.step;
      m_state.dt = step.at_event ? std::max(step.attempt.dt_next, m_dt_before_event) : step.attempt.dt_next;
      after_step(step, x);
      if (!valid_log_loss(m_state.log_loss)) {
        status = Status::non_finite;
        break;
      }
      if (m_late && m_method != m_late && late_phase_begun(step.dt)) {
        m_method = m_late;
        m_method->reset();
        m_state.late_phase_log_t = m_clock.log_t();
        adopt_time_of(*m_method, x, true);
      }
      if (record_if_due(x, result)) {
        status = Status::converged;
        break;
      }
      if (reached_log_t_max(m_opt.stop, m_clock.log_t())) {
        status = Status::log_t_max;
        break;
      }
      if (checkpoint_due()) emit_checkpoint();
    }
    // Every stop but a numerical failure leaves x at a step boundary that a resumed run with
    // extended stop rules continues from; the closing row and snapshot below come after it.
    if (status != Status::non_finite && status != Status::no_progress) emit_checkpoint(status);
    finish(x, status, points_at_start, result);
  } catch (const std::exception& e) {
    result.status = Status::non_finite;
    result.reason = std::string("numerical failure: ") + e.what();
  }
  result.sliding_pairs = static_cast<std::int64_t>(m_state.sliding.size());
  result.rejected_steps = m_state.rejected;
  result.event_restarts = m_state.event_restarts;
  result.captures = m_state.captures;
  result.releases = m_state.releases;
  result.late_phase_log_t = m_state.late_phase_log_t;
  state = x;
  for (auto* o : m_observers) o->on_finish(m_theta, result.status, result.reason);
  return result;
}

}  // namespace kktflow
