#include "commands.hpp"
#include "config.hpp"
#include "progress.hpp"

#include "analysis/data_file.hpp"
#include "analysis/run_store.hpp"
#include "problems/init.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/linear.hpp"
#include "problems/relu2.hpp"
#include "solver/driver.hpp"
#include "solver/square_flow.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <unistd.h>

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

std::string iso_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

std::string default_output(const std::string& config) {
  return "runs/" + std::filesystem::path(config).stem().string() + ".h5";
}

Dataset load_data(const RunConfig& c) {
  Dataset data;
  try {
    data = c.data.kind == "file" && is_hdf5_path(c.data.path) ? read_hdf5_dataset(c.data.path) : make_dataset(c.data);
  } catch (const std::exception& e) {  // a missing or malformed data file is a config error
    throw ConfigError(e.what());
  }
  if (c.data.kind == "file" && c.data_shape_given && (data.d() != c.data.d || data.n() != c.data.n))
    throw ConfigError("data.n, data.d = " + std::to_string(c.data.n) + ", " + std::to_string(c.data.d) +
                      " do not match the file " + c.data.path + ", which holds n = " + std::to_string(data.n()) +
                      ", d = " + std::to_string(data.d()) + "; remove them or make them agree");
  return data;
}

/// The config's model bound to the data, with θ(0).
struct BuiltModel {
  std::unique_ptr<Model> model;
  Eigen::VectorXd theta0;
};

