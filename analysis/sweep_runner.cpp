/// \file sweep_runner.cpp
/// The sweep's event loop and its bookkeeping of cases (sweep_runner.hpp).
#include "analysis/sweep_runner.hpp"

#include "analysis/sweep_processes.hpp"
#ifdef KKTFLOW_HAVE_MPI
#include "analysis/sweep_mpi.hpp"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <thread>

namespace kktflow {
namespace {

/// Our choice: attempts per case and sweep, the first and one retry (issue 8).
constexpr int kMaxAttempts = 2;
/// Our choice: how long the event loop sleeps when nothing has happened.
constexpr auto kIdleSleep = std::chrono::milliseconds(20);

namespace fs = std::filesystem;

/// The cases of one sweep directory: what each still needs, the attempts made, the index rows.
class CaseBook {
 public:
  CaseBook(const SweepSpec& spec, const std::vector<std::string>& configs, const SweepOptions& opts)
      : m_spec(spec), m_configs(configs), m_opts(opts) {
    fs::create_directories(fs::path(opts.dir) / "cases");
    fs::create_directories(fs::path(opts.dir) / "logs");
    const int width = std::max<int>(4, static_cast<int>(std::to_string(spec.cases.size()).size()));
    for (const SweepCase& c : spec.cases) {
      CaseRow row;
      row.sweep_case = &c;
      row.file = fmt::format("cases/case_{:0{}}.h5", c.index, width);
      row.contents = inspect(row);
      row.state = row.contents.progress == CaseProgress::complete ? "done" : "pending";
      if (row.state == "pending") m_queue.push_back(c.index);
      m_rows.push_back(std::move(row));
    }
    m_skipped = static_cast<int>(m_rows.size() - m_queue.size());
  }

  [[nodiscard]] bool has_next() const { return !m_queue.empty(); }

  CaseTask next_task() {
    const int index = m_queue.front();
    m_queue.pop_front();
    CaseRow& row = m_rows.at(static_cast<std::size_t>(index));
    ++row.attempts;
    return task_for(row);
  }

  /// Records an attempt's end from what the case's file now holds.
  void finish(const TaskOutcome& outcome) {
    CaseRow& row = m_rows.at(static_cast<std::size_t>(outcome.case_index));
    row.contents = inspect(row);
    if (row.contents.progress == CaseProgress::complete) {
      row.state = "done";
      row.message.clear();
    } else if (row.attempts < kMaxAttempts) {
      m_queue.push_back(outcome.case_index);
    } else {
      row.state = "failed";
      row.message = fmt::format("{} (attempt {}); see {}", outcome.message.empty() ? "the run file is incomplete" : outcome.message,
                                row.attempts, log_path(row));
    }
  }

  [[nodiscard]] const std::vector<CaseRow>& rows() const { return m_rows; }

  [[nodiscard]] SweepStatus status(int running, double wall_s) const {
    SweepStatus s;
    s.total = static_cast<int>(m_rows.size());
    s.done = static_cast<int>(std::ranges::count(m_rows, std::string("done"), &CaseRow::state));
    s.failed = static_cast<int>(std::ranges::count(m_rows, std::string("failed"), &CaseRow::state));
    s.running = running;
    s.skipped = m_skipped;
    s.wall_s = wall_s;
    return s;
  }

 private:
  [[nodiscard]] std::string path_in_dir(const std::string& relative) const { return (fs::path(m_opts.dir) / relative).string(); }
  [[nodiscard]] std::string log_path(const CaseRow& row) const {
    return path_in_dir("logs/" + fs::path(row.file).stem().string() + ".log");
  }

  /// The case's file, refused when it was made with another configuration than the case's.
  CaseFile inspect(const CaseRow& row) const {
    const std::string path = path_in_dir(row.file);
    CaseFile file = inspect_case_file(path);
    const std::string& expected = m_configs.at(static_cast<std::size_t>(row.sweep_case->index));
    if (!file.config.empty() && file.config != expected)
      throw SweepError(path + " was made with another configuration than case " + std::to_string(row.sweep_case->index) +
                       " of this sweep (" + row.sweep_case->label() + "); the sweep file or its base config has changed: "
                       "give a new -o DIR, or remove the case files to recompute them");
    return file;
  }

