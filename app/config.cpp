#include "config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace kktflow {

namespace {

/// Every key the configuration knows, by section (the config reference in README.md).
const std::map<std::string, std::set<std::string>>& known_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"", {"seed"}},
      {"data", {"kind", "n", "d", "seed", "scale", "mean_norm", "noise", "shift", "unit_norm", "path"}},
      {"model", {"kind", "width", "gamma", "signs", "init_scale", "loss", "seed", "alpha", "layers", "skip", "init_radius"}},
      {"flow", {"time", "stepper", "late_phase_ratio", "late_phase_log_t", "coordinates", "abs_tol", "rel_tol", "gd_step", "dt_initial", "dt_max",
                "sliding", "sliding_flips", "sliding_window", "freeze_pattern", "capture_on_arrival", "precision"}},
      {"stop", {"kkt_eps", "one_minus_beta", "direction_change", "log_t_min", "log_t_max", "wall_s", "max_steps", "loss",
                "grad_norm"}},
      {"output", {"record_every_log_t", "record_relative", "snapshot_ratio", "k_top"}},
      {"store", {"checkpoint_seconds"}},
      {"init", {"theta_file", "margin"}},
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
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (const auto* section = node.as_table()) {
      const auto it = known.find(k);
      if (it == known.end())
        throw ConfigError("unknown section [" + k + "]; allowed sections: data, model, init, flow, stop, output, store");
      for (const auto& [sub, _] : *section)
        if (!it->second.count(std::string(sub.str())))
          throw ConfigError("unknown key " + k + "." + std::string(sub.str()) + "; allowed keys in [" + k +
                            "]: " + join(it->second));
    } else if (!known.at("").count(k)) {
      throw ConfigError("unknown top-level key " + k + "; allowed: seed, and the sections data, model, init, flow, stop, output, store");
    }
  }
}

/// A value as TOML text (strings quoted).
std::string toml_text(const toml::node& node) {
  std::ostringstream os;
  node.visit([&](const auto& v) { os << v; });
  return os.str();
}

/// Reads section.key into `out` if present, checking its TOML type; records it in `resolved`.
class Reader {
 public:
  Reader(const toml::table& root, toml::table& resolved) : m_root(root), m_resolved(resolved) {}

  template <class T>
  void get(const std::string& section, const std::string& key, T& out) {
    const toml::node* node = find(section, key);
    if (node) out = convert<T>(*node, section.empty() ? key : section + "." + key);
    store(section, key, out);
  }

 private:
  const toml::node* find(const std::string& section, const std::string& key) const {
    if (section.empty()) return m_root.get(key);
    const auto* table = m_root.get_as<toml::table>(section);
    return table ? table->get(key) : nullptr;
  }

  template <class T>
  static T convert(const toml::node& node, const std::string& name) {
    if constexpr (std::is_same_v<T, bool>) {
      if (auto v = node.value_exact<bool>()) return *v;
      throw ConfigError(name + " = " + toml_text(node) + ": expected true or false");
    } else if constexpr (std::is_integral_v<T>) {
      auto v = node.value_exact<std::int64_t>();
      if (!v) {
        // Accept integral floats such as 1e8 for counts.
        auto f = node.value_exact<double>();
        if (f && *f == std::floor(*f) && std::abs(*f) < 9e18) v = static_cast<std::int64_t>(*f);
      }
      if (!v) throw ConfigError(name + " = " + toml_text(node) + ": expected an integer");
      if (std::is_unsigned_v<T> && *v < 0) throw ConfigError(name + " = " + toml_text(node) + ": must be ≥ 0");
      return static_cast<T>(*v);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (auto v = node.value<double>()) return *v;
      throw ConfigError(name + " = " + toml_text(node) + ": expected a number");
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      const auto* array = node.as_array();
      T out;
      for (std::size_t k = 0; array && k < array->size(); ++k) {
        const auto v = array->at(k).value_exact<std::string>();
        if (!v) break;
        out.push_back(*v);
      }
      if (!array || out.size() != array->size())
        throw ConfigError(name + " = " + toml_text(node) + ": expected an array of strings");
      return out;
    } else {
      if (auto v = node.value_exact<std::string>()) return *v;
      throw ConfigError(name + " = " + toml_text(node) + ": expected a string");
    }
  }

