#pragma once
/// \file square_flow.hpp
/// Gradient flow of a model under the square loss (problems/loss.hpp, SquareLoss),
/// dθ/dt = −∇L(θ), in plain time t, through the one integration loop (driver.hpp). Unlike the
/// margin losses' flow it stops at finite θ: at a zero-loss point or at a stationary point of
/// positive loss, approached exponentially. So t itself is the clock, nothing underflows and no
/// log domain is needed.
///
/// The parts: the model's outputs read through FullCoordinates with unit signs, the square-loss
/// FlowSystem (flow_system.hpp), dopri5 with the shared PI step control until a step of it sits
/// at its stability bound (stability_bound.hpp), then the L-stable ROS34PW2 with the field's whole
/// Jacobian (square_ros_stepper.hpp), SquareLossMetrics for the rows, and the driver's event and
/// sliding policies. Near a stationary point of positive loss dopri5's step grows until the
/// fastest mode sits at its bound, where that mode stops decaying and ‖∇L‖ stalls above
/// stop.grad_norm; the L-stable method lets it decay (Timor's §3.2 data: 20 of 288 seeds stalled
/// at ‖∇L‖ = 2e-12 … 3e-11, h = 3.29, until the 20 000-step cap). ReLU kinks are met as in the margin
/// flow: crossings located by sign-following events, and a kink that attracts from both sides
/// (the active side pushes ⟨w_j, x_i⟩ down while the other samples pull w_j back up; with
/// σ'(0) = 0 the inactive side feels no force from x_i) held by Filippov sliding where the model
/// has held kinks (Model::supports_held_kinks): the pair sits on its kink with σ' at its
/// equivalent slope while that slope lies in [0, 1]. Without it the error control chatters
/// across such a kink (Timor's §3.2 setup: 14 of 288 seeds stuck at 20 000 steps before t = 4.1,
/// near the saddle at 0). Holding keeps the rows' norms, so the balance ‖w_j‖² − ‖v_j‖² stays
/// conserved.
///
/// Stop rules (stop_rules.hpp; first that holds after a step): L ≤ stop.loss (converged),
/// ‖∇L‖ ≤ stop.grad_norm (stationary: a critical point, of positive loss when the first rule did
/// not fire), then the budgets. Runs checkpoint and resume as the margin flow's do.
#include "driver.hpp"
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"
#include "problems/model.hpp"
#include "square_metrics.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace kktflow {

struct SquareFlowOptions {
  /// loss 1e-4: Timor et al. §3.2 count runs with L < 1e-4; grad_norm 1e-12 is ours.
  StopRules stop{.loss = 1e-4, .grad_norm = 1e-12};
  double abs_tol = 1e-12;
  double rel_tol = 1e-10;
  double dt_initial = 1e-3;
  bool sliding = true;              ///< Filippov sliding on attracting kinks (models with held kinks)
  double record_every_log_t = 0.5;  ///< a trajectory row each time log t grows by this
  int k_top = 4;
  double checkpoint_every_s = 30;
};

/// Throws std::invalid_argument naming the key (stop.*, flow.*, output.*) and its allowed range.
void validate(const SquareFlowOptions& o);

class SquareFlow {
 public:
  SquareFlow(Model& model, SquareLoss loss, SquareFlowOptions options);

  /// The loop itself, for callers that drive any flow alike (observers, resume, run).
  Driver& driver() { return *m_driver; }
  void add_observer(Observer& observer) { m_driver->add_observer(observer); }
  /// Makes the next run() continue from a checkpoint (Driver::resume_from).
  void resume_from(RunState checkpoint, std::optional<Record> last_row) {
    m_driver->resume_from(std::move(checkpoint), std::move(last_row));
  }
  /// Integrates from θ (updated in place) until a stop rule fires or `interrupted()` is true.
  /// Never throws for numerical trouble: the result carries a Status.
  RunResult run(
      Eigen::VectorXd& theta, const std::function<bool()>& interrupted = [] { return false; }) {
    return m_driver->run(theta, interrupted);
  }
  /// L(θ).
  double loss_at(const Eigen::VectorXd& theta) { return std::exp(m_system.log_loss_at(theta)); }

 private:
  FullCoordinates m_outputs;
  FlowSystem m_system;
  std::unique_ptr<Stepper> m_stepper;
  std::unique_ptr<Stepper> m_late;  ///< the stiff phase's method (square_ros_stepper.hpp)
  SquareLossMetrics m_metrics;
  std::unique_ptr<Driver> m_driver;
};

}  // namespace kktflow
