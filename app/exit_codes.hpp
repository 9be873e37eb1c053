#pragma once
/// \file exit_codes.hpp
/// Exit codes: 0 ok, 1 a verified claim failed, 2 usage/config error, 3 I/O error,
/// 4 numerical failure, or (plot) a missing program or Python module, 130 interrupted by
/// SIGINT/SIGTERM (the file holds every flushed row).

namespace kktflow {

// A missing runtime dependency and a sweep with cases that failed or were not started (budget)
// have no code of their own: they share 4 with numerical failures.
enum ExitCode : int {
  exit_ok = 0,
  exit_claim_failed = 1,
  exit_usage = 2,
  exit_io = 3,
  exit_numerical = 4,
  exit_missing_dependency = 4,
  exit_incomplete = 4,
  exit_interrupted = 130
};

}  // namespace kktflow
