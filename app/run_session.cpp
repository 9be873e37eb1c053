#include "run_session.hpp"

#include "exit_codes.hpp"
#include "run_loop.hpp"

#include "analysis/io/data_file.hpp"
#include "analysis/io/run_store.hpp"
#include "problems/data_selection.hpp"
#include "problems/init.hpp"
#include "problems/leaky2_fixed_outer.hpp"
#include "problems/model_registry.hpp"

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#ifndef KKTFLOW_VERSION
#define KKTFLOW_VERSION "0.0.0"
#endif
#ifndef KKTFLOW_GIT_COMMIT
#define KKTFLOW_GIT_COMMIT "unknown"
#endif

namespace kktflow {

namespace {

std::string iso_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

Dataset load_data(const RunConfig& c) {
  Dataset data;
  try {
    const bool hdf5 = c.data.from_file() && data_format(c.data) == "hdf5";
    data = hdf5 ? prepare_dataset(read_hdf5_table(c.data.path), c.data) : make_dataset(c.data);
  } catch (const std::exception& e) {  // a missing or malformed data file is a config error
    throw ConfigError(e.what());
  }
  if (c.data.from_file() && c.data_shape_given && (data.d() != c.data.d || data.n() != c.data.n))
    throw ConfigError("data.n, data.d = " + std::to_string(c.data.n) + ", " + std::to_string(c.data.d) +
                      " do not match the file " + c.data.path + ", which holds n = " + std::to_string(data.n()) +
                      ", d = " + std::to_string(data.d()) + "; remove them or make them agree");
  return data;
}

/// θ(0) of a warm start (config.hpp: WarmStart) from the final θ of the run file init.theta_file.
Eigen::VectorXd warm_start(const RunConfig& c, const Dataset& data, Model& model) {
  const std::string key = "init.theta_file = \"" + c.init.theta_file + "\": ";
  try {
    return warm_start_theta(model, data.y, read_final_theta(c.init.theta_file), c.init.margin);
  } catch (const std::exception& e) {
    throw ConfigError(key + e.what());
  }
}

/// /model attributes: the kind's description (model_registry.hpp), from which verify rebuilds
/// the model, and how the run integrated it.
void model_metadata(const RunConfig& c, const Model& model, RunMetadata& m) {
  const bool square = c.model.kind == "relu2";
  const ModelDescription d = describe_model(c.model);
  m.model_attrs = d.text;
  m.model_attrs.insert({{"kind", model.kind()}, {"loss", square ? "square" : to_string(c.loss)},
                        {"time", square ? "t" : to_string(c.time)}, {"stepper", c.stepper_label},
                        {"coordinates", c.coordinates}});
  m.model_numbers = d.numbers;
  m.model_numbers["homogeneity"] = model.homogeneity();
  if (const auto* leaky2 = dynamic_cast<const Leaky2FixedOuter*>(&model)) m.a = leaky2->outer();
}

RunMetadata metadata(const RunConfig& c, const Dataset& data, const Model& model) {
  RunMetadata m;
  m.config_text = c.resolved_toml;
  m.seed = c.seed;
  m.kktflow_version = KKTFLOW_VERSION;
  m.git_commit = KKTFLOW_GIT_COMMIT;
  m.created = iso_now();
  m.X = data.X;
  m.y = data.y;
  m.data_attrs = data.params;
  m.data_attrs["source"] = data.source;
  model_metadata(c, model, m);
  for (const auto& layer : model.layers()) {
    m.layer_names.push_back(layer.name);
    m.layer_shapes.push_back(layer.rows);
    m.layer_shapes.push_back(layer.cols);
  }
  m.k_top = c.driver.output.k_top;
  return m;
}

/// Counts sliding entries (events with new_sign 0) for the summary.
class SlidingCounter final : public Observer {
 public:
  void on_event(const SwitchEvent& e) override { m_count += e.new_sign == 0; }
  std::int64_t count() const { return m_count; }

