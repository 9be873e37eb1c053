#include "region_stepper.hpp"

#include "slow_manifold.hpp"

#include <stdexcept>

namespace kktflow {

StepAttempt RegionRosenbrock::attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd&, double tau,
                                      double dt, Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) {
  MarginSystem& ms = sys.margins();
  FrozenPattern* region = ms.frozen_pattern();
  if (!region) throw std::logic_error("region_ros2 needs a system with a frozen activation pattern");
  const Eigen::Index n = ms.num_samples();
  if (!m_have_gram) {
    m_K.resize(n, n);
    region->region_gram(m_K);
    m_margins->set_gram(m_K);
    m_have_gram = true;
  }
  if (!m_carry_margins) m_margins->clear();
  if (!m_margins->has_margins()) {
    m_q0.resize(n);
    ms.margins(x, m_q0);
    m_margins->set_margins(m_q0);
  }
  m_margins->step(sys.loss(), dt, m_c, m_c_err);
  m_dx.resize(x.size());
  m_dx_err.resize(x.size());
  region->region_ascent(m_c, m_dx);
  region->region_ascent(m_c_err, m_dx_err);
  out = x + m_dx;

  StepAttempt a = judge_embedded_step(x, out, m_dx_err, m_opt, m_control, dt);
  if (a.accepted) {
    m_margins->accept();
    end_velocity(sys, out, tau + dt, dxdt_out);
    a.has_dxdt_out = true;
  }
  return a;
}

void RegionRosenbrock::end_velocity(FlowSystem& sys, const Eigen::VectorXd& x, double tau, Eigen::VectorXd& f) {
  sys(x, f, tau);
  MarginSystem& ms = sys.margins();
  if (ms.sliding().empty()) return;
  m_q_end.resize(ms.num_margins());
  ms.margins(x, m_q_end);
  m_theta_c.resize(ms.compact_dim());
  ms.lift_compact(x, m_theta_c);
  const auto resolution = slow_manifold_resolution(m_theta_c.norm(), m_K, m_q_end.minCoeff(), m_opt.rel_tol);
  if (!resolution) return;
  ms.ascent(slow_weights(m_q_end, m_K, *resolution), f);
  f *= sys.velocity_scale(x);
}

Eigen::VectorXd RegionRosenbrock::memory() const {
  return memory_with_controller(m_control, m_carry_margins ? m_margins->memory() : Eigen::VectorXd());
}

void RegionRosenbrock::restore_memory(const Eigen::VectorXd& memory) {
  m_margins->restore(restore_controller(m_control, memory, "region_ros2's carried margins"));
  m_have_gram = false;
}

}  // namespace kktflow