  /// Resume a partial run and verify an unverified one on a first attempt; start afresh otherwise.
  CaseTask task_for(const CaseRow& row) const {
    const std::string path = path_in_dir(row.file);
    CaseTask task{row.sweep_case->index, {}, log_path(row)};
    const CaseProgress progress = row.contents.progress;
    if (progress != CaseProgress::unverified) {
      TaskCommand run{{m_opts.kktflow_exe, "run", m_spec.base_config, "-o", path, "--quiet"}, {0}};
      run.argv.emplace_back(progress == CaseProgress::partial && row.attempts == 1 ? "--resume" : "--force");
      for (const std::string& o : row.sweep_case->overrides) {
        run.argv.emplace_back("--set");
        run.argv.push_back(o);
      }
      task.commands.push_back(std::move(run));
    }
    TaskCommand verify{{m_opts.kktflow_exe, "verify", path}, {0, 1}};  // 1: a claim failed, a result like any other
    if (!m_spec.claims.empty()) {
      verify.argv.emplace_back("--claims");
      verify.argv.push_back(fmt::format("{}", fmt::join(m_spec.claims, ",")));
    }
    task.commands.push_back(std::move(verify));
    return task;
  }

  const SweepSpec& m_spec;
  const std::vector<std::string>& m_configs;
  const SweepOptions& m_opts;
  std::vector<CaseRow> m_rows;
  std::deque<int> m_queue;
  int m_skipped = 0;
};

class Stopwatch {
 public:
  [[nodiscard]] double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count(); }

 private:
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

int running_in(const std::vector<TaskExecutor*>& executors) {
  int running = 0;
  for (const TaskExecutor* e : executors) running += e->running();
  return running;
}

/// Rank 0's (or the only process's) loop: hand out cases while the budget lasts, collect their
/// outcomes, rewrite the index after each.
SweepOutcome coordinate(const SweepSpec& spec, const std::vector<std::string>& configs, const SweepOptions& opts,
                        const std::vector<TaskExecutor*>& executors, SweepTotals totals) {
  CaseBook book(spec, configs, opts);
  const std::string index = (fs::path(opts.dir) / "index.h5").string();
  const Stopwatch clock;
  const auto report = [&] {
    totals.wall_s = clock.seconds();
    write_sweep_index(index, spec, book.rows(), totals);
    if (opts.on_progress) opts.on_progress(book.status(running_in(executors), totals.wall_s));
  };
  report();
  bool interrupt_sent = false;
  bool budget_exhausted = false;
  for (;;) {
    const bool interrupted = opts.interrupted != nullptr && opts.interrupted();
    budget_exhausted = spec.budget_s > 0 && clock.seconds() > spec.budget_s && book.has_next();
    if (interrupted && !interrupt_sent) {
      for (TaskExecutor* e : executors) e->interrupt();
      interrupt_sent = true;
    }
    bool changed = false;
    for (TaskExecutor* e : executors) {
      while (!interrupted && !budget_exhausted && e->can_start() && book.has_next()) {
        e->start(book.next_task());
        changed = true;
      }
    }
    for (TaskExecutor* e : executors) {
      for (const TaskOutcome& outcome : e->poll()) {
        book.finish(outcome);
        changed = true;
      }
    }
    if (changed) report();
    if (running_in(executors) == 0 && (interrupted || budget_exhausted || !book.has_next())) break;
    if (!changed) std::this_thread::sleep_for(kIdleSleep);
  }
  report();
  return {true, book.rows(), totals, budget_exhausted};
}

}  // namespace

bool launched_by_mpi() {
#ifdef KKTFLOW_HAVE_MPI
  for (const char* variable : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(variable) != nullptr) return true;
  }
#endif
  return false;
}

SweepOutcome run_sweep(const SweepSpec& spec, const std::vector<std::string>& configs, const SweepOptions& opts) {
  ProcessSlots local(opts.jobs);
  std::vector<TaskExecutor*> executors{&local};
#ifdef KKTFLOW_HAVE_MPI
  if (launched_by_mpi()) {
    const MpiSession mpi;
    if (mpi.rank() != 0) {
      mpi.serve(opts.interrupted);
      return {false, {}, {}, false};
    }
    const std::unique_ptr<TaskExecutor> workers = mpi.workers();
    executors.push_back(workers.get());
    return coordinate(spec, configs, opts, executors, {0, opts.jobs + mpi.size() - 1, mpi.size()});
  }
#endif
  return coordinate(spec, configs, opts, executors, {0, opts.jobs, 1});
}

}  // namespace kktflow
