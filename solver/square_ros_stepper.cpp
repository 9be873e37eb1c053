#include "square_ros_stepper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

void SquareRosenbrock::linearize(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau) {
  // Column j: (f(x + ε_j e_j) − f(x))/ε_j with ε_j = √u · max(|x_j|, ‖x‖_∞), the usual forward
  // difference (Hairer & Wanner II, §IV.7's codes); its O(ε) error only perturbs W.
  const Eigen::Index dim = x.size();
  const double scale = x.lpNorm<Eigen::Infinity>();
  m_J.resize(dim, dim);
  m_f.resize(dim);
  m_stage = x;
  for (Eigen::Index j = 0; j < dim; ++j) {
    const double eps = std::sqrt(std::numeric_limits<double>::epsilon()) * std::max(std::abs(x[j]), scale);
    m_stage[j] = x[j] + eps;
    sys(m_stage, m_f, tau);
    m_J.col(j) = (m_f - dxdt) / (m_stage[j] - x[j]);
    m_stage[j] = x[j];
  }
  m_x_linearized = x;
}

StepAttempt SquareRosenbrock::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt,
                                      double tau, double dt, Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) {
  if (!sys.square_loss()) throw std::logic_error("the square-loss Rosenbrock method needs a square-loss system");
  if (m_x_linearized.size() != x.size() || m_x_linearized != x) linearize(sys, x, dxdt, tau);
  m_lu.compute(Eigen::MatrixXd::Identity(x.size(), x.size()) - m_tableau.gamma * dt * m_J);
  const auto velocity = [&](const Eigen::VectorXd& y, Eigen::VectorXd& f) { sys(y, f, tau + dt); };
  const auto solve = [&](const Eigen::VectorXd& rhs, Eigen::VectorXd& u) { u = m_lu.solve(rhs); };
  m_tableau.step(x, dxdt, dt, velocity, solve, m_work, out, m_err);
  StepAttempt a;
  a.error = error_norm(x, out, m_err, m_opt.abs_tol, m_opt.rel_tol);  // per component, as dopri5's
  a.accepted = std::isfinite(a.error) && a.error <= 1.0 && out.allFinite();
  a.dt_next = m_control.next(dt, a.error, a.accepted);
  if (a.accepted) {
    sys(out, dxdt_out, tau + dt);  // the driver takes log L from the system's last evaluation, at out
    a.has_dxdt_out = true;
  }
  return a;
}

}  // namespace kktflow
