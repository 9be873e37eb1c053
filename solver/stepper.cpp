#include "stepper.hpp"

#include "problems/named_values.hpp"

#include "margin_ros_stepper.hpp"
#include "region_stepper.hpp"
#include "run_text.hpp"
#include "step_control.hpp"
#include "switch_batch_stepper.hpp"
#include "switch_radau_stepper.hpp"

#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

namespace kktflow {

namespace odeint = boost::numeric::odeint;
using State = Eigen::VectorXd;

namespace {

const NamedValues<StepperKind>& stepper_names() {
  static const NamedValues<StepperKind> names{{{"dopri5", StepperKind::dopri5},
                                               {"bs3", StepperKind::bs3},
                                               {"cash_karp54", StepperKind::cash_karp54},
                                               {"fehlberg78", StepperKind::fehlberg78},
                                               {"bulirsch_stoer", StepperKind::bulirsch_stoer},
                                               {"gd", StepperKind::gd},
                                               {"region_ros2", StepperKind::region_ros2},
                                               {"region_ros3", StepperKind::region_ros3},
                                               {"switch_batch", StepperKind::switch_batch},
                                               {"switch_radau", StepperKind::switch_radau},
                                               {"margin_ros2", StepperKind::margin_ros2},
                                               {"margin_ros3", StepperKind::margin_ros3}},
                                              false};
  return names;
}

}  // namespace

StepperKind parse_stepper_kind(const std::string& text, const std::string& key) {
  return stepper_names().parse(text, key);
}

std::string to_string(StepperKind kind) { return stepper_names().name(kind); }

void validate(const StepperOptions& o) {
  auto positive = [](double v, const char* key) {
    if (!(v > 0 && std::isfinite(v)))
      throw std::invalid_argument(std::string(key) + " = " + sci(v) + ": must be a finite number > 0");
  };
  positive(o.abs_tol, "flow.abs_tol");
  positive(o.rel_tol, "flow.rel_tol");
  positive(o.gd_step, "flow.gd_step");
  if (o.rel_tol >= 1) throw std::invalid_argument("flow.rel_tol = " + sci(o.rel_tol) + ": must be < 1");
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
    throw std::invalid_argument("stepper memory holds " + std::to_string(memory.size()) +
                                " values; needs the controller's 2 and " + what);
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
class EmbeddedRk final : public ControlledStepper {
 public:
  EmbeddedRk(const StepperOptions& o, int order) : ControlledStepper(o, order - 1), m_order(order) {}

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
  StepperTraits traits() const override { return {StepperCategory::explicit_adaptive, m_order}; }

 private:
  int m_order;
  ErrorStepper m_stepper;
  State m_err;
};

/// Bogacki–Shampine 3(2): c = (0, 1/2, 3/4, 1), b = (2/9, 1/3, 4/9, 0), b̂ = (7/24, 1/4, 1/3, 1/8);
/// the fourth stage is f at the new point, reused as the next step's first.
class BogackiShampine3 final : public ControlledStepper {
 public:
  explicit BogackiShampine3(const StepperOptions& o) : ControlledStepper(o, 2) {}

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
  StepperTraits traits() const override {
    return {.category = StepperCategory::explicit_adaptive, .order = 3, .ends_on_interpolant = true};
  }

 private:
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
    return {.accepted = result == odeint::success && out.allFinite(), .dt_next = h};
  }
  void reset() override { m_stepper.reset(); }
  StepperTraits traits() const override {  // variable order
    return {.category = StepperCategory::explicit_adaptive, .order = 0, .resumes_exactly = false};
  }

 private:
  odeint::bulirsch_stoer<State, double, State, double, odeint::vector_space_algebra> m_stepper;
};

class GradientDescent final : public Stepper {
 public:
  explicit GradientDescent(const StepperOptions& o) : m_step(o.gd_step) {}

  StepAttempt attempt(FlowSystem&, const State& x, const State& dxdt, double, double dt, State& out, State&) override {
    out = x + dt * dxdt;
    return {.accepted = out.allFinite(), .dt_next = m_step};
  }
  StepperTraits traits() const override {
    return {.category = StepperCategory::fixed_step, .order = 1, .fixed_step = m_step};
  }

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
    case StepperKind::dopri5:
      return std::make_unique<EmbeddedRk<Dopri5, true>>(options, 5);
    case StepperKind::bs3:
      return std::make_unique<BogackiShampine3>(options);
    case StepperKind::cash_karp54:
      return std::make_unique<EmbeddedRk<CashKarp, false>>(options, 5);
    case StepperKind::fehlberg78:
      return std::make_unique<EmbeddedRk<Fehlberg, false>>(options, 8);
    case StepperKind::bulirsch_stoer:
      return std::make_unique<BulirschStoer>(options);
    case StepperKind::gd:
      return std::make_unique<GradientDescent>(options);
    case StepperKind::region_ros2:
      return std::make_unique<RegionRosenbrock>(options, RegionTableau::ros2());
    case StepperKind::region_ros3:
      return std::make_unique<RegionRosenbrock>(options, RegionTableau::ros34pw2());
    case StepperKind::switch_batch:
      return std::make_unique<SwitchBatch>(options);
    case StepperKind::switch_radau:
      return std::make_unique<SwitchRadau>(options);
    case StepperKind::margin_ros2:
      return std::make_unique<MarginRosenbrock>(options, RosenbrockTableau::ros2());
    case StepperKind::margin_ros3:
      return std::make_unique<MarginRosenbrock>(options, RosenbrockTableau::ros34pw2());
  }
  throw std::logic_error("unhandled stepper kind");
}

}  // namespace kktflow
