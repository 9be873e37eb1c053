#pragma once
/// \file event_policy.hpp
/// How a run meets activation switches (a switch function s_k = a pre-activation changing sign):
/// which steps are aimed at a switch, how a crossing inside a step is located, where the step
/// then ends, and which pairs count as arrived at their kinks afterwards. Two policies:
///
///  - FrozenPatternEvents: the activation pattern is held fixed inside each step, so every
///    step integrates a smooth field and the error control never meets a kink (as Modelica tools
///    freeze relations between events). A step is aimed at the first switch Newton predicts from
///    its start; a crossing is located on the step's cubic Hermite interpolant (exact in s, which
///    is affine in the state), and the step either ends on that interpolant just past it or is
///    attempted again to end there. The pattern moves on only at located switches, and at a
///    step's end for a crossing whose side changes the field too little to matter within the
///    method's error tolerances for the rest of the step (a sample far past the margin, whose
///    loss weight is all its pairs move the field by).
///  - SignFollowingEvents: the field follows sign(s) at every stage. A step whose end crossed a
///    switch is attempted again to end 1e-9 past the Newton estimate of the crossing, unless the
///    crossing lies in its last 1e-6; a pair creeping up on a kink that attracts from both sides
///    is handed to the sliding policy before the error control collapses the step.
///
/// The policies read and write the event fields of the RunState: the committed side of every
/// switch, s and ṡ at the state, the switch a shortened step aimed at, and the pairs whose
/// crossings are taken unlocated for a while (chattering).
#include "flow_system.hpp"
#include "run_state.hpp"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace kktflow {

/// A switch that crossed inside a step: at `fraction` of it, to `new_sign`.
struct Flip {
  Eigen::Index index;
  double fraction;
  int new_sign;
};

class EventPolicy {
 public:
  /// `sliding` marks the switches held on their kinks (the sliding policy's mask).
  EventPolicy(FlowSystem& system, RunState& state, const std::vector<char>& sliding)
      : m_sys(system), m_state(state), m_sliding(sliding) {}
  virtual ~EventPolicy() = default;

  /// The pattern held frozen inside steps, or nullptr.
  virtual FrozenPattern* frozen() const { return nullptr; }
  /// Commits switch k to a side.
  virtual void set_side(Eigen::Index k, bool positive);
  /// The step, shorter than dt, aimed at the first switch due inside it, and that switch; none
  /// when no switch is due.
  virtual std::optional<std::pair<double, Eigen::Index>> aim(double dt) const;
  /// The earliest crossing among `flips` of the step of size dt ending at s1 (ṡ there in
  /// sdot_end, where the policy locates on the interpolant), index −1 for none.
  virtual Flip first_crossing(const std::vector<Flip>& flips, const Eigen::VectorXd& s1,
                              const Eigen::VectorXd& sdot_end, double dt) const = 0;
  /// True when first_crossing needs ṡ at the step's end.
  virtual bool locates_on_interpolant() const = 0;
  /// A crossing within this fraction of a step's end is taken at the end.
  virtual double end_tolerance() const = 0;
  /// A step shortened to a crossing ends this fraction past it.
  virtual double overshoot() const = 0;
  /// The pairs that crossed in the step (`flips`) or are due at their kinks right after it,
  /// sorted; `released` (sorted) left their kinks at the step's end.
  virtual std::vector<Eigen::Index> pairs_at_kinks(const std::vector<Flip>& flips,
                                                   const std::vector<Eigen::Index>& released) const;
  /// After a step of a method that crosses switches inside its steps: the pairs it held inside
  /// the step (`held`), and of the pairs that crossed those that crossed in its last
  /// end_tolerance(), at their kinks now; the others crossed transversally. Sorted.
  std::vector<Eigen::Index> arrived_at_end(const std::vector<Eigen::Index>& held,
                                           const std::vector<Eigen::Index>& crossed, double dt) const;
  /// Pairs not in `crossed` due at a kink within the next step, for the sliding policy to test.
  virtual std::vector<Eigen::Index> approaching_kinks(const std::vector<Eigen::Index>& crossed) const;
  /// After a step's bookkeeping: the committed sides follow the pattern the field will use.
  virtual void settle_sides() {}
  /// Whether k's crossings are taken at step ends, unlocated (chattering, or an approach to a
  /// kink already stepped up to once).
  virtual bool zeno_guarded(Eigen::Index k) const = 0;

  /// The error tolerances of the method taking the steps (StepperTraits::abs_tol, rel_tol).
  void weigh_crossings_against(double abs_tol, double rel_tol) {
    m_abs_tol = abs_tol;
    m_rel_tol = rel_tol;
  }
  /// A non-sliding switch whose sign at s1 differs from its committed side.
  bool any_flip(const Eigen::VectorXd& s1) const;
  /// The non-sliding switches whose sign at s1 differs from their committed side, with the
  /// fraction of the step dt at which Newton from the step's start puts the crossing.
  std::vector<Flip> flipped_switches(const Eigen::VectorXd& s1, double dt) const;
  /// Time until switch k reaches its kink at its present velocity; +∞ when it moves away.
  double time_to_kink(Eigen::Index k) const;
  bool is_sliding(Eigen::Index k) const { return m_sliding[static_cast<std::size_t>(k)] != 0; }

 protected:
  FlowSystem& m_sys;
  RunState& m_state;
  const std::vector<char>& m_sliding;
  double m_abs_tol = 0, m_rel_tol = 0;
};

/// The policy for a run: frozen when `frozen` is given (the system's FrozenPattern, for an
/// adaptive stepper with flow.freeze_pattern), sign-following otherwise.
std::unique_ptr<EventPolicy> make_event_policy(FlowSystem& system, RunState& state, const std::vector<char>& sliding,
                                               FrozenPattern* frozen);

/// Ends the accepted step x → x_new (velocities dxdt, f_new) at `fraction` of dt on its cubic
/// Hermite interpolant instead of attempting the shorter step: x_new, f_new, s_new and dt then
/// describe the step to there. The pre-activations are linear in the state, so their
/// interpolant, which located the switch, is the image of this one. `scratch` is a buffer.
void end_step_on_interpolant(FlowSystem& system, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau,
                             double fraction, double& dt, Eigen::VectorXd& x_new, Eigen::VectorXd& f_new,
                             Eigen::VectorXd& s_new, Eigen::VectorXd& scratch);

}  // namespace kktflow
