#include "driver.hpp"

#include "problems/leaky2_span.hpp"
#include "product_threads.hpp"
#include "run_text.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

namespace {

// Field following sign(s) at every stage: a step is restarted at a switch unless the crossing
// already lies in its last 1e-6 (ours); the jump in the field then acts over ≤ 1e-6 of a step,
// below the local error tolerance. Restarted steps end 1e-9 past the Newton estimate (ours).
constexpr double kEventFractionTol = 1e-6;
constexpr double kEventOvershoot = 1e-9;
constexpr int kMaxEventRetries = 8;
// Frozen pattern: a located step ends this fraction past the switch (ours), well above the error
// of the Hermite location, so the pair lands on its new side; the frozen field acts on the wrong
// side for that 1e-6 of a step only.
constexpr double kLocatedOvershoot = 1e-6;
// … and a switch located in the last kLocatedTol of a step is taken as at its end (ours; must
// exceed kLocatedOvershoot, or a located step would be located again).
constexpr double kLocatedTol = 1e-5;
// A pair due at its kink within this fraction of the next step has arrived (ours): moving the
// pattern on now, not after a sliver of a step, costs no more than kLocatedTol does.
constexpr double kKinkReach = 1e-5;

// A step aimed at stop.log_t_max at the present rate of log t aims this fraction past it (ours),
// so that a rate that is exact lands beyond the target rather than a rounding short of it; and
// log t within kLandingTol (relative, ours) of the target has reached it: the rate's change
// over the step leaves a shortfall second order in the step, and chasing rounding would stall.
constexpr double kLandingOvershoot = 1e-9;
constexpr double kLandingTol = 1e-12;
// Ours: log t = 2^45 has an ulp of 2^−7, so −ℓ − log t is good to 1% below it.
constexpr double kClockResolved = 0x1p45;

/// The cubic Hermite weights at t ∈ [0, 1] of (p0, dt·ṗ0, p1, dt·ṗ1): one basis for the switch
/// functions that locate a crossing and for the state that ends there, so the two agree.
std::array<double, 4> hermite_weights(double t) {
  const double t2 = t * t, t3 = t2 * t;
  return {2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, 3 * t2 - 2 * t3, t3 - t2};
}

void sort_unique(std::vector<Eigen::Index>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// Thaws the system's pattern however run() ends.
struct ThawOnExit {
  FrozenPattern*& pattern;
  ~ThawOnExit() {
    if (pattern) pattern->thaw_pattern();
    pattern = nullptr;
  }
};

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
  require(o.checkpoint_every_s >= 0 && std::isfinite(o.checkpoint_every_s), "store.checkpoint_seconds",
          o.checkpoint_every_s, "must be a finite number ≥ 0");
  require(o.late.stable_ratio >= 1 && std::isfinite(o.late.stable_ratio), "flow.late_phase_ratio",
          o.late.stable_ratio, "must be a finite number ≥ 1");
  require(std::isfinite(o.late.log_t_min), "flow.late_phase_log_t", o.late.log_t_min, "must be finite");
}

Driver::Driver(FlowSystem& system, Stepper& stepper, MetricsEvaluator& metrics, DriverOptions options)
    : m_sys(system), m_method(&stepper), m_metrics(metrics), m_opt(options) {
  validate(m_opt);
  require_support_for(stepper);
}

void Driver::hand_off_to(Stepper& late) {
  require_support_for(late);
  m_late = &late;
}

bool Driver::late_phase_begun() const {
  const double n = static_cast<double>(m_sys.margins().num_samples());
  const bool separated = m_log_loss_x < m_sys.loss().log_ell_zero() - std::log(n);
  const double log_t = m_clock.log_t();
  return separated && log_t >= m_opt.late.log_t_min && log_t >= m_opt.late.stable_ratio * m_last_event_log_t;
}

void Driver::require_support_for(const Stepper& stepper) const {
  if (stepper.time_mode() && m_sys.mode() == TimeMode::t)
    throw std::invalid_argument("flow.stepper = \"margin_ros2\" or \"margin_ros3\" integrates in normalized time, "
                                "not in t: needs flow.time = \"loss\" or \"normalized\"");
  if (!stepper.needs_frozen_pattern()) return;
  const std::string name = stepper.resolves_switches() ? "\"switch_batch\" or \"switch_radau\"" : "\"region_ros2\"";
  if (m_sys.mode() != TimeMode::loss)
    throw std::invalid_argument("flow.stepper = " + name + " integrates in loss time: needs flow.time = \"loss\"");
  if (!m_opt.freeze_pattern || !m_sys.margins().frozen_pattern())
    throw std::invalid_argument(
        "flow.stepper = " + name + " needs flow.freeze_pattern = true and a model with a frozen-pattern chart "
        "(leaky2_fixed_outer with flow.coordinates = \"span\")");
}

void Driver::adopt_time_of(const Stepper& stepper, const Eigen::VectorXd& x, bool rescale) {
  const auto mode = stepper.time_mode();
  if (!mode || *mode == m_sys.mode()) return;
  const double before = m_sys.velocity_scale(x);
  m_sys.set_mode(*mode);
  if (!rescale) return;
  const double ratio = m_sys.velocity_scale(x) / before;  // dν_new = dν_old / ratio
  m_dxdt *= ratio;
  m_dt /= ratio;
  m_sdot_stale = true;
  cap_step_by_record_spacing(x);
}

bool Driver::sliding_on() const {
  return m_opt.sliding.enabled && m_sys.margins().supports_sliding();
}

bool Driver::zeno_guarded(Eigen::Index index) const {
  // With a frozen pattern the field never sees the kink, so Newton cannot creep up on it; but a
  // pair chattering across a kink it cannot slide on would make every step a sliver.
  return (!m_pattern && index == m_short_of) || m_step < m_unlocated_until[static_cast<std::size_t>(index)];
}

bool Driver::any_flip(const Eigen::VectorXd& s1) const {
  for (Eigen::Index k = 0; k < s1.size(); ++k) {
    const auto u = static_cast<std::size_t>(k);
    if (!m_is_sliding[u] && (s1[k] > 0) != static_cast<bool>(m_side[u])) return true;
  }
  return false;
}

std::vector<Driver::Flip> Driver::flipped_switches(const Eigen::VectorXd& s1, double dt) const {
  std::vector<Flip> flips;
  for (Eigen::Index k = 0; k < s1.size(); ++k) {
    const auto u = static_cast<std::size_t>(k);
    const bool pos1 = s1[k] > 0;
    if (m_is_sliding[u] || pos1 == static_cast<bool>(m_side[u])) continue;
    // Newton from the step's start, where the field is smooth on the current side: a crossing
    // estimate from both ends would mix in the other side's field and creep up on an
    // attracting kink geometrically (Zeno-like). Fall back to the chord when ṡ points away.
    const double s0 = m_s[k];
    const double chord = s0 != s1[k] ? s0 / (s0 - s1[k]) : 0.0;
    const double newton = m_sdot[k] != 0 ? -s0 / (m_sdot[k] * dt) : -1.0;
    const double fraction = newton > 0 && newton <= 1 ? newton : chord;
    flips.push_back({k, fraction, pos1 ? 1 : -1});
  }
  return flips;
}

double Driver::hermite_crossing(Eigen::Index k, const Eigen::VectorXd& s1, const Eigen::VectorXd& sdot1,
                                double dt) const {
  const double p0 = m_s[k], p1 = s1[k], m0 = m_sdot[k] * dt, m1 = sdot1[k] * dt;
  const bool side = m_side[static_cast<std::size_t>(k)] != 0;
  auto off_side = [&](double t) {
    const auto h = hermite_weights(t);
    return (h[0] * p0 + h[1] * m0 + h[2] * p1 + h[3] * m1 > 0) != side;
  };
  if (off_side(0.0)) return 0.0;
  // Bracket the first exit on a coarse grid (a cubic turns at most twice), then bisect.
  constexpr int kGrid = 16;
  double lo = 0.0, hi = 1.0;
  for (int g = 1; g <= kGrid; ++g) {
    const double t = static_cast<double>(g) / kGrid;
    if (off_side(t)) { hi = t; break; }
    lo = t;
  }
  for (int it = 0; it < 50 && hi - lo > 1e-12; ++it) {
    const double mid = 0.5 * (lo + hi);
    (off_side(mid) ? hi : lo) = mid;
  }
  return hi;
}

Driver::Flip Driver::first_crossing(const std::vector<Flip>& flips, const Eigen::VectorXd& s1, double dt) const {
  Flip first{-1, 2.0, 0};
  for (const Flip& f : flips) {
    if (m_pattern && zeno_guarded(f.index)) continue;  // chattering: taken at the step's end
    const double t = m_pattern ? hermite_crossing(f.index, s1, m_sdot_end, dt) : f.fraction;
    if (t < first.fraction) first = {f.index, t, f.new_sign};
  }
  // Zeno guard (field following sign(s)): a pair we already stepped up to once and fell short of
  // is approaching an attracting kink asymptotically; stepping to it again would shrink
  // geometrically. The error control handles that crossing, and the step is not restarted.
  if (!m_pattern && first.index >= 0 && zeno_guarded(first.index)) first.index = -1;
  return first;
}

void Driver::end_at_switch(const Eigen::VectorXd& x, double fraction, double& dt, Eigen::VectorXd& x_new,
                           Eigen::VectorXd& f_new, Eigen::VectorXd& s_new) {
  // The pre-activations are linear in the state, so their interpolant, which located the
  // switch, is the image of this one.
  const auto h = hermite_weights(fraction);
  m_x_located = h[0] * x + h[2] * x_new + (h[1] * dt) * m_dxdt + (h[3] * dt) * f_new;
  x_new.swap(m_x_located);
  dt *= fraction;
  m_sys(x_new, f_new, m_tau + dt);
  m_sys.margins().switch_functions(x_new, s_new);
}

double Driver::time_to_kink(Eigen::Index k) const {
  // The committed side, not the sign of s: a pair moved on at its kink may sit a hair short of it.
  const bool positive = m_side[static_cast<std::size_t>(k)] != 0;
  const bool approaching = positive ? m_sdot[k] < 0 : m_sdot[k] > 0;
  return approaching ? std::abs(m_s[k]) / std::abs(m_sdot[k]) : std::numeric_limits<double>::infinity();
}

std::pair<double, Eigen::Index> Driver::first_switch_due(double dt) const {
  // Pairs due within kKinkReach were moved on by after_step; one still due there is chattering.
  const double floor = kKinkReach * m_dt;
  std::pair<double, Eigen::Index> first{dt, -1};
  for (Eigen::Index k = 0; k < m_s.size(); ++k) {
    if (m_is_sliding[static_cast<std::size_t>(k)] || zeno_guarded(k)) continue;
    if (const double h = time_to_kink(k); h > floor && h < first.first) first = {h, k};
  }
  return first;
}

void Driver::advance_clock(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                           const Eigen::VectorXd& f1, double l0, double l1, double dt) {
  if (m_sys.mode() == TimeMode::t) {
    m_clock.set_plain_time(m_tau + dt);
    return;
  }
  const double known = m_method->midpoint_log_loss();
  const double mid = std::isfinite(known) ? known : midpoint_log_loss(x0, x1, f0, f1, dt);
  // Normalized time: the clock's exponent adds (L − 1) log ‖θ‖ to log L (flow_system.hpp).
  m_clock.advance_loss_time(m_sys.clock_exponent(l0, x0), mid, m_sys.clock_exponent(l1, x1), dt);
}

double Driver::midpoint_log_loss(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                                 const Eigen::VectorXd& f1, double dt) {
  if (m_pattern) {
    m_pattern->frozen_margin_velocity(f1, m_dq_end);
    m_sys.margins().margins(x1, m_q_end);
    m_q_mid = 0.5 * (m_q_start + m_q_end) + (dt / 8.0) * (m_dq_start - m_dq_end);
    const double log_loss = m_sys.loss().log_value(m_q_mid);
    if (m_sys.mode() != TimeMode::normalized) return log_loss;
    return m_sys.clock_exponent(log_loss, 0.5 * (x0 + x1) + (dt / 8.0) * (f0 - f1));
  }
  const Eigen::VectorXd mid = 0.5 * (x0 + x1) + (dt / 8.0) * (f0 - f1);  // cubic Hermite at h/2
  m_sys.add_rhs_evals(1);
  return m_sys.clock_exponent(m_sys.log_loss_at(mid), mid);
}

void Driver::emit_event(Eigen::Index index, int new_sign) {
  const Eigen::Index n = m_sys.margins().num_samples();
  const SwitchEvent e{m_points, m_clock.log_t(), index / n, index % n, new_sign};
  m_last_event_log_t = e.log_t;
  for (auto* o : m_observers) o->on_event(e);
}

void Driver::set_side(Eigen::Index k, bool positive) {
  m_side[static_cast<std::size_t>(k)] = positive ? 1 : 0;
  if (m_pattern) m_pattern->set_side(k, positive);
}

void Driver::set_sliding(std::vector<Eigen::Index> pairs) {
  for (Eigen::Index k : m_sliding) m_is_sliding[static_cast<std::size_t>(k)] = 0;
  m_sliding = std::move(pairs);
  for (Eigen::Index k : m_sliding) m_is_sliding[static_cast<std::size_t>(k)] = 1;
  m_sys.margins().set_sliding(m_sliding);
}

void Driver::refresh_after_projection(Eigen::VectorXd& x, bool field_changed) {
  m_sys.margins().hold_on_sliding_surfaces(x);
  m_sys(x, m_dxdt, m_tau);
  m_log_loss_x = m_sys.last_log_loss();
  m_sys.margins().switch_functions(x, m_s);
  m_sdot_stale = true;
  // Holding unchanged surfaces moves x by rounding only, on the same smooth field: the stepper's
  // history (step-size memory, extrapolation tableau) stays valid then. A method that resolves
  // switches inside its steps (switch_batch) met this change of field inside the step it just
  // took, so its step-size memory stays valid too: reset, its controller restarted from a
  // damped memory after every step and the error norm stayed near 0.2 where 1 was allowed
  // (bench/scale at (1000, 10000, 1000): steps half as long as the tolerance allowed).
  if (field_changed && !m_method->resolves_switches()) m_method->reset();
}

std::vector<Eigen::Index> Driver::release_leaving() {
  std::vector<Eigen::Index> released;
  for (const auto& [k, above] : m_sys.margins().leaving_sliding()) {
    released.push_back(k);
    ++m_releases;
    emit_event(k, above ? 2 : -2);
    // The field at the clamped slope pushes the pair off its kink on the side it is leaving to.
    set_side(k, m_sdot[k] > 0);
  }
  if (released.empty()) return released;
  std::vector<Eigen::Index> kept;
  std::set_difference(m_sliding.begin(), m_sliding.end(), released.begin(), released.end(),
                      std::back_inserter(kept));
  set_sliding(std::move(kept));
  return released;
}

bool Driver::flips_often(Eigen::Index index) {
  auto& history = m_flip_steps[index];
  history.push_back(m_step);
  std::erase_if(history, [&](std::int64_t s) { return s + m_opt.sliding.window_steps < m_step; });
  return static_cast<int>(history.size()) >= m_opt.sliding.flips;
}

std::vector<Eigen::Index> Driver::capture_attracted(std::vector<Eigen::Index> trial, Eigen::VectorXd& x) {
  MarginSystem& ms = m_sys.margins();
  // The equivalent slope lies in [γ, 1] exactly when the field on both sides of the kink points
  // into it: Filippov's sliding condition. Candidates outside it cross the kink transversally.
  // It is tested at x as it stands, a located step's overshoot (kLocatedOvershoot) off the
  // surfaces: the slopes depend on x only through the margins, which that moves by O(1e-6 dt),
  // and the products at x are memoised, so a rejected candidate costs no product with Γ.
  const auto kept = keep_attracted(
      m_sliding, std::move(trial),
      [&](const std::vector<Eigen::Index>& merged) {
        ms.set_sliding(merged);
        m_sys(x, m_dxdt, m_tau);
      },
      [&] { return ms.leaving_sliding(); });
  if (kept.empty()) {
    ms.set_sliding(m_sliding);
  } else {
    std::vector<Eigen::Index> merged;
    std::merge(m_sliding.begin(), m_sliding.end(), kept.begin(), kept.end(), std::back_inserter(merged));
    set_sliding(std::move(merged));
  }
  refresh_after_projection(x);
  return kept;
}

std::vector<Eigen::Index> Driver::pairs_at_kinks(const std::vector<Flip>& flips,
                                                 const std::vector<Eigen::Index>& released) const {
  std::vector<Eigen::Index> out;
  for (const Flip& f : flips) out.push_back(f.index);
  // Frozen pattern: a pair due at its kink within kKinkReach of the next step moves on now, and
  // so does one already past it and moving on (a release or a turn put it on the wrong side).
  const double reach = kKinkReach * m_dt;
  if (m_pattern)
    for (Eigen::Index k = 0; k < m_s.size(); ++k) {
      const auto u = static_cast<std::size_t>(k);
      if (m_is_sliding[u] || std::binary_search(released.begin(), released.end(), k)) continue;
      const bool past = (m_s[k] > 0) != static_cast<bool>(m_side[u]) && m_s[k] * m_sdot[k] > 0;
      if (past || time_to_kink(k) <= reach) out.push_back(k);
    }
  sort_unique(out);
  return out;
}

std::vector<Eigen::Index> Driver::arrived_at_end(const std::vector<Eigen::Index>& crossed, double dt) const {
  std::vector<Eigen::Index> out = m_method->held_inside_step();
  for (Eigen::Index k : crossed)
    if (std::abs(m_s[k]) <= kLocatedTol * dt * std::abs(m_sdot[k])) out.push_back(k);
  sort_unique(out);
  return out;
}

std::vector<Eigen::Index> Driver::capture_candidates(const std::vector<Eigen::Index>& at_kinks,
                                                     const std::vector<Eigen::Index>& often) const {
  if (!sliding_on()) return {};
  std::vector<Eigen::Index> out;
  if (m_opt.sliding.capture_on_arrival) out = at_kinks;
  out.insert(out.end(), often.begin(), often.end());
  const auto approaching = approaching_attracting_kinks(at_kinks);
  out.insert(out.end(), approaching.begin(), approaching.end());
  sort_unique(out);
  return out;
}

std::vector<Eigen::Index> Driver::approaching_attracting_kinks(const std::vector<Eigen::Index>& crossed) const {
  // Field following sign(s): a pair creeping up on a kink that attracts from both sides never
  // crosses at an accepted step end (the error control rejects every step whose stages see the
  // other side, so the step size collapses: measured on two_layer_leaky, dt 2e-9 after 7e5
  // steps). It is tested for sliding when due within the next step; capture_attracted keeps it
  // only if its equivalent slope lies in its range.
  std::vector<Eigen::Index> out;
  if (m_pattern || !sliding_on()) return out;
  for (Eigen::Index k = 0; k < m_s.size(); ++k)
    if (!m_is_sliding[static_cast<std::size_t>(k)] && time_to_kink(k) <= m_dt &&
        !std::binary_search(crossed.begin(), crossed.end(), k))
      out.push_back(k);
  return out;
}

void Driver::report_switches(const std::vector<Eigen::Index>& crossed, const std::vector<Eigen::Index>& captured) {
  // A captured pair never crossed in the Filippov solution: it reports the capture (0) only.
  for (Eigen::Index k : crossed) {
    if (std::binary_search(captured.begin(), captured.end(), k)) continue;
    ++m_switches;
    emit_event(k, m_side[static_cast<std::size_t>(k)] ? 1 : -1);
  }
  for (Eigen::Index k : captured) {
    ++m_captures;
    m_flip_steps.erase(k);
    emit_event(k, 0);
  }
}

void Driver::after_step(const std::vector<Flip>& flips, Eigen::VectorXd& x, double dt) {
  m_sys.margins().switch_velocity(m_dxdt, m_sdot);
  m_sdot_stale = false;
  const auto released = sliding_on() && !m_sliding.empty() ? release_leaving() : std::vector<Eigen::Index>{};
  const auto crossed = pairs_at_kinks(flips, released);
  std::vector<Eigen::Index> often;
  for (Eigen::Index k : crossed) {
    set_side(k, m_side[static_cast<std::size_t>(k)] == 0);
    if (flips_often(k)) often.push_back(k);
  }
  const auto candidates = capture_candidates(m_method->resolves_switches() ? arrived_at_end(crossed, dt) : crossed, often);
  // capture_attracted leaves x settled; otherwise a changed set or pattern needs a new field.
  const auto captured = candidates.empty() ? candidates : capture_attracted(candidates, x);
  // A pair that keeps crossing and cannot slide chatters: for a window its crossings are taken at
  // step ends, unlocated, so it costs one step per crossing instead of a Zeno cascade of slivers.
  for (Eigen::Index k : often)
    if (!std::binary_search(captured.begin(), captured.end(), k))
      m_unlocated_until[static_cast<std::size_t>(k)] = m_step + m_opt.sliding.window_steps;
  const bool pattern_moved = m_pattern && !crossed.empty();
  const bool field_changed = pattern_moved || !released.empty();
  // The region methods (region_ros2, switch_batch, switch_radau) move the state by region_ascent,
  // which keeps the held pairs on their kinks, so holding them again only moves x by rounding, at
  // the price of a product with Γ.
  const bool hold = field_changed || (!m_sliding.empty() && !m_method->needs_frozen_pattern());
  if (candidates.empty() && hold) refresh_after_projection(x, field_changed);
  report_switches(crossed, captured);
  if (!m_pattern)  // the field follows sign(s): so does the bookkeeping
    for (Eigen::Index k = 0; k < m_s.size(); ++k) m_side[static_cast<std::size_t>(k)] = m_s[k] > 0;
}

double Driver::record_spacing(double log_t) const {
  return std::max(m_opt.output.record_every_log_t, m_opt.output.record_relative * std::abs(log_t));
}

void Driver::cap_step_by_record_spacing(const Eigen::VectorXd& x) {
  // d log t / dτ = 1/(L t) in loss time (1/t in plain time): at that rate log t grows by about
  // one record spacing over the next step, so rows stay evenly spaced in log t even where a
  // late-phase stepper could jump decades of log t in one step. The run also lands on
  // stop.log_t_max instead of stepping past it, so two runs stopped there end at one point of
  // the flow (verify --refine compares them).
  // log(d log t/dν) = −ℓ − log t, the O(log log t) offset of log t from −ℓ (FlowSystem::clock_exponent),
  // which double resolves only to log t's ulp: past kClockResolved, −ℓ' instead
  // (FlowSystem::clock_exponent_rate).
  const bool resolved = std::abs(m_clock.log_t()) < kClockResolved;
  const double log_rate = m_sys.mode() == TimeMode::t ? -m_clock.log_t()
                          : resolved ? -m_sys.clock_exponent(m_log_loss_x, x) - m_clock.log_t()
                                     : std::log(std::max(-m_sys.clock_exponent_rate(x, m_dxdt), 0.0));
  const double to_end = (m_opt.stop.log_t_max - m_clock.log_t()) * (1 + kLandingOvershoot);
  const double log_t_cap = std::min(record_spacing(m_clock.log_t()), to_end);
  const double cap = log_t_cap * std::exp(-log_rate);
  m_record_dt_cap = std::isfinite(cap) && cap > 0 ? cap : std::numeric_limits<double>::infinity();
}

bool Driver::reached_log_t_max() const {
  return m_clock.log_t() >= m_opt.stop.log_t_max - kLandingTol * std::max(1.0, std::abs(m_opt.stop.log_t_max));
}

Record Driver::make_record(const Eigen::VectorXd& x) {
  Record r;
  m_metrics.evaluate(x, r, m_theta_c);
  r.step = m_step;
  r.tau = m_tau;
  r.log_t = m_clock.log_t();
  r.switches = m_switches;
  r.sliding = static_cast<std::int64_t>(m_sliding.size());
  r.rhs_evals = m_sys.rhs_evals();
  r.dt = m_dt;
  r.err_estimate = m_last_error;
  r.wall_s = now_s() - m_wall0;
  const Eigen::VectorXd direction = m_theta_c / r.norm;  // distances in θ_c are θ's
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
    case Status::stationary: return "a stationary point" + at;  // square_flow.hpp's rule; the margin flow has none
  }
  return "unknown";
}

