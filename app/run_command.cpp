#include "build_info.hpp"
#include "commands.hpp"
#include "config.hpp"
#include "config_checks.hpp"
#include "memory_estimate.hpp"
#include "progress.hpp"
#include "run_output.hpp"
#include "run_resume.hpp"

#include "analysis/io/data_file.hpp"
#include "analysis/io/h5_error.hpp"
#include "analysis/io/path_checks.hpp"
#include "analysis/io/run_store.hpp"
#include "problems/init.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/model_registry.hpp"
#include "solver/driver.hpp"
#include "solver/square_flow.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
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

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

/// From the first moment of `run` on, SIGINT and SIGTERM only ask it to stop: before the
/// integration starts the run ends with exit 130 and leaves the output as it was; after, the
/// driver stops at the next step boundary with a checkpoint that --resume continues.
void watch_stop_signals() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

/// Whether a signal arrived while the run was being set up; says so.
bool interrupted_in_setup(const std::string& out) {
  if (!g_interrupted) return false;
  std::fprintf(stderr, "kktflow run: interrupted before the integration started; %s was not changed\n", out.c_str());
  return true;
}

std::string iso_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

std::string default_output(const std::string& config) {
  return "runs/" + std::filesystem::path(config).stem().string() + ".h5";
}

/// Refuses a data file whose numbers cannot fit the memory budget before reading it: an HDF5
/// file's doubles take its bytes, a CSV file's up to 4 times its text ("1," is one double).
void check_data_file_budget(const RunConfig& c) {
  const double bytes = static_cast<double>(regular_file_bytes(c.data.path)) * (is_hdf5_path(c.data.path) ? 1 : 4);
  MemoryEstimate file_only;
  file_only.parts.push_back({"the numbers of data.path", bytes});
  check_memory_budget(c, file_only);
}

