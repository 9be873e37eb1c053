/// \file sweep_command.cpp
/// `kktflow sweep SWEEP.toml -o DIR [-j N] [--quiet]`: parses the sweep file, loads every case's
/// configuration (so that a bad value stops the sweep before anything runs, naming the case),
/// and hands the cases to analysis/sweep_runner.hpp. Thin: the orchestration is the library's.
#include "commands.hpp"
#include "config.hpp"
#include "progress.hpp"
#include "sweep_table.hpp"

#include "analysis/sweep/sweep_continuation.hpp"
#include "analysis/sweep/sweep_runner.hpp"
#include "analysis/sweep/sweep_spec.hpp"
#include "analysis/verify/claim_registry.hpp"

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace kktflow {
namespace {

std::atomic<bool> g_sweep_interrupted{false};
extern "C" void on_sweep_signal(int) { g_sweep_interrupted = true; }
bool sweep_interrupted() { return g_sweep_interrupted.load(); }

void check_claims(const SweepSpec& spec) {
  const std::vector<std::string> known = all_claim_names();
  for (const std::string& name : spec.claims) {
    if (std::ranges::find(known, name) == known.end())
      throw SweepError(fmt::format("claims: unknown claim '{}'; known claims: {}", name, fmt::join(known, ", ")));
  }
}

/// The resolved configuration of the base config with `overrides`; a ConfigError names the case (`which`).
std::string resolved_config(const SweepSpec& spec, const std::string& which,
                            const std::vector<std::string>& overrides) {
  try {
    return load_config(spec.base_config, overrides).resolved_toml;
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: case {}: {}", spec.path, which, e.what()));
  }
}

/// Every case's resolved configuration.
std::vector<std::string> case_configs(const SweepSpec& spec) {
  std::vector<std::string> configs;
  for (const SweepCase& c : spec.cases)
    configs.push_back(resolved_config(spec, fmt::format("{} ({})", c.index, c.label()), c.overrides));
  return configs;
}

/// The resolved configuration of a continuation case, named by its overrides.
std::string continuation_config(const SweepSpec& spec, const std::vector<std::string>& overrides) {
  return resolved_config(spec, fmt::format("{}", fmt::join(overrides, " ")), overrides);
}

/// Loads both ends of a continuation, so that a bad key or value stops it before anything runs.
void check_continuation_ends(const SweepSpec& spec) {
  const ContinuationSpec& c = spec.continuation;
  for (const double value : {c.from, c.to}) {
    std::vector<std::string> overrides = spec.shared;
    overrides.push_back(c.key + "=" + toml_float_text(value));
    continuation_config(spec, overrides);
  }
}

/// The branch in parameter order (figures of the last trajectory row) and the changes located.
void print_continuation(const ContinuationOutcome& o) {
  const ContinuationRecord& r = o.record;
  std::vector<std::size_t> order(r.value.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) { return r.value[a] < r.value[b]; });
  std::printf("  %-14s %5s %14s %10s %10s  %s\n", r.key.c_str(), "case", "margin", "srank", "eps_KKT", "support");
  for (const std::size_t k : order) {
    const CaseRow& row = o.sweep.rows.at(k);
    const auto& last = row.contents.last;
    std::printf("  %-14.8g %5zu %14.8g %10.6f %10.3e  {%s}\n", r.value[k], k, last ? last->normalized_margin : NAN,
                last ? last->stable_rank : NAN, last ? last->kkt_eps : NAN, r.support[k].c_str());
  }
  for (const BranchChange& c : r.changes)
    std::printf("  change between %s = %.10g (case %d, support {%s}) and %.10g (case %d, support {%s})%s\n",
                r.key.c_str(), c.before_value, c.before_case, c.before_support.c_str(), c.after_value, c.after_case,
                c.after_support.c_str(), c.pattern_changed ? ", activation pattern changed" : "");
  if (!o.stopped.empty()) std::printf("  the branch was left at its last case: %s\n", o.stopped.c_str());
}

int default_jobs() {
  if (launched_by_mpi()) return 1;  // one case per rank: mpirun -n N gives N at a time
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void print_summary(const SweepOutcome& o, const std::string& dir) {
  const auto count = [&](const char* state) { return std::ranges::count(o.rows, std::string(state), &CaseRow::state); };
  const auto skipped =
      std::ranges::count_if(o.rows, [](const CaseRow& r) { return r.state == "done" && r.attempts == 0; });
  std::printf(
      "%s/index.h5: %zu cases: %td done (%td of them before this sweep), %td failed, %td pending; %.1f s, %d at a time "
      "on %d rank%s%s\n",
      dir.c_str(), o.rows.size(), count("done"), skipped, count("failed"), count("pending"), o.totals.wall_s,
      o.totals.workers, o.totals.ranks, o.totals.ranks == 1 ? "" : "s",
      o.budget_exhausted ? " (budget_s reached: re-run to continue)" : "");
  for (const CaseRow& row : o.rows) {
    if (row.state == "failed")
      std::printf("  case %d (%s) failed: %s\n", row.index, row.label.c_str(), row.message.c_str());
  }
}

/// The cases of a grid or list sweep, from the index it wrote.
void print_cases(const std::string& dir) {
  const std::string index = (std::filesystem::path(dir) / "index.h5").string();
  print_case_table(read_sweep_index(index));
}

}  // namespace

void setup_sweep(CLI::App& app, SweepCommandOptions& opt) {
  auto* sweep = app.add_subcommand(
      "sweep", "Run every case of a sweep file (locally, or across ranks under mpirun) into a directory");
  sweep->add_option("sweep", opt.sweep_file, "sweep file (docs/sweeps.md)")->required();
  sweep->add_option("-o,--output", opt.output, "sweep directory: cases/, logs/ and index.h5")->required();
  sweep
      ->add_option("-j,--jobs", opt.jobs,
                   "cases at a time in this process (default: the cores; 1 per rank under mpirun)")
      ->check(CLI::Range(1, 4096));
  sweep->add_flag("--quiet", opt.quiet, "no progress and no summary");
  sweep
      ->add_option("--progress-every", opt.progress_every,
                   "off a terminal (a log file): a progress line every this many seconds; 0: none")
      ->check(CLI::NonNegativeNumber);
  sweep->callback([&opt] { throw CLI::RuntimeError(run_sweep_command(opt)); });
}

/// Exit code of a finished sweep: every case done, interrupted, or some not done.
int sweep_exit_code(const SweepOutcome& outcome) {
  if (sweep_interrupted()) return exit_interrupted;
  const bool all_done = std::ranges::all_of(outcome.rows, [](const CaseRow& r) { return r.state == "done"; });
  return all_done ? exit_ok : exit_incomplete;
}

SweepOptions sweep_options(const SweepCommandOptions& opt, SweepProgress& progress) {
  SweepOptions run;
  run.dir = opt.output;
  run.kktflow_exe = std::filesystem::read_symlink("/proc/self/exe").string();
  run.jobs = opt.jobs > 0 ? opt.jobs : default_jobs();
  run.interrupted = sweep_interrupted;
  if (!opt.quiet && (isatty(fileno(stderr)) || opt.progress_every > 0))
    run.on_progress = [&progress](const SweepStatus& s) { progress.update(s); };
  std::signal(SIGINT, on_sweep_signal);
  std::signal(SIGTERM, on_sweep_signal);
  return run;
}

int run_continuation_command(const SweepSpec& spec, const SweepCommandOptions& opt) {
  if (launched_by_mpi())
    throw SweepError(
        "mode = \"continuation\" runs its cases one after another (each starts from the previous limit); "
        "run it without mpirun or srun");
  check_continuation_ends(spec);
  SweepProgress progress(stderr, isatty(fileno(stderr)) != 0, opt.progress_every);
  const SweepOptions run = sweep_options(opt, progress);
  const ContinuationOutcome outcome = run_continuation(
      spec, [&spec](const std::vector<std::string>& overrides) { return continuation_config(spec, overrides); }, run);
  progress.finish();
  if (!opt.quiet) {
    print_summary(outcome.sweep, opt.output);
    print_continuation(outcome);
  }
  const int code = sweep_exit_code(outcome.sweep);
  return code == exit_ok && !outcome.stopped.empty() ? exit_incomplete : code;
}

int run_sweep_command(const SweepCommandOptions& opt) {
  const SweepSpec spec = read_sweep_file(opt.sweep_file);
  check_claims(spec);
  if (spec.mode == "continuation") return run_continuation_command(spec, opt);
  const std::vector<std::string> configs = case_configs(spec);
  SweepProgress progress(stderr, isatty(fileno(stderr)) != 0, opt.progress_every);
  const SweepOptions run = sweep_options(opt, progress);
  const SweepOutcome outcome = run_sweep(spec, configs, run);
  progress.finish();
  if (!outcome.root) return exit_ok;
  if (!opt.quiet) {
    print_summary(outcome, opt.output);
    print_cases(opt.output);
  }
  return sweep_exit_code(outcome);
}

}  // namespace kktflow
