#pragma once
/// \file stop_rules.hpp
/// When a run ends, and how the end is described. A margin loss's flow converges by Lyu & Li's
/// (2020, Thm 4.4) three signs of a KKT limit at one trajectory row: θ/q_min^{1/L} is an
/// (ε, δ)-KKT point with ε small, θ aligns with −∇L (β → 1), and the direction has stopped moving
/// on the log t scale. The square loss's flow stops at finite θ, tested after every step: the
/// loss reached (converged), or a critical point (stationary, ‖∇L‖ small, of positive loss when
/// the loss rule did not fire). The budgets (log t, wall time, steps) end a run that has not
/// converged.
#include "record.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace kktflow {

struct StopRules {
  double kkt_eps = 1e-3;           ///< converged when ε_KKT ≤ this …
  double one_minus_beta = 1e-6;    ///< … and 1 − β ≤ this …
  double direction_change = 1e-3;  ///< … and ‖Δθ̂‖ per unit log t ≤ this, all at one record
  double log_t_min = 0;            ///< … and log t ≥ this
  double loss = 0;                 ///< converged when L ≤ this, after any step (0: off; the square loss's rule)
  double grad_norm = 0;            ///< stationary when ‖dθ/dt‖ ≤ this, after any step (0: off; plain time)
  double log_t_max = 1e6;
  double wall_s = 3600;
  std::int64_t max_steps = 100'000'000;
};

/// Throws std::invalid_argument naming the key (stop.*) and its allowed range.
void validate(const StopRules& rules);

/// A step aimed at stop.log_t_max at the present rate of log t aims this fraction past it
/// (ours), so that a rate that is exact lands beyond the target rather than a rounding short of
/// it; and log t within kLandingTol (relative, ours) of the target has reached it: the rate's
/// change over the step leaves a shortfall second order in the step, and chasing rounding
/// would stall.
inline constexpr double kLandingOvershoot = 1e-9;
inline constexpr double kLandingTol = 1e-12;

/// True once log t has reached stop.log_t_max (within kLandingTol).
bool reached_log_t_max(const StopRules& rules, double log_t);

/// True when row `r`, the run's `points`-th, meets every convergence rule. The first row has no
/// direction change to judge and never converges.
bool converged(const StopRules& rules, const Record& r, std::int64_t points);

/// The loss rule or the critical-point rule at a step boundary with log L = log_loss and
/// ‖dθ/dt‖ = field_norm, if either holds: converged or stationary.
std::optional<Status> target_reached(const StopRules& rules, double log_loss, double field_norm);

/// The budget that ends the run before its next step, if any: log t, wall time or steps.
std::optional<Status> budget_reached(const StopRules& rules, double log_t, double wall_s, std::int64_t step);

/// True for the ends that leave a run where it is without judging it (a budget, a stalled step):
/// those a run that never separated its data ends with, and that become Status::not_separated.
bool may_end_unseparated(Status s);

/// The reason of Status::not_separated: `correct` of `n` samples have y_i f(x_i) > 0, and what
/// stopped the run (`ended_by`, describe_stop's text).
std::string describe_not_separated(std::int64_t correct, std::int64_t n, const std::string& ended_by);

/// Why the run ended with status `s` at row `r` after `step` steps, with the rule's figures.
std::string describe_stop(const StopRules& rules, Status s, const Record& r, std::int64_t step);

}  // namespace kktflow