void Driver::resume_from(DriverCheckpoint checkpoint, std::optional<Record> last_row) {
  MarginSystem& ms = m_sys.margins();
  const auto switches = static_cast<std::size_t>(ms.num_switches());
  const bool fits = checkpoint.state.size() == ms.state_dim() && checkpoint.dxdt.size() == ms.state_dim() &&
                    checkpoint.switches.size() == ms.num_switches() &&
                    checkpoint.switch_velocity.size() == ms.num_switches() && checkpoint.side.size() == switches &&
                    checkpoint.unlocated_until.size() == switches && checkpoint.flip_history.size() % 2 == 0;
  if (!fits)
    throw std::invalid_argument("checkpoint: its vectors do not fit a system of " + std::to_string(ms.state_dim()) +
                                " states and " + std::to_string(ms.num_switches()) + " switches");
  if (checkpoint.late_stepper_active != 0 && !m_late)
    throw std::invalid_argument("checkpoint: it was taken after the hand-off to the late-phase stepper, "
                                "and this run has none (flow.stepper differs)");
  for (const std::int64_t k : checkpoint.sliding)
    if (k < 0 || static_cast<std::size_t>(k) >= switches)
      throw std::invalid_argument("checkpoint: sliding switch " + std::to_string(k) + " out of range");
  if (checkpoint.stopped_status > static_cast<std::int64_t>(Status::interrupted))
    throw std::invalid_argument("checkpoint: stopped_status " + std::to_string(checkpoint.stopped_status) +
                                " is no Status");
  m_resume = std::move(checkpoint);
  m_resume_last_row = std::move(last_row);
}

