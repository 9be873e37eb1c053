#include "margin_ros_stepper.hpp"

#include "margin_tolerance.hpp"
#include "slow_manifold.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kktflow {

namespace {

RosenbrockTableau transformed(int order, const Eigen::MatrixXd& alpha, const Eigen::MatrixXd& Gamma,
                              const Eigen::VectorXd& b, const Eigen::VectorXd& b_hat) {
  RosenbrockTableau t;
  t.order = order;
  t.gamma = Gamma(0, 0);
  const Eigen::MatrixXd inverse =
      Gamma.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(Gamma.rows(), Gamma.cols()));
  t.a = alpha * inverse;
  t.c = Eigen::MatrixXd(Gamma.diagonal().cwiseInverse().asDiagonal()) - inverse;
  t.m = inverse.transpose() * b;
  t.e = inverse.transpose() * (b - b_hat);
  return t;
}

}  // namespace

RosenbrockTableau RosenbrockTableau::ros2() {
  // Verwer et al. 1999, (2.5): W k1 = f(y0), W k2 = f(y0 + h k1) − 2 k1, y1 = y0 + (3/2) h k1 +
  // (1/2) h k2, embedded y0 + h k1; γ = 1 + 1/√2. With u_i = hγ k_i this is the transformed form
  // with a21 = 1/γ, c21 = −2/γ, m = (3/2, 1/2)/γ, e = m − (1, 0)/γ.
  const double g = 1.0 + 1.0 / std::sqrt(2.0);
  RosenbrockTableau t;
  t.order = 2;
  t.gamma = g;
  t.a = Eigen::MatrixXd::Zero(2, 2);
  t.c = Eigen::MatrixXd::Zero(2, 2);
  t.a(1, 0) = 1.0 / g;
  t.c(1, 0) = -2.0 / g;
  t.m = Eigen::Vector2d(1.5 / g, 0.5 / g);
  t.e = Eigen::Vector2d(0.5 / g, 0.5 / g);
  return t;
}

RosenbrockTableau RosenbrockTableau::ros34pw2() {
  // Rang & Angermann 2005, ROS34PW2: α, Γ (γ_ii = γ), b and the embedded b̂.
  const double g = 4.3586652150845900e-01;
  Eigen::Matrix4d alpha = Eigen::Matrix4d::Zero(), Gamma = Eigen::Matrix4d::Zero();
  alpha(1, 0) = 8.7173304301691801e-01;
  alpha(2, 0) = 8.4457060015369423e-01;
  alpha(2, 1) = -1.1299064236484185e-01;
  alpha(3, 2) = 1.0;
  Gamma.diagonal().setConstant(g);
  Gamma(1, 0) = -8.7173304301691801e-01;
  Gamma(2, 0) = -9.0338057013044082e-01;
  Gamma(2, 1) = 5.4180672388095326e-02;
  Gamma(3, 0) = 2.4212380706095346e-01;
  Gamma(3, 1) = -1.2232505839045147e+00;
  Gamma(3, 2) = 5.4526025533510214e-01;
  const Eigen::Vector4d b(2.4212380706095346e-01, -1.2232505839045147e+00, 1.5452602553351020e+00,
                          4.3586652150845900e-01);
  const Eigen::Vector4d b_hat(3.7810903145819369e-01, -9.6042292212423178e-02, 5.0000000000000000e-01,
                              2.1793326075422950e-01);
  return transformed(3, alpha, Gamma, b, b_hat);
}

void MarginRosenbrock::gradients_at(FlowSystem& sys, const Eigen::VectorXd& x) {
  MarginSystem& ms = sys.margins();
  const Eigen::Index n = ms.num_margins();
  m_q.resize(n);
  ms.margins(x, m_q);
  m_G.resize(ms.state_dim(), n);
  ms.margin_gradients(m_G);
  sys.add_rhs_evals(n);
  m_K.noalias() = m_G.transpose() * m_G;
  m_resolution = margin_resolution(x.norm(), m_K);  // FullCoordinates: the state is θ
  m_tie_resolution = step_resolution(x.norm(), m_K, m_opt.rel_tol);
}

