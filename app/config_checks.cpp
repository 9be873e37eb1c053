#include "config_checks.hpp"

#include "analysis/io/path_checks.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kktflow {

void check_stop_and_output(const RunConfig& c) {
  const bool square = c.model.kind == "relu2";
  const double log_t_max = square ? c.square.stop.log_t_max : c.driver.stop.log_t_max;
  if (!std::isfinite(log_t_max))
    throw ConfigError(
        fmt::format("stop.log_t_max = {}: must be a finite number (the log t at which the run stops)", log_t_max));
  const double log_t_min = c.driver.stop.log_t_min;
  if (!square && (std::isnan(log_t_min) || log_t_min == INFINITY))
    throw ConfigError(
        fmt::format("stop.log_t_min = {}: must be a number < +inf (−inf: no minimum); a run could never "
                    "count as converged",
                    log_t_min));
  const int k_top = square ? c.square.k_top : c.driver.output.k_top;
  if (k_top > kMaxKTop)
    throw ConfigError(fmt::format("output.k_top = {}: must be an integer in [1, {}]", k_top, kMaxKTop));
}

void check_input_paths(const RunConfig& c) {
  if (c.data.kind == "file" && !c.data.path.empty()) {
    if (const auto problem = not_a_regular_file(c.data.path))
      throw ConfigError(fmt::format("data.path = \"{}\": cannot open: {}", c.data.path, *problem));
  }
  if (!c.init.theta_file.empty()) {
    if (const auto problem = not_a_regular_file(c.init.theta_file))
      throw ConfigError(fmt::format("init.theta_file = \"{}\": cannot open: {}", c.init.theta_file, *problem));
  }
}

}  // namespace kktflow
