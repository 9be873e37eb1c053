#pragma once
/// \file flow_system.hpp
/// Gradient flow as an odeint System: `operator()(x, dxdt, τ)`.
///
///   time = t:     dθ/dt = −∇L = L · Σ_i w_i ∇q_i                      (naive; underflows late)
///   time = loss:  dθ/dτ = −∇L/L = Σ_i w_i ∇q_i,   dt/dτ = 1/L        (Lyu & Li 2020 §4)
/// Both trace the same curve; loss time keeps the field O(1) at any margin, so the late phase
/// costs O(1) work per unit of log t instead of O(t). The clock log t is kept apart from the
/// state (flow_clock.hpp), so the state never carries t.
///
/// The square loss (relu2, Timor et al. 2023) is a function of the model's outputs F, not of
/// margins: its system reads F through a margin system with unit signs (FullCoordinates'
/// num_margins() = n·k outputs) and flows in plain time, dθ/dt = −∇L = −Jᵀ ∂L/∂F. It stops at
/// finite θ, so nothing underflows and log L = log of L itself.
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"
#include "time_mode.hpp"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace kktflow {

class FlowSystem {
 public:
  /// A margin loss's flow in `mode`.
  FlowSystem(MarginSystem& margins, MarginLoss loss, TimeMode mode)
      : m_margins(margins), m_loss(loss), m_mode(mode), m_q(margins.num_margins()), m_w(margins.num_margins()) {}
  /// The square loss's flow, in plain time; `outputs` reads the model's outputs as its margins.
  /// Throws std::invalid_argument when the targets do not match the outputs.
  FlowSystem(MarginSystem& outputs, SquareLoss loss);

  /// dxdt = the flow's velocity at x in the integration variable. Allocates nothing.
  void operator()(const Eigen::VectorXd& x, Eigen::VectorXd& dxdt, double /*tau*/) {
    ++m_rhs_evals;
    m_margins.margins(x, m_q);
    if (m_square) {
      m_log_loss = std::log(m_square->gradient(m_q, m_w));
      m_w = -m_w;
      m_margins.ascent(m_w, dxdt);
      return;
    }
    m_log_loss = m_loss.weights(m_q, m_w);
    m_margins.ascent(m_w, dxdt);
    if (m_mode == TimeMode::t) dxdt *= std::exp(m_log_loss);
  }

  /// log L at x (margins only, no ascent).
  double log_loss_at(const Eigen::VectorXd& x) {
    m_margins.margins(x, m_q);
    return m_square ? std::log(m_square->value(m_q)) : m_loss.log_value(m_q);
  }

  MarginSystem& margins() { return m_margins; }
  /// The margin loss; meaningless for a square-loss system (square_loss()).
  const MarginLoss& loss() const { return m_loss; }
  bool square_loss() const { return m_square.has_value(); }
  TimeMode mode() const { return m_mode; }
  std::int64_t rhs_evals() const { return m_rhs_evals; }
  void add_rhs_evals(std::int64_t k) { m_rhs_evals += k; }
  /// Continues the count of a checkpointed run.
  void set_rhs_evals(std::int64_t count) { m_rhs_evals = count; }
  /// log L at the last evaluated point.
  double last_log_loss() const { return m_log_loss; }

 private:
  MarginSystem& m_margins;
  MarginLoss m_loss;
  std::optional<SquareLoss> m_square;
  TimeMode m_mode;
  Eigen::VectorXd m_q;
  Eigen::VectorXd m_w;
  double m_log_loss = 0;
  std::int64_t m_rhs_evals = 0;
};

}  // namespace kktflow
