/// \file sweep_runner.cpp
/// The sweep's event loop and its bookkeeping of cases (sweep_runner.hpp).
#include "analysis/sweep/sweep_runner.hpp"

#include "analysis/sweep/sweep_processes.hpp"
#ifdef KKTFLOW_HAVE_MPI
#include "analysis/sweep/sweep_mpi.hpp"
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

/// Our choice: how long the event loop sleeps when nothing has happened.
constexpr auto kIdleSleep = std::chrono::milliseconds(20);

namespace fs = std::filesystem;

/// A grid's or list's cases, all known before the sweep starts.
CaseBook book_of(const SweepSpec& spec, const std::vector<std::string>& configs, const SweepOptions& opts) {
  CaseBook book(spec, opts.dir, opts.kktflow_exe);
  for (const SweepCase& c : spec.cases) book.add(c, configs.at(static_cast<std::size_t>(c.index)));
  return book;
}

class Stopwatch {
 public:
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  }

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
  CaseBook book = book_of(spec, configs, opts);
  const std::string index = (fs::path(opts.dir) / "index.h5").string();
  const Stopwatch clock;
  const auto report = [&] {
    totals.wall_s = clock.seconds();
    write_sweep_index(index, describe_sweep(spec), book.rows(), totals);
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
