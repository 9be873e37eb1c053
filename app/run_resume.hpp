#pragma once
/// \file run_resume.hpp
/// `kktflow run --resume`: which checkpoint of the output file the run continues from, and what
/// it must say when it continues a file written by another build. Internal to app/.
#include "config.hpp"

#include "analysis/io/run_store.hpp"
#include "solver/observer.hpp"

#include <optional>
#include <string>

namespace kktflow {

/// The checkpoint to continue `out` from, or nothing (and why in `finished`) when the run there
/// has finished and `c` does not extend its stop rules. A checkpoint taken when the run was interrupted (SIGINT,
/// SIGTERM) or ended under other stop rules continues; one taken when it stopped for good stops
/// again at once. Throws ConfigError when `c` differs from the file's configuration in a key
/// that shapes the trajectory, h5::Error when the file cannot be continued (damaged, no
/// checkpoint, not finite).
std::optional<StoredCheckpoint> checkpoint_to_resume(const std::string& out, const RunConfig& c, std::string& finished);

/// The trajectory row recorded last before `from`, if any.
std::optional<Record> last_row_before(const std::string& out, const StoredCheckpoint& from);

/// "" when `out` was written by this build (build_fingerprint()); otherwise prints why its rows
/// from the checkpoint on will not be bit-identical to what the other build computes, and
/// returns the note RunWriter records ("from step K: BUILD").
std::string note_other_build(const std::string& out, const StoredCheckpoint& from);

}  // namespace kktflow
