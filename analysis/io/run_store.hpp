#pragma once
/// \file run_store.hpp
/// The run file (docs/file-format.md; format "kktflow-run", format_version 1): RunWriter observes a run
/// and writes it as it goes; read_run_summary, read_trajectory and read_final_theta read it back.
///
/// Besides its groups the file holds the index datasets that name its axes as
/// netCDF dimensions, so that xarray (engine "h5netcdf") opens each group with labelled dims:
/// /trajectory/point, /trajectory/singular, /events/event, /snapshots/snapshot,
/// /snapshots/param, /data/sample, /data/feature. Each holds 0, 1, 2, … along its axis.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/io/h5_error.hpp"
#include "analysis/io/stored_checkpoint.hpp"
#include "solver/observer.hpp"

#include <Eigen/Core>

namespace kktflow {

/// Value of the root attribute `format`.
inline constexpr const char* kRunFormat = "kktflow-run";
/// The format_version this code writes, and the newest it reads.
inline constexpr std::int64_t kRunFormatVersion = 1;

/// Everything about a run that is known before it starts.
struct RunMetadata {
  std::string config_text;  ///< the resolved TOML configuration
  std::uint64_t seed = 0;
  std::string kktflow_version;
  std::string git_commit;
  std::string created;                             ///< ISO-8601 time of creation
  std::string build;                               ///< what decides the last bits: compiler, ISA, BLAS kernels
  Eigen::MatrixXd X;                               ///< data, n × d, one sample per row
  Eigen::VectorXd y;                               ///< labels, n
  std::map<std::string, std::string> data_attrs;   ///< source and generator parameters
  std::map<std::string, std::string> model_attrs;  ///< kind, activation, loss, …
  std::map<std::string, double> model_numbers;     ///< gamma, widths, …: stored as f64 attributes
  Eigen::VectorXd a;                               ///< fixed outer layer; empty when the model has none
  std::vector<std::string> layer_names;            ///< one per layer of θ
  std::vector<std::int64_t> layer_shapes;          ///< rows, cols of each layer, flattened
  int k_top = 0;                                   ///< singular values per trajectory row (≥ 1)
};

/// Observer that writes a run file. Every trajectory row and snapshot is flushed as written,
/// events at least every 64 and at each row, so a run killed at any moment leaves a file that
/// opens and holds every flushed row (status "running").
///
/// From the constructor to on_finish (or the first write_final) the file is in HDF5 SWMR-write
/// mode, so readers in other processes (read_run_summary, read_run_progress, h5py with
/// swmr=True) see each row as it is flushed. on_finish then closes the file and reopens it
/// without SWMR, because /final and the status attributes cannot be created under SWMR; a file
/// whose writer was killed before keeps the SWMR-write mark, which h5py without swmr=True,
/// xarray and h5dump refuse until `h5clear -s` clears it.
///
/// Per the Observer contract the on_* calls never throw: the first failure is kept in
/// failure(), and later observer calls write nothing (a half-written row would misalign the
/// columns). The constructor and write_final do throw.
class RunWriter : public Observer {
 public:
  /// Creates `path` with the whole layout, writes the metadata and flushes.
  /// Throws std::invalid_argument for inconsistent metadata (naming the field) and h5::Error
  /// when the file cannot be created, including when it exists and `overwrite` is false.
  RunWriter(const std::string& path, const RunMetadata& meta, bool overwrite);
  /// Continues the run file `path` from its checkpoint, whose rows end at `from`
  /// (read_checkpoint): drops every row, event and snapshot past those, and /final and
  /// /verify, sets status "running" and the root attribute config to `config_text`, and
  /// returns to SWMR writing. Opens a file whose writer was killed (h5::File::open_to_continue).
  /// Throws h5::Error when the file is not a run, is damaged or holds fewer rows than `from`.
  ///
  /// `other_build`, when not empty, says that this run continues a file written by another
  /// build (RunMetadata::build), e.g. "from step 120: gcc 12.2.0, x86-64 AVX2 FMA, …": it is
  /// appended to the root attribute resumed_builds, so the file says from where its rows are
  /// not bit-identical to an uninterrupted run of its first build.
  RunWriter(const std::string& path, const RowCounts& from, const std::string& config_text,
            const std::string& other_build = "");
  ~RunWriter() override;
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  /// Appends one row to every /trajectory dataset, then flushes. `row.sigma` may hold fewer
  /// than k_top values (a layer of smaller rank); the rest of the row is NaN.
  void on_record(const Record& row, const Eigen::VectorXd& theta_c) override;
  void on_event(const SwitchEvent& event) override;
  /// Appends θ to /snapshots/theta (its size must be Σ rows·cols of layer_shapes), then flushes.
  void on_snapshot(const Eigen::VectorXd& theta, std::int64_t point) override;
  /// Writes the checkpoint atomically into /checkpoint (checkpoint_store.hpp), with the rows
  /// written so far.
  void on_checkpoint(const RunState& checkpoint) override;
  /// Leaves SWMR mode, writes /final/theta and the finals of finish_with, then sets the root
  /// attributes status and status_reason, flushes. No row, event or snapshot can follow.
  void on_finish(const Eigen::VectorXd& theta, Status status, const std::string& reason) override;

