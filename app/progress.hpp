#pragma once
/// \file progress.hpp
/// Progress of a run: a live line on a terminal, nothing otherwise (the summary comes at the end).
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

}  // namespace kktflow
