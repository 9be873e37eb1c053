#pragma once
/// \file record.hpp
/// What the driver hands its observers: one trajectory row, switch events, snapshots, the end.
#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

/// One row of /trajectory (docs/file-format.md). Every figure is finite except kkt_eps and kkt_delta,
/// which are +inf while min_i q_i ≤ 0 (no rescaling of θ is feasible for the KKT problem yet).
struct Record {
  std::int64_t step = 0;         ///< accepted steps so far
  double tau = 0;                ///< the integration variable (t, or loss time τ)
  double log_t = 0;              ///< log of gradient-flow time t
  double log_loss = 0;           ///< log L
  double norm = 0;               ///< ‖θ‖
  double normalized_margin = 0;  ///< min_i q_i / ‖θ‖^L
  double smoothed_margin = 0;    ///< ℓ^{-1}(nL) / ‖θ‖^L (Lyu & Li 2020)
  double stable_rank = 0;        ///< ‖W‖_F² / ‖W‖_2² of the first layer
  Eigen::VectorXd sigma;         ///< top singular values of the first layer (k_top of them)
  double kkt_eps = 0;            ///< ε of Lyu & Li's (ε, δ)-KKT at θ / q_min^{1/L}
  double kkt_delta = 0;          ///< δ of the same
  double alignment_beta = 0;     ///< cos∠(θ, −∇L)
  double direction_change = 0;   ///< ‖θ̂_k − θ̂_{k−1}‖ / (log t_k − log t_{k−1}); 0 on the first row
  std::int64_t switches = 0;     ///< activation switches so far
  std::int64_t sliding = 0;      ///< pairs held on a kink (Filippov sliding) now
  std::int64_t rhs_evals = 0;    ///< right-hand-side evaluations so far
  double dt = 0;                 ///< last accepted step in the integration variable
  double err_estimate = 0;       ///< normalized local error of the last step (≤ 1); −1 if the stepper has none
  double wall_s = 0;             ///< wall-clock seconds since the run started
};

/// An activation switch: pre-activation `switch_index` = neuron·n + sample changed sign.
/// new_sign: +1 / −1 for a crossing, 0 when the pair starts sliding on the kink,
/// +2 / −2 when a sliding pair leaves its kink because its equivalent slope would exceed 1 / fall below γ.
struct SwitchEvent {
  std::int64_t point = 0;  ///< row of /trajectory that the next record will take
  double log_t = 0;
  std::int64_t neuron = 0;
  std::int64_t sample = 0;
  int new_sign = 0;
};

/// stationary: the flow reached a critical point, ‖∇L‖ ≤ stop.grad_norm (square loss only, square_flow.hpp).
/// not_separated: a budget or a stalled step ended a run that had never classified every sample
/// (some y_i f(x_i) ≤ 0 at its end); the reason gives the training accuracy reached.
enum class Status {
  converged,
  log_t_max,
  wall_budget,
  step_budget,
  non_finite,
  no_progress,
  interrupted,
  stationary,
  not_separated
};
std::string to_string(Status s);

}  // namespace kktflow
