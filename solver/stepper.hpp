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
#include "step_control.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kktflow {

enum class StepperKind {
  dopri5,
  bs3,
  cash_karp54,
  fehlberg78,
  bulirsch_stoer,
  gd,
  region_ros2,
  region_ros3,
  switch_batch,
  switch_radau,
  margin_ros2,
  margin_ros3
};
StepperKind parse_stepper_kind(const std::string& text, const std::string& key = "flow.stepper");
std::string to_string(StepperKind kind);

struct StepperOptions {
  StepperKind kind = StepperKind::dopri5;
  double abs_tol = 1e-10;  ///< absolute error tolerance per component
  double rel_tol = 1e-8;   ///< relative error tolerance per component
  double gd_step = 0.1;    ///< gd: fixed step in the integration variable
  Precision precision;     ///< region_ros2: the type its margins are carried in (precision.hpp)
};

/// Throws std::invalid_argument naming the key (flow.*) and the allowed range.
void validate(const StepperOptions& o);

struct StepAttempt {
  bool accepted = false;
  double error = -1;          ///< normalized error (≤ 1 on acceptance); −1 if the method has none
  double dt_next = 0;         ///< suggested next step
  bool has_dxdt_out = false;  ///< dxdt_out holds the velocity at out (first-same-as-last)
  /// log L at the middle of the step where the method knows it (a method whose steps cross
  /// switches: the frozen-pattern midpoint of the clock would not be exact); NaN otherwise.
  double log_loss_mid = std::numeric_limits<double>::quiet_NaN();
  /// The switches the method put on their kinks inside the step (sliding onsets), sorted: the
  /// driver tests them for capture at the step's end.
  std::vector<Eigen::Index> held{};
};

/// What a method is, as the driver needs to know it (odeint's stepper categories, for the
/// kinds of step this flow has).
enum class StepperCategory {
  fixed_step,         ///< takes exactly its step in the integration variable, no error control (gd)
  explicit_adaptive,  ///< an embedded error estimate on any field (dopri5, bs3, cash_karp54, fehlberg78,
                      ///< bulirsch_stoer)
  region,             ///< integrates inside one activation region: needs the pattern frozen (region_ros2)
  switch_resolving,   ///< crosses switches inside its own steps: needs the pattern frozen (switch_batch, switch_radau)
  linearly_implicit,  ///< a Rosenbrock W-method with an embedded estimate on any field (margin_ros2, margin_ros3)
};

struct StepperTraits {
  StepperCategory category = StepperCategory::explicit_adaptive;
  int order = 0;          ///< classical order; 0 for a variable-order method
  double fixed_step = 0;  ///< the step of a fixed-step method (gd: flow.gd_step), taken as it is
  /// A step cut short at a located switch may end on its cubic Hermite interpolant instead of
  /// being attempted again: the interpolant is as accurate as the method (order ≤ 3) and the
  /// method keeps nothing of the step's end point.
  bool ends_on_interpolant = false;
  /// memory() captures the method's whole history, so a resumed run continues bit for bit
  /// (odeint's bulirsch_stoer keeps its extrapolation state private: a resumed run restarts it).
  bool resumes_exactly = true;
  /// The integration variable the method needs, where it needs one (margin_ros2, margin_ros3:
  /// normalized time); the driver switches the system to it when the method takes over.
  std::optional<TimeMode> time_mode{};
  /// The tolerances of the per-component error norm (step_control.hpp) a step is held to, for
  /// a method that is attempted again to end at a located switch (region_ros2, region_ros3): a
  /// crossing that changes the field too little to matter within them is taken at the step's
  /// end instead (FrozenPatternEvents). 0 and 0: every crossing is located.
  double abs_tol = 0;
  double rel_tol = 0;

  bool adaptive() const { return category != StepperCategory::fixed_step; }
  bool needs_frozen_pattern() const {
    return category == StepperCategory::region || category == StepperCategory::switch_resolving;
  }
  bool resolves_switches() const { return category == StepperCategory::switch_resolving; }
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
  virtual StepperTraits traits() const = 0;
};

/// A method with an embedded error estimate and the shared PI step-size control
/// (step_control.hpp), whose two numbers are all its history.
class ControlledStepper : public Stepper {
 public:
  ControlledStepper(const StepperOptions& options, int error_order) : m_opt(options), m_control(error_order) {}
  void reset() override { m_control.reset(); }
  Eigen::VectorXd memory() const override { return m_control.memory(); }
  void restore_memory(const Eigen::VectorXd& memory) override { m_control.restore(controller_memory(memory)); }

 protected:
  StepperOptions m_opt;
  StepController m_control;
};

std::unique_ptr<Stepper> make_stepper(const StepperOptions& options);

/// The verdict on a step with an embedded error estimate `err`: its error norm (step_control.hpp),
/// accepted when finite, ≤ 1 and `out` is finite, and the controller's next step.
StepAttempt judge_embedded_step(const Eigen::VectorXd& x, const Eigen::VectorXd& out, const Eigen::VectorXd& err,
                                const StepperOptions& options, StepController& control, double dt);

}  // namespace kktflow
