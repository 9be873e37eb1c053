#include "flow_system.hpp"
#include "record.hpp"

#include "problems/named_values.hpp"

#include <stdexcept>

namespace kktflow {

const NamedValues<TimeMode> kTimeNames{{"t", TimeMode::t}, {"loss", TimeMode::loss}};

TimeMode parse_time_mode(const std::string& text, const std::string& key) { return kTimeNames.parse(text, key); }
std::string to_string(TimeMode mode) { return kTimeNames.name(mode); }

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
    case Status::not_separated: return "not_separated";
  }
  return "unknown";
}

}  // namespace kktflow
