#pragma once
/// \file run_loop.hpp
/// The integration loop of one configured run, assembled from its parts: for a margin loss the
/// chart (span or full coordinates), the flow in loss, normalized or plain time, the stepper and
/// the late-phase hand-off (region_ros2 on the span chart, margin_ros3 in θ coordinates), the
/// metrics and the driver; for the square loss (model.kind = "relu2") the square-loss flow
/// (solver/square_flow.hpp), whose parts are the same kinds. Either way the caller sees one
/// Driver, so writing, checkpoints and resume take one path.
#include "config.hpp"

#include "problems/dataset.hpp"
#include "problems/model.hpp"
#include "solver/driver.hpp"
#include "solver/flow_system.hpp"
#include "solver/metrics.hpp"
#include "solver/square_flow.hpp"

#include <Eigen/Core>

#include <memory>

namespace kktflow {

class RunLoop {
 public:
  /// The loop for `c` on `model` (built on `data`) from θ(0) = `theta0`.
  RunLoop(const RunConfig& c, Model& model, const Dataset& data, const Eigen::VectorXd& theta0);

  Driver& driver() { return m_square ? m_square->driver() : *m_driver; }
  /// The state the driver integrates: θ(0), or the span chart's coordinates of it.
  Eigen::VectorXd& state() { return m_state; }
  /// The normalised multipliers of the last row (empty under the square loss: no margins).
  Eigen::VectorXd multipliers() const;

 private:
  void build_margin_flow(const RunConfig& c, Model& model, const Dataset& data, const Eigen::VectorXd& theta0);

  Eigen::VectorXd m_state;
  std::unique_ptr<MarginSystem> m_margins;
  std::unique_ptr<FlowSystem> m_system;
  std::unique_ptr<Stepper> m_stepper;
  std::unique_ptr<Stepper> m_late;
  std::unique_ptr<MetricsEvaluator> m_metrics;
  std::unique_ptr<Driver> m_driver;
  std::unique_ptr<SquareFlow> m_square;
};

}  // namespace kktflow
