#include "stepper.hpp"

#include "margin_ros_stepper.hpp"
#include "region_stepper.hpp"
#include "switch_batch_stepper.hpp"
#include "switch_radau_stepper.hpp"
#include "step_control.hpp"

#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace kktflow {

namespace odeint = boost::numeric::odeint;
using State = Eigen::VectorXd;

StepperKind parse_stepper_kind(const std::string& text, const std::string& key) {
  if (text == "dopri5") return StepperKind::dopri5;
  if (text == "bs3") return StepperKind::bs3;
  if (text == "cash_karp54") return StepperKind::cash_karp54;
  if (text == "fehlberg78") return StepperKind::fehlberg78;
  if (text == "bulirsch_stoer") return StepperKind::bulirsch_stoer;
  if (text == "gd") return StepperKind::gd;
  if (text == "region_ros2") return StepperKind::region_ros2;
  if (text == "switch_batch") return StepperKind::switch_batch;
  if (text == "switch_radau") return StepperKind::switch_radau;
  if (text == "margin_ros2") return StepperKind::margin_ros2;
  if (text == "margin_ros3") return StepperKind::margin_ros3;
  throw std::invalid_argument(key + " = \"" + text +
                              "\": allowed values are dopri5, bs3, cash_karp54, fehlberg78, bulirsch_stoer, gd, "
                              "region_ros2, switch_batch, switch_radau, margin_ros2, margin_ros3");
}

std::string to_string(StepperKind kind) {
  switch (kind) {
    case StepperKind::dopri5: return "dopri5";
    case StepperKind::bs3: return "bs3";
    case StepperKind::cash_karp54: return "cash_karp54";
    case StepperKind::fehlberg78: return "fehlberg78";
    case StepperKind::bulirsch_stoer: return "bulirsch_stoer";
    case StepperKind::gd: return "gd";
    case StepperKind::region_ros2: return "region_ros2";
    case StepperKind::switch_batch: return "switch_batch";
    case StepperKind::switch_radau: return "switch_radau";
    case StepperKind::margin_ros2: return "margin_ros2";
    case StepperKind::margin_ros3: return "margin_ros3";
  }
  return "unknown";
}

void validate(const StepperOptions& o) {
  auto positive = [](double v, const char* key) {
    if (!(v > 0 && std::isfinite(v)))
      throw std::invalid_argument(std::string(key) + " = " + std::to_string(v) + ": must be a finite number > 0");
  };
  positive(o.abs_tol, "flow.abs_tol");
  positive(o.rel_tol, "flow.rel_tol");
  positive(o.gd_step, "flow.gd_step");
  if (o.rel_tol >= 1) throw std::invalid_argument("flow.rel_tol = " + std::to_string(o.rel_tol) + ": must be < 1");
}

void Stepper::restore_memory(const Eigen::VectorXd& memory) {
  if (memory.size() != 0)
    throw std::invalid_argument("stepper memory holds " + std::to_string(memory.size()) +
                                " values; this method keeps none");
}

/// StepController's memory from a checkpoint, checking its size.
Eigen::VectorXd memory_with_controller(const StepController& control, const Eigen::VectorXd& tail) {
  Eigen::VectorXd out(2 + tail.size());
  out << control.memory(), tail;
  return out;
}

Eigen::VectorXd restore_controller(StepController& control, const Eigen::VectorXd& memory, const std::string& what) {
  if (memory.size() < 2)
    throw std::invalid_argument("stepper memory holds " + std::to_string(memory.size()) + " values; needs the controller's 2 and " + what);
  control.restore(memory.head<2>());
  return memory.tail(memory.size() - 2);
}

Eigen::Vector2d controller_memory(const Eigen::VectorXd& memory) {
  if (memory.size() != 2)
    throw std::invalid_argument("stepper memory holds " + std::to_string(memory.size()) +
                                " values; the step-size controller keeps 2");
  return memory;
}

namespace {

template <class ErrorStepper, bool Fsal>
class EmbeddedRk final : public Stepper {
 public:
  EmbeddedRk(const StepperOptions& o, int order) : m_opt(o), m_order(order), m_control(order - 1) {}

  StepAttempt attempt(FlowSystem& sys, const State& x, const State& dxdt, double tau, double dt, State& out,
                      State& dxdt_out) override {
    m_err.resize(x.size());
    if constexpr (Fsal) {
      m_stepper.do_step(std::ref(sys), x, dxdt, tau, out, dxdt_out, dt, m_err);
    } else {
      m_stepper.do_step(std::ref(sys), x, dxdt, tau, out, dt, m_err);
    }
    StepAttempt a = judge_embedded_step(x, out, m_err, m_opt, m_control, dt);
    a.has_dxdt_out = Fsal;
    return a;
  }
  int order() const override { return m_order; }
  void reset() override { m_control.reset(); }
  Eigen::VectorXd memory() const override { return m_control.memory(); }
  void restore_memory(const Eigen::VectorXd& memory) override { m_control.restore(controller_memory(memory)); }

 private:
  StepperOptions m_opt;
  int m_order;
  StepController m_control;
  ErrorStepper m_stepper;
  State m_err;
};

/// Bogacki–Shampine 3(2): c = (0, 1/2, 3/4, 1), b = (2/9, 1/3, 4/9, 0), b̂ = (7/24, 1/4, 1/3, 1/8);
/// the fourth stage is f at the new point, reused as the next step's first.
class BogackiShampine3 final : public Stepper {
 public:
  explicit BogackiShampine3(const StepperOptions& o) : m_opt(o), m_control(2) {}