Dataset load_data(const RunConfig& c) {
  Dataset data;
  try {
    if (c.data.kind == "file") check_data_file_budget(c);
    data = c.data.kind == "file" && is_hdf5_path(c.data.path) ? read_hdf5_dataset(c.data.path) : make_dataset(c.data);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {  // a missing or malformed data file is a config error
    const std::string what = e.what();
    throw ConfigError(what.find("data.path") != std::string::npos ? what : "data.path = \"" + c.data.path + "\": " + what);
  }
  if (c.data.kind == "file" && c.data_shape_given && (data.d() != c.data.d || data.n() != c.data.n))
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

void print_summary(const RunResult& r, const std::string& out, std::int64_t sliding_events) {
  const Record& l = r.last;
  std::printf("%s: %s (%s)\n", out.c_str(), to_string(r.status).c_str(), r.reason.c_str());
  std::printf("  log t %.2f  log L %.2f  ‖θ‖ %.4g  normalized margin %.6g  ε_KKT %.3e  1-β %.3e\n", l.log_t,
              l.log_loss, l.norm, l.normalized_margin, l.kkt_eps, 1.0 - l.alignment_beta);
  const double ratio = l.sigma.size() >= 3 && l.sigma[0] > 0 ? l.sigma[2] / l.sigma[0] : 0.0;
  std::printf("  stable rank %.6f  σ3/σ1 %.3e  switches %lld  sliding pairs %lld (entered %lld times)\n",
              l.stable_rank, ratio, static_cast<long long>(l.switches), static_cast<long long>(r.sliding_pairs),
              static_cast<long long>(sliding_events));
  std::printf("  %lld steps, %lld rejected, %lld event restarts, %lld RHS evaluations, %.2f s\n",
              static_cast<long long>(l.step), static_cast<long long>(r.rejected_steps),
              static_cast<long long>(r.event_restarts), static_cast<long long>(l.rhs_evals), l.wall_s);
  if (std::isfinite(r.late_phase_log_t)) std::printf("  late phase (region_ros2) from log t = %.4g\n", r.late_phase_log_t);
}

/// Counts sliding entries (events with new_sign 0) for the summary.
class SlidingCounter final : public Observer {
 public:
  void on_event(const SwitchEvent& e) override { m_count += e.new_sign == 0; }
  std::int64_t count() const { return m_count; }

 private:
  std::int64_t m_count = 0;
};

void print_square_summary(const RunResult& r, const std::string& out) {
  const Record& l = r.last;
  std::printf("%s: %s (%s)\n", out.c_str(), to_string(r.status).c_str(), r.reason.c_str());
  std::printf("  t %.4g  L %.4g  ‖θ‖ %.6g  stable rank %.6f  switches %lld\n", l.tau, std::exp(l.log_loss), l.norm,
              l.stable_rank, static_cast<long long>(l.switches));
  std::printf("  %lld steps, %lld rejected, %lld RHS evaluations, %.2f s\n", static_cast<long long>(l.step),
              static_cast<long long>(r.rejected_steps), static_cast<long long>(l.rhs_evals), l.wall_s);
}

int exit_code_for(Status s) {
  switch (s) {
    case Status::non_finite:
    case Status::no_progress: return exit_numerical;
    case Status::interrupted: return exit_interrupted;
    default: return exit_ok;
  }
}

/// Reports a failed write (a full disk, a removed directory) and gives its exit code: the file
/// keeps every row flushed before it and the last complete checkpoint.
int report_write_failure(const RunWriter& writer, const std::string& out) {
  std::fprintf(stderr, "kktflow run: writing %s failed: %s\n", out.c_str(), writer.failure().c_str());
  std::fprintf(stderr,
               "kktflow run: %s holds every row flushed before the failure; once there is room, "
               "`kktflow run --resume` continues it from its last checkpoint\n",
               out.c_str());
  return exit_io;
}

/// Stops the integration at the next step boundary on SIGINT/SIGTERM, and once the run file can
/// no longer be written: rows computed after that would be lost.
std::function<bool()> stop_request(const RunWriter& writer) {
  return [&writer] { return g_interrupted.load() || !writer.failure().empty(); };
}

/// model.kind = "relu2": the square-loss flow (solver/square_flow.hpp), no checkpoints.
int run_square_flow(const RunConfig& c, const Dataset& data, const BuiltModel& built, const std::string& out,
                    const RunOptions& opt) {
  Model& model = *built.model;
  SquareFlow flow(model, SquareLoss(two_class_targets(data.y), data.n()), c.square);
  if (interrupted_in_setup(out)) return exit_interrupted;
  RunWriter writer(out, metadata(c, data, model), opt.force);
  flow.add_observer(writer);
  Eigen::VectorXd theta = built.theta0;
  const RunResult result = flow.run(theta, stop_request(writer));
  if (!writer.failure().empty()) return report_write_failure(writer, out);
  if (!opt.quiet) print_square_summary(result, out);
  return exit_code_for(result.status);
}

/// The margin flow's pieces, built from the configuration and the model.
struct MarginFlow {
  std::unique_ptr<MarginSystem> margins;
  Eigen::VectorXd state;
  std::unique_ptr<MarginLoss> loss;
  std::unique_ptr<FlowSystem> system;
  std::unique_ptr<Stepper> stepper;
  std::unique_ptr<Stepper> late;
  std::unique_ptr<MetricsEvaluator> metrics;
  std::unique_ptr<Driver> driver;
};

MarginFlow build_margin_flow(const RunConfig& c, const Dataset& data, BuiltModel& built) {
  MarginFlow f;
  Model& model = *built.model;
  if (c.coordinates == "span") {  // config.cpp allows span for leaky2_fixed_outer only
    auto span = std::make_unique<Leaky2Span>(dynamic_cast<Leaky2FixedOuter&>(model), data.y, built.theta0);
    f.state = span->initial_state();
    f.margins = std::move(span);
  } else {
    f.margins = std::make_unique<FullCoordinates>(model, data.y);
    f.state = built.theta0;
  }
  f.loss = std::make_unique<MarginLoss>(c.loss);
  f.system = std::make_unique<FlowSystem>(*f.margins, *f.loss, c.time);
  f.stepper = make_stepper(c.stepper);
  f.metrics = std::make_unique<MetricsEvaluator>(*f.margins, *f.loss, model.layers().front(), c.driver.output.k_top);
  f.driver = std::make_unique<Driver>(*f.system, *f.stepper, *f.metrics, c.driver);
  if (c.hand_off) {
    StepperOptions late_options = c.stepper;
    late_options.kind = StepperKind::region_ros2;
    f.late = make_stepper(late_options);
    f.driver->hand_off_to(*f.late);
  }
  return f;
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

/// Integrates the margin flow into `out` (a new file, or the continuation of `from`).
int run_margin_flow(const RunConfig& c, const Dataset& data, BuiltModel& built, const std::string& out,
                    std::optional<StoredCheckpoint> from, const RunOptions& opt) {
  MarginFlow f = build_margin_flow(c, data, built);
  const std::string other_build = from ? note_other_build(out, *from) : "";
  const std::optional<RowCounts> rows = from ? std::optional(from->rows) : std::nullopt;
  if (from) resume_driver(*f.driver, out, std::move(*from));
  if (interrupted_in_setup(out)) return exit_interrupted;
  RunWriter writer = rows ? RunWriter(out, *rows, c.resolved_toml, other_build)
                          : RunWriter(out, metadata(c, data, *built.model), opt.force);
  ProgressBar progress(stderr);
  SlidingCounter sliding;
  f.driver->add_observer(writer);
  f.driver->add_observer(sliding);
  if (!opt.quiet && isatty(fileno(stderr))) f.driver->add_observer(progress);
  const RunResult result = f.driver->run(f.state, stop_request(writer));
  if (!writer.failure().empty()) return report_write_failure(writer, out);
  writer.write_final("lambda", f.metrics->multipliers());
  if (!opt.quiet) print_summary(result, out, sliding.count());
  return exit_code_for(result.status);
}

/// Refuses, in well under a second, a configuration whose estimated memory exceeds its budget;
/// with data.kind = "file" the data's shape is known only once it is read (load_data checks the
/// file's size first).
void check_memory(const RunConfig& c, const Dataset* data) {
  if (c.data.kind == "file" && data == nullptr) return;
  const double n = data ? static_cast<double>(data->n()) : static_cast<double>(c.data.n);
  const double d = data ? static_cast<double>(data->d()) : static_cast<double>(c.data.d);
  check_memory_budget(c, estimate_run_memory(c, n, d));
}

}  // namespace

void setup_run(CLI::App& app, RunOptions& opt) {
  auto* run = app.add_subcommand("run", "Integrate the gradient flow of a config and write an HDF5 run file");
  run->add_option("config", opt.config, "TOML configuration (every key: docs/config.md)")->required();
  run->add_option("-o,--output", opt.output, "output HDF5 file (default runs/<config name>.h5)");
  run->add_option("--set", opt.overrides, "override a config key: --set section.key=value (repeatable)");
  run->add_flag("--quiet", opt.quiet, "no progress bar and no summary");
  run->add_flag("--force", opt.force, "overwrite an existing output file");
  run->add_flag("--resume", opt.resume,
                "continue the output file from its checkpoint; the config may differ only in stop.* and store.*");
  run->callback([&opt] { throw CLI::RuntimeError(run_run(opt)); });
}

int run_run(const RunOptions& opt) {
  if (opt.resume && opt.force)
    throw std::invalid_argument("--resume and --force: --resume continues the output file, --force replaces it; "
                                "give one of them");
  watch_stop_signals();
  const RunConfig c = load_config(opt.config, opt.overrides);
  check_input_paths(c);
  if (opt.resume && c.model.kind == "relu2")
    throw ConfigError("--resume: model.kind = \"relu2\" runs are not checkpointed (the square-loss flow takes seconds); "
                      "rerun with --force");
  check_memory(c, nullptr);
  const RunOutput output(opt.output.empty() ? default_output(opt.config) : opt.output, opt.force, opt.resume);
  const std::string& out = output.path();
  std::optional<StoredCheckpoint> from;
  if (opt.resume) {
    from = checkpoint_to_resume(out, c);
    if (!from) return exit_ok;
  }
  const Dataset data = load_data(c);
  check_memory(c, &data);
  if (interrupted_in_setup(out)) return exit_interrupted;
  BuiltModel built = make_model(c.model, data.X);
  if (!c.init.theta_file.empty()) built.theta0 = warm_start(c, data, *built.model);
  if (c.model.kind == "relu2") return run_square_flow(c, data, built, out, opt);
  return run_margin_flow(c, data, built, out, std::move(from), opt);
}

}  // namespace kktflow