  /// /final/<name> for on_finish to write from `value()` (nothing when it is empty) before the
  /// status: a file whose status says the run finished holds every final, so a run killed
  /// between the two stays "running" and --resume finishes it.
  void finish_with(const std::string& name, std::function<Eigen::VectorXd()> value);

  /// Writes /final/<name> (e.g. "lambda", "polished_theta"), replacing an earlier one, and
  /// flushes; leaves SWMR mode first if on_finish has not. Throws h5::Error.
  void write_final(const std::string& name, const Eigen::VectorXd& value);

  /// The first failure of an observer call, or "" while every write has succeeded.
  [[nodiscard]] const std::string& failure() const noexcept;
  [[nodiscard]] const std::string& path() const noexcept;

 private:
  struct Impl;
  /// Runs one observer call's writes unless an earlier one failed; records a failure.
  template <class Write>
  void guarded(Write&& write) noexcept;

  std::unique_ptr<Impl> m_impl;
};

/// Disk space of the row datasets of one group (those along its row dimension: point, event
/// or snapshot).
struct StorageSize {
  std::uint64_t bytes = 0;      ///< H5Dget_storage_size summed: allocated chunks, after compression
  std::uint64_t row_bytes = 0;  ///< uncompressed bytes of one row across those datasets
};

/// What `kktflow info` shows: the metadata and the size of everything recorded.
struct RunSummary {
  std::string format;
  std::int64_t format_version = 0;
  std::string kktflow_version;
  std::string git_commit;
  std::string created;
  std::string build;                        ///< RunMetadata::build; "" for files written before it was stored
  std::vector<std::string> resumed_builds;  ///< resumes by another build (RunWriter), in order
  std::string config;
  std::uint64_t seed = 0;
  std::string status;  ///< to_string(Status), or "running"
  std::string status_reason;
  std::map<std::string, std::string> model_attrs;  ///< every /model attribute, as text
  std::int64_t n = 0;                              ///< samples in /data/X
  std::int64_t d = 0;                              ///< features in /data/X
  std::int64_t trajectory_rows = 0;
  std::optional<Record> last;  ///< the last trajectory row, if any
  std::int64_t events = 0;
  std::int64_t sliding_entries = 0;  ///< events with new_sign == 0
  std::int64_t snapshots = 0;
  std::optional<CheckpointPosition> checkpoint;  ///< the current checkpoint, if one was written
  std::uint64_t file_bytes = 0;                  ///< size of the file on disk
  StorageSize trajectory_size;
  StorageSize event_size;
  StorageSize snapshot_size;
};

/// What a reader following a live run learns at one look: the rows it has not seen yet and
/// whether the run still goes on.
struct RunProgress {
  std::vector<Record> rows;  ///< complete trajectory rows from the requested one on
  std::string status;        ///< "running" while the run is written
  std::string status_reason;
};

/// Reads the summary of a run file. Throws h5::Error if the file is not a kktflow run, is
/// newer than kRunFormatVersion, or is damaged (e.g. truncated).
///
/// A row counts only once every column of its group holds it, so a file whose writer died
/// between two columns reads as if that row had never been started.
RunSummary read_run_summary(const std::string& path);
/// Every complete trajectory row, in order; sigma without the NaN padding the writer adds.
/// Throws h5::Error as read_run_summary.
std::vector<Record> read_trajectory(const std::string& path);
/// Trajectory rows from `first_row` on and the status, from one opening of `path` (a live run
/// is read in SWMR mode; reopen to see later rows). Throws h5::Error as read_run_summary, which
/// includes the moments when the writer creates the file or finishes it outside SWMR mode.
RunProgress read_run_progress(const std::string& path, std::int64_t first_row);
/// The current checkpoint of a run file, read without disturbing a live writer. Throws
/// h5::Error as read_run_summary, or when the file has no checkpoint.
StoredCheckpoint read_checkpoint(const std::string& path);
/// Clears the SWMR-writer mark a killed writer leaves on `path` (as `h5clear -s` does), so that
/// readers that are not SWMR readers open it. Throws h5::Error when the file does not open.
void clear_writer_marks(const std::string& path);
/// /final/theta. Throws h5::Error as read_run_summary, or when the run has not finished.
Eigen::VectorXd read_final_theta(const std::string& path);

}  // namespace kktflow
