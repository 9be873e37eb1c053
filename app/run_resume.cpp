#include "run_resume.hpp"

#include "build_info.hpp"

#include "analysis/io/h5_error.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace kktflow {
namespace {

/// Keys a resumed run may change: the stop rules (to extend a run), the checkpoint cadence and
/// the memory budget. Every other key shapes the trajectory, and the resumed run would not be
/// the one in the file.
bool may_change_on_resume(const std::string& key) {
  return key.starts_with("stop.") || key.starts_with("store.") || key.starts_with("limits.");
}

/// The file's summary; a run killed while it wrote /final (outside SWMR mode) leaves a mark no
/// reader may pass, which is cleared (the file is read first, so a damaged one is never opened
/// for writing).
RunSummary summary_clearing_marks(const std::string& out) {
  try {
    return read_run_summary(out);
  } catch (const h5::WriterMarkError&) {
    clear_writer_marks(out);
    return read_run_summary(out);
  }
}

}  // namespace

std::optional<StoredCheckpoint> checkpoint_to_resume(const std::string& out, const RunConfig& c,
                                                     std::string& finished) {
  const RunSummary stored = summary_clearing_marks(out);
  bool stop_changed = false;
  for (const KeyChange& change : changed_keys(stored.config, c.resolved_toml)) {
    if (!may_change_on_resume(change.key))
      throw ConfigError("--resume: " + change.key + " = " + change.after + ", but the run in " + out +
                        " was made with " + change.key + " = " + change.before +
                        "; a resumed run may change only stop.*, store.* and limits.* keys");
    stop_changed = stop_changed || change.key.starts_with("stop.");
  }
  const bool interrupted = stored.status == to_string(Status::interrupted);
  if (stored.status != "running" && !interrupted && !stop_changed) {
    finished = out + ": the run has finished (" + stored.status + ": " + stored.status_reason +
               "); extend a stop.* key to continue it";
    return std::nullopt;
  }
  StoredCheckpoint checkpoint = read_checkpoint(out);
  // The stop a checkpoint records is taken again at once (a run killed while it finished ends
  // as it would have); an interruption is not a stop of the run's own, and changed stop rules
  // extend the run instead.
  const bool stopped_by_signal = checkpoint.driver.stopped_status == static_cast<std::int64_t>(Status::interrupted);
  if (stop_changed || stopped_by_signal) checkpoint.driver.stopped_status = -1;
  return checkpoint;
}

std::optional<Record> last_row_before(const std::string& out, const StoredCheckpoint& from) {
  if (from.rows.trajectory == 0) return std::nullopt;
  return read_trajectory(out).at(static_cast<std::size_t>(from.rows.trajectory - 1));
}

std::string note_other_build(const std::string& out, const StoredCheckpoint& from) {
  const RunSummary stored = read_run_summary(out);
  const std::string last_build = stored.resumed_builds.empty() ? stored.build : stored.resumed_builds.back();
  const std::string here = build_fingerprint();
  if (last_build.ends_with(here) && !last_build.empty()) return "";
  std::fprintf(stderr,
               "kktflow run --resume: %s was written by %s; this kktflow is %s. The run continues from the "
               "checkpoint's exact state (step %lld), but the two builds round differently in the last bits, so "
               "the rows from here on are not bit-identical to what the first build computes (the file's "
               "resumed_builds records this).\n",
               out.c_str(), last_build.empty() ? "a kktflow that did not record its build" : last_build.c_str(),
               here.c_str(), static_cast<long long>(from.driver.step));
  return fmt::format("from step {}: {}", from.driver.step, here);
}

}  // namespace kktflow