void MarginRosenbrock::slow_velocity(FlowSystem& sys, const Eigen::VectorXd& x, Eigen::VectorXd& f) {
  gradients_at(sys, x);
  // The ascent, not G λ: with pairs sliding it clamps their slopes and leaves them, taken at the
  // slow weights, for the driver's release test (the loss's weights would put rounding there).
  sys.margins().ascent(slow_weights(m_q, m_K, m_tie_resolution), f);
  f *= sys.velocity_scale(x);
}

void MarginRosenbrock::linearize(FlowSystem& sys, const Eigen::VectorXd& x) {
  gradients_at(sys, x);
  m_slow = follows_slow_manifold(m_resolution, m_q.minCoeff(), m_opt.rel_tol);
  m_w.resize(m_q.size());
  m_v.resize(m_q.size());
  if (m_slow) {
    m_f0.resize(x.size());
    sys.margins().ascent(slow_weights(m_q, m_K, m_tie_resolution), m_f0);
    m_f0 *= sys.velocity_scale(x);
  } else {
    sys.loss().weights(m_q, m_w);
    sys.loss().weights_jacobian_diagonal(m_q, m_w, m_v);
  }
  m_scale = sys.velocity_scale(x);
  m_x_linearized = x;
}

double MarginRosenbrock::margin_difference_error() {
  // The error's first-order effect on the margins, d = Gᵀ e, against its weighted mean: what it
  // does to log w_i = −q_i + const. Samples further than kRelevantGap above the least margin
  // carry no weight a double can hold next to the others'.
  m_dq.noalias() = m_G.transpose() * m_err;
  const double mean = m_w.dot(m_dq) / m_w.sum();
  const double q_min = m_q.minCoeff();
  double worst = 0;
  for (Eigen::Index i = 0; i < m_q.size(); ++i)
    if (m_q[i] - q_min <= kRelevantGap) worst = std::max(worst, std::abs(m_dq[i] - mean));
  return worst / kMarginTol;
}

void MarginRosenbrock::stage_velocity(FlowSystem& sys, const Eigen::VectorXd& y, double tau, Eigen::VectorXd& f) {
  if (m_slow) {
    slow_velocity(sys, y, f);
  } else {
    sys(y, f, tau);
  }
}

StepAttempt MarginRosenbrock::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt,
                                      double tau, double dt, Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) {
  if (sys.mode() == TimeMode::t)
    throw std::logic_error("margin_ros2 and margin_ros3 integrate in loss or normalized time, not in t");
  if (m_x_linearized.size() != x.size() || m_x_linearized != x) linearize(sys, x);
  if (!m_slow) m_woodbury.compute(m_G, m_K, m_w, m_v, m_tableau.gamma * dt * m_scale);
  const auto velocity = [&](const Eigen::VectorXd& y, Eigen::VectorXd& f) { stage_velocity(sys, y, tau + dt, f); };
  const auto solve = [&](const Eigen::VectorXd& rhs, Eigen::VectorXd& u) {
    if (m_slow) {
      u = rhs;  // the slow flow is not stiff: W = I
    } else {
      m_woodbury.solve(rhs, u);
    }
  };
  m_tableau.step(x, m_slow ? m_f0 : dxdt, dt, velocity, solve, m_work, out, m_err);
  StepAttempt a;
  const double normwise = normwise_error_norm(x, out, m_err, m_opt.abs_tol, m_opt.rel_tol);
  a.error = m_slow ? normwise : std::max(normwise, margin_difference_error());
  a.accepted = std::isfinite(a.error) && a.error <= 1.0 && out.allFinite();
  a.dt_next = m_control.next(dt, a.error, a.accepted);
  if (a.accepted) {
    // The driver takes log L from the system's last evaluation, at `out`; on the slow manifold
    // the velocity it carries is the slow one (the loss's is rounding there).
    sys(out, dxdt_out, tau + dt);
    if (m_slow) slow_velocity(sys, out, dxdt_out);
    a.has_dxdt_out = true;
  }
  return a;
}

}  // namespace kktflow
