#pragma once
/// \file square_metrics.hpp
/// The trajectory row of the square loss's flow (flow_system.hpp; Timor, Vardi, Shamir 2023):
/// log L, ‖θ‖, the first layer's top singular values and stable rank, and the alignment
/// β = cos∠(θ, −∇L). The square loss has no margins, so the margin and KKT columns are NaN.
#include "flow_system.hpp"
#include "row_metrics.hpp"

namespace kktflow {

class SquareLossMetrics final : public RowMetrics {
 public:
  /// `system` is a square-loss FlowSystem over θ itself (FullCoordinates).
  SquareLossMetrics(FlowSystem& system, LayerView first_layer, int k_top);

  /// Evaluates the field at `state` (one right-hand side, counted).
  void evaluate(const Eigen::VectorXd& state, Record& row, Eigen::VectorXd& theta_c) override;

 private:
  FlowSystem& m_sys;
  LayerView m_layer;
  int m_k_top;
  Eigen::VectorXd m_descent;
};

}  // namespace kktflow
