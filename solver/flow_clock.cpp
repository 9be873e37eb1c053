#include "flow_clock.hpp"

#include <cmath>

namespace kktflow {

void FlowClock::attach(FrozenPattern* pattern) {
  m_pattern = pattern;
  m_start_fresh = false;
  for (Eigen::VectorXd* v : {&m_q_start, &m_q_end, &m_dq_start, &m_dq_end, &m_q_mid})
    v->resize(m_sys.margins().num_samples());
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
  const double mid = std::isfinite(known_mid) ? known_mid : midpoint_log_loss(x0, x1, f0, f1, dt);
  m_log_t = log_add_exp(m_log_t, log_integral_exp_neg_quadratic(l0, mid, l1, dt));
}

double FlowClock::midpoint_log_loss(const Eigen::VectorXd& x0, const Eigen::VectorXd& x1, const Eigen::VectorXd& f0,
                                    const Eigen::VectorXd& f1, double dt) {
  if (m_pattern) {
    m_pattern->frozen_margin_velocity(f1, m_dq_end);
    m_sys.margins().margins(x1, m_q_end);
    m_q_mid = 0.5 * (m_q_start + m_q_end) + (dt / 8.0) * (m_dq_start - m_dq_end);
    return m_sys.loss().log_value(m_q_mid);
  }
  const Eigen::VectorXd mid = 0.5 * (x0 + x1) + (dt / 8.0) * (f0 - f1);  // cubic Hermite at h/2
  m_sys.add_rhs_evals(1);
  return m_sys.log_loss_at(mid);
}

}  // namespace kktflow
