#pragma once
/// \file row_metrics.hpp
/// What a trajectory row measures at a state, behind one interface so that one integration loop
/// records every flow: MetricsEvaluator (metrics.hpp) for the margin losses, SquareLossMetrics
/// (square_metrics.hpp) for the square loss. The driver fills the row's counters and clock.
#include "record.hpp"

#include <Eigen/Dense>

namespace kktflow {

class RowMetrics {
 public:
  virtual ~RowMetrics() = default;
  /// Fills the metric fields of `row` at `state` and leaves θ's isometric image θ_c in `theta_c`
  /// (the driver measures the direction change there).
  virtual void evaluate(const Eigen::VectorXd& state, Record& row, Eigen::VectorXd& theta_c) = 0;
};

}  // namespace kktflow
