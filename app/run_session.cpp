#include "run_session.hpp"

#include "build_info.hpp"
#include "config_checks.hpp"
#include "exit_codes.hpp"
#include "memory_estimate.hpp"
#include "run_loop.hpp"
#include "run_output.hpp"
#include "run_resume.hpp"

#include "analysis/io/data_file.hpp"
#include "analysis/io/h5_error.hpp"
#include "analysis/io/path_checks.hpp"
#include "analysis/io/run_store.hpp"
#include "problems/data_selection.hpp"
#include "problems/init.hpp"
#include "problems/leaky2_fixed_outer.hpp"
#include "problems/model_registry.hpp"

#include <ctime>
#include <optional>
#include <stdexcept>

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

/// Refuses a data file whose numbers cannot fit the memory budget before reading it. A CSV file
/// holds a number in 2 bytes at least ("1,"), 4 times fewer than the double it becomes; a binary
/// one (IDX, NPY, HDF5) in 1 byte at least (uint8). A compressed file holds more than its size:
/// its content is bounded while it is inflated (max_decoded_bytes).
void check_data_file_budget(const RunConfig& c) {
  const std::string format = data_format(c.data);
  double bytes = 0;
  for (const std::string& path : {c.data.path, c.data.labels})
    if (!path.empty()) bytes += static_cast<double>(regular_file_bytes(path));
  MemoryEstimate file_only;
  file_only.parts.push_back({"the numbers of data.path", bytes * (format == "csv" ? 4 : 8)});
  check_memory_budget(c, file_only);
}

Dataset load_data(const RunConfig& c) {
  Dataset data;
  try {
    if (c.data.from_file()) check_data_file_budget(c);
    const bool hdf5 = c.data.from_file() && data_format(c.data) == "hdf5";
    DatasetSpec spec = c.data;
    spec.max_decoded_bytes = memory_budget_bytes(c) / 8;  // 1 byte stored, 8 in a double
    data = hdf5 ? prepare_dataset(read_hdf5_table(c.data.path), spec) : make_dataset(spec);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {  // a missing or malformed data file is a config error
    const std::string what = e.what();
    throw ConfigError(what.find("data.") != std::string::npos ? what : "data.path = \"" + c.data.path + "\": " + what);
  }
  if (c.data.from_file() && c.data_shape_given && (data.d() != c.data.d || data.n() != c.data.n))
    throw ConfigError("data.n, data.d = " + std::to_string(c.data.n) + ", " + std::to_string(c.data.d) +
                      " do not match the file " + c.data.path + ", which holds n = " + std::to_string(data.n()) +
                      ", d = " + std::to_string(data.d()) + "; remove them or make them agree");
  return data;
}

/// Refuses, in well under a second, a configuration whose estimated memory exceeds its budget;
/// for data read from a file the shape is known only once it is read (load_data checks the
/// file's size first).
void check_memory(const RunConfig& c, const Dataset* data) {
  if (c.data.from_file() && data == nullptr) return;
  const double n = data ? static_cast<double>(data->n()) : static_cast<double>(c.data.n);
  const double d = data ? static_cast<double>(data->d()) : static_cast<double>(c.data.d);
  check_memory_budget(c, estimate_run_memory(c, n, d));
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
  m.model_attrs.insert({{"kind", model.kind()},
                        {"loss", square ? "square" : to_string(c.loss)},
                        {"time", square ? "t" : to_string(c.time)},
                        {"stepper", c.stepper_label},
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
  m.build = build_fingerprint();
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

/// What a run that a signal stopped before its integration began reports: the output is as it
/// was.
RunOutcome interrupted_in_setup(const std::string& out) {
  RunOutcome outcome;
  outcome.exit_code = exit_interrupted;
  outcome.message = "interrupted before the integration started; " + out + " was not changed";
  return outcome;
}

/// The integration stops at the next step boundary when the caller asks, and once the run file
/// can no longer be written: rows computed after that would be lost.
std::function<bool()> stop_request(const RunRequest& request, const RunWriter& writer) {
  return [&request, &writer] { return request.interrupted() || !writer.failure().empty(); };
}

/// A failed write (a full disk, a removed directory): exit 3, and what the file still holds.
void report_write_failure(const RunWriter& writer, const std::string& out, RunOutcome& outcome) {
  outcome.message = "writing " + out + " failed: " + writer.failure() + "\n" + out +
                    " holds every row flushed before the failure; once there is room, `kktflow run --resume` "
                    "continues it from its last checkpoint";
  outcome.exit_code = exit_io;
}

/// Hands the checkpoint to the driver; a checkpoint that does not fit the run's system is a
/// damaged file (the configuration matched), so it is an I/O error naming /checkpoint.
void resume_driver(Driver& driver, const std::string& out, StoredCheckpoint from) {
  try {
    std::optional<Record> last = last_row_before(out, from);
    driver.resume_from(std::move(from.driver), std::move(last));
  } catch (const std::invalid_argument& e) {
    throw h5::Error("HDF5 file '" + out + "', object '/checkpoint': " + e.what() +
                    "; it does not fit the run's configuration: the file is damaged");
  }
}

}  // namespace

int exit_code_for(Status s) {
  switch (s) {
    case Status::non_finite:
    case Status::no_progress:
      return exit_numerical;
    case Status::interrupted:
      return exit_interrupted;
    default:
      return exit_ok;
  }
}

RunOutcome run_session(const RunRequest& request) {
  const RunConfig& c = request.config;
  check_input_paths(c);
  check_memory(c, nullptr);
  const RunOutput output(request.output, request.force, request.resume);
  const std::string& out = output.path();
  std::optional<StoredCheckpoint> from;
  if (request.resume) {
    std::string finished;
    from = checkpoint_to_resume(out, c, finished);
    if (!from) return {exit_ok, false, false, {}, 0, finished};
  }
  const Dataset data = load_data(c);
  check_memory(c, &data);
  if (request.interrupted()) return interrupted_in_setup(out);
  BuiltModel built = make_model(c.model, data.X);
  Model& model = *built.model;
  if (!c.init.theta_file.empty()) built.theta0 = warm_start(c, data, model);
  RunLoop loop(c, model, data, built.theta0);
  Driver& driver = loop.driver();
  const std::string other_build = from ? note_other_build(out, *from) : "";
  const std::optional<RowCounts> rows = from ? std::optional(from->rows) : std::nullopt;
  if (from) resume_driver(driver, out, std::move(*from));
  if (request.interrupted()) return interrupted_in_setup(out);

  RunWriter writer = rows ? RunWriter(out, *rows, c.resolved_toml, other_build)
                          : RunWriter(out, metadata(c, data, model), request.force);
  SlidingCounter sliding;
  writer.finish_with("lambda", [&loop] { return loop.multipliers(); });
  driver.add_observer(writer);
  driver.add_observer(sliding);
  for (Observer* o : request.observers) driver.add_observer(*o);

  RunOutcome outcome;
  outcome.ran = true;
  outcome.square = c.model.kind == "relu2";
  outcome.result = driver.run(loop.state(), stop_request(request, writer));
  outcome.sliding_entries = sliding.count();
  outcome.exit_code = exit_code_for(outcome.result.status);
  if (!writer.failure().empty()) report_write_failure(writer, out, outcome);
  return outcome;
}

}  // namespace kktflow