void Driver::start_fresh(Eigen::VectorXd& x) {
  MarginSystem& ms = m_sys.margins();
  adopt_time_of(*m_method, x, false);
  ms.switch_functions(x, m_s);
  m_side.resize(static_cast<std::size_t>(m_s.size()));
  for (Eigen::Index k = 0; k < m_s.size(); ++k) m_side[static_cast<std::size_t>(k)] = m_s[k] > 0;
  if (m_pattern) m_pattern->freeze_pattern(m_side);
  m_sys(x, m_dxdt, m_tau);
  m_log_loss_x = m_sys.last_log_loss();
  ms.lift(x, m_theta);
  for (auto* o : m_observers) o->on_snapshot(m_theta, -1);
  m_dt = m_opt.dt_initial;
  m_next_record = -std::numeric_limits<double>::infinity();
  m_next_snapshot = 0.0;
  m_recorded_now = false;
  m_last_checkpoint_s = now_s();
}

void Driver::restore(Eigen::VectorXd& x) {
  const DriverCheckpoint& c = *m_resume;
  x = c.state;
  m_dxdt = c.dxdt;
  m_s = c.switches;
  m_sys.margins().resume_switch_functions(x, m_s);
  m_sdot = c.switch_velocity;
  m_sdot_stale = c.switch_velocity_stale != 0;
  m_prev_direction = c.prev_direction;
  m_side.assign(c.side.begin(), c.side.end());
  if (m_pattern) m_pattern->freeze_pattern(m_side);
  set_sliding({c.sliding.begin(), c.sliding.end()});
  m_unlocated_until = c.unlocated_until;
  m_flip_steps.clear();
  for (std::size_t i = 0; i < c.flip_history.size(); i += 2)
    m_flip_steps[c.flip_history[i]].push_back(c.flip_history[i + 1]);

  m_clock.set(c.log_t);
  m_tau = c.tau;
  m_dt = c.dt;
  m_last_error = c.last_error;
  m_log_loss_x = c.log_loss;
  m_prev_record_log_t = c.prev_record_log_t;
  m_last_event_log_t = c.last_event_log_t;
  m_record_dt_cap = c.record_dt_cap;
  m_next_record = c.next_record_log_t;
  m_next_snapshot = c.next_snapshot_log_t;
  m_late_phase_log_t = c.late_phase_log_t;
  m_wall0 = now_s() - c.wall_s;
  m_last_checkpoint_s = now_s();

  m_step = c.step;
  m_points = c.points;
  m_switches = c.switch_count;
  m_rejected = c.rejected;
  m_event_restarts = c.event_restarts;
  m_captures = c.captures;
  m_releases = c.releases;
  m_sys.set_rhs_evals(c.rhs_evals);
  m_event_target = c.event_target;
  m_short_of = c.short_of;
  m_recorded_now = c.recorded_now != 0;
  if (c.late_stepper_active != 0) m_method = m_late;
  adopt_time_of(*m_method, x, false);  // the checkpoint's velocity and step are in its variable
  if (c.stopped_status >= 0) m_stop_at_once = static_cast<Status>(c.stopped_status);
  if (m_method->resumes_exactly()) {
    m_method->restore_memory(c.stepper_memory);
  } else {
    m_method->reset();
  }
  m_sys.margins().lift(x, m_theta);
  m_resume.reset();
}