  template <class T>
  void store(const std::string& section, const std::string& key, const T& value) {
    toml::table* target = &m_resolved;
    if (!section.empty()) {
      if (!m_resolved.contains(section)) m_resolved.insert(section, toml::table{});
      target = m_resolved.get_as<toml::table>(section);
    }
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
      target->insert_or_assign(key, value);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      toml::array array;
      for (const auto& v : value) array.push_back(v);
      target->insert_or_assign(key, std::move(array));
    } else if constexpr (std::is_integral_v<T>) {
      target->insert_or_assign(key, static_cast<std::int64_t>(value));
    } else {
      target->insert_or_assign(key, static_cast<double>(value));
    }
  }

  const toml::table& m_root;
  toml::table& m_resolved;
};

void apply_override(toml::table& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set " + assignment + ": expected section.key=value");
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
  toml::table* target = &root;
  if (!section.empty()) {
    if (!root.contains(section)) root.insert(section, toml::table{});
    target = root.get_as<toml::table>(section);
    if (!target) throw ConfigError("--set " + assignment + ": " + section + " is not a section");
  }
  target->insert_or_assign(key, *parsed.get("v"));
}

toml::table parse_file(const std::string& path) {
  std::ifstream probe(path);
  if (!probe) throw ConfigError("config file " + path + ": cannot open");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config file " << path << ":" << e.source().begin.line << ":" << e.source().begin.column
       << ": malformed TOML: " << e.description();
    throw ConfigError(os.str());
  }
}

/// The model.* keys each kind reads besides kind, loss and seed.
const std::map<std::string, std::set<std::string>>& model_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"leaky2_fixed_outer", {"width", "gamma", "signs", "init_scale"}},
      {"two_layer_leaky", {"width", "alpha", "init_scale"}},
      {"deep", {"layers", "width", "skip", "init_scale"}},
      {"linear", {"init_scale"}},
      {"relu2", {"width", "init_radius"}},
  };
  return keys;
}

/// Keys that only the square-loss flow (model.kind = "relu2") reads.
const std::map<std::string, std::set<std::string>>& square_flow_only_keys() {
  static const std::map<std::string, std::set<std::string>> keys{{"stop", {"loss", "grad_norm"}}};
  return keys;
}
/// Every key of these sections that the square-loss flow reads (it writes no checkpoint: no store key).
const std::map<std::string, std::set<std::string>>& square_flow_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"flow", {"abs_tol", "rel_tol", "dt_initial", "sliding"}},
      {"stop", {"loss", "grad_norm", "log_t_max", "wall_s", "max_steps"}},
      {"output", {"record_every_log_t", "k_top"}},
      {"store", {}},
  };
  return keys;
}

/// Refuses a key that the flow of the chosen kind would silently ignore: a margin-flow key on relu2,
/// a square-loss key on any other kind.
void check_square_flow_keys(const toml::table& root, const std::string& kind) {
  const bool square = kind == "relu2";
  for (const auto& [section, allowed] : square ? square_flow_keys() : square_flow_only_keys()) {
    const auto* table = root.get_as<toml::table>(section);
    if (!table) continue;
    for (const auto& [key, _] : *table) {
      const std::string k(key.str());
      if (square && !allowed.count(k))
        throw ConfigError(section + "." + k + " does not apply to model.kind = \"relu2\" (square loss, dopri5 in plain time t); " +
                          (allowed.empty() ? "it has no " + section + " keys" : "its " + section + " keys are " + join(allowed)));
      if (!square && allowed.count(k))
        throw ConfigError(section + "." + k + " applies to the square loss only (model.kind = \"relu2\"), not to model.kind = \"" +
                          kind + "\"");
    }
  }
}

/// Refuses a model.* key that the chosen kind does not read (it would be silently ignored).
void check_model_keys(const toml::table& root, const std::string& kind) {
  const auto it = model_keys().find(kind);
  if (it == model_keys().end())
    throw ConfigError("model.kind = \"" + kind + "\": allowed values are \"leaky2_fixed_outer\", \"two_layer_leaky\", "
                      "\"deep\", \"linear\", \"relu2\"");
  const auto* model = root.get_as<toml::table>("model");
  if (!model) return;
  for (const auto& [key, _] : *model) {
    const std::string k(key.str());
    if (k != "kind" && k != "loss" && k != "seed" && !it->second.count(k))
      throw ConfigError("model." + k + " does not apply to model.kind = \"" + kind + "\"; its keys are kind, loss, seed, " +
                        join(it->second));
  }
}

