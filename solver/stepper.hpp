#pragma once
/// \file stepper.hpp
/// One step of the flow, by any of the configured methods, behind one interface so the driver
/// can reject, shorten and restart steps at activation switches.
///
///  - dopri5, cash_karp54, fehlberg78: odeint's embedded Runge–Kutta pairs over Eigen vectors;
///    the step-size control is ours (Hairer, Nørsett, Wanner I, §II.4) because the driver
///    needs the error estimate and must restart steps at switch events.
///  - bs3: the Bogacki–Shampine 3(2) pair (Appl. Math. Lett. 2, 1989, 321–325), first same
///    as last, so three new evaluations a step against dopri5's six. odeint has no 3(2) FSAL
///    pair; ours is these few lines. Where switch events, not accuracy, set the step (the
///    early phase of a small-init run), the cheaper step wins.
///  - bulirsch_stoer: odeint's controlled Bulirsch–Stoer (extrapolation, its own control).
///  - gd: explicit Euler with a fixed step in the integration variable. With flow.time = "t"
///    that is GD with learning rate η; with flow.time = "loss" it is GD with the loss-based
///    step η = c/L of Lyu & Li (2020, §4), since Δθ = −c ∇L/L.
///  - region_ros2: the late-phase method of region_stepper.hpp (region-wise reduction to the
///    margins' n-dimensional ODE, ROS2 on it); loss time and a frozen pattern only.
///  - switch_batch: the early-phase method of switch_batch_stepper.hpp (neurons stepped apart
///    through their own switches, Lobatto IIIA in the loss weights); loss time, span chart.
///  - switch_radau: the same sweeps with the weights' path from Radau IIA collocation solved by
///    simplified Newton (switch_radau_stepper.hpp): implicit, so it also carries the stiff late
///    phase; loss time, span chart.
///  - margin_ros2, margin_ros3: the late-phase methods of margin_ros_stepper.hpp for every model
///    in θ coordinates (Rosenbrock W-methods of order 2 and 3 on the flow, the margins' rank-n
///    stiff Jacobian through Woodbury); loss or normalized time.
#include "flow_system.hpp"
#include "precision.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kktflow {

enum class StepperKind { dopri5, bs3, cash_karp54, fehlberg78, bulirsch_stoer, gd, region_ros2, switch_batch, switch_radau,
                         margin_ros2, margin_ros3 };
StepperKind parse_stepper_kind(const std::string& text, const std::string& key = "flow.stepper");
std::string to_string(StepperKind kind);

struct StepperOptions {
  StepperKind kind = StepperKind::dopri5;
  double abs_tol = 1e-10;   ///< absolute error tolerance per component
  double rel_tol = 1e-8;    ///< relative error tolerance per component
  double gd_step = 0.1;     ///< gd: fixed step in the integration variable
  Precision precision;      ///< region_ros2: the type its margins are carried in (precision.hpp)
};

/// Throws std::invalid_argument naming the key (flow.*) and the allowed range.
void validate(const StepperOptions& o);

struct StepAttempt {
  bool accepted = false;
  double error = -1;       ///< normalized error (≤ 1 on acceptance); −1 if the method has none
  double dt_next = 0;      ///< suggested next step
  bool has_dxdt_out = false;  ///< dxdt_out holds the velocity at out (first-same-as-last)
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  /// Tries a step of size dt from x (velocity dxdt) at τ into out. The next attempt must start
  /// from an accepted out, or follow reset(): a method may carry state from step to step
  /// (region_ros2 its margins), so a rejected out is no step of the flow.
  virtual StepAttempt attempt(FlowSystem& sys, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau,
                              double dt, Eigen::VectorXd& out, Eigen::VectorXd& dxdt_out) = 0;
  /// Forget internal history (after a projection or an event restart).
  virtual void reset() {}
  /// The history that shapes the next steps (the step-size controller's memory), for a
  /// checkpoint; empty when the method keeps none. restore_memory(memory()) continues bit for bit.
  virtual Eigen::VectorXd memory() const { return {}; }
  /// Restores memory(); throws std::invalid_argument for a vector of the wrong size.
  virtual void restore_memory(const Eigen::VectorXd& memory);
  /// False when memory() cannot capture the method's history (odeint's bulirsch_stoer keeps its
  /// extrapolation state private): a resumed run then restarts the method and is not bit-exact.
  virtual bool resumes_exactly() const { return true; }
  /// Classical order of the method.
  virtual int order() const = 0;
  /// True when a step cut short at a located switch may end on its cubic Hermite interpolant
  /// instead of being attempted again: the interpolant is as accurate as the method (order ≤ 3)
  /// and the method keeps nothing of the step's end point.
  virtual bool ends_on_interpolant() const { return false; }
  /// The step of a fixed-step method (gd: flow.gd_step), which the driver takes as it is, not
  /// capped at record spacing (GD's iterates are the method); 0 for the adaptive methods.
  virtual double fixed_step() const { return 0; }
  bool adaptive() const { return fixed_step() == 0; }
  /// The integration variable the method needs, where it needs one (margin_ros2, margin_ros3:
  /// normalized time); the driver switches the system to it when the method takes over.
  virtual std::optional<TimeMode> time_mode() const { return std::nullopt; }
  /// True when the method relies on the driver holding the activation pattern fixed inside
  /// each step (region_ros2).
  virtual bool needs_frozen_pattern() const { return false; }
  /// True when the method locates and crosses the switches inside its steps itself
  /// (switch_batch): the driver then neither aims steps at switches nor restarts them there, and
  /// moves its pattern on to every pair whose side changed over the step.
  virtual bool resolves_switches() const { return false; }
  /// log L at the middle of the last accepted step, where the method knows it (switch_batch:
  /// the pattern changes inside its steps, so the frozen-pattern midpoint would not be exact);
  /// NaN otherwise.
  virtual double midpoint_log_loss() const { return std::numeric_limits<double>::quiet_NaN(); }
  /// The switches a method that resolves switches put on their kinks inside its last accepted
  /// step (sliding onsets), sorted: the driver tests them for capture at the step's end.
  virtual std::vector<Eigen::Index> held_inside_step() const { return {}; }
};

std::unique_ptr<Stepper> make_stepper(const StepperOptions& options);

class StepController;
/// The verdict on a step with an embedded error estimate `err`: its error norm (step_control.hpp),
/// accepted when finite, ≤ 1 and `out` is finite, and the controller's next step.
StepAttempt judge_embedded_step(const Eigen::VectorXd& x, const Eigen::VectorXd& out, const Eigen::VectorXd& err,
                                const StepperOptions& options, StepController& control, double dt);

}  // namespace kktflow
