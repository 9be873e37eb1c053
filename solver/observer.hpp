#pragma once
/// \file observer.hpp
/// Observers of a run (odeint's observer idea, with the calls a long run needs).
/// The driver calls them in order; they must not throw for ordinary I/O trouble they can report later.
#include "record.hpp"
#include "run_state.hpp"

namespace kktflow {

class Observer {
 public:
  virtual ~Observer() = default;
  /// A trajectory row; `theta_c` is θ's isometric image at that point (MarginSystem::lift_compact:
  /// θ itself unless the margin system has a smaller chart), enough for norms and angles.
  virtual void on_record(const Record& /*row*/, const Eigen::VectorXd& /*theta_c*/) {}
  virtual void on_event(const SwitchEvent& /*event*/) {}
  /// A snapshot of θ; `point` is its /trajectory row, or −1 for θ(0) at t = 0.
  virtual void on_snapshot(const Eigen::VectorXd& /*theta*/, std::int64_t /*point*/) {}
  /// A checkpoint at a step boundary: every row, event and snapshot of the run so far has been
  /// handed to the observers before it, none after it.
  virtual void on_checkpoint(const RunState& /*checkpoint*/) {}
  /// The end of the run: final θ, and the reason it stopped.
  virtual void on_finish(const Eigen::VectorXd& /*theta*/, Status /*status*/, const std::string& /*reason*/) {}
};

}  // namespace kktflow
