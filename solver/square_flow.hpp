#pragma once
/// \file square_flow.hpp
/// Gradient flow of a model under the square loss (problems/loss.hpp, SquareLoss), dθ/dt = −∇L(θ),
/// in plain time t. Unlike the margin losses' flow, this one stops at finite θ: at a zero-loss
/// point or at a stationary point of positive loss, approached exponentially. So t itself is the
/// clock, nothing underflows and no log domain is needed.
///
/// Method: odeint's Dormand–Prince 5(4) pair with the shared PI step control (step_control.hpp).
/// Crossings of ReLU kinks are left to the error control (no event location) and counted between
/// accepted steps. A kink can also attract from both sides: the active side pushes ⟨w_j, x_i⟩
/// down while the other samples pull w_j back up (with σ'(0) = 0 the inactive side feels no force
/// from x_i). The error control then chatters across it (Timor's §3.2 setup: 14 of 288 seeds stuck
/// at 20 000 steps before t = 4.1, near the saddle at 0). So, for models with held kinks
/// (Model::supports_held_kinks) and flow.sliding on, after each accepted step a pair that crossed
/// or is due at its kink within the next step is tested, as in the margin flow's driver: held at
/// its kink with σ' at its equivalent slope (HeldKinks, problems/held_kinks.hpp), and kept if that
/// slope lies in [0, 1] (Filippov's condition). θ is projected onto the held surfaces after each
/// step (rows keep their norms: the balance ‖w_j‖² − ‖v_j‖² stays conserved); a held pair whose
/// slope leaves [0, 1] is released. Captures are events with new_sign 0, releases ±2.
///
/// Stop rules (first that holds): L ≤ stop.loss (converged: the loss is reached), ‖∇L‖ ≤
/// stop.grad_norm (stationary: a critical point, of positive loss when the first rule did not
/// fire), log t ≥ stop.log_t_max, wall time, step budget, a non-finite state, a step size below
/// 1e-13 t (no progress).
#include "driver.hpp"
#include "problems/held_kinks.hpp"
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
  bool sliding = true;  ///< Filippov sliding on attracting kinks (models with held kinks)
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
  /// Emits the crossings since the last call (held pairs excepted) and returns them, sorted.
  std::vector<Eigen::Index> report_switches(const Eigen::VectorXd& theta, double log_t);
  /// After an accepted step of size dt ending at θ with velocity dxdt, in which `crossed` crossed:
  /// releases held pairs whose slope left its range, captures attracted pairs, keeps θ on the held
  /// surfaces; when the held set changed, dxdt is evaluated again at θ.
  void update_sliding(const std::vector<Eigen::Index>& crossed, Eigen::VectorXd& theta, Eigen::VectorXd& dxdt,
                      double dt, double log_t, RunResult& result);
  /// Non-held pairs that crossed in the last step or are due at their kinks within dt.
  std::vector<Eigen::Index> kink_candidates(const std::vector<Eigen::Index>& crossed, const Eigen::VectorXd& dxdt,
                                            double dt);
  /// Holds `trial` with the held set; keeps the largest subset whose slopes stay in range.
  std::vector<Eigen::Index> capture_attracted(std::vector<Eigen::Index> trial, const Eigen::VectorXd& theta);
  void emit(Eigen::Index k, double log_t, int new_sign);
  bool sliding_on() const { return m_opt.sliding && m_model.supports_held_kinks(); }

  Model& m_model;
  SquareLoss m_loss;
  SquareFlowOptions m_opt;
  std::vector<Observer*> m_observers;
  HeldKinks m_held;
  Eigen::VectorXd m_F, m_G, m_grad, m_s, m_s_new, m_sdot, m_prev_direction;
  std::int64_t m_rhs_evals = 0;
  std::int64_t m_step = 0;
  std::int64_t m_switches = 0;
  std::int64_t m_points = 0;
  double m_prev_record_log_t = 0;
  double m_wall0 = 0;
};

}  // namespace kktflow
