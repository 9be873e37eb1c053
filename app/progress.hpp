#pragma once
/// \file progress.hpp
/// Progress of a run, and of a sweep's cases, for people and for logs: on a terminal one line
/// redrawn in place, elsewhere (a Slurm log, a pipe) a plain line every `every_s` seconds. Each
/// shows the elapsed time, where the run is and its target, and an estimate of the time left
/// from the rate observed so far.
#include "analysis/sweep/sweep_runner.hpp"
#include "solver/observer.hpp"

#include <cstdio>
#include <deque>
#include <string>
#include <utility>

namespace kktflow {

/// What a run is heading for: a figure of its rows (taken as its log) and the value that stops it.
struct ProgressTarget {
  std::string name;                 ///< "ε_KKT" or "L"
  double (*log_of)(const Record&);  ///< log of the figure at a row
  double target = 0;                ///< the stop rule's value of the figure
};

/// ε_KKT against stop.kkt_eps (the margin losses), or L against stop.loss (the square loss).
ProgressTarget kkt_target(double kkt_eps);
ProgressTarget loss_target(double loss);

class ProgressBar final : public Observer {
 public:
  /// `terminal`: redraw one line; otherwise print a line every `every_s` seconds.
  ProgressBar(std::FILE* out, bool terminal, double every_s, ProgressTarget target)
      : m_out(out), m_terminal(terminal), m_every_s(every_s), m_target(std::move(target)) {}
  void on_record(const Record& r, const Eigen::VectorXd& /*theta_c*/) override;
  void on_finish(const Eigen::VectorXd& /*theta*/, Status /*status*/, const std::string& /*reason*/) override;

 private:
  /// Seconds left until the figure reaches its target at the rate of the last half of the run so
  /// far (the figure falls like a power of t, not linearly in the wall time): NaN when it is not
  /// falling.
  double seconds_left(const Record& r);

  std::FILE* m_out;
  bool m_terminal;
  double m_every_s;
  ProgressTarget m_target;
  std::deque<std::pair<double, double>> m_history;  ///< (wall s, log figure) of recent rows
  double m_last_shown = -1;
  bool m_drawn = false;
};

/// A bar of the cases a sweep has done, with the time left at the pace of the cases this sweep
/// ran; on a terminal redrawn at every change, elsewhere a line every `every_s` seconds.
class SweepProgress {
 public:
  SweepProgress(std::FILE* out, bool terminal, double every_s) : m_out(out), m_terminal(terminal), m_every_s(every_s) {}
  void update(const SweepStatus& s);
  /// Ends the line, if one was drawn.
  void finish();

 private:
  std::FILE* m_out;
  bool m_terminal;
  double m_every_s;
  double m_last_shown = -1;
  bool m_drawn = false;
};

/// "12 s", "3.4 min", "2.1 h"; "—" for NaN.
std::string duration_text(double seconds);

}  // namespace kktflow
