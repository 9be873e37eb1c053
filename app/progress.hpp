#pragma once
/// \file progress.hpp
/// Progress of a run, and of a sweep's cases: a live line on a terminal, nothing otherwise (the
/// summary comes at the end).
#include "analysis/sweep/sweep_runner.hpp"
#include "solver/observer.hpp"

#include <cstdio>

namespace kktflow {

class ProgressBar final : public Observer {
 public:
  explicit ProgressBar(std::FILE* out) : m_out(out) {}
  void on_record(const Record& r, const Eigen::VectorXd& /*theta_c*/) override;
  void on_finish(const Eigen::VectorXd& /*theta*/, Status /*status*/, const std::string& /*reason*/) override;

 private:
  std::FILE* m_out;
  double m_last_wall = -1;
  bool m_drawn = false;
};

/// A bar of the cases a sweep has done, redrawn at every change.
class SweepProgress {
 public:
  explicit SweepProgress(std::FILE* out) : m_out(out) {}
  void update(const SweepStatus& s);
  /// Ends the line, if one was drawn.
  void finish();

 private:
  std::FILE* m_out;
  bool m_drawn = false;
};

}  // namespace kktflow