/// model.loss: "square" for relu2 (vector outputs), a margin loss for every other kind.
void read_loss(Reader& r, RunConfig& c) {
  const bool square = c.model_kind == "relu2";
  std::string loss = square ? "square" : to_string(c.loss);
  r.get("model", "loss", loss);
  if (square && loss != "square")
    throw ConfigError("model.loss = \"" + loss + "\": model.kind = \"relu2\" trains with the square loss; allowed value is \"square\"");
  if (!square && loss == "square")
    throw ConfigError("model.loss = \"square\": only model.kind = \"relu2\" has vector outputs and the square loss; allowed "
                      "values for model.kind = \"" + c.model_kind + "\" are \"exp\", \"logistic\"");
  if (!square) c.loss = parse_loss_kind(loss);
}

void read_model(Reader& r, const toml::table& root, RunConfig& c) {
  r.get("model", "kind", c.model_kind);
  check_model_keys(root, c.model_kind);
  check_square_flow_keys(root, c.model_kind);
  read_loss(r, c);
  r.get("model", "seed", c.model.seed);
  if (c.model_kind == "leaky2_fixed_outer") {
    std::string signs = c.model.balanced_signs ? "balanced" : "random";
    r.get("model", "width", c.model.width);
    r.get("model", "gamma", c.model.gamma);
    r.get("model", "signs", signs);
    r.get("model", "init_scale", c.model.init_scale);
    if (signs != "balanced" && signs != "random")
      throw ConfigError("model.signs = \"" + signs + "\": allowed values are \"balanced\", \"random\"");
    c.model.balanced_signs = signs == "balanced";
  } else if (c.model_kind == "two_layer_leaky") {
    c.two_layer.seed = c.model.seed;
    r.get("model", "width", c.two_layer.width);
    r.get("model", "alpha", c.two_layer.alpha);
    r.get("model", "init_scale", c.two_layer.init_scale);
  } else if (c.model_kind == "deep") {
    c.deep.seed = c.model.seed;
    r.get("model", "layers", c.deep.layers);
    r.get("model", "width", c.deep.width);
    r.get("model", "skip", c.deep.skip);
    r.get("model", "init_scale", c.deep.init_scale);
  } else if (c.model_kind == "relu2") {
    c.relu2.seed = c.model.seed;
    r.get("model", "width", c.relu2.width);
    r.get("model", "init_radius", c.relu2.init_radius);
  } else {
    r.get("model", "init_scale", c.linear_init_scale);
  }
}

/// data.shift, read (and stored in the resolved configuration) for the kinds that have it only.
void read_shift(Reader& r, const toml::table& root, RunConfig& c) {
  const auto* data = root.get_as<toml::table>("data");
  const bool given = data && data->contains("shift");
  if (c.data.kind == "shifted_triple" || c.data.kind == "lyu2021_fragile") {
    r.get("data", "shift", c.data.shift);
  } else if (given) {
    throw ConfigError("data.shift applies to data.kind = \"shifted_triple\" and \"lyu2021_fragile\" only, not to data.kind = \"" +
                      c.data.kind + "\"");
  }
}

/// [init]: a warm start from the limit direction of another run (continuation sweeps). Margin
/// losses only: the square-loss flow of relu2 has no margin to scale the direction to.
void read_init(Reader& r, const toml::table& root, RunConfig& c) {
  const auto* init = root.get_as<toml::table>("init");
  if (init && c.model_kind == "relu2")
    throw ConfigError("[init] does not apply to model.kind = \"relu2\": a warm start is scaled to a margin, and relu2 trains "
                      "with the square loss");
  if (!init) return;  // nothing stored: configurations without a warm start read as before [init] existed
  r.get("init", "theta_file", c.init.theta_file);
  r.get("init", "margin", c.init.margin);
  if (init->contains("margin") && c.init.theta_file.empty())
    throw ConfigError("init.margin applies to a warm start; give init.theta_file too");
}

/// The square-loss flow's options (model.kind = "relu2"), from the keys square_flow_keys() allows.
void read_square_flow(Reader& r, RunConfig& c) {
  SquareFlowOptions& q = c.square;
  r.get("flow", "abs_tol", q.abs_tol);
  r.get("flow", "rel_tol", q.rel_tol);
  r.get("flow", "dt_initial", q.dt_initial);
  r.get("flow", "sliding", q.sliding);
  r.get("stop", "loss", q.stop.loss);
  r.get("stop", "grad_norm", q.stop.grad_norm);
  r.get("stop", "log_t_max", q.stop.log_t_max);
  r.get("stop", "wall_s", q.stop.wall_s);
  r.get("stop", "max_steps", q.stop.max_steps);
  r.get("output", "record_every_log_t", q.record_every_log_t);
  r.get("output", "k_top", q.k_top);
  c.driver.output.k_top = q.k_top;
  c.stepper_label = "dopri5 (square loss, plain time t)";
}

