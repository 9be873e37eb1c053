#include "region_stepper.hpp"

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
    sys(out, dxdt_out, tau + dt);
    a.has_dxdt_out = true;
  }
  return a;
}

Eigen::VectorXd RegionRosenbrock::memory() const {
  return memory_with_controller(m_control, m_carry_margins ? m_margins->memory() : Eigen::VectorXd());
}

void RegionRosenbrock::restore_memory(const Eigen::VectorXd& memory) {
  m_margins->restore(restore_controller(m_control, memory, "region_ros2's carried margins"));
  m_have_gram = false;
}

}  // namespace kktflow
