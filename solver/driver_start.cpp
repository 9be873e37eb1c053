#include "driver.hpp"

#include "run_text.hpp"

namespace kktflow {

void Driver::start_parts(FrozenPattern* pattern) {
  const MarginSystem& ms = m_sys.margins();
  const auto switches = static_cast<std::size_t>(ms.num_switches());
  m_x_new.resize(ms.state_dim());
  m_f_new.resize(ms.state_dim());
  m_s_new.resize(ms.num_switches());
  m_sdot_end.resize(ms.num_switches());
  m_x_located.resize(ms.state_dim());
  m_theta.resize(ms.theta_dim());
  m_event_retries = 0;
  m_dt_before_event = 0;
  if (m_state.switch_velocity.size() == 0) m_state.switch_velocity.setZero(ms.num_switches());
  if (m_state.unlocated_until.empty()) m_state.unlocated_until.assign(switches, 0);
  m_sliding.start();
  m_events = make_event_policy(m_sys, m_state, m_sliding.mask(), pattern);
  m_clock.attach(pattern);
}

void Driver::start_fresh(Eigen::VectorXd& x) {
  MarginSystem& ms = m_sys.margins();
  adopt_time_of(*m_method, x, false);
  m_state.switches.resize(ms.num_switches());
  ms.switch_functions(x, m_state.switches);
  m_state.side.resize(static_cast<std::size_t>(m_state.switches.size()));
  for (Eigen::Index k = 0; k < m_state.switches.size(); ++k)
    m_state.side[static_cast<std::size_t>(k)] = m_state.switches[k] > 0;
  if (FrozenPattern* pattern = m_events->frozen()) pattern->freeze_pattern(m_state.side);
  m_state.dxdt.resize(x.size());
  m_sys(x, m_state.dxdt, m_state.tau);
  m_state.log_loss = m_sys.last_log_loss();
  ms.lift(x, m_theta);
  for (auto* o : m_observers) o->on_snapshot(m_theta, -1);
  m_state.dt = m_opt.dt_initial;
  m_schedule.start();
  m_last_checkpoint_s = now_s();
}

void Driver::resume_from(RunState checkpoint, std::optional<Record> last_row) {
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
    throw std::invalid_argument(
        "checkpoint: it was taken after the hand-off to the late-phase stepper, "
        "and this run has none (flow.stepper differs)");
  for (const std::int64_t k : checkpoint.sliding)
    if (k < 0 || static_cast<std::size_t>(k) >= switches)
      throw std::invalid_argument("checkpoint: sliding switch " + std::to_string(k) + " out of range");
  if (checkpoint.stopped_status > static_cast<std::int64_t>(Status::stationary))
    throw std::invalid_argument("checkpoint: stopped_status " + std::to_string(checkpoint.stopped_status) +
                                " is no Status");
  m_resume = std::move(checkpoint);
  m_resume_last_row = std::move(last_row);
}

void Driver::restore(Eigen::VectorXd& x) {
  MarginSystem& ms = m_sys.margins();
  // The system's caches follow the restored state: its pre-activations (the switch functions are
  // those at x), the frozen pattern and the held set.
  ms.resume_switch_functions(x, m_state.switches);
  if (FrozenPattern* pattern = m_events->frozen()) pattern->freeze_pattern(m_state.side);
  ms.set_sliding(m_state.sliding);
  m_sys.set_rhs_evals(m_state.rhs_evals);
  m_wall0 = now_s() - m_state.wall_s;
  m_last_checkpoint_s = now_s();
  if (m_state.late_stepper_active != 0) m_method = m_late;
  adopt_time_of(*m_method, x, false);  // the checkpoint's velocity and step are in its variable
  if (m_state.stopped_status >= 0) m_stop_at_once = static_cast<Status>(m_state.stopped_status);
  if (m_method->traits().resumes_exactly) {
    m_method->restore_memory(m_state.stepper_memory);
  } else {
    m_method->reset();
  }
  ms.lift(x, m_theta);
}

bool Driver::checkpoint_due() const { return now_s() - m_last_checkpoint_s >= m_opt.checkpoint_every_s; }

void Driver::emit_checkpoint(std::optional<Status> stopped) {
  m_sliding.save_flips();
  m_state.stepper_memory = m_method->memory();
  m_state.wall_s = now_s() - m_wall0;
  m_state.rhs_evals = m_sys.rhs_evals();
  m_state.late_stepper_active = m_late && m_method == m_late ? 1 : 0;
  m_state.stopped_status = stopped ? static_cast<std::int64_t>(*stopped) : -1;
  for (auto* o : m_observers) o->on_checkpoint(m_state);
  m_last_checkpoint_s = now_s();
}

void Driver::finish(const Eigen::VectorXd& x, Status status, std::int64_t points_at_start, RunResult& result) {
  if (m_state.recorded_now == 0 && x.allFinite()) {
    result.last = make_record(x);
    ++m_state.points;
    for (auto* o : m_observers) o->on_record(result.last, m_theta_c);
  } else if (m_state.points == points_at_start && x.allFinite()) {
    // Resumed at the row it recorded last and stopped at once: the metrics evaluated again
    // there give multipliers() of that row, as the run that recorded it had them.
    Record again;
    m_metrics.evaluate(x, again, m_theta_c);
  }
  if (x.allFinite()) {
    m_sys.margins().lift(x, m_theta);
    for (auto* o : m_observers) o->on_snapshot(m_theta, m_state.points - 1);
  }
  result.status = status;
  result.reason = describe_stop(m_opt.stop, status, result.last, m_state.step);
  // Under the square loss the system's rows are outputs, not margins: nothing to separate.
  if (x.allFinite() && !m_sys.square_loss() && may_end_unseparated(status)) {
    Eigen::VectorXd q(m_sys.margins().num_samples());
    m_sys.margins().margins(x, q);
    if ((q.array() <= 0).any()) {
      result.status = Status::not_separated;
      result.reason = describe_not_separated((q.array() > 0).count(), q.size(), result.reason);
    }
  }
}

}  // namespace kktflow