DriverCheckpoint Driver::checkpoint(const Eigen::VectorXd& x) const {
  DriverCheckpoint c;
  c.state = x;
  c.dxdt = m_dxdt;
  c.switches = m_s;
  c.switch_velocity = m_sdot;
  c.switch_velocity_stale = m_sdot_stale ? 1 : 0;
  c.prev_direction = m_prev_direction;
  c.stepper_memory = m_method->memory();
  c.side.assign(m_side.begin(), m_side.end());
  c.sliding.assign(m_sliding.begin(), m_sliding.end());
  c.unlocated_until = m_unlocated_until;
  for (const auto& [k, steps] : m_flip_steps)
    for (const std::int64_t step : steps) c.flip_history.insert(c.flip_history.end(), {k, step});

  c.log_t = m_clock.log_t();
  c.tau = m_tau;
  c.dt = m_dt;
  c.last_error = m_last_error;
  c.log_loss = m_log_loss_x;
  c.prev_record_log_t = m_prev_record_log_t;
  c.last_event_log_t = m_last_event_log_t;
  c.record_dt_cap = m_record_dt_cap;
  c.next_record_log_t = m_next_record;
  c.next_snapshot_log_t = m_next_snapshot;
  c.late_phase_log_t = m_late_phase_log_t;
  c.wall_s = now_s() - m_wall0;

  c.step = m_step;
  c.points = m_points;
  c.switch_count = m_switches;
  c.rejected = m_rejected;
  c.event_restarts = m_event_restarts;
  c.captures = m_captures;
  c.releases = m_releases;
  c.rhs_evals = m_sys.rhs_evals();
  c.event_target = m_event_target;
  c.short_of = m_short_of;
  c.recorded_now = m_recorded_now ? 1 : 0;
  c.late_stepper_active = m_late && m_method == m_late ? 1 : 0;
  return c;
}

