/// \file info_command.cpp
/// `kktflow info OUT.h5`: metadata, sizes and the last row of a run file;
/// `kktflow info --follow OUT.h5`: one line per new trajectory row while the run writes it.
#include "commands.hpp"

#include "analysis/io/h5_error.hpp"
#include "analysis/io/run_store.hpp"
#include "analysis/io/sweep_index.hpp"
#include "sweep_table.hpp"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

namespace kktflow {
namespace {

using Clock = std::chrono::steady_clock;

/// How often --follow looks at the file.
constexpr auto kPollInterval = std::chrono::milliseconds(200);
/// How long --follow keeps trying a file it cannot open: the writer holds it outside SWMR mode
/// while it creates the layout and while it writes /final and the status at the end.
constexpr auto kOpenGrace = std::chrono::seconds(5);

std::atomic<bool> g_interrupted{false};
extern "C" void on_follow_signal(int) { g_interrupted = true; }

/// 1234567 -> "1.23 MB".
std::string bytes_text(double bytes) {
  constexpr std::array<const char*, 4> kUnits{"B", "kB", "MB", "GB"};
  std::size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < kUnits.size()) {
    bytes /= 1000;
    ++unit;
  }
  return fmt::format("{:.3g} {}", bytes, kUnits[unit]);
}

/// "163 kB, 3.1 kB per row allocated (200 B per row once chunks fill)" for one group.
std::string size_text(const StorageSize& size, std::int64_t rows, const char* row) {
  const std::string per_row =
      rows > 0
          ? fmt::format(", {} per {}", bytes_text(static_cast<double>(size.bytes) / static_cast<double>(rows)), row)
          : "";
  return fmt::format("{}{} ({} per {} uncompressed)", bytes_text(static_cast<double>(size.bytes)), per_row,
                     bytes_text(static_cast<double>(size.row_bytes)), row);
}

void print_sizes(const RunSummary& s) {
  std::printf("size        %s file; trajectory %s\n", bytes_text(static_cast<double>(s.file_bytes)).c_str(),
              size_text(s.trajectory_size, s.trajectory_rows, "row").c_str());
  std::printf("            snapshots %s; events %s\n", size_text(s.snapshot_size, s.snapshots, "snapshot").c_str(),
              size_text(s.event_size, s.events, "event").c_str());
}

void print_last(const Record& r) {
  const double ratio = r.sigma.size() >= 3 && r.sigma[0] > 0 ? r.sigma[2] / r.sigma[0] : 0.0;
  std::printf("last row    log t %.2f, log L %.2f, ‖θ‖ %.4g, normalized margin %.6g\n", r.log_t, r.log_loss, r.norm,
              r.normalized_margin);
  std::printf("            ε_KKT %.3e, δ_KKT %.3e, 1-β %.3e, direction change %.3e per unit log t\n", r.kkt_eps,
              r.kkt_delta, 1.0 - r.alignment_beta, r.direction_change);
  std::printf("            stable rank %.6f, σ3/σ1 %.3e, %lld pairs sliding now\n", r.stable_rank, ratio,
              static_cast<long long>(r.sliding));
  std::printf("            %lld steps, %lld RHS evaluations, %.2f s\n", static_cast<long long>(r.step),
              static_cast<long long>(r.rhs_evals), r.wall_s);
}

int print_info(const std::string& file) {
  const RunSummary s = read_run_summary(file);
  std::printf("%s: %s v%lld, kktflow %s (%s), created %s\n", file.c_str(), s.format.c_str(),
              static_cast<long long>(s.format_version), s.kktflow_version.c_str(), s.git_commit.c_str(),
              s.created.c_str());
  std::printf("status      %s%s%s\n", s.status.c_str(), s.status_reason.empty() ? "" : ": ", s.status_reason.c_str());
  std::printf("data        n = %lld, d = %lld\n", static_cast<long long>(s.n), static_cast<long long>(s.d));
  std::printf("model      ");
  for (const auto& [k, v] : s.model_attrs) std::printf(" %s=%s", k.c_str(), v.c_str());
  std::printf("\nrecorded    %lld trajectory rows, %lld snapshots, %lld switch events\n",
              static_cast<long long>(s.trajectory_rows), static_cast<long long>(s.snapshots),
              static_cast<long long>(s.events));
  std::printf("sliding     %lld pairs entered Filippov sliding on a kink (events with new_sign 0)\n",
              static_cast<long long>(s.sliding_entries));
  if (s.checkpoint)
    std::printf("checkpoint  step %lld, log t %.2f (run --resume continues from here)\n",
                static_cast<long long>(s.checkpoint->step), s.checkpoint->log_t);
  print_sizes(s);
  if (s.last) print_last(*s.last);
  return exit_ok;
}

void print_follow_header() {
  fmt::print("{:>6}  {:>10}  {:>11}  {:>11}  {:>10}  {:>9}  {:>9}  {:>8}\n", "row", "log t", "log L", "margin", "ε_KKT",
             "srank", "switches", "wall s");
}

void print_follow_row(std::int64_t index, const Record& r) {
  fmt::print("{:>6}  {:>10.3f}  {:>11.4g}  {:>11.4g}  {:>10.3e}  {:>9.5f}  {:>9}  {:>8.2f}\n", index, r.log_t,
             r.log_loss, r.normalized_margin, r.kkt_eps, r.stable_rank, r.switches, r.wall_s);
}

/// Sleeps one poll interval, waking early on SIGINT/SIGTERM.
void pause_poll() {
  const auto until = Clock::now() + kPollInterval;
  while (!g_interrupted && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

/// Reads the rows from `next` on, retrying for kOpenGrace while the file cannot be opened.
std::optional<RunProgress> next_progress(const std::string& file, std::int64_t next) {
  const auto deadline = Clock::now() + kOpenGrace;
  while (true) {
    try {
      return read_run_progress(file, next);
    } catch (const h5::Error&) {
      if (Clock::now() >= deadline) throw;
    }
    pause_poll();
    if (g_interrupted) return std::nullopt;
  }
}

/// Each poll reopens the file: a reader that keeps it open sees new rows (H5Drefresh) but not the
/// status, which the writer sets after leaving SWMR mode.
int follow(const std::string& file) {
  std::signal(SIGINT, on_follow_signal);
  std::signal(SIGTERM, on_follow_signal);
  print_follow_header();
  std::int64_t next = 0;
  while (!g_interrupted) {
    const std::optional<RunProgress> progress = next_progress(file, next);
    if (!progress) break;
    for (const Record& r : progress->rows) print_follow_row(next++, r);
    if (progress->status != "running") {
      std::printf("status      %s%s%s\n", progress->status.c_str(), progress->status_reason.empty() ? "" : ": ",
                  progress->status_reason.c_str());
      return exit_ok;
    }
    std::fflush(stdout);
    pause_poll();
  }
  std::printf("interrupted after %lld rows; the run goes on\n", static_cast<long long>(next));
  return exit_interrupted;
}

}  // namespace

void setup_info(CLI::App& app, InfoOptions& opt) {
  auto* info = app.add_subcommand("info", "Summarize a run file or a sweep index, or follow a run while it writes it");
  info->add_option("file", opt.file, "run file written by kktflow run, or a sweep's DIR/index.h5")->required();
  info->add_flag("--follow", opt.follow,
                 "print a line per new trajectory row until the run ends (status leaves \"running\") or Ctrl-C");
  info->callback([&opt] { throw CLI::RuntimeError(run_info(opt)); });
}

int run_info(const InfoOptions& opt) {
  if (!opt.follow && is_sweep_index(opt.file)) {
    print_sweep_index(opt.file, read_sweep_index(opt.file));
    return exit_ok;
  }
  return opt.follow ? follow(opt.file) : print_info(opt.file);
}

}  // namespace kktflow
