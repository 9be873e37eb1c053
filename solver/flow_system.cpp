#include "flow_system.hpp"
#include "record.hpp"

#include <stdexcept>

namespace kktflow {

TimeMode parse_time_mode(const std::string& text, const std::string& key) {
  if (text == "t") return TimeMode::t;
  if (text == "loss") return TimeMode::loss;
  if (text == "normalized") return TimeMode::normalized;
  throw std::invalid_argument(key + " = \"" + text + "\": allowed values are \"t\", \"loss\", \"normalized\"");
}

std::string to_string(TimeMode mode) {
  switch (mode) {
    case TimeMode::t: return "t";
    case TimeMode::loss: return "loss";
    case TimeMode::normalized: return "normalized";
  }
  return "unknown";
}

std::string to_string(Status s) {
  switch (s) {
    case Status::converged: return "converged";
    case Status::log_t_max: return "log_t_max";
    case Status::wall_budget: return "wall_budget";
    case Status::step_budget: return "step_budget";
    case Status::non_finite: return "non_finite";
    case Status::no_progress: return "no_progress";
    case Status::interrupted: return "interrupted";
    case Status::stationary: return "stationary";
  }
  return "unknown";
}

}  // namespace kktflow