  StepAttempt attempt(FlowSystem& sys, const State& x, const State& dxdt, double tau, double dt, State& out,
                      State& dxdt_out) override {
    m_k2.resize(x.size());
    m_k3.resize(x.size());
    dxdt_out.resize(x.size());
    m_stage = x + (0.5 * dt) * dxdt;
    sys(m_stage, m_k2, tau + 0.5 * dt);
    m_stage = x + (0.75 * dt) * m_k2;
    sys(m_stage, m_k3, tau + 0.75 * dt);
    out = x + dt * ((2.0 / 9.0) * dxdt + (1.0 / 3.0) * m_k2 + (4.0 / 9.0) * m_k3);
    sys(out, dxdt_out, tau + dt);
    m_err = dt * ((-5.0 / 72.0) * dxdt + (1.0 / 12.0) * m_k2 + (1.0 / 9.0) * m_k3 - (1.0 / 8.0) * dxdt_out);
    StepAttempt a = judge_embedded_step(x, out, m_err, m_opt, m_control, dt);
    a.has_dxdt_out = true;
    return a;
  }
  int order() const override { return 3; }
  bool ends_on_interpolant() const override { return true; }
  void reset() override { m_control.reset(); }
  Eigen::VectorXd memory() const override { return m_control.memory(); }
  void restore_memory(const Eigen::VectorXd& memory) override { m_control.restore(controller_memory(memory)); }

 private:
  StepperOptions m_opt;
  StepController m_control;
  State m_stage, m_k2, m_k3, m_err;
};

class BulirschStoer final : public Stepper {
 public:
  explicit BulirschStoer(const StepperOptions& o) : m_stepper(o.abs_tol, o.rel_tol) {}

  StepAttempt attempt(FlowSystem& sys, const State& x, const State&, double tau, double dt, State& out,
                      State&) override {
    out = x;
    double t = tau;
    double h = dt;
    const auto result = m_stepper.try_step(std::ref(sys), out, t, h);
    StepAttempt a;
    a.accepted = result == odeint::success && out.allFinite();
    a.dt_next = h;
    return a;
  }
  void reset() override { m_stepper.reset(); }
  bool resumes_exactly() const override { return false; }
  int order() const override { return 0; }  // variable order

 private:
  odeint::bulirsch_stoer<State, double, State, double, odeint::vector_space_algebra> m_stepper;
};

class GradientDescent final : public Stepper {
 public:
  explicit GradientDescent(const StepperOptions& o) : m_step(o.gd_step) {}

  StepAttempt attempt(FlowSystem&, const State& x, const State& dxdt, double, double dt, State& out,
                      State&) override {
    out = x + dt * dxdt;
    StepAttempt a;
    a.accepted = out.allFinite();
    a.dt_next = m_step;
    return a;
  }
  int order() const override { return 1; }
  double fixed_step() const override { return m_step; }

 private:
  double m_step;
};

using Algebra = odeint::vector_space_algebra;
using Dopri5 = odeint::runge_kutta_dopri5<State, double, State, double, Algebra>;
using CashKarp = odeint::runge_kutta_cash_karp54<State, double, State, double, Algebra>;
using Fehlberg = odeint::runge_kutta_fehlberg78<State, double, State, double, Algebra>;

}  // namespace

StepAttempt judge_embedded_step(const Eigen::VectorXd& x, const Eigen::VectorXd& out, const Eigen::VectorXd& err,
                                const StepperOptions& options, StepController& control, double dt) {
  StepAttempt a;
  a.error = error_norm(x, out, err, options.abs_tol, options.rel_tol);
  a.accepted = std::isfinite(a.error) && a.error <= 1.0 && out.allFinite();
  a.dt_next = control.next(dt, a.error, a.accepted);
  return a;
}

std::unique_ptr<Stepper> make_stepper(const StepperOptions& options) {
  validate(options);
  switch (options.kind) {
    case StepperKind::dopri5: return std::make_unique<EmbeddedRk<Dopri5, true>>(options, 5);
    case StepperKind::bs3: return std::make_unique<BogackiShampine3>(options);
    case StepperKind::cash_karp54: return std::make_unique<EmbeddedRk<CashKarp, false>>(options, 5);
    case StepperKind::fehlberg78: return std::make_unique<EmbeddedRk<Fehlberg, false>>(options, 8);
    case StepperKind::bulirsch_stoer: return std::make_unique<BulirschStoer>(options);
    case StepperKind::gd: return std::make_unique<GradientDescent>(options);
    case StepperKind::region_ros2: return std::make_unique<RegionRosenbrock>(options);
    case StepperKind::switch_batch: return std::make_unique<SwitchBatch>(options);
    case StepperKind::switch_radau: return std::make_unique<SwitchRadau>(options);
    case StepperKind::margin_ros2: return std::make_unique<MarginRosenbrock>(options, RosenbrockTableau::ros2());
    case StepperKind::margin_ros3: return std::make_unique<MarginRosenbrock>(options, RosenbrockTableau::ros34pw2());
  }
  throw std::logic_error("unhandled stepper kind");
}

}  // namespace kktflow
