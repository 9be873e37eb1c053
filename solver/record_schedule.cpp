#include "record_schedule.hpp"

#include "run_text.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

void validate(const OutputSchedule& o) {
  auto require = [](bool ok, const std::string& key, double v, const std::string& range) {
    if (!ok) throw std::invalid_argument(key + " = " + sci(v) + ": " + range);
  };
  require(o.record_every_log_t > 0, "output.record_every_log_t", o.record_every_log_t, "must be > 0");
  require(o.record_relative >= 0, "output.record_relative", o.record_relative, "must be ≥ 0");
  require(o.snapshot_ratio > 1, "output.snapshot_ratio", o.snapshot_ratio, "must be > 1");
  require(o.k_top >= 1, "output.k_top", o.k_top, "must be ≥ 1");
}

void RecordSchedule::start() {
  m_state.next_record_log_t = -std::numeric_limits<double>::infinity();
  m_state.next_snapshot_log_t = 0.0;
}

double RecordSchedule::spacing(double log_t) const {
  return std::max(m_out.record_every_log_t, m_out.record_relative * std::abs(log_t));
}

void RecordSchedule::cap_step(double log_t, double log_rate) {
  const double to_end = (m_stop.log_t_max - log_t) * (1 + kLandingOvershoot);
  const double log_t_cap = std::min(spacing(log_t), to_end);
  const double cap = log_t_cap * std::exp(-log_rate);
  m_state.record_dt_cap = std::isfinite(cap) && cap > 0 ? cap : std::numeric_limits<double>::infinity();
}

void RecordSchedule::snapshot_taken() {
  double& next = m_state.next_snapshot_log_t;
  next = next <= 0 ? 1.0 : next * m_out.snapshot_ratio;
}

double RecordSchedule::direction_change(const Eigen::VectorXd& direction, double log_t) {
  double change = 0;
  if (m_state.prev_direction.size() == direction.size() && log_t > m_state.prev_record_log_t)
    change = (direction - m_state.prev_direction).norm() / (log_t - m_state.prev_record_log_t);
  m_state.prev_direction = direction;
  m_state.prev_record_log_t = log_t;
  return change;
}

}  // namespace kktflow
