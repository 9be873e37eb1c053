/// \file sweep_cases.cpp
/// The bookkeeping of a sweep's cases (sweep_cases.hpp).
#include "analysis/sweep/sweep_cases.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace kktflow {
namespace {

/// Our choice: attempts per case and sweep, the first and one retry.
constexpr int kMaxAttempts = 2;
/// Our choice: case files are numbered with at least this many digits.
constexpr int kMinDigits = 4;

namespace fs = std::filesystem;

}  // namespace

CaseBook::CaseBook(const SweepSpec& spec, std::string dir, std::string kktflow_exe)
    : m_spec(spec), m_dir(std::move(dir)), m_exe(std::move(kktflow_exe)) {
  fs::create_directories(fs::path(m_dir) / "cases");
  fs::create_directories(fs::path(m_dir) / "logs");
}

void CaseBook::add(const SweepCase& sweep_case, std::string config) {
  if (sweep_case.index != static_cast<int>(m_rows.size()))
    throw std::logic_error("CaseBook::add: case " + std::to_string(sweep_case.index) + " out of order");
  m_configs.push_back(std::move(config));
  m_cases.push_back(&sweep_case);
  CaseRow row;
  row.index = sweep_case.index;
  row.label = sweep_case.label();
  row.params = sweep_case.params;
  row.file = case_file(sweep_case.index);
  row.contents = inspect(row);
  row.state = row.contents.progress == CaseProgress::complete ? "done" : "pending";
  if (row.state == "pending") {
    m_queue.push_back(sweep_case.index);
  } else {
    ++m_skipped;
  }
  m_rows.push_back(std::move(row));
}

std::string CaseBook::case_file(int index) const {
  const int width = std::max<int>(kMinDigits, static_cast<int>(std::to_string(m_spec.cases.size()).size()));
  return fmt::format("cases/case_{:0{}}.h5", index, width);
}

std::string CaseBook::case_path(int index) const { return path_in_dir(case_file(index)); }

CaseTask CaseBook::next_task() {
  const int index = m_queue.front();
  m_queue.pop_front();
  CaseRow& row = m_rows.at(static_cast<std::size_t>(index));
  ++row.attempts;
  return task_for(row);
}

void CaseBook::finish(const TaskOutcome& outcome) {
  CaseRow& row = m_rows.at(static_cast<std::size_t>(outcome.case_index));
  row.contents = inspect(row);
  if (row.contents.progress == CaseProgress::complete) {
    row.state = "done";
    row.message.clear();
  } else if (row.attempts < kMaxAttempts) {
    m_queue.push_back(outcome.case_index);
  } else {
    row.state = "failed";
    row.message =
        fmt::format("{} (attempt {}); see {}", outcome.message.empty() ? "the run file is incomplete" : outcome.message,
                    row.attempts, log_path(row));
  }
}

SweepStatus CaseBook::status(int running, double wall_s) const {
  SweepStatus s;
  s.total = static_cast<int>(m_rows.size());
  s.done = static_cast<int>(std::ranges::count(m_rows, std::string("done"), &CaseRow::state));
  s.failed = static_cast<int>(std::ranges::count(m_rows, std::string("failed"), &CaseRow::state));
  s.running = running;
  s.skipped = m_skipped;
  s.wall_s = wall_s;
  return s;
}

std::string CaseBook::path_in_dir(const std::string& relative) const { return (fs::path(m_dir) / relative).string(); }

std::string CaseBook::log_path(const CaseRow& row) const {
  return path_in_dir("logs/" + fs::path(row.file).stem().string() + ".log");
}

/// The case's file, refused when it was made with another configuration than the case's.
CaseFile CaseBook::inspect(const CaseRow& row) const {
  const std::string path = path_in_dir(row.file);
  CaseFile file = inspect_case_file(path);
  const std::string& expected = m_configs.at(static_cast<std::size_t>(row.index));
  if (!file.config.empty() && file.config != expected)
    throw SweepError(path + " was made with another configuration than case " + std::to_string(row.index) +
                     " of this sweep (" + row.label +
                     "); the sweep file or its base config has changed: "
                     "give a new -o DIR, or remove the case files to recompute them");
  return file;
}

/// Resume a partial run and verify an unverified one on a first attempt; start afresh otherwise.
CaseTask CaseBook::task_for(const CaseRow& row) const {
  const std::string path = path_in_dir(row.file);
  CaseTask task{row.index, {}, log_path(row)};
  const CaseProgress progress = row.contents.progress;
  if (progress != CaseProgress::unverified) {
    TaskCommand run{{m_exe, "run", m_spec.base_config, "-o", path, "--quiet"}, {0}};
    run.argv.emplace_back(progress == CaseProgress::partial && row.attempts == 1 ? "--resume" : "--force");
    for (const std::string& o : m_cases.at(static_cast<std::size_t>(row.index))->overrides) {
      run.argv.emplace_back("--set");
      run.argv.push_back(o);
    }
    task.commands.push_back(std::move(run));
  }
  TaskCommand verify{{m_exe, "verify", path}, {0, 1}};  // 1: a claim failed, a result like any other
  if (!m_spec.claims.empty()) {
    verify.argv.emplace_back("--claims");
    verify.argv.push_back(fmt::format("{}", fmt::join(m_spec.claims, ",")));
  }
  task.commands.push_back(std::move(verify));
  return task;
}

}  // namespace kktflow