BuiltModel build_model(const RunConfig& c, const Dataset& data) {
  if (c.model_kind == "two_layer_leaky") {
    auto model = std::make_unique<TwoLayerLeaky>(data.X, c.two_layer);
    Eigen::VectorXd theta0 = model->initial_theta();
    return {std::move(model), std::move(theta0)};
  }
  if (c.model_kind == "deep") {
    auto model = std::make_unique<DeepNet>(data.X, c.deep);
    Eigen::VectorXd theta0 = model->initial_theta();
    return {std::move(model), std::move(theta0)};
  }
  if (c.model_kind == "relu2") {
    auto model = std::make_unique<Relu2>(data.X, c.relu2);
    Eigen::VectorXd theta0 = model->initial_theta();
    return {std::move(model), std::move(theta0)};
  }
  if (c.model_kind == "linear") {
    auto model = std::make_unique<LinearModel>(data.X);
    const Eigen::Index dim = model->dim();
    return {std::move(model), c.linear_init_scale > 0 ? gaussian_theta(dim, c.linear_init_scale, c.model.seed)
                                                      : Eigen::VectorXd::Zero(dim)};
  }
  auto model = std::make_unique<Leaky2FixedOuter>(data.X, c.model);
  Eigen::VectorXd theta0 = model->initial_theta();
  return {std::move(model), std::move(theta0)};
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

/// /model attributes of each kind: what verify needs to rebuild the model from the file.
void describe_model(const RunConfig& c, const Model& model, RunMetadata& m) {
  m.model_attrs = {{"kind", model.kind()}, {"loss", c.model_kind == "relu2" ? "square" : to_string(c.loss)},
                   {"time", c.model_kind == "relu2" ? "t" : to_string(c.time)},
                   {"stepper", c.stepper_label}, {"coordinates", c.coordinates}};
  m.model_numbers = {{"homogeneity", model.homogeneity()}};
  if (const auto* leaky2 = dynamic_cast<const Leaky2FixedOuter*>(&model)) {
    m.model_attrs["activation"] = "leaky_relu";
    m.model_attrs["signs"] = c.model.balanced_signs ? "balanced" : "random";
    m.model_numbers.insert({{"gamma", c.model.gamma}, {"width", static_cast<double>(c.model.width)},
                            {"init_scale", c.model.init_scale}});
    m.a = leaky2->outer();
  } else if (c.model_kind == "two_layer_leaky") {
    m.model_attrs["activation"] = "leaky_relu";
    m.model_numbers.insert({{"alpha", c.two_layer.alpha}, {"width", static_cast<double>(c.two_layer.width)},
                            {"init_scale", c.two_layer.init_scale}});
  } else if (c.model_kind == "deep") {
    m.model_attrs["activation"] = fmt::format("{}", fmt::join(c.deep.layers, ","));
    m.model_attrs["skip"] = c.deep.skip ? "true" : "false";
    m.model_numbers.insert({{"width", static_cast<double>(c.deep.width)}, {"init_scale", c.deep.init_scale}});
  } else if (c.model_kind == "relu2") {
    m.model_attrs["activation"] = "relu";
    m.model_numbers.insert({{"width", static_cast<double>(c.relu2.width)}, {"outputs", static_cast<double>(c.relu2.outputs)},
                            {"init_radius", c.relu2.init_radius}});
  } else {
    m.model_attrs["activation"] = "none";
    m.model_numbers.insert({"init_scale", c.linear_init_scale});
  }
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
  describe_model(c, model, m);
  for (const auto& layer : model.layers()) {
    m.layer_names.push_back(layer.name);
    m.layer_shapes.push_back(layer.rows);
    m.layer_shapes.push_back(layer.cols);
  }
  m.k_top = c.driver.output.k_top;
  return m;
}

void print_summary(const RunResult& r, const std::string& out, std::int64_t sliding_events, const std::string& late) {
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
  if (std::isfinite(r.late_phase_log_t))
    std::printf("  late phase (%s) from log t = %.4g\n", late.c_str(), r.late_phase_log_t);
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

/// The checkpoint to continue `out` from, or nothing when the run there has finished and the
/// given config does not extend its stop rules. Throws ConfigError when the config differs from
/// the file's in a key that shapes the trajectory, h5::Error when the file cannot be continued.
std::optional<StoredCheckpoint> checkpoint_to_resume(const std::string& out, const RunConfig& c) {
  // A run killed while it wrote /final (outside SWMR mode) leaves a mark no reader may pass.
  h5::File::clear_writer_marks(out);
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
    std::printf("%s: the run has finished (%s: %s); extend a stop.* key to continue it\n", out.c_str(),
                stored.status.c_str(), stored.status_reason.c_str());
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

/// model.kind = "relu2": the square-loss flow (solver/square_flow.hpp), no checkpoints.
int run_square_flow(const RunConfig& c, const Dataset& data, const BuiltModel& built, const std::string& out,
                    const RunOptions& opt) {
  Model& model = *built.model;
  SquareFlow flow(model, SquareLoss(two_class_targets(data.y), data.n()), c.square);
  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  RunWriter writer(out, metadata(c, data, model), opt.force);
  flow.add_observer(writer);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Eigen::VectorXd theta = built.theta0;
  const RunResult result = flow.run(theta, [] { return g_interrupted.load(); });
  if (!writer.failure().empty()) {
    std::fprintf(stderr, "kktflow run: writing %s failed: %s\n", out.c_str(), writer.failure().c_str());
    return exit_io;
  }
  if (!opt.quiet) print_square_summary(result, out);
  return exit_code_for(result.status);
}

}  // namespace

void setup_run(CLI::App& app, RunOptions& opt) {
  auto* run = app.add_subcommand("run", "Integrate the gradient flow of a config and write an HDF5 run file");
  run->add_option("config", opt.config, "TOML configuration (see README: config reference)")->required();
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
  const RunConfig c = load_config(opt.config, opt.overrides);
  const std::string out = opt.output.empty() ? default_output(opt.config) : opt.output;
  std::optional<StoredCheckpoint> from;
  if (opt.resume && c.model_kind == "relu2")
    throw ConfigError("--resume: model.kind = \"relu2\" runs are not checkpointed (the square-loss flow takes seconds); "
                      "rerun with --force");
  if (opt.resume) {
    from = checkpoint_to_resume(out, c);
    if (!from) return exit_ok;
  }
  const Dataset data = load_data(c);
  BuiltModel built = build_model(c, data);
  Model& model = *built.model;
  if (!c.init.theta_file.empty()) built.theta0 = warm_start(c, data, model);
  const Eigen::VectorXd& theta0 = built.theta0;
  if (c.model_kind == "relu2") return run_square_flow(c, data, built, out, opt);

  std::unique_ptr<MarginSystem> margins;
  Eigen::VectorXd state;
  if (c.coordinates == "span") {  // config.cpp allows span for leaky2_fixed_outer only
    auto span = std::make_unique<Leaky2Span>(dynamic_cast<Leaky2FixedOuter&>(model), data.y, theta0);
    state = span->initial_state();
    margins = std::move(span);
  } else {
    margins = std::make_unique<FullCoordinates>(model, data.y);
    state = theta0;
  }
  const MarginLoss loss(c.loss);
  FlowSystem system(*margins, loss, c.time);
  auto stepper = make_stepper(c.stepper);
  MetricsEvaluator metrics(*margins, loss, model.layers().front(), c.driver.output.k_top);
  Driver driver(system, *stepper, metrics, c.driver);
  std::unique_ptr<Stepper> late;
  if (c.hand_off) {
    StepperOptions late_options = c.stepper;
    late_options.kind = c.late_stepper;
    late = make_stepper(late_options);
    driver.hand_off_to(*late);
  }

  if (from) driver.resume_from(std::move(from->driver), last_row_before(out, *from));

  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  RunWriter writer = from ? RunWriter(out, from->rows, c.resolved_toml) : RunWriter(out, metadata(c, data, model), opt.force);
  ProgressBar progress(stderr);
  SlidingCounter sliding;
  driver.add_observer(writer);
  driver.add_observer(sliding);
  if (!opt.quiet && isatty(fileno(stderr))) driver.add_observer(progress);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const RunResult result = driver.run(state, [] { return g_interrupted.load(); });
  writer.write_final("lambda", metrics.multipliers());
  if (!writer.failure().empty()) {
    std::fprintf(stderr, "kktflow run: writing %s failed: %s\n", out.c_str(), writer.failure().c_str());
    return exit_io;
  }
  if (!opt.quiet) print_summary(result, out, sliding.count(), to_string(c.late_stepper));
  return exit_code_for(result.status);
}

}  // namespace kktflow