void read_sections(Reader& r, const toml::table& root, RunConfig& c) {
  r.get("", "seed", c.seed);
  c.data.seed = c.seed;
  c.model.seed = c.seed + 1;
  r.get("data", "kind", c.data.kind);
  r.get("data", "n", c.data.n);
  r.get("data", "d", c.data.d);
  r.get("data", "seed", c.data.seed);
  r.get("data", "scale", c.data.scale);
  r.get("data", "mean_norm", c.data.mean_norm);
  r.get("data", "noise", c.data.noise);
  read_shift(r, root, c);
  r.get("data", "unit_norm", c.data.unit_norm);
  r.get("data", "path", c.data.path);

  read_model(r, root, c);
  read_init(r, root, c);
  if (c.model_kind == "relu2") {
    c.coordinates = "full";
    read_square_flow(r, c);
    return;
  }

  std::string time = to_string(c.time);
  r.get("flow", "time", time);
  c.time = parse_time_mode(time);
  // Only the fixed-outer net has the data-span chart; every other model integrates θ itself.
  if (c.model_kind != "leaky2_fixed_outer") c.coordinates = "full";
  r.get("flow", "coordinates", c.coordinates);
  r.get("flow", "freeze_pattern", c.driver.freeze_pattern);
  // "auto" (the default): switch_radau, handing off to region_ros2 once the late phase begins,
  // wherever both apply; dopri5 elsewhere (README, "Late phase": chosen by bench/late_phase and
  // bench/scale). Before the hand-off switch events set an event-driven step, and switch_radau
  // takes hundreds of them in one step, stiff or not.
  const bool region_ok = c.time == TimeMode::loss && c.coordinates == "span" && c.driver.freeze_pattern;
  // θ coordinates: dopri5, handing off to margin_ros3 (solver/margin_ros_stepper.hpp), which takes
  // normalized time (bench/late_phase_models: dopri5's early phase in loss time, the late phase in
  // normalized time took the least time on every model it measures).
  const bool margin_ok = c.time != TimeMode::t && c.coordinates == "full";
  std::string stepper = "auto";
  r.get("flow", "stepper", stepper);
  r.get("flow", "late_phase_ratio", c.driver.late.stable_ratio);
  r.get("flow", "late_phase_log_t", c.driver.late.log_t_min);
  c.hand_off = stepper == "auto" && (region_ok || margin_ok);
  c.late_stepper = region_ok ? StepperKind::region_ros2 : StepperKind::margin_ros3;
  c.stepper_label = stepper != "auto" ? stepper
                    : region_ok       ? "auto (switch_radau, then region_ros2)"
                    : margin_ok       ? "auto (dopri5, then margin_ros3)"
                                      : "auto (dopri5)";
  if (stepper == "auto") stepper = to_string(region_ok ? StepperKind::switch_radau : StepperKind::dopri5);
  r.get("flow", "abs_tol", c.stepper.abs_tol);
  r.get("flow", "rel_tol", c.stepper.rel_tol);
  r.get("flow", "gd_step", c.stepper.gd_step);
  std::string precision = "double";
  r.get("flow", "precision", precision);
  c.stepper.precision = parse_precision(precision);
  // Only region_ros2 carries state in another type (solver/precision.hpp says why the late
  // margins are where double runs out); elsewhere the key would silently do nothing.
  if (!(c.stepper.precision == Precision{}) && !(c.hand_off && region_ok) && stepper != "region_ros2")
    throw ConfigError("flow.precision = \"" + precision + "\": applies to the late-phase stepper region_ros2, which flow.stepper = \"" +
                      c.stepper_label + "\" does not use; allowed with flow.stepper = \"auto\" (span coordinates, loss time, "
                      "frozen pattern) or \"region_ros2\"");
  r.get("flow", "dt_initial", c.driver.dt_initial);
  r.get("flow", "dt_max", c.driver.dt_max);
  r.get("flow", "sliding", c.driver.sliding.enabled);
  r.get("flow", "sliding_flips", c.driver.sliding.flips);
  r.get("flow", "sliding_window", c.driver.sliding.window_steps);
  r.get("flow", "capture_on_arrival", c.driver.sliding.capture_on_arrival);
  try {
    c.stepper.kind = parse_stepper_kind(stepper);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string(e.what()) + ", auto");
  }
  // Their matrix takes the margin gradients G of θ coordinates (FullCoordinates holds sliding
  // pairs' Filippov projection in G; the span chart's region methods do the span's late phase).
  const bool margin_method = c.stepper.kind == StepperKind::margin_ros2 || c.stepper.kind == StepperKind::margin_ros3;
  if (margin_method && c.coordinates != "full")
    throw ConfigError("flow.stepper = \"" + stepper + "\" integrates θ coordinates: needs flow.coordinates = \"full\" "
                      "(the span chart's late-phase method is region_ros2)");
  if (margin_method && c.time == TimeMode::t)
    throw ConfigError("flow.stepper = \"" + stepper + "\" integrates in normalized time: needs flow.time = \"loss\" "
                      "or \"normalized\", not \"t\"");

  auto& s = c.driver.stop;
  r.get("stop", "kkt_eps", s.kkt_eps);
  r.get("stop", "one_minus_beta", s.one_minus_beta);
  r.get("stop", "direction_change", s.direction_change);
  r.get("stop", "log_t_min", s.log_t_min);
  r.get("stop", "log_t_max", s.log_t_max);
  r.get("stop", "wall_s", s.wall_s);
  r.get("stop", "max_steps", s.max_steps);

  auto& o = c.driver.output;
  r.get("output", "record_every_log_t", o.record_every_log_t);
  r.get("output", "record_relative", o.record_relative);
  r.get("output", "snapshot_ratio", o.snapshot_ratio);
  r.get("output", "k_top", o.k_top);

  r.get("store", "checkpoint_seconds", c.driver.checkpoint_every_s);
}