 private:
  std::int64_t m_count = 0;
};

/// Keys a resumed run may change: the stop rules (to extend a run) and the checkpoint cadence.
/// Every other key shapes the trajectory, and the resumed run would not be the one in the file.
bool may_change_on_resume(const std::string& key) { return key.starts_with("stop.") || key.starts_with("store."); }

/// The checkpoint to continue `out` from, or nothing (and why in `finished`) when the run there
/// has finished and the given config does not extend its stop rules. Throws ConfigError when the config differs from
/// the file's in a key that shapes the trajectory, h5::Error when the file cannot be continued.
std::optional<StoredCheckpoint> checkpoint_to_resume(const std::string& out, const RunConfig& c, std::string& finished) {
  // A run killed while it wrote /final (outside SWMR mode) leaves a mark no reader may pass.
  clear_writer_marks(out);
  const RunSummary stored = read_run_summary(out);
  bool stop_changed = false;
  for (const KeyChange& change : changed_keys(stored.config, c.resolved_toml)) {
    if (!may_change_on_resume(change.key))
      throw ConfigError("--resume: " + change.key + " = " + change.after + ", but the run in " + out +
                        " was made with " + change.key + " = " + change.before +
                        "; a resumed run may change only stop.* and store.* keys");
    stop_changed = stop_changed || change.key.starts_with("stop.");
  }
  if (stored.status != "running" && stored.status != to_string(Status::interrupted) && !stop_changed) {
    finished = out + ": the run has finished (" + stored.status + ": " + stored.status_reason +
               "); extend a stop.* key to continue it";
    return std::nullopt;
  }
  StoredCheckpoint checkpoint = read_checkpoint(out);
  // A run killed while it finished stops again at once; changed stop rules extend it instead.
  if (stop_changed) checkpoint.driver.stopped_status = -1;
  return checkpoint;
}

/// The trajectory row recorded last before `from`, if any.
std::optional<Record> last_row_before(const std::string& out, const StoredCheckpoint& from) {
  if (from.rows.trajectory == 0) return std::nullopt;
  return read_trajectory(out).at(static_cast<std::size_t>(from.rows.trajectory - 1));
}

}  // namespace

int exit_code_for(Status s) {
  switch (s) {
    case Status::non_finite:
    case Status::no_progress: return exit_numerical;
    case Status::interrupted: return exit_interrupted;
    default: return exit_ok;
  }
}

RunOutcome run_session(const RunRequest& request) {
  const RunConfig& c = request.config;
  const std::string& out = request.output;
  std::optional<StoredCheckpoint> from;
  if (request.resume) {
    std::string finished;
    from = checkpoint_to_resume(out, c, finished);
    if (!from) return {exit_ok, false, false, {}, 0, finished};
  }
  const Dataset data = load_data(c);
  BuiltModel built = make_model(c.model, data.X);
  Model& model = *built.model;
  if (!c.init.theta_file.empty()) built.theta0 = warm_start(c, data, model);
  RunLoop loop(c, model, data, built.theta0);
  Driver& driver = loop.driver();

  if (from) driver.resume_from(std::move(from->driver), last_row_before(out, *from));

  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  RunWriter writer = from ? RunWriter(out, from->rows, c.resolved_toml) : RunWriter(out, metadata(c, data, model), request.force);
  SlidingCounter sliding;
  driver.add_observer(writer);
  driver.add_observer(sliding);
  for (Observer* o : request.observers) driver.add_observer(*o);

  RunOutcome outcome;
  outcome.ran = true;
  outcome.square = c.model.kind == "relu2";
  outcome.result = driver.run(loop.state(), request.interrupted);
  outcome.sliding_entries = sliding.count();
  outcome.exit_code = exit_code_for(outcome.result.status);
  if (const Eigen::VectorXd lambda = loop.multipliers(); lambda.size() > 0) writer.write_final("lambda", lambda);
  if (!writer.failure().empty()) {
    outcome.message = "writing " + out + " failed: " + writer.failure();
    outcome.exit_code = exit_io;
  }
  return outcome;
}

}  // namespace kktflow
