#include "config.hpp"

#include "config_checks.hpp"
#include "config_reader.hpp"
#include "config_toml.hpp"

#include "problems/data_loaders.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace kktflow {

namespace {

using config_detail::apply_override;
using config_detail::check_known_keys;
using config_detail::join;
using config_detail::parse_config_file;
using config_detail::parse_config_text;
using config_detail::Reader;
using config_detail::toml_text;

/// Keys that only the square-loss flow (model.kind = "relu2") reads.
const std::map<std::string, std::set<std::string>>& square_flow_only_keys() {
  static const std::map<std::string, std::set<std::string>> keys{{"stop", {"loss", "grad_norm"}}};
  return keys;
}
/// Every key of these sections that the square-loss flow reads.
const std::map<std::string, std::set<std::string>>& square_flow_keys() {
  static const std::map<std::string, std::set<std::string>> keys{
      {"flow", {"abs_tol", "rel_tol", "dt_initial", "sliding"}},
      {"stop", {"loss", "grad_norm", "log_t_max", "wall_s", "max_steps"}},
      {"output", {"record_every_log_t", "k_top"}},
      {"store", {"checkpoint_seconds"}},
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
        throw ConfigError(
            section + "." + k + " does not apply to model.kind = \"relu2\" (square loss, dopri5 in plain time t); " +
            (allowed.empty() ? "it has no " + section + " keys" : "its " + section + " keys are " + join(allowed)));
      if (!square && allowed.count(k))
        throw ConfigError(section + "." + k +
                          " applies to the square loss only (model.kind = \"relu2\"), not to model.kind = \"" + kind +
                          "\"");
    }
  }
}

