#include "stop_rules.hpp"

#include "run_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace kktflow {

void validate(const StopRules& o) {
  auto require = [](bool ok, const std::string& key, double v, const std::string& range) {
    if (!ok) throw std::invalid_argument(key + " = " + sci(v) + ": " + range);
  };
  require(o.kkt_eps > 0, "stop.kkt_eps", o.kkt_eps, "must be > 0");
  require(o.one_minus_beta > 0, "stop.one_minus_beta", o.one_minus_beta, "must be > 0");
  require(o.direction_change > 0, "stop.direction_change", o.direction_change, "must be > 0");
  require(o.loss >= 0 && std::isfinite(o.loss), "stop.loss", o.loss, "must be a finite number ≥ 0");
  require(o.grad_norm >= 0 && std::isfinite(o.grad_norm), "stop.grad_norm", o.grad_norm, "must be a finite number ≥ 0");
  require(o.wall_s > 0, "stop.wall_s", o.wall_s, "must be > 0");
  require(o.max_steps > 0, "stop.max_steps", static_cast<double>(o.max_steps), "must be ≥ 1");
}

bool reached_log_t_max(const StopRules& rules, double log_t) {
  return log_t >= rules.log_t_max - kLandingTol * std::max(1.0, std::abs(rules.log_t_max));
}

bool converged(const StopRules& s, const Record& r, std::int64_t points) {
  return points > 1 && r.kkt_eps <= s.kkt_eps && 1.0 - r.alignment_beta <= s.one_minus_beta &&
         r.direction_change <= s.direction_change && r.log_t >= s.log_t_min;
}

std::optional<Status> target_reached(const StopRules& rules, double log_loss, double field_norm) {
  if (rules.loss > 0 && log_loss <= std::log(rules.loss)) return Status::converged;
  if (rules.grad_norm > 0 && field_norm <= rules.grad_norm) return Status::stationary;
  return std::nullopt;
}

std::optional<Status> budget_reached(const StopRules& rules, double log_t, double wall_s, std::int64_t step) {
  if (reached_log_t_max(rules, log_t)) return Status::log_t_max;
  if (wall_s > rules.wall_s) return Status::wall_budget;
  if (step >= rules.max_steps) return Status::step_budget;
  return std::nullopt;
}

bool may_end_unseparated(Status s) {
  return s == Status::log_t_max || s == Status::wall_budget || s == Status::step_budget || s == Status::no_progress;
}

std::string describe_not_separated(std::int64_t correct, std::int64_t n, const std::string& ended_by) {
  char accuracy[32];
  std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100.0 * static_cast<double>(correct) / static_cast<double>(n));
  return "the data were never separated: training accuracy " + std::string(accuracy) + " (" + std::to_string(correct) +
         " of " + std::to_string(n) + " samples with y f(x) > 0) when " + ended_by;
}

std::string describe_stop(const StopRules& rules, Status s, const Record& r, std::int64_t step) {
  const std::string at = " at log t = " + sci(r.log_t) + " after " + std::to_string(step) + " steps";
  switch (s) {
    case Status::converged:
      if (rules.loss > 0 && r.log_loss <= std::log(rules.loss))
        return "L = " + sci(std::exp(r.log_loss)) + " ≤ stop.loss = " + sci(rules.loss) + at;
      return "ε_KKT = " + sci(r.kkt_eps) + " ≤ " + sci(rules.kkt_eps) + ", 1−β = " + sci(1 - r.alignment_beta) + " ≤ " +
             sci(rules.one_minus_beta) + ", direction change " + sci(r.direction_change) + " ≤ " +
             sci(rules.direction_change) + at;
    case Status::log_t_max:
      return "log t reached stop.log_t_max = " + sci(rules.log_t_max) + at;
    case Status::wall_budget:
      return "wall time reached stop.wall_s = " + sci(rules.wall_s) + " s" + at;
    case Status::step_budget:
      return "step count reached stop.max_steps = " + std::to_string(rules.max_steps) + at;
    case Status::non_finite:
      return "the state or the loss became non-finite" + at;
    case Status::no_progress:
      return "the step size fell below 1e-13 of τ" + at;
    case Status::interrupted:
      return "interrupted by a signal" + at;
    case Status::stationary:
      return "‖∇L‖ ≤ stop.grad_norm = " + sci(rules.grad_norm) + " with L = " + sci(std::exp(r.log_loss)) + at;
    case Status::not_separated:
      return "the data were never separated" + at;
  }
  return "unknown";
}

}  // namespace kktflow
