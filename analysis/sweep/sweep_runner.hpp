#pragma once
/// \file sweep_runner.hpp
/// `kktflow sweep`'s orchestration: which cases of a sweep directory still need work, handing
/// them out to local child processes and (under mpirun) to the other MPI ranks, one retry per
/// failed case, and DIR/index.h5 rewritten after every case so that a killed sweep loses nothing
/// that had finished.
///
/// Directory layout: DIR/cases/case_NNNN.h5 (one run file per case), DIR/logs/case_NNNN.log (the
/// output of its `kktflow run` and `kktflow verify`), DIR/index.h5.
///
/// A case whose run file has ended and been verified is skipped. A partial run file (a killed
/// or interrupted run) is continued with `kktflow run --resume`; a damaged or missing one is
/// started afresh; an ended but unverified one is only verified. A case whose attempt leaves its
/// file short of that is tried once more, from scratch.
#include "analysis/io/sweep_index.hpp"
#include "analysis/sweep/sweep_cases.hpp"
#include "analysis/sweep/sweep_spec.hpp"

#include <functional>
#include <string>
#include <vector>

namespace kktflow {

struct SweepOptions {
  std::string dir;                                      ///< the sweep directory
  std::string kktflow_exe;                              ///< the executable the cases run with
  int jobs = 1;                                         ///< cases this process runs at a time
  std::function<void(const SweepStatus&)> on_progress;  ///< after every change; may be empty
  bool (*interrupted)() = nullptr;  ///< polled; true stops handing out cases and interrupts running ones
};

struct SweepOutcome {
  bool root = true;  ///< this process wrote the index (false: an MPI worker rank)
  std::vector<CaseRow> rows;
  SweepTotals totals;
  bool budget_exhausted = false;  ///< some cases were not started because the budget ran out
};

/// Runs the cases of `spec` (their resolved configurations in `configs`, one per case) into
/// opts.dir. Under an MPI launcher (with kktflow built with Boost.MPI), rank 0 hands out cases
/// and writes the index and every other rank runs cases. Throws SweepError when a case file in
/// the directory was made with another configuration than its case, h5::Error when the index
/// cannot be written.
SweepOutcome run_sweep(const SweepSpec& spec, const std::vector<std::string>& configs, const SweepOptions& opts);

/// Whether this process was started by an MPI launcher (mpirun, srun) and kktflow can use MPI.
bool launched_by_mpi();

}  // namespace kktflow
