#include "config_checks.hpp"

#include "analysis/io/path_checks.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <sstream>
#include <utility>

namespace kktflow {
namespace {

/// A memory unit and its size in bytes.
struct MemoryUnit {
  const char* name;
  double bytes;
};

constexpr std::array<MemoryUnit, 9> kMemoryUnits{{{"B", 1},
                                                  {"kB", 1e3},
                                                  {"MB", 1e6},
                                                  {"GB", 1e9},
                                                  {"TB", 1e12},
                                                  {"KiB", 1024.0},
                                                  {"MiB", 1024.0 * 1024},
                                                  {"GiB", 1024.0 * 1024 * 1024},
                                                  {"TiB", 1024.0 * 1024 * 1024 * 1024}}};

[[noreturn]] void bad_memory(const std::string& key, const std::string& text) {
  throw ConfigError(
      key + " = " + text +
      ": expected a number of bytes > 0, or a string such as \"8 GiB\" or \"500 MB\" (units B, kB, MB, GB, "
      "TB, KiB, MiB, GiB, TiB)");
}

double memory_from_text(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  double number = 0;
  std::string unit;
  if (!(in >> number)) bad_memory(key, "\"" + text + "\"");
  in >> unit;
  std::string rest;
  if (in >> rest) bad_memory(key, "\"" + text + "\"");
  if (unit.empty()) unit = "B";
  for (const MemoryUnit& u : kMemoryUnits) {
    if (unit == u.name) return number * u.bytes;
  }
  bad_memory(key, "\"" + text + "\"");
}

}  // namespace

double parse_memory_size(const toml::node& node, const std::string& key) {
  double bytes = 0;
  if (const auto text = node.value_exact<std::string>()) {
    bytes = memory_from_text(*text, key);
  } else if (const auto number = node.value<double>()) {
    bytes = *number;
  } else {
    bad_memory(key, config_detail::toml_text(node));
  }
  if (!(bytes > 0 && std::isfinite(bytes))) bad_memory(key, config_detail::toml_text(node));
  return bytes;
}

void read_limits(config_detail::Reader& r, RunConfig& c) {
  const toml::node* memory = r.find("limits", "memory");
  if (memory == nullptr) return;  // unset: the machine's memory; nothing stored, so older files compare equal
  c.memory_limit_bytes = parse_memory_size(*memory, "limits.memory");
  if (const auto text = memory->value_exact<std::string>()) {
    r.store("limits", "memory", *text);
  } else {
    r.store("limits", "memory", c.memory_limit_bytes);
  }
}

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

void check_margin_stepper(const RunConfig& c) {
  if (c.stepper.kind != StepperKind::margin_ros2 && c.stepper.kind != StepperKind::margin_ros3) return;
  const std::string stepper = to_string(c.stepper.kind);
  if (c.coordinates != "full")
    throw ConfigError("flow.stepper = \"" + stepper +
                      "\" integrates θ coordinates: needs flow.coordinates = \"full\" "
                      "(the span chart's late-phase method is region_ros2)");
  if (c.time == TimeMode::t)
    throw ConfigError("flow.stepper = \"" + stepper +
                      "\" integrates in normalized time: needs flow.time = \"loss\" "
                      "or \"normalized\", not \"t\"");
}

void check_input_paths(const RunConfig& c) {
  if (c.data.from_file()) {
    for (const auto& [key, path] : {std::pair{"data.path", c.data.path}, std::pair{"data.labels", c.data.labels}}) {
      if (path.empty()) continue;
      if (const auto problem = not_a_regular_file(path))
        throw ConfigError(fmt::format("{} = \"{}\": cannot open: {}", key, path, *problem));
    }
  }
  if (!c.init.theta_file.empty()) {
    if (const auto problem = not_a_regular_file(c.init.theta_file))
      throw ConfigError(fmt::format("init.theta_file = \"{}\": cannot open: {}", c.init.theta_file, *problem));
  }
}

}  // namespace kktflow
