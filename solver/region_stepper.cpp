#include "region_stepper.hpp"

#include <cmath>
#include <stdexcept>

namespace kktflow {

namespace {
const double kRos2Gamma = 1.0 + 1.0 / std::sqrt(2.0);
}  // namespace

void RegionRosenbrock::ros2_step(const MarginLoss& loss, double h) {
  const Eigen::Index n = m_q0.size();
  m_w.resize(n);
  loss.weights(m_q0, m_w);
  m_J.resize(n, n);
  loss.weights_jacobian(m_q0, m_w, m_J);
  const Eigen::MatrixXd A = Eigen::MatrixXd::Identity(n, n) - (kRos2Gamma * h) * (m_J * m_K);
  m_lu.compute(A);
  m_k1 = m_lu.solve(m_w);
  m_q = m_q0;
  m_q.noalias() += h * (m_K * m_k1);
  loss.weights(m_q, m_w);
  m_k2 = m_lu.solve(m_w - 2.0 * m_k1);
  m_c = h * (1.5 * m_k1 + 0.5 * m_k2);
  m_c_err = (0.5 * h) * (m_k1 + m_k2);
}

StepAttempt RegionRosenbrock::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd&, double tau,
                                      double dt, Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) {
  MarginSystem& ms = sys.margins();
  FrozenPattern* region = ms.frozen_pattern();
  if (!region) throw std::logic_error("region_ros2 needs a system with a frozen activation pattern");
  const Eigen::Index n = ms.num_samples();
  if (!m_have_gram) {
    m_K.resize(n, n);
    region->region_gram(m_K);
    m_have_gram = true;
  }
  m_q0.resize(n);
  ms.margins(x, m_q0);
  ros2_step(sys.loss(), dt);
  m_dx.resize(x.size());
  m_dx_err.resize(x.size());
  region->region_ascent(m_c, m_dx);
  region->region_ascent(m_c_err, m_dx_err);
  out = x + m_dx;

  StepAttempt a = judge_embedded_step(x, out, m_dx_err, m_opt, m_control, dt);
  if (a.accepted) {
    sys(out, dxdt_out, tau + dt);
    a.has_dxdt_out = true;
  }
  return a;
}

}  // namespace kktflow
