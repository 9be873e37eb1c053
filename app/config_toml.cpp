#include "config_toml.hpp"

#include "analysis/io/toml_file.hpp"

#include <sstream>

namespace kktflow::config_detail {

const std::map<std::string, std::set<std::string>>& known_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"", {"seed"}},
      {"data",
       {"kind", "n", "d", "seed", "scale", "mean_norm", "noise", "shift", "unit_norm", "path", "labels", "label_column",
        "x_key", "y_key", "classes", "positive", "per_class", "select", "normalize"}},
      {"model",
       {"kind", "width", "gamma", "signs", "init_scale", "loss", "seed", "alpha", "layers", "skip", "init_radius"}},
      {"flow",
       {"time", "stepper", "late_stepper", "late_phase_ratio", "late_phase_log_t", "coordinates", "abs_tol", "rel_tol",
        "gd_step", "dt_initial", "dt_max", "sliding", "sliding_flips", "sliding_window", "freeze_pattern",
        "capture_on_arrival", "precision"}},
      {"stop",
       {"kkt_eps", "one_minus_beta", "direction_change", "log_t_min", "log_t_max", "wall_s", "max_steps", "loss",
        "grad_norm"}},
      {"output", {"record_every_log_t", "record_relative", "snapshot_ratio", "k_top"}},
      {"store", {"checkpoint_seconds"}},
      {"init", {"theta_file", "margin"}},
      {"limits", {"memory"}},
  };
  return keys;
}

std::string join(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

void check_known_keys(const toml::table& root) {
  const auto& known = known_keys();
  const std::string sections = "data, model, init, flow, stop, output, store, limits";
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (const auto* section = node.as_table()) {
      const auto it = known.find(k);
      if (it == known.end() || k.empty())
        throw ConfigError("unknown section [" + k + "]; allowed sections: " + sections);
      for (const auto& [sub, _] : *section)
        if (!it->second.count(std::string(sub.str())))
          throw ConfigError("unknown key " + k + "." + std::string(sub.str()) + "; allowed keys in [" + k +
                            "]: " + join(it->second));
    } else if (!known.at("").count(k)) {
      throw ConfigError("unknown top-level key " + k + "; allowed: seed, and the sections " + sections);
    }
  }
}

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw ConfigError("--set " + assignment + ": expected section.key=value");
  const std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto dot = path.find('.');
  const std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
  const std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", value}};  // a bare word such as dopri5 is a string
  }
  const toml::node* parsed_value = parsed.get("v");
  if (parsed_value == nullptr) throw ConfigError("--set " + assignment + ": the value is not one TOML value");
  toml::table* target = &root;
  if (!section.empty()) {
    if (!root.contains(section)) root.insert(section, toml::table{});
    target = root.get_as<toml::table>(section);
    if (!target) throw ConfigError("--set " + assignment + ": " + section + " is not a section");
  }
  target->insert_or_assign(key, *parsed_value);
}

toml::table parse_config_file(const std::string& path) {
  try {
    return read_toml_file(path, "config file", kMaxConfigBytes);
  } catch (const std::runtime_error& e) {
    throw ConfigError(e.what());
  }
}

toml::table parse_config_text(const std::string& text, const std::string& origin) {
  try {
    return toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << origin << ":" << e.source().begin.line << ":" << e.source().begin.column
       << ": malformed TOML: " << e.description();
    throw ConfigError(os.str());
  }
}

}  // namespace kktflow::config_detail