bool Driver::checkpoint_due() const { return now_s() - m_last_checkpoint_s >= m_opt.checkpoint_every_s; }

void Driver::emit_checkpoint(const Eigen::VectorXd& x, std::optional<Status> stopped) {
  DriverCheckpoint c = checkpoint(x);
  if (stopped) c.stopped_status = static_cast<std::int64_t>(*stopped);
  for (auto* o : m_observers) o->on_checkpoint(c);
  m_last_checkpoint_s = now_s();
}

RunResult Driver::run(Eigen::VectorXd& x, const std::function<bool()>& interrupted) {
  RunResult result;
  m_wall0 = now_s();
  MarginSystem& ms = m_sys.margins();
  m_dxdt.resize(x.size());
  m_s.resize(ms.num_switches());
  m_sdot.setZero(ms.num_switches());
  m_sdot_end.resize(ms.num_switches());
  m_x_located.resize(ms.state_dim());
  for (Eigen::VectorXd* v : {&m_q_start, &m_q_end, &m_dq_start, &m_dq_end, &m_q_mid}) v->resize(ms.num_samples());
  m_q_start_fresh = false;
  m_is_sliding.assign(static_cast<std::size_t>(ms.num_switches()), 0);
  m_unlocated_until.assign(static_cast<std::size_t>(ms.num_switches()), 0);
  for (Eigen::Index k : m_sliding) m_is_sliding[static_cast<std::size_t>(k)] = 1;
  Eigen::VectorXd x_new(x.size()), f_new(x.size()), s_new(ms.num_switches());
  m_theta.resize(ms.theta_dim());
  m_pattern = m_opt.freeze_pattern && m_method->adaptive() ? ms.frozen_pattern() : nullptr;
  const ThawOnExit thaw{m_pattern};
  const ScopedProductThreads threads(rhs_work(ms));

  try {
    if (m_resume) {
      if (m_resume_last_row) result.last = *m_resume_last_row;
      restore(x);
    } else {
      start_fresh(x);
      emit_checkpoint(x);
    }
    // An attempt sequence never spans a step boundary, where checkpoints are taken: there
    // event_retries is 0, and dt_before_event is set before it is read.
    int event_retries = 0;
    double dt_before_event = 0;   // the controller's step before an event shortened it
    Status status = Status::converged;
    const std::int64_t points_at_start = m_points;

    for (;;) {
      if (m_stop_at_once) { status = *m_stop_at_once; m_stop_at_once.reset(); break; }
      if (interrupted()) { status = Status::interrupted; break; }
      // Only a run resumed from a checkpoint that stopped there can start at log_t_max.
      if (reached_log_t_max()) { status = Status::log_t_max; break; }
      if (now_s() - m_wall0 > m_opt.stop.wall_s) { status = Status::wall_budget; break; }
      if (m_step >= m_opt.stop.max_steps) { status = Status::step_budget; break; }

      const double l0 = m_log_loss_x;
      const bool resolving = m_method->resolves_switches();
      if (m_pattern && !m_q_start_fresh && !resolving) {  // for midpoint_log_loss; x is still memoised here
        ms.margins(x, m_q_start);
        m_pattern->frozen_margin_velocity(m_dxdt, m_dq_start);
        m_q_start_fresh = true;
      }
      const double fixed_step = m_method->fixed_step();
      double dt = fixed_step > 0 ? fixed_step : std::min({m_dt, m_opt.dt_max, m_record_dt_cap});
      bool predicted = false;
      if (m_pattern && event_retries == 0 && !resolving) {
        // Aim at the first switch Newton from the step's start puts inside it: when Newton is
        // close, this saves the attempt that would only have located the switch.
        if (m_sdot_stale) {
          ms.switch_velocity(m_dxdt, m_sdot);
          m_sdot_stale = false;
        }
        if (const auto [h, k] = first_switch_due(dt); k >= 0) {
          predicted = true;
          m_event_target = k;
          dt_before_event = dt;
          dt = h * (1.0 + kLocatedOvershoot);
        }
      }
      const StepAttempt a = m_method->attempt(m_sys, x, m_dxdt, m_tau, dt, x_new, f_new);
      if (!a.accepted) {
        if (!m_method->adaptive()) { status = Status::non_finite; break; }
        ++m_rejected;
        m_dt = a.dt_next;
        if (m_dt < 1e-13 * std::max(1.0, std::abs(m_tau))) { status = Status::no_progress; break; }
        continue;
      }
      ms.switch_functions(x_new, s_new);
      if (m_sdot_stale && !resolving && any_flip(s_new)) {
        ms.switch_velocity(m_dxdt, m_sdot);
        m_sdot_stale = false;
      }
      auto flips = flipped_switches(s_new, dt);
      bool have_f_new = a.has_dxdt_out;
      if (!flips.empty() && !resolving && m_method->adaptive() && event_retries < kMaxEventRetries) {
        if (m_pattern) {  // the step's field is smooth: its Hermite interpolant locates switches
          if (!have_f_new) m_sys(x_new, f_new, m_tau + dt);
          have_f_new = true;
          ms.switch_velocity(f_new, m_sdot_end);
        }
        const Flip first = first_crossing(flips, s_new, dt);
        const double tol = m_pattern ? kLocatedTol : kEventFractionTol;
        if (first.index >= 0 && first.fraction < 1.0 - tol &&
            first.fraction * dt > 1e-14 * (1.0 + std::abs(m_tau))) {
          m_event_target = first.index;
          if (event_retries == 0 && !predicted) dt_before_event = dt;
          ++m_event_restarts;
          const double fraction = first.fraction * (1.0 + (m_pattern ? kLocatedOvershoot : kEventOvershoot));
          if (!m_pattern || !m_method->ends_on_interpolant()) {
            m_dt = dt * fraction;
            ++event_retries;
            continue;
          }
          end_at_switch(x, fraction, dt, x_new, f_new, s_new);
          flips = flipped_switches(s_new, dt);
          predicted = true;
        }
      }
      const bool event_step = event_retries > 0 || predicted;
      event_retries = 0;
      m_short_of = event_step && flips.empty() ? m_event_target : -1;
      if (!have_f_new) m_sys(x_new, f_new, m_tau + dt);
      const double l1 = m_sys.last_log_loss();
      if (!x_new.allFinite() || !std::isfinite(l1)) { status = Status::non_finite; break; }
      advance_clock(x, x_new, m_dxdt, f_new, l0, l1, dt);
      m_tau += dt;
      m_last_error = a.error;
      x.swap(x_new);
      m_dxdt.swap(f_new);
      m_s.swap(s_new);
      m_log_loss_x = l1;
      cap_step_by_record_spacing(x);
      m_sdot_stale = true;
      m_q_start_fresh = false;
      ++m_step;
      m_dt = event_step ? std::max(a.dt_next, dt_before_event) : a.dt_next;
      after_step(flips, x, dt);
      if (!std::isfinite(m_log_loss_x)) { status = Status::non_finite; break; }
      if (m_late && m_method != m_late && late_phase_begun()) {
        m_method = m_late;
        m_method->reset();
        m_late_phase_log_t = m_clock.log_t();
        adopt_time_of(*m_method, x, true);
      }

      m_recorded_now = false;
      if (m_clock.log_t() >= m_next_record) {
        result.last = make_record(x);
        ++m_points;
        m_recorded_now = true;
        for (auto* o : m_observers) o->on_record(result.last, m_theta_c);
        m_next_record = m_clock.log_t() + record_spacing(m_clock.log_t());
        if (m_clock.log_t() >= m_next_snapshot) {
          ms.lift(x, m_theta);
          for (auto* o : m_observers) o->on_snapshot(m_theta, m_points - 1);
          m_next_snapshot = m_next_snapshot <= 0 ? 1.0 : m_next_snapshot * m_opt.output.snapshot_ratio;
        }
        if (converged(result.last)) { status = Status::converged; break; }
      }
      if (reached_log_t_max()) { status = Status::log_t_max; break; }
      if (checkpoint_due()) emit_checkpoint(x);
    }
    // Every stop but a numerical failure leaves x at a step boundary that a resumed run with
    // extended stop rules continues from; the closing row and snapshot below come after it.
    if (status != Status::non_finite && status != Status::no_progress) emit_checkpoint(x, status);
    if (!m_recorded_now && x.allFinite()) {
      result.last = make_record(x);
      ++m_points;
      for (auto* o : m_observers) o->on_record(result.last, m_theta_c);
    } else if (m_points == points_at_start && x.allFinite()) {
      // Resumed at the row it recorded last and stopped at once: the metrics evaluated again
      // there give multipliers() of that row, as the run that recorded it had them.
      Record again;
      m_metrics.evaluate(x, again, m_theta_c);
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
  result.captures = m_captures;
  result.releases = m_releases;
  result.late_phase_log_t = m_late_phase_log_t;
  for (auto* o : m_observers) o->on_finish(m_theta, result.status, result.reason);
  return result;
}

}  // namespace kktflow
