#include "square_flow.hpp"

#include "square_ros_stepper.hpp"

namespace kktflow {

namespace {

StepperOptions stepper_options(const SquareFlowOptions& o) {
  StepperOptions s;
  s.kind = StepperKind::dopri5;
  s.abs_tol = o.abs_tol;
  s.rel_tol = o.rel_tol;
  return s;
}

DriverOptions driver_options(const SquareFlowOptions& o) {
  DriverOptions d;
  d.stop = o.stop;
  d.output.record_every_log_t = o.record_every_log_t;
  d.output.k_top = o.k_top;
  d.sliding.enabled = o.sliding;
  d.dt_initial = o.dt_initial;
  d.checkpoint_every_s = o.checkpoint_every_s;
  return d;
}

}  // namespace

void validate(const SquareFlowOptions& o) {
  validate(stepper_options(o));
  validate(driver_options(o));
}

namespace {

/// The dopri5 stepper, after every option has been checked (the first error names its key).
std::unique_ptr<Stepper> checked_stepper(const SquareFlowOptions& o) {
  validate(o);
  return make_stepper(stepper_options(o));
}

/// One unit sign per output: the square loss reads the outputs themselves.
Eigen::VectorXd unit_signs(const Model& model) {
  return Eigen::VectorXd::Ones(model.num_samples() * model.num_outputs());
}

}  // namespace

SquareFlow::SquareFlow(Model& model, SquareLoss loss, SquareFlowOptions options)
    : m_outputs(model, unit_signs(model)),
      m_system(m_outputs, std::move(loss)),
      m_stepper(checked_stepper(options)),
      m_late(std::make_unique<SquareRosenbrock>(stepper_options(options))),
      m_metrics(m_system, model.layers().front(), options.k_top) {
  m_driver = std::make_unique<Driver>(m_system, *m_stepper, m_metrics, driver_options(options));
  m_driver->hand_off_to(*m_late);
}

}  // namespace kktflow
