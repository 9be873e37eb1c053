#pragma once
/// \file square_flow.hpp
/// Gradient flow of a model under the square loss (problems/loss.hpp, SquareLoss), dθ/dt = −∇L(θ),
/// in plain time t. Unlike the margin losses' flow, this one stops at finite θ: at a zero-loss
/// point or at a stationary point of positive loss, approached exponentially. So t itself is the
/// clock, nothing underflows and no log domain is needed.
///
/// Method: odeint's Dormand–Prince 5(4) pair with the shared PI step control (step_control.hpp).
/// ReLU kinks are left to the error control (no event location): on Timor et al.'s problem every
/// pair crosses its kink at most a few times and never slides, because with σ'(0) = 0 an inactive
/// pair feels no force from its sample. Switches are counted between accepted steps and reported
/// as events.
///
/// Stop rules (first that holds): L ≤ stop.loss (converged: the loss is reached), ‖∇L‖ ≤
/// stop.grad_norm (stationary: a critical point, of positive loss when the first rule did not
/// fire), log t ≥ stop.log_t_max, wall time, step budget, a non-finite state, a step size below
/// 1e-13 t (no progress).
#include "driver.hpp"
#include "problems/loss.hpp"
#include "problems/model.hpp"

#include <functional>
#include <vector>

namespace kktflow {

struct SquareStopRules {
  double loss = 1e-4;        ///< converged when L ≤ this (Timor et al. §3.2 count runs with L < 1e-4)
  double grad_norm = 1e-12;  ///< stationary when ‖∇L‖ ≤ this (ours)
  double log_t_max = 1e6;
  double wall_s = 3600;
  std::int64_t max_steps = 100'000'000;
};

struct SquareFlowOptions {
  SquareStopRules stop;
  double abs_tol = 1e-12;
  double rel_tol = 1e-10;
  double dt_initial = 1e-3;
  double record_every_log_t = 0.5;  ///< a trajectory row (and a snapshot) each time log t grows by this
  int k_top = 4;
};

/// Throws std::invalid_argument naming the key (stop.*, flow.*, output.*) and its allowed range.
void validate(const SquareFlowOptions& o);

class SquareFlow {
 public:
  SquareFlow(Model& model, SquareLoss loss, SquareFlowOptions options);

  void add_observer(Observer& observer) { m_observers.push_back(&observer); }
  /// Integrates from θ (updated in place) until a stop rule fires or `interrupted()` is true.
  /// Observers get θ(0) as a snapshot, rows with snapshots at log-spaced t, switch events and
  /// the end. Never throws for numerical trouble: the result carries a Status.
  RunResult run(Eigen::VectorXd& theta, const std::function<bool()>& interrupted = [] { return false; });

  /// L(θ) and grad = ∇L(θ).
  double loss_and_gradient(const Eigen::VectorXd& theta, Eigen::VectorXd& grad);
  double loss_at(const Eigen::VectorXd& theta);

 private:
  Record make_record(const Eigen::VectorXd& theta, double t, double dt, double err);
  std::string describe(Status s, const Record& r) const;
  void report_switches(const Eigen::VectorXd& theta, double log_t);

  Model& m_model;
  SquareLoss m_loss;
  SquareFlowOptions m_opt;
  std::vector<Observer*> m_observers;
  Eigen::VectorXd m_F, m_G, m_grad, m_s, m_s_new, m_prev_direction;
  std::int64_t m_rhs_evals = 0;
  std::int64_t m_step = 0;
  std::int64_t m_switches = 0;
  std::int64_t m_points = 0;
  double m_prev_record_log_t = 0;
  double m_wall0 = 0;
};

}  // namespace kktflow
