#include "switch_batch_stepper.hpp"

#include "problems/leaky2_span.hpp"

#include <utility>

namespace kktflow {

namespace {

// All ours. Picard sweeps before a step is refused and halved; the fixed point counts as reached
// when one more sweep would move C(h) by this much in the error norm, a few per cent of the error
// the step may carry (Hairer & Wanner II, §IV.8, stop their Newton iteration at κ·Tol with κ
// between 0.01 and 0.1). 1e-3 cost a fourth sweep a step at (1000, 10000, 1000) and changed no
// accepted step's error norm beyond its second digit.
constexpr int kMaxSweeps = 8;
constexpr double kFixedPointTol = 3e-2;
// The margins are recorded at the collocation nodes u = 1/2 and 1 (Lobatto IIIA's inner nodes).
const std::vector<double> kNodes{0.5, 1.0};

}  // namespace

void SwitchBatch::set_weight_cubic() {
  m_b1 = m_w0;
  m_b2 = -1.5 * m_w0 + 2.0 * m_wm - 0.5 * m_w1;
  m_b3 = (2.0 / 3.0) * (m_w0 - 2.0 * m_wm + m_w1);
}

void SwitchBatch::node_products(Leaky2Span& span) {
  for (auto [w, G] : {std::pair{&m_wm, &m_Gm}, std::pair{&m_w1, &m_G1}}) {
    span.region_ascent(*w, m_work);
    span.velocity_product(m_work, *G);
  }
}

void SwitchBatch::sweep(Leaky2Span& span, double h) {
  // G_p = region_ascent(b_p) Γ for the cubic's coefficients, from the products at the nodes.
  m_P1 = m_G0;
  m_P2 = -1.5 * m_G0 + 2.0 * m_Gm - 0.5 * m_G1;
  m_P3 = (2.0 / 3.0) * (m_G0 - 2.0 * m_Gm + m_G1);
  m_sweeps_ok = m_sweeps.run(span, m_s, {m_b1, m_b2, m_b3, m_P1, m_P2, m_P3}, h, kNodes);
}

void SwitchBatch::predict_node_weights(FlowSystem& sys, Leaky2Span& span, double h) {
  const Eigen::Index m = m_G0.rows(), n = m_w0.size();
  span.frozen_margin_velocity(m_scratch_state, m_dq0);  // m_scratch_state = region_ascent(w0): dZ is memoised
  sys.loss().weights_derivative(m_q0, m_w0, m_dq0, m_dw0);
  span.region_ascent(m_dw0, m_scratch_state);
  span.switch_velocity(m_scratch_state, m_work);
  const Eigen::Map<const RowMajorMatrix> dG(m_work.data(), m, n);
  m_wm = m_w0 + (0.5 * h) * m_dw0;
  m_w1 = m_w0 + h * m_dw0;
  m_Gm = m_G0 + (0.5 * h) * dG;
  m_G1 = m_G0 + h * dG;
}

StepAttempt SwitchBatch::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double,
                                 double dt, Eigen::VectorXd& out, Eigen::VectorXd&) {
  Leaky2Span* span = &begin_batched_step(sys, "switch_batch", x, m_s, m_q0, m_w0);
  const Eigen::Index m = span->outer_weights().size(), n = span->num_samples();
  m_work.resize(m * n);
  m_scratch_state.resize(m * n);
  for (Eigen::VectorXd* v : {&m_dq0, &m_dw0, &m_wm_new, &m_w1_new}) v->resize(n);
  // Without sliding pairs region_ascent(w0) is dxdt to the bit, whose product with Γ the driver
  // has usually taken already (memoised by its argument's bits, so this costs nothing then).
  span->region_ascent(m_w0, m_scratch_state);
  // Counted as RHS evaluations: the products beyond the driver's, by what the step needs (not by
  // the memo's hits, which depend on history, so a resumed run counts what the original did).
  std::int64_t products = (m_scratch_state.array() == dxdt.array()).all() ? 0 : 1;
  span->switch_velocity(m_scratch_state, m_work);
  m_G0 = Eigen::Map<const RowMajorMatrix>(m_work.data(), m, n);
  predict_node_weights(sys, *span, dt);
  ++products;
  bool converged = false;
  for (int s = 0; s < kMaxSweeps && !converged; ++s) {
    if (s > 0) {
      m_wm = m_wm_new;
      m_w1 = m_w1_new;
      node_products(*span);
      products += 2;
    }
    set_weight_cubic();
    sweep(*span, dt);
    m_log_loss_mid = sys.loss().weights(m_sweeps.margins().col(0), m_wm_new);
    sys.loss().weights(m_sweeps.margins().col(1), m_w1_new);
    m_scratch = dt * ((2.0 / 3.0) * (m_wm_new - m_wm) + (1.0 / 6.0) * (m_w1_new - m_w1));
    converged = state_change_norm(*span, x, m_scratch, m_opt, m_work) <= kFixedPointTol;
  }
  sys.add_rhs_evals(products);  // a span-chart RHS costs one product with Γ
  StepAttempt a;
  if (!converged || !m_sweeps_ok) {
    a.dt_next = m_sweeps.retry_step(0.5 * dt, dt);
    return a;
  }
  m_captured = m_sweeps.captured();
  out = x + Eigen::Map<const Eigen::VectorXd>(m_sweeps.state_change().data(), m_sweeps.state_change().size());
  // Simpson's rule for W(h) against the trapezoid rule, at the weights the last sweep found.
  m_scratch = (2.0 * dt / 3.0) * (m_wm_new - 0.5 * (m_w0 + m_w1_new));
  span->region_ascent(m_scratch, m_work);
  StepAttempt judged = judge_embedded_step(x, out, m_work, m_opt, m_control, dt);
  judged.log_loss_mid = m_log_loss_mid;
  judged.held = m_captured;
  if (!judged.accepted) judged.dt_next = m_sweeps.retry_step(judged.dt_next, dt);
  // The sweep carried the pre-activations to `out`: the next step starts without a product.
  if (judged.accepted) span->adopt_pre_activations(out, m_sweeps.end_pre_activations());
  return judged;
}

}  // namespace kktflow