/// Every key of a resolved configuration as "section.key" → its value as TOML text.
std::map<std::string, std::string> flatten(const toml::table& root) {
  std::map<std::string, std::string> out;
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (const auto* section = node.as_table()) {
      for (const auto& [sub, value] : *section) out[k + "." + std::string(sub.str())] = toml_text(value);
    } else {
      out[k] = toml_text(node);
    }
  }
  return out;
}

toml::table parse_resolved(const std::string& text, const std::string& what) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    throw ConfigError(what + ": malformed TOML: " + std::string(e.description()));
  }
}

void validate(const RunConfig& c) {
  if (c.coordinates != "span" && c.coordinates != "full")
    throw ConfigError("flow.coordinates = \"" + c.coordinates + "\": allowed values are \"span\", \"full\"");
  if (c.coordinates == "span" && c.model_kind != "leaky2_fixed_outer")
    throw ConfigError("flow.coordinates = \"span\": the data-span chart exists only for model.kind = "
                      "\"leaky2_fixed_outer\"; use \"full\" with model.kind = \"" + c.model_kind + "\"");
  validate(c.data);
  if (c.model_kind == "leaky2_fixed_outer") validate(c.model);
  if (c.model_kind == "two_layer_leaky") validate(c.two_layer);
  if (c.model_kind == "deep") validate(c.deep);
  if (c.model_kind == "relu2") validate(c.relu2);
  if (c.model_kind == "relu2") validate(c.square);
  if (!(c.linear_init_scale >= 0 && std::isfinite(c.linear_init_scale)))
    throw ConfigError("model.init_scale = " + std::to_string(c.linear_init_scale) + ": must be a finite number ≥ 0");
  if (!(c.init.margin > 0 && std::isfinite(c.init.margin)))
    throw ConfigError("init.margin = " + std::to_string(c.init.margin) + ": must be a finite number > 0");
  validate(c.stepper);
  validate(c.driver);
}

}  // namespace

std::vector<KeyChange> changed_keys(const std::string& before_toml, const std::string& after_toml) {
  const auto before = flatten(parse_resolved(before_toml, "the stored configuration"));
  const auto after = flatten(parse_resolved(after_toml, "the given configuration"));
  std::vector<KeyChange> changes;
  for (const auto& [key, value] : before) {
    const auto it = after.find(key);
    const std::string now = it == after.end() ? "(absent)" : it->second;
    if (now != value) changes.push_back({key, value, now});
  }
  for (const auto& [key, value] : after)
    if (!before.count(key)) changes.push_back({key, "(absent)", value});
  return changes;
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root = parse_file(path);
  for (const auto& o : overrides) apply_override(root, o);
  check_known_keys(root);
  RunConfig c;
  if (const auto* data = root.get_as<toml::table>("data")) c.data_shape_given = data->contains("d") || data->contains("n");
  toml::table resolved;
  Reader reader(root, resolved);
  try {
    read_sections(reader, root, c);
    validate(c);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  std::ostringstream os;
  os << resolved;
  c.resolved_toml = os.str();
  return c;
}

}  // namespace kktflow
