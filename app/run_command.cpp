/// \file run_command.cpp
/// `kktflow run CONFIG.toml`: the options, signals, progress and the summary; the run itself is
/// run_session.hpp's.
#include "commands.hpp"
#include "config.hpp"
#include "progress.hpp"
#include "run_session.hpp"

#include <unistd.h>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

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

std::string default_output(const std::string& config) {
  return "runs/" + std::filesystem::path(config).stem().string() + ".h5";
}

void print_summary(const RunResult& r, const std::string& out, std::int64_t sliding_events, const std::string& late) {
  const Record& l = r.last;
  std::printf("%s: %s (%s)\n", out.c_str(), to_string(r.status).c_str(), r.reason.c_str());
  std::printf("  log t %.2f  log L %.2f  ‖θ‖ %.4g  normalized margin %.6g  ε_KKT %.3e  1-β %.3e\n", l.log_t, l.log_loss,
              l.norm, l.normalized_margin, l.kkt_eps, 1.0 - l.alignment_beta);
  const double ratio = l.sigma.size() >= 3 && l.sigma[0] > 0 ? l.sigma[2] / l.sigma[0] : 0.0;
  std::printf("  stable rank %.6f  σ3/σ1 %.3e  switches %lld  sliding pairs %lld (entered %lld times)\n", l.stable_rank,
              ratio, static_cast<long long>(l.switches), static_cast<long long>(r.sliding_pairs),
              static_cast<long long>(sliding_events));
  std::printf("  %lld steps, %lld rejected, %lld event restarts, %lld RHS evaluations, %.2f s\n",
              static_cast<long long>(l.step), static_cast<long long>(r.rejected_steps),
              static_cast<long long>(r.event_restarts), static_cast<long long>(l.rhs_evals), l.wall_s);
  if (std::isfinite(r.late_phase_log_t))
    std::printf("  late phase (%s) from log t = %.4g\n", late.c_str(), r.late_phase_log_t);
}

void print_square_summary(const RunResult& r, const std::string& out) {
  const Record& l = r.last;
  std::printf("%s: %s (%s)\n", out.c_str(), to_string(r.status).c_str(), r.reason.c_str());
  std::printf("  t %.4g  L %.4g  ‖θ‖ %.6g  stable rank %.6f  switches %lld\n", l.tau, std::exp(l.log_loss), l.norm,
              l.stable_rank, static_cast<long long>(l.switches));
  std::printf("  %lld steps, %lld rejected, %lld RHS evaluations, %.2f s\n", static_cast<long long>(l.step),
              static_cast<long long>(r.rejected_steps), static_cast<long long>(l.rhs_evals), l.wall_s);
}

/// Progress on a terminal, or off one every --progress-every seconds; never with --quiet.
bool shows_progress(const RunOptions& opt) { return !opt.quiet && (isatty(fileno(stderr)) || opt.progress_every > 0); }

ProgressBar progress_bar(const RunOptions& opt, ProgressTarget target) {
  return ProgressBar(stderr, isatty(fileno(stderr)) != 0, opt.progress_every, std::move(target));
}

}  // namespace

void setup_run(CLI::App& app, RunOptions& opt) {
  auto* run = app.add_subcommand("run", "Integrate the gradient flow of a config and write an HDF5 run file");
  run->add_option("config", opt.config, "TOML configuration (every key: docs/config.md)")->required();
  run->add_option("-o,--output", opt.output, "output HDF5 file (default runs/<config name>.h5)");
  run->add_option("--set", opt.overrides, "override a config key: --set section.key=value (repeatable)");
  run->add_flag("--quiet", opt.quiet, "no progress and no summary");
  run->add_option("--progress-every", opt.progress_every,
                  "off a terminal (a log file): a progress line every this many seconds; 0: none")
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--force", opt.force, "overwrite an existing output file");
  run->add_flag("--resume", opt.resume,
                "continue the output file from its checkpoint; the config may differ only in stop.*, store.* and "
                "limits.*");
  run->callback([&opt] { throw CLI::RuntimeError(run_run(opt)); });
}

int run_run(const RunOptions& opt) {
  if (opt.resume && opt.force)
    throw std::invalid_argument(
        "--resume and --force: --resume continues the output file, --force replaces it; "
        "give one of them");
  watch_stop_signals();
  RunRequest request{load_config(opt.config, opt.overrides),
                     opt.output.empty() ? default_output(opt.config) : opt.output,
                     opt.force,
                     opt.resume,
                     [] { return g_interrupted.load(); },
                     {}};
  const RunConfig& c = request.config;
  ProgressBar progress =
      progress_bar(opt, c.model.kind == "relu2" ? loss_target(c.square.stop.loss) : kkt_target(c.driver.stop.kkt_eps));
  if (shows_progress(opt)) request.observers.push_back(&progress);
  const RunOutcome outcome = run_session(request);
  if (!outcome.ran) {
    if (outcome.exit_code == exit_ok) {
      std::printf("%s\n", outcome.message.c_str());
    } else {
      std::fprintf(stderr, "kktflow run: %s\n", outcome.message.c_str());
    }
    return outcome.exit_code;
  }
  if (outcome.exit_code == exit_io) std::fprintf(stderr, "kktflow run: %s\n", outcome.message.c_str());
  if (!opt.quiet && outcome.exit_code != exit_io) {
    if (outcome.square) {
      print_square_summary(outcome.result, request.output);
    } else {
      print_summary(outcome.result, request.output, outcome.sliding_entries, to_string(c.late_stepper));
    }
  }
  return outcome.exit_code;
}

}  // namespace kktflow
