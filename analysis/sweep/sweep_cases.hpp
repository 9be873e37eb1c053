#pragma once
/// \file sweep_cases.hpp
/// The cases of one sweep directory (sweep_runner.hpp, sweep_continuation.hpp): what each still
/// needs, the attempts made, and the index rows. A case whose run file has ended and been
/// verified is done; a partial one is continued (`run --resume`), an ended but unverified one
/// only verified, anything else started afresh; a failed attempt is retried once from scratch.
#include "analysis/io/sweep_index.hpp"
#include "analysis/sweep/sweep_processes.hpp"
#include "analysis/sweep/sweep_spec.hpp"

#include <deque>
#include <string>
#include <vector>

namespace kktflow {

/// How far the sweep has come, for a progress display.
struct SweepStatus {
  int total = 0;
  int done = 0;
  int failed = 0;
  int running = 0;
  int skipped = 0;  ///< done before this sweep started
  double wall_s = 0;
};

class CaseBook {
 public:
  /// Creates DIR/cases and DIR/logs. `kktflow_exe` runs the cases.
  CaseBook(const SweepSpec& spec, std::string dir, std::string kktflow_exe);

  /// Adds a case (kept by reference: it must outlive the book) with its resolved configuration.
  /// Queues it unless its file is already complete. Throws SweepError when the case's file was
  /// made with another configuration.
  void add(const SweepCase& sweep_case, std::string config);

  [[nodiscard]] bool has_next() const { return !m_queue.empty(); }
  /// The next attempt of the next queued case.
  CaseTask next_task();
  /// Records an attempt's end from what the case's file now holds; queues a retry if it may.
  void finish(const TaskOutcome& outcome);

  [[nodiscard]] const std::vector<CaseRow>& rows() const { return m_rows; }
  [[nodiscard]] const CaseRow& row(int index) const { return m_rows.at(static_cast<std::size_t>(index)); }
  /// The run file of a case, in the sweep directory.
  [[nodiscard]] std::string case_path(int index) const;
  [[nodiscard]] SweepStatus status(int running, double wall_s) const;
  /// Cases done before this sweep started.
  [[nodiscard]] int skipped() const { return m_skipped; }

 private:
  [[nodiscard]] std::string case_file(int index) const;
  [[nodiscard]] std::string path_in_dir(const std::string& relative) const;
  [[nodiscard]] std::string log_path(const CaseRow& row) const;
  [[nodiscard]] CaseFile inspect(const CaseRow& row) const;
  [[nodiscard]] CaseTask task_for(const CaseRow& row) const;

  const SweepSpec& m_spec;
  std::string m_dir;
  std::string m_exe;
  std::vector<std::string> m_configs;
  std::vector<const SweepCase*> m_cases;  ///< by index, with m_rows
  std::vector<CaseRow> m_rows;
  std::deque<int> m_queue;
  int m_skipped = 0;
};

}  // namespace kktflow
