#pragma once
/// \file flow_system.hpp
/// Gradient flow as an odeint System: `operator()(x, dxdt, ν)`, ν the integration variable.
///
///   time = t:           dθ/dt = −∇L = L · Σ_i w_i ∇q_i                 (naive; underflows late)
///   time = loss:        dθ/dτ = −∇L/L = Σ_i w_i ∇q_i,   dt/dτ = 1/L   (Lyu & Li 2020 §4)
///   time = normalized:  dθ/dσ = Σ_i w_i ∇q_i / ‖θ‖^{L−1},   dt/dσ = 1/(L ‖θ‖^{L−1})
/// All three trace the same curve; loss time keeps the field O(1) at any margin for L = 1, and
/// normalized time for every L: ∇q_i is (L−1)-homogeneous, so the normalized field depends on θ
/// only through its direction and the weights, and ‖θ‖ grows linearly in σ late (d‖θ‖/dσ →
/// L γ, γ the normalized margin), where in loss time it grows like e^{2γτ} (L = 2) or reaches
/// infinity at a finite τ (L ≥ 3). For L = 1 normalized time is loss time, to the bit. The clock
/// log t is kept apart from the state (flow_clock.hpp), so the state never carries t.
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
      : m_margins(margins),
        m_loss(loss),
        m_mode(mode),
        m_q(margins.num_margins()),
        m_w(margins.num_margins()),
        m_norm_power(mode == TimeMode::normalized ? margins.homogeneity() - 1 : 0) {
    if (m_norm_power != 0) m_theta_c.resize(margins.compact_dim());
  }
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
    if (m_norm_power != 0) dxdt *= velocity_scale(x);
  }

  /// log L at x (margins only, no ascent).
  double log_loss_at(const Eigen::VectorXd& x) {
    m_margins.margins(x, m_q);
    return m_square ? std::log(m_square->value(m_q)) : m_loss.log_value(m_q);
  }

  /// The factor between the loss-time field Σ_i w_i ∇q_i and this system's at x: ‖θ‖^{−(L−1)}
  /// in normalized time, 1 in loss time (time = t has no such constant factor: 0).
  double velocity_scale(const Eigen::VectorXd& x) {
    if (m_mode == TimeMode::t) return 0;
    return m_norm_power == 0 ? 1.0 : std::exp(-m_norm_power * log_theta_norm(x));
  }

  /// ℓ with dt/dν = e^{−ℓ} at x, given log L there: log L in loss time, log L + (L−1) log ‖θ‖ in
  /// normalized time. The log-t clock integrates e^{−ℓ} over ν (log_clock.hpp).
  double clock_exponent(double log_loss, const Eigen::VectorXd& x) {
    return m_norm_power == 0 ? log_loss : log_loss + m_norm_power * log_theta_norm(x);
  }

  /// dℓ/dν along dxdt at x (ℓ as in clock_exponent), from the velocity alone: d log L/dτ =
  /// −‖dθ/dτ‖² in loss time, so dℓ/dσ = −‖dθ/dσ‖²/s + (L − 1)⟨θ, dθ/dσ⟩/‖θ‖² in normalized
  /// time (s = velocity_scale). Late in a run t = ∫ e^{−ℓ} dν ≈ e^{−ℓ}/(−ℓ') (Laplace: ℓ falls by
  /// ~q over a step's scale), so d log t/dν = e^{−ℓ}/t ≈ −ℓ', to O(1/q) relative: the clock's rate
  /// where log t no longer resolves its O(log log t) offset from −ℓ (the driver's record cap).
  double clock_exponent_rate(const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt) {
    m_theta_c.resize(m_margins.compact_dim());
    m_dtheta_c.resize(m_margins.compact_dim());
    m_margins.lift_compact(x, m_theta_c);
    m_margins.lift_velocity_compact(dxdt, m_dtheta_c);
    const double speed2 = m_dtheta_c.squaredNorm();
    if (m_norm_power == 0) return -speed2;
    const double norm2 = m_theta_c.squaredNorm();
    return -speed2 / velocity_scale(x) + m_norm_power * m_theta_c.dot(m_dtheta_c) / norm2;
  }

  /// Switches the integration variable between loss and normalized time: the same curve and
  /// clock, with velocities and step lengths rescaled by the ratio of their velocity_scale (the
  /// driver does that where a late-phase method takes over, Stepper::time_mode).
  void set_mode(TimeMode mode) {
    m_mode = mode;
    m_norm_power = mode == TimeMode::normalized ? m_margins.homogeneity() - 1 : 0;
    if (m_norm_power != 0) m_theta_c.resize(m_margins.compact_dim());
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
  /// The weights w at the last evaluated point.
  const Eigen::VectorXd& last_weights() const { return m_w; }

 private:
  /// log ‖θ(x)‖, through the isometric chart (MarginSystem::lift_compact).
  double log_theta_norm(const Eigen::VectorXd& x) {
    m_margins.lift_compact(x, m_theta_c);
    return std::log(m_theta_c.norm());
  }

  MarginSystem& m_margins;
  MarginLoss m_loss;
  std::optional<SquareLoss> m_square;
  TimeMode m_mode;
  Eigen::VectorXd m_q;
  Eigen::VectorXd m_w;
  int m_norm_power = 0;  ///< L − 1 in normalized time, else 0
  Eigen::VectorXd m_theta_c, m_dtheta_c;
  double m_log_loss = 0;
  std::int64_t m_rhs_evals = 0;
};

}  // namespace kktflow
