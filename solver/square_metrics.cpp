#include "square_metrics.hpp"

#include "metrics.hpp"

#include <limits>
#include <stdexcept>

namespace kktflow {

SquareLossMetrics::SquareLossMetrics(FlowSystem& system, LayerView first_layer, int k_top)
    : m_sys(system), m_layer(first_layer), m_k_top(k_top), m_descent(system.margins().state_dim()) {
  if (!system.square_loss()) throw std::invalid_argument("SquareLossMetrics: the system's loss is not the square loss");
}

void SquareLossMetrics::evaluate(const Eigen::VectorXd& state, Record& row, Eigen::VectorXd& theta_c) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  theta_c.resize(m_sys.margins().theta_dim());
  m_sys.margins().lift(state, theta_c);
  m_sys(state, m_descent, 0.0);  // −∇L (the held pairs at their equivalent slopes)
  row.log_loss = m_sys.last_log_loss();
  row.norm = theta_c.norm();
  row.normalized_margin = row.smoothed_margin = kNaN;  // no margins under the square loss
  row.kkt_eps = row.kkt_delta = kNaN;
  const double descent_norm = m_descent.norm();
  row.alignment_beta = descent_norm > 0 && row.norm > 0 ? theta_c.dot(m_descent) / (row.norm * descent_norm) : 0.0;
  first_layer_spectrum(theta_c, m_layer, m_k_top, row);
}

}  // namespace kktflow
