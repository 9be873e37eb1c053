#include "run_loop.hpp"

#include "problems/leaky2_fixed_outer.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"

namespace kktflow {

RunLoop::RunLoop(const RunConfig& c, Model& model, const Dataset& data, const Eigen::VectorXd& theta0) {
  if (c.model.kind == "relu2") {
    m_square = std::make_unique<SquareFlow>(model, SquareLoss(two_class_targets(data.y), data.n()), c.square);
    m_state = theta0;
    return;
  }
  build_margin_flow(c, model, data, theta0);
}

void RunLoop::build_margin_flow(const RunConfig& c, Model& model, const Dataset& data, const Eigen::VectorXd& theta0) {
  if (c.coordinates == "span") {  // config.cpp allows span for leaky2_fixed_outer only
    auto span = std::make_unique<Leaky2Span>(dynamic_cast<Leaky2FixedOuter&>(model), data.y, theta0);
    m_state = span->initial_state();
    m_margins = std::move(span);
  } else {
    m_margins = std::make_unique<FullCoordinates>(model, data.y);
    m_state = theta0;
  }
  const MarginLoss loss(c.loss);
  m_system = std::make_unique<FlowSystem>(*m_margins, loss, c.time);
  m_stepper = make_stepper(c.stepper);
  m_metrics = std::make_unique<MetricsEvaluator>(*m_margins, loss, model.layers().front(), c.driver.output.k_top,
                                                 c.stepper.rel_tol);
  m_driver = std::make_unique<Driver>(*m_system, *m_stepper, *m_metrics, c.driver);
  if (c.hand_off) {
    StepperOptions late_options = c.stepper;
    late_options.kind = c.late_stepper;
    m_late = make_stepper(late_options);
    m_driver->hand_off_to(*m_late);
  }
}

Eigen::VectorXd RunLoop::multipliers() const { return m_metrics ? m_metrics->multipliers() : Eigen::VectorXd(); }

}  // namespace kktflow
