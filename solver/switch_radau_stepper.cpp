#include "switch_radau_stepper.hpp"

#include "problems/leaky2_span.hpp"

#include <Eigen/Eigenvalues>

#include <array>
#include <cmath>
#include <utility>

namespace kktflow {

namespace {

// Newton iterations before a step is refused (RADAU5's default). Ours: the iteration counts as
// converged when the estimated remaining change of W(h), in the error norm, is ≤ kNewtonTol
// (Hairer & Wanner's κ, between 0.01 and 0.1); η = θ/(1 − θ) with θ = kFirstTheta before a rate
// is known; a contraction rate θ ≥ kDiverging refuses the step.
constexpr int kMaxNewton = 7;
constexpr double kNewtonTol = 3e-2;
constexpr double kFirstTheta = 0.1;
constexpr double kDiverging = 0.99;
// Below this bound on h|α| ρ(J) simplified Newton runs on M = I (ActiveSetNewton::set_identity)
// and contracts by at most about the bound an iteration (ours: data/configs/fashion_mnist.toml to
// log t 10 took 35.0 s factoring at every attempt, 32.4, 28.9, 27.0 and 29.8 s with 0.1, 0.3,
// 0.6 and 1 here).
constexpr double kIdentityNewton = 0.5;

RadauTableau make_tableau() {
  RadauTableau t;
  const double r6 = std::sqrt(6.0);
  t.c << (4 - r6) / 10, (4 + r6) / 10, 1;
  Eigen::Matrix3d vandermonde;  // rows (1, c_k, c_k²)
  for (int k = 0; k < 3; ++k) vandermonde.row(k) << 1, t.c[k], t.c[k] * t.c[k];
  const Eigen::Matrix3d alpha = vandermonde.inverse();  // column l: ℓ_l's coefficients in 1, s, s²
  t.B = Eigen::Vector3d(1, 0.5, 1.0 / 3).asDiagonal() * alpha;
  for (int k = 0; k < 3; ++k) t.A.row(k) = Eigen::RowVector3d(t.c[k], t.c[k] * t.c[k], t.c[k] * t.c[k] * t.c[k]) * t.B;
  const Eigen::EigenSolver<Eigen::Matrix3d> eig(t.A);
  int real = 0;
  for (int k = 1; k < 3; ++k)
    if (std::abs(eig.eigenvalues()[k].imag()) < std::abs(eig.eigenvalues()[real].imag())) real = k;
  const int pair = real == 0 ? 1 : 0;
  t.mu = eig.eigenvalues()[real].real();
  t.nu = eig.eigenvalues()[pair];
  Eigen::Vector3cd v1 = eig.eigenvectors().col(pair);
  if (t.nu.imag() < 0) {
    t.nu = std::conj(t.nu);
    v1 = v1.conjugate();
  }
  t.V.col(0) = eig.eigenvectors().col(real).real().cast<std::complex<double>>();
  t.V.col(1) = v1;
  t.V.col(2) = v1.conjugate();
  t.Vinv = t.V.inverse();
  // The embedded formula ŷ1 = y0 + h (μ f0 + Σ b̂_k f_k) of order 3: Σ b̂ = 1 − μ, Σ b̂ c = 1/2,
  // Σ b̂ c² = 1/3. With h f = A⁻¹ z, y1 − ŷ1 = Σ_l e_l z_l − μ h f0, e = A⁻ᵀ (b − b̂), b = A's last row.
  const Eigen::Vector3d b_hat = vandermonde.transpose().inverse() * Eigen::Vector3d(1 - t.mu, 0.5, 1.0 / 3);
  t.e = t.A.transpose().inverse() * (t.A.row(2).transpose() - b_hat);
  t.nodes = {t.c[0], 0.5, t.c[1], 1.0};
  return t;
}

}  // namespace

const RadauTableau& radau_iia3() {
  static const RadauTableau t = make_tableau();
  return t;
}

namespace {

const RadauTableau& tableau() { return radau_iia3(); }

// Columns of NeuronSweeps::margins() for the stage nodes c1, c2, 1 and the midpoint 1/2.
constexpr std::array<Eigen::Index, 3> kStageColumn{0, 2, 3};
constexpr Eigen::Index kMidColumn = 1;

}  // namespace

namespace {

/// A bound on the spectral radius of J = K P from K's diagonal alone, K_ii ≤ Γ_ii ‖a‖² (slopes ≤ 1;
/// the held pairs' projection only lowers it): J is similar to K^{1/2} P K^{1/2}, and
/// P = w wᵀ − V gives ρ ≤ wᵀKw + tr(V K); with σ ≤ 1 (scale_weights; exp) P is negative semidefinite
/// with ‖·‖ ≤ that of V, so the first term drops. O(n).
double jacobian_radius_bound(const Leaky2Span& span, const Eigen::VectorXd& w, const Eigen::VectorXd& v) {
  const Eigen::ArrayXd kappa = span.gram().diagonal().array() * span.outer_weights().squaredNorm();
  const double trace_vk = (v.array() * kappa).sum();
  if (scale_weights(w, v).projected) return trace_vk;
  const double wk = (w.array().abs() * kappa.sqrt()).sum();
  return wk * wk + trace_vk;
}

}  // namespace

void SwitchRadau::factor_jacobian(const MarginLoss& loss, Leaky2Span& span, double h) {
  const Eigen::Index n = span.num_samples();
  const Eigen::VectorXd& q_ref = m_q_end.size() == n ? m_q_end : m_q0;
  // J = K P, P = w wᵀ − diag(v) (MarginLoss::weights_jacobian) at the reference margins.
  Eigen::VectorXd w_ref(n), v_ref(n);
  loss.weights(q_ref, w_ref);
  loss.weights_jacobian_diagonal(q_ref, w_ref, v_ref);
  const RadauTableau& t = tableau();
  if (h * std::max(std::abs(t.mu), std::abs(t.nu)) * jacobian_radius_bound(span, w_ref, v_ref) <= kIdentityNewton) {
    m_newton.set_identity(n);
    return;
  }
  m_K.resize(n, n);
  span.region_gram(m_K);
  m_newton.compute(m_K, w_ref, v_ref, h, t.mu, t.nu);
}

int SwitchRadau::path_products(Leaky2Span& span, const Eigen::VectorXd& dxdt) {
  const RadauTableau& t = tableau();
  m_b.noalias() = m_w * t.B.transpose();
  m_b1 = m_b.col(0);
  m_b2 = m_b.col(1);
  m_b3 = m_b.col(2);
  const Eigen::Index m = span.outer_weights().size(), n = span.num_samples();
  for (RowMajorMatrix* G : {&m_G1, &m_G2, &m_G3}) G->resize(m, n);
  auto product = [&](const Eigen::VectorXd& v, RowMajorMatrix& G) {
    span.region_ascent(v, m_work);
    span.velocity_product(m_work, G);
  };
  // Equal stage weights (the first iteration's, from stage margins at q0): G is linear in w, so
  // G_p = (Σ_l B_pl) G(w0), and G(w0) is the product of the velocity at x, ascent(w0), which the
  // driver has taken (memoised by its bits): ascent's Filippov slopes on held pairs differ from
  // region_ascent's only by rounding, or where one is clamped to [γ, 1] and about to be released;
  // the next iterations' products are region_ascent's.
  if (m_w.col(0) == m_w0 && m_w.col(1) == m_w0 && m_w.col(2) == m_w0) {
    span.switch_velocity(dxdt, Eigen::Map<Eigen::VectorXd>(m_G1.data(), m_G1.size()));
    const Eigen::Vector3d row_sums = t.B.rowwise().sum();
    m_G2 = row_sums[1] * m_G1;
    m_G3 = row_sums[2] * m_G1;
    m_G1 *= row_sums[0];
    return 0;
  }
  product(m_b1, m_G1);
  product(m_b2, m_G2);
  product(m_b3, m_G3);
  return 3;
}

void SwitchRadau::newton_correction() {
  // (I − h A⊗J) ΔQ = −R, stages as columns: ΔQ − h J ΔQ Aᵀ = −R. With A = V D V⁻¹ and
  // ΔQ = U Vᵀ the columns decouple, (I − h d_k J) U_k = (−R V⁻ᵀ)_k, and U_3 = conj(U_2).
  const RadauTableau& t = tableau();
  const Eigen::MatrixXcd u = -m_residual.cast<std::complex<double>>() * t.Vinv.transpose();
  const Eigen::VectorXd dv0 = m_newton.solve_real(u.col(0).real());
  const Eigen::VectorXcd dv1 = m_newton.solve_complex(u.col(1));
  for (int l = 0; l < 3; ++l) m_Q.col(l) += t.V(l, 0).real() * dv0 + 2.0 * (t.V(l, 1) * dv1).real();
}

void SwitchRadau::stage_weights(const MarginLoss& loss) {
  m_w.resize(m_Q.rows(), 3);
  for (int k = 0; k < 3; ++k) loss.weights(m_Q.col(k), m_w.col(k));
}

bool SwitchRadau::solve_stages(FlowSystem& sys, Leaky2Span& span, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt,
                               double h) {
  const RadauTableau& t = tableau();
  const Eigen::Index n = m_q0.size();
  m_Q.resize(n, 3);
  m_Q.colwise() = m_q0;
  m_residual.resize(n, 3);
  stage_weights(sys.loss());
  double eta = kFirstTheta / (1 - kFirstTheta), previous = 0;
  for (int it = 0; it < kMaxNewton; ++it) {
    sys.add_rhs_evals(path_products(span, dxdt));  // a span-chart RHS costs one product with Γ
    if (!m_sweeps.run(span, m_s, {m_b1, m_b2, m_b3, m_G1, m_G2, m_G3}, h, t.nodes)) return false;
    for (int k = 0; k < 3; ++k)
      m_residual.col(k) = m_Q.col(k) - m_sweeps.margins().col(kStageColumn[static_cast<std::size_t>(k)]);
    const Eigen::MatrixXd w_swept = m_w;
    newton_correction();
    stage_weights(sys.loss());
    // The correction's change of W(h) = h Σ_l A_3l w_l, mapped to the state.
    m_dW = h * ((m_w - w_swept) * t.A.row(2).transpose());
    const double change = state_change_norm(span, x, m_dW, m_opt, m_work);
    if (it > 0) {
      const double theta = change / previous;
      if (!(theta < kDiverging)) return false;
      eta = theta / (1 - theta);
    }
    if (eta * change <= kNewtonTol) return true;
    previous = change;
  }
  return false;
}

const Eigen::VectorXd& SwitchRadau::error_estimate(Leaky2Span& span, double h) {
  const RadauTableau& t = tableau();
  const Eigen::MatrixXd z = h * (m_w * t.A.transpose());  // z_l = W(c_l h), columns
  m_scratch = z * t.e - (t.mu * h) * m_w0;
  m_scratch = m_newton.solve_real(m_scratch, true);  // (I − hμ P K)⁻¹ = ((I − hμ K P)ᵀ)⁻¹
  span.region_ascent(m_scratch, m_work);
  return m_work;
}

StepAttempt SwitchRadau::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double,
                                 double dt, Eigen::VectorXd& out, Eigen::VectorXd&) {
  Leaky2Span* span = &begin_batched_step(sys, "switch_radau", x, m_s, m_q0, m_w0);
  m_work.resize(span->state_dim());
  m_scratch.resize(span->num_samples());
  factor_jacobian(sys.loss(), *span, dt);
  if (!solve_stages(sys, *span, x, dxdt, dt)) {
    StepAttempt refused;
    refused.dt_next = m_sweeps.retry_step(0.5 * dt, dt);
    return refused;
  }
  m_log_loss_mid = sys.loss().log_value(m_sweeps.margins().col(kMidColumn));
  m_captured = m_sweeps.captured();
  // The step ends at the last swept iterate, the state of the weights before the last Newton
  // correction (converged too: that correction's change is within κ of the tolerance), whose
  // sweep carried every neuron's pre-activations to the end of the step, switches included: the
  // next step starts from them instead of a product with Γ. RADAU5 ends at the corrected
  // iterate; here that would move the state by region_ascent(m_dW) and cost the product.
  out = x + Eigen::Map<const Eigen::VectorXd>(m_sweeps.state_change().data(), m_sweeps.state_change().size());
  StepAttempt judged = judge_embedded_step(x, out, error_estimate(*span, dt), m_opt, m_control, dt);
  judged.log_loss_mid = m_log_loss_mid;
  judged.held = m_captured;
  if (!judged.accepted) judged.dt_next = m_sweeps.retry_step(judged.dt_next, dt);
  if (judged.accepted) {
    m_q_end = m_Q.col(2);
    span->adopt_pre_activations(out, m_sweeps.end_pre_activations());
  }
  return judged;
}

Eigen::VectorXd SwitchRadau::memory() const { return memory_with_controller(m_control, m_q_end); }

void SwitchRadau::restore_memory(const Eigen::VectorXd& memory) {
  m_q_end = restore_controller(m_control, memory, "switch_radau's last end-stage margins");
}

}  // namespace kktflow