/// Refuses a model.* key that the chosen kind does not read (it would be silently ignored).
void check_model_keys(const toml::table& root, const std::string& kind) {
  const std::set<std::string>* keys = nullptr;
  try {
    keys = &model_keys(kind);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  const auto* model = root.get_as<toml::table>("model");
  if (!model) return;
  for (const auto& [key, _] : *model) {
    const std::string k(key.str());
    if (k != "kind" && k != "loss" && k != "seed" && !keys->count(k))
      throw ConfigError("model." + k + " does not apply to model.kind = \"" + kind +
                        "\"; its keys are kind, loss, seed, " + join(*keys));
  }
}

/// model.loss: "square" for relu2 (vector outputs), a margin loss for every other kind.
void read_loss(Reader& r, RunConfig& c) {
  const bool square = c.model.kind == "relu2";
  std::string loss = square ? "square" : to_string(c.loss);
  r.get("model", "loss", loss);
  if (square && loss != "square")
    throw ConfigError("model.loss = \"" + loss +
                      "\": model.kind = \"relu2\" trains with the square loss; allowed value is \"square\"");
  if (!square && loss == "square")
    throw ConfigError(
        "model.loss = \"square\": only model.kind = \"relu2\" has vector outputs and the square loss; allowed "
        "values for model.kind = \"" +
        c.model.kind + "\" are \"exp\", \"logistic\"");
  if (!square) c.loss = parse_loss_kind(loss);
}

void read_model(Reader& r, const toml::table& root, RunConfig& c, std::uint64_t seed) {
  ModelSpec& m = c.model;
  r.get("model", "kind", m.kind);
  check_model_keys(root, m.kind);
  check_square_flow_keys(root, m.kind);
  read_loss(r, c);
  r.get("model", "seed", seed);
  set_model_seed(m, seed);
  if (m.kind == "leaky2_fixed_outer") {
    std::string signs = m.leaky2.balanced_signs ? "balanced" : "random";
    r.get("model", "width", m.leaky2.width);
    r.get("model", "gamma", m.leaky2.gamma);
    r.get("model", "signs", signs);
    r.get("model", "init_scale", m.leaky2.init_scale);
    if (signs != "balanced" && signs != "random")
      throw ConfigError("model.signs = \"" + signs + "\": allowed values are \"balanced\", \"random\"");
    m.leaky2.balanced_signs = signs == "balanced";
  } else if (m.kind == "two_layer_leaky") {
    r.get("model", "width", m.two_layer.width);
    r.get("model", "alpha", m.two_layer.alpha);
    r.get("model", "init_scale", m.two_layer.init_scale);
  } else if (m.kind == "deep") {
    r.get("model", "layers", m.deep.layers);
    r.get("model", "width", m.deep.width);
    r.get("model", "skip", m.deep.skip);
    r.get("model", "init_scale", m.deep.init_scale);
  } else if (m.kind == "relu2") {
    r.get("model", "width", m.relu2.width);
    r.get("model", "init_radius", m.relu2.init_radius);
  } else {
    r.get("model", "init_scale", m.linear.init_scale);
  }
}

/// data.shift, read (and stored in the resolved configuration) for the kinds that have it only.
void read_shift(Reader& r, const toml::table& root, RunConfig& c) {
  const auto* data = root.get_as<toml::table>("data");
  const bool given = data && data->contains("shift");
  if (c.data.kind == "shifted_triple" || c.data.kind == "lyu2021_fragile") {
    r.get("data", "shift", c.data.shift);
  } else if (given) {
    throw ConfigError(
        "data.shift applies to data.kind = \"shifted_triple\" and \"lyu2021_fragile\" only, not to data.kind = \"" +
        c.data.kind + "\"");
  }
}

/// The default of flow.time. Loss time's field grows like ‖θ‖^(L−1), and for L ≥ 3 dopri5's early
/// phase in normalized time took fewer steps on every net bench/late_phase_models measures
/// (le2022_relu_trailing: 5 374 steps to ε_KKT ≤ 1e-10, against none within its 20 s in loss time;
/// the depth-3 and depth-4 linear nets 8% and 11% fewer). For L = 2 the two were within 3%, except
/// two_layer_gaussian at seeds 4 and 5, where loss time took 6% and 52% fewer (54 111 steps
/// against 112 102). For L = 1 they are the same flow.
TimeMode default_time(const ModelSpec& m) {
  return m.kind == "deep" && m.deep.layers.size() >= 3 ? TimeMode::normalized : TimeMode::loss;
}

/// [init]: a warm start from the limit direction of another run (continuation sweeps). Margin
/// losses only: the square-loss flow of relu2 has no margin to scale the direction to.
void read_init(Reader& r, const toml::table& root, RunConfig& c) {
  const auto* init = root.get_as<toml::table>("init");
  if (init && c.model.kind == "relu2")
    throw ConfigError(
        "[init] does not apply to model.kind = \"relu2\": a warm start is scaled to a margin, and relu2 trains "
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
  r.get("store", "checkpoint_seconds", q.checkpoint_every_s);
  c.driver.output.k_top = q.k_top;
  c.stepper_label = "dopri5 (square loss, plain time t)";
}

/// The keys only the read kinds (csv, idx, npy, hdf5, file) take.
const std::set<std::string>& read_only_data_keys() {
  static const std::set<std::string> keys{"path",    "labels",   "label_column", "x_key",  "y_key",
                                          "classes", "positive", "per_class",    "select", "normalize"};
  return keys;
}

/// A label given in the configuration as a TOML integer, float or string, as label text.
std::string label_value(const toml::node& node, const std::string& name) {
  if (const auto s = node.value_exact<std::string>()) return canonical_label(*s);
  if (const auto v = node.value<double>()) return label_text(*v);
  throw ConfigError(name + " = " + toml_text(node) + ": expected a label (an integer or a string)");
}

/// data.classes (two labels) and data.positive (one), as label text, stored as strings.
void read_labels(Reader& r, const toml::table* data, DatasetSpec& d) {
  if (const toml::node* node = data ? data->get("classes") : nullptr) {
    const auto* array = node->as_array();
    if (!array || array->size() != 2)
      throw ConfigError("data.classes = " + toml_text(*node) + ": expected two labels, e.g. data.classes = [5, 7]");
    for (const auto& element : *array) d.classes.push_back(label_value(element, "data.classes"));
    r.store("data", "classes", d.classes);
  }
  if (const toml::node* node = data ? data->get("positive") : nullptr) {
    d.positive = label_value(*node, "data.positive");
    r.store("data", "positive", d.positive);
  }
}

/// data.path = "" is what a resolved configuration of synthetic data holds (it names no file),
/// so reading one back is not an error.
bool empty_path(const toml::table& data, const std::string& key) {
  return key == "path" && data.get_as<std::string>("path") && data.get_as<std::string>("path")->get().empty();
}

/// A path relative to the configuration file's directory, as the file names it.
std::string relative_to(const std::filesystem::path& config_dir, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (config_dir / path).lexically_normal().string();
}

/// [data]: a generated kind with its parameters, or a file with the keys that select from it.
/// Paths resolve against the configuration file's directory; the resolved configuration stores
/// them resolved. A read-only key on a generated kind is refused (it would do nothing).
void read_data(Reader& r, const toml::table& root, RunConfig& c, const std::filesystem::path& config_dir) {
  DatasetSpec& d = c.data;
  const auto* data = root.get_as<toml::table>("data");
  r.get("data", "kind", d.kind);
  r.get("data", "n", d.n);
  r.get("data", "d", d.d);
  r.get("data", "seed", d.seed);
  if (!d.from_file()) {
    for (const auto& key : read_only_data_keys())
      if (data && data->contains(key) && !empty_path(*data, key))
        throw ConfigError("data." + key +
                          " applies to data read from a file (data.kind = \"file\", \"csv\", \"idx\", \"npy\", "
                          "\"hdf5\"), not to data.kind = \"" +
                          d.kind + "\"");
    r.get("data", "scale", d.scale);
    r.get("data", "mean_norm", d.mean_norm);
    r.get("data", "noise", d.noise);
    read_shift(r, root, c);
    r.get("data", "unit_norm", d.unit_norm);
    r.store("data", "path", d.path);  // "", as configurations resolved before the read kinds have it
    return;
  }
  for (const char* key : {"scale", "mean_norm", "noise", "shift", "unit_norm"})
    if (data && data->contains(key))
      throw ConfigError(std::string("data.") + key + " applies to generated data, not to data.kind = \"" + d.kind +
                        "\"; data.normalize = \"unit_norm\" rescales samples read from a file");
  r.get("data", "path", d.path);
  r.get("data", "labels", d.labels);
  d.path = relative_to(config_dir, d.path);
  d.labels = relative_to(config_dir, d.labels);
  r.store("data", "path", d.path);
  r.store("data", "labels", d.labels);
  r.get("data", "label_column", d.label_column);
  r.get("data", "x_key", d.x_key);
  r.get("data", "y_key", d.y_key);
  read_labels(r, data, d);
  r.get("data", "per_class", d.per_class);
  r.get("data", "select", d.select);
  r.get("data", "normalize", d.normalize);
}

/// flow.late_stepper: the method `auto` hands off to in the late phase, region_ros2 (span chart)
/// or margin_ros3 (θ coordinates) unless given. Stored only when given, so that runs written
/// before the key existed resume with their configuration unchanged.
StepperKind late_stepper(Reader& r, const std::string& stepper, bool region_ok, bool margin_ok) {
  const StepperKind fallback = region_ok ? StepperKind::region_ros2 : StepperKind::margin_ros3;
  if (!r.find("flow", "late_stepper")) return fallback;
  std::string late;
  r.get("flow", "late_stepper", late);
  const std::vector<std::string> allowed = region_ok   ? std::vector<std::string>{"region_ros2", "region_ros3"}
                                           : margin_ok ? std::vector<std::string>{"margin_ros3", "margin_ros2"}
                                                       : std::vector<std::string>{};
  if (stepper != "auto" || allowed.empty())
    throw ConfigError("flow.late_stepper = \"" + late +
                      "\": names the method flow.stepper = \"auto\" hands off to, and this configuration has no "
                      "hand-off (flow.stepper = \"" +
                      stepper + "\"" + (stepper == "auto" ? ", flow.time = \"t\"" : "") + ")");
  if (std::find(allowed.begin(), allowed.end(), late) == allowed.end())
    throw ConfigError("flow.late_stepper = \"" + late + "\": allowed here (" +
                      (region_ok ? "span coordinates" : "θ coordinates") + "): \"" + allowed[0] + "\", \"" +
                      allowed[1] + "\"");
  return parse_stepper_kind(late, "flow.late_stepper");
}

void read_sections(Reader& r, const toml::table& root, RunConfig& c, const std::filesystem::path& config_dir) {
  r.get("", "seed", c.seed);
  c.data.seed = c.seed;
  read_data(r, root, c, config_dir);

  read_model(r, root, c, c.seed + 1);
  read_init(r, root, c);
  if (c.model.kind == "relu2") {
    c.coordinates = "full";
    read_square_flow(r, c);
    read_limits(r, c);
    return;
  }

  std::string time = to_string(default_time(c.model));
  r.get("flow", "time", time);
  c.time = parse_time_mode(time);
  // Only the fixed-outer net has the data-span chart; every other model integrates θ itself.
  if (c.model.kind != "leaky2_fixed_outer") c.coordinates = "full";
  r.get("flow", "coordinates", c.coordinates);
  r.get("flow", "freeze_pattern", c.driver.freeze_pattern);
  // "auto" (the default): switch_radau, handing off to region_ros2 once the late phase begins,
  // wherever both apply; dopri5 elsewhere (docs/method.md, "Late phase": chosen by bench/late_phase and
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
  c.late_stepper = late_stepper(r, stepper, region_ok, margin_ok);
  const std::string late = to_string(c.late_stepper);
  c.stepper_label = stepper != "auto" ? stepper
                    : region_ok       ? "auto (switch_radau, then " + late + ")"
                    : margin_ok       ? "auto (dopri5, then " + late + ")"
                                      : "auto (dopri5)";
  if (stepper == "auto") stepper = to_string(region_ok ? StepperKind::switch_radau : StepperKind::dopri5);
  r.get("flow", "abs_tol", c.stepper.abs_tol);
  r.get("flow", "rel_tol", c.stepper.rel_tol);
  r.get("flow", "gd_step", c.stepper.gd_step);
  std::string precision = "double";
  r.get("flow", "precision", precision);
  c.stepper.precision = parse_precision(precision);
  // Only the region steppers carry state in another type (solver/precision.hpp says why the late
  // margins are where double runs out); elsewhere the key would silently do nothing.
  if (!(c.stepper.precision == Precision{}) && !(c.hand_off && region_ok) && stepper != "region_ros2" &&
      stepper != "region_ros3")
    throw ConfigError("flow.precision = \"" + precision +
                      "\": applies to the late-phase steppers region_ros2 and region_ros3, which flow.stepper = \"" +
                      c.stepper_label +
                      "\" does not use; allowed with flow.stepper = \"auto\" (span coordinates, loss time, "
                      "frozen pattern), \"region_ros2\" or \"region_ros3\"");
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
  check_margin_stepper(c);

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
  read_limits(r, c);
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
  if (c.coordinates == "span" && c.model.kind != "leaky2_fixed_outer")
    throw ConfigError(
        "flow.coordinates = \"span\": the data-span chart exists only for model.kind = "
        "\"leaky2_fixed_outer\"; use \"full\" with model.kind = \"" +
        c.model.kind + "\"");
  validate(c.data);
  validate(c.model);
  if (c.model.kind == "relu2") validate(c.square);
  if (!(c.init.margin > 0 && std::isfinite(c.init.margin)))
    throw ConfigError("init.margin = " + std::to_string(c.init.margin) + ": must be a finite number > 0");
  validate(c.stepper);
  validate(c.driver);
  check_stop_and_output(c);
}

/// Applies `overrides` to `root`, fills defaults and validates; relative data paths resolve
/// against `config_dir`. Throws ConfigError.
RunConfig resolve_config(toml::table root, const std::vector<std::string>& overrides,
                         const std::filesystem::path& config_dir) {
  for (const auto& o : overrides) apply_override(root, o);
  check_known_keys(root);
  RunConfig c;
  if (const auto* data = root.get_as<toml::table>("data"))
    c.data_shape_given = data->contains("d") || data->contains("n");
  toml::table resolved;
  Reader reader(root, resolved);
  try {
    read_sections(reader, root, c, config_dir);
    validate(c);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  std::ostringstream os;
  os << resolved;
  c.resolved_toml = os.str();
  return c;
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
  return resolve_config(parse_config_file(path), overrides, std::filesystem::path(path).parent_path());
}

RunConfig load_config_text(const std::string& text, const std::vector<std::string>& overrides) {
  return resolve_config(parse_config_text(text, "configuration text"), overrides, std::filesystem::path());
}

}  // namespace kktflow
