#pragma once
/// \file sweep_index.hpp
/// The files of a sweep directory (docs/file-format.md, "The sweep index"): what a case's run
/// file says about the case (inspect_case_file), and DIR/index.h5, one row per case with its
/// parameters, state, final figures, every verify verdict and an external link to its run file.
#include "analysis/verify/claim_result.hpp"
#include "solver/record.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kktflow {

/// Value of the index's root attribute `format`.
inline constexpr const char* kSweepFormat = "kktflow-sweep";
inline constexpr std::int64_t kSweepFormatVersion = 2;  ///< 2: the dimension scale `case` at the root

/// How far a case's run file has come.
enum class CaseProgress {
  missing,     ///< no file
  damaged,     ///< a file that does not open as a run (killed while it was created, truncated)
  partial,     ///< a run that has not ended (killed or interrupted): `run --resume` continues it
  unverified,  ///< the run has ended; verify has not run on it
  complete,    ///< ended and verified, or ended in a numerical failure (nothing to verify)
};

/// What a case's run file holds.
struct CaseFile {
  CaseProgress progress = CaseProgress::missing;
  std::string config;               ///< the resolved configuration it was made with ("" unless it opens)
  std::string status;               ///< the run's status attribute ("" unless it opens)
  std::string status_reason;        ///< or why the file does not open
  std::optional<Record> last;       ///< the last trajectory row
  std::vector<ClaimResult> claims;  ///< /verify rows
};

/// Reads the run file `path` of a case; never throws for a missing or damaged file.
CaseFile inspect_case_file(const std::string& path);

/// What the index records about the sweep file (root attributes).
struct SweepDescription {
  std::string path;               ///< the sweep file
  std::string text;               ///< its contents
  std::string base_config;        ///< the base run configuration
  std::string mode;               ///< "grid", "list" or "continuation"
  std::vector<std::string> keys;  ///< swept keys, in order
  double budget_s = 0;            ///< wall seconds after which no case starts; 0: no budget
};

/// One row of the index.
struct CaseRow {
  int index = 0;      ///< the case's position in the sweep
  std::string label;  ///< "data.d=50 seed=1": its parameters, for messages
  /// (config key, value as TOML text) of every swept key, in the sweep's key order.
  std::vector<std::pair<std::string, std::string>> params;
  std::string file;     ///< the run file, relative to the sweep directory
  std::string state;    ///< "done", "failed" (after its retry) or "pending" (not run yet)
  std::string message;  ///< why it failed, "" otherwise
  int attempts = 0;     ///< attempts made by the last `kktflow sweep`
  CaseFile contents;
};

/// What the index records about the sweep as a whole.
struct SweepTotals {
  double wall_s = 0;  ///< wall seconds of the last `kktflow sweep`
  int workers = 1;    ///< cases it ran at a time
  int ranks = 1;      ///< MPI ranks (1 without MPI)
};

/// A change of the limit's branch located by a continuation: between the cases before_case and
/// after_case, whose parameter values bracket it.
struct BranchChange {
  int before_case = 0;
  int after_case = 0;
  double before_value = 0;
  double after_value = 0;
  std::string before_support;  ///< support sets as "0,1,2"
  std::string after_support;
  bool pattern_changed = false;
};

/// What a continuation adds to the index (/continuation): one entry per case (in case order) and
/// the changes found.
struct ContinuationRecord {
  std::string key;                                       ///< the config key followed
  std::vector<std::pair<std::string, double>> settings;  ///< from, to, step, … of [continuation]
  std::vector<double> value;                             ///< the case's parameter value
  std::vector<std::int64_t> warm_start;                  ///< the case it started from, −1: the base θ(0)
  std::vector<std::string> support;                      ///< "" when the case has no limit
  std::vector<std::string> pattern;
  std::vector<BranchChange> changes;
};

/// One case of a sweep index as read back: its row of /cases, its final figures (the columns of
/// /final, NaN where it has no row) and the verdicts it has.
struct IndexedCase {
  int index = 0;
  std::string label, file, state, message, status, status_reason;
  int attempts = 0;
  std::map<std::string, double> final;  ///< normalized_margin, stable_rank, kkt_eps, …
  std::vector<ClaimResult> claims;      ///< only the claims the case evaluated
};

/// A sweep index as read back.
struct SweepIndexContents {
  SweepDescription sweep;
  SweepTotals totals;
  std::string created;
  std::vector<IndexedCase> cases;
};

/// True when `path` is a kktflow sweep index (its root attribute format says so).
bool is_sweep_index(const std::string& path);

/// Reads DIR/index.h5. Throws h5::Error when it is not a sweep index this code reads, or is damaged.
SweepIndexContents read_sweep_index(const std::string& path);

/// Writes DIR/index.h5 (`path`) from scratch: into a temporary file first, renamed over `path`,
/// so that a reader or a killed sweep never sees half an index. Throws h5::Error.
void write_sweep_index(const std::string& path, const SweepDescription& sweep, const std::vector<CaseRow>& rows,
                       const SweepTotals& totals, const ContinuationRecord* continuation = nullptr);

}  // namespace kktflow
