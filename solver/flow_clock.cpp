#include "flow_clock.hpp"

#include <algorithm>
#include <cmath>

namespace kktflow {

namespace {

// Ours: log t = 2^45 has an ulp of 2^−7, so −ℓ − log t is good to 1% below it.
constexpr double kClockResolved = 0x1p45;

}  // namespace

void FlowClock::attach(FrozenPattern* pattern) {
  m_pattern = pattern;
  m_start_fresh = false;
  for (Eigen::VectorXd* v : {&m_q_start, &m_q_end, &m_dq_start, &m_dq_end, &m_q_mid})
    v->resize(m_sys.margins().num_samples());
}

double FlowClock::log_rate(double log_loss, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt) const {
  if (m_sys.mode() == TimeMode::t) return -m_log_t;
  if (std::abs(m_log_t) < kClockResolved) return -m_sys.clock_exponent(log_loss, x) - m_log_t;
  return std::log(std::max(-m_sys.clock_exponent_rate(x, dxdt), 0.0));
}

double FlowClock::change_variable(TimeMode mode, const Eigen::VectorXd& x) {
  const double before = m_sys.velocity_scale(x);
  m_sys.set_mode(mode);
  return m_sys.velocity_scale(x) / before;
}

void FlowClock::prepare_step(const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt) {
  if (!m_pattern || m_start_fresh) return;
  m_sys.margins().margins(x, m_q_start);
  m_pattern->frozen_margin_velocity(dxdt, m_dq_start);
  m_start_fresh = true;
}

void FlowClock::advance(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                        const Eigen::VectorXd& f1, double l0, double l1, double dt, double tau0, double known_mid) {
  if (m_sys.mode() == TimeMode::t) {
    m_log_t = std::log(tau0 + dt);
    return;
  }
  const double mid = std::isfinite(known_mid) ? known_mid : midpoint_exponent(x0, x1, f0, f1, dt);
  const double ell0 = m_sys.clock_exponent(l0, x0), ell1 = m_sys.clock_exponent(l1, x1);
  m_log_t = log_add_exp(m_log_t, log_integral_exp_neg_quadratic(ell0, mid, ell1, dt));
}

double FlowClock::midpoint_exponent(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
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

}  // namespace kktflow
