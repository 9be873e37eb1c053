#pragma once
/// \file run_session.hpp
/// One run of a configuration into a run file, as `kktflow run` and the Python module do it:
/// the data, the model and its θ(0) (or a warm start, or the checkpoint of a run to resume), the
/// flow, its steppers and driver, and the writer. Interruption comes from the caller (a signal
/// flag, Python's KeyboardInterrupt); what to show comes as extra observers.
#include "config.hpp"

#include "solver/driver.hpp"

#include <functional>
#include <string>
#include <vector>

namespace kktflow {

struct RunRequest {
  RunConfig config;
  std::string output;                                        ///< the run file
  bool force = false;                                        ///< replace an existing file
  bool resume = false;                                       ///< continue the file from its checkpoint
  std::function<bool()> interrupted = [] { return false; };  ///< asked once a step
  std::vector<Observer*> observers;                          ///< besides the writer (progress, …)
};

struct RunOutcome {
  int exit_code = 0;    ///< commands.hpp's codes
  bool ran = false;     ///< false: a finished run was asked to resume and nothing ran
  bool square = false;  ///< relu2's square-loss flow
  RunResult result;
  std::int64_t sliding_entries = 0;  ///< events with new_sign 0
  std::string message;               ///< what to tell the user when nothing ran, or why writing failed
};

/// Runs `request`. Before anything is allocated it checks the input paths and the memory
/// estimate (memory_estimate.hpp) and claims the output (run_output.hpp: no symbolic link, one
/// writer, --force to replace); a request interrupted before the integration begins leaves the
/// output as it was (exit 130, nothing ran). Throws ConfigError for a configuration that cannot
/// run (data, memory, warm start, a resume that does not fit the file), h5::Error for a file
/// that cannot be read or created, or that another process is writing.
RunOutcome run_session(const RunRequest& request);

/// The exit code of a run that ended with `s`: 0, 4 for a numerical failure, 130 interrupted.
int exit_code_for(Status s);

}  // namespace kktflow
