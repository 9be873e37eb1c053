#pragma once
/// \file sliding_policy.hpp
/// Filippov sliding in the margin flow: when a (neuron, sample) pair is held on its kink, and
/// when it is let go. A pair is *tested* when it reaches its kink at a switch event
/// (capture_on_arrival), when it flipped `flips` times within `window_steps` accepted steps, or,
/// with the field following sign(s), when it creeps up on a kink near enough that holding it
/// leaves the loss weights as they are (event_policy.hpp, near_enough). The test
/// holds it on its kink and keeps it there if its equivalent slope lies in [γ, 1]: exactly when
/// the field on both sides points into the kink, Filippov's sliding condition. A held pair is
/// released when that slope leaves [γ, 1]. A pair that keeps crossing and cannot slide
/// chatters: for a window its crossings are taken at step ends, unlocated.
///
/// The held set and the recent flips are fields of the RunState; the mask over all switches is
/// derived from them.
#include "event_policy.hpp"
#include "flow_system.hpp"
#include "run_state.hpp"

#include <functional>
#include <map>
#include <vector>

namespace kktflow {

struct SlidingOptions {
  bool enabled = true;
  int flips = 3;                   ///< a pair that flips this often …
  std::int64_t window_steps = 50;  ///< … within this many accepted steps is tested
  bool capture_on_arrival = true;  ///< test every pair at the switch event where it reaches its kink
};

/// Throws std::invalid_argument naming the key (flow.sliding_*) and its allowed range.
void validate(const SlidingOptions& options);

/// Reports a capture (new_sign 0) or a release (±2) of switch k.
using SwitchReport = std::function<void(Eigen::Index k, int new_sign)>;

class SlidingPolicy {
 public:
  SlidingPolicy(FlowSystem& system, const SlidingOptions& options, RunState& state)
      : m_sys(system), m_opt(options), m_state(state) {}

  /// Sliding is on and the system can hold pairs on kinks.
  bool on() const { return m_opt.enabled && m_sys.margins().supports_sliding(); }
  /// 1 for every held switch.
  const std::vector<char>& mask() const { return m_mask; }
  bool empty() const { return m_state.sliding.empty(); }

  /// Sizes the mask for a run; the held set and flips come from the RunState (restored or empty).
  void start();
  /// Writes the recent flips into the RunState (they live in a map while the run goes on).
  void save_flips();

  /// Makes `pairs` (sorted) the held set, in the state, the mask and the system.
  void hold(std::vector<Eigen::Index> pairs);
  /// Lets go of the held pairs whose slope left its range at the present state, each moved to the
  /// side its field pushes it to; returns them, sorted.
  std::vector<Eigen::Index> release_leaving(EventPolicy& events, const SwitchReport& report);
  /// The fraction of the step x → x_new (of size dt from τ) at which the first held pair whose
  /// slope left its range at x_new (leaving_sliding, the system's last ascent being there) left
  /// it, by linear interpolation of its headroom between the step's ends; 1 when none left.
  /// Inside a step the held pairs stay on their kinks whatever their slopes, so a long step past
  /// an exit integrates the wrong field, and its end may put slopes out of range that a shorter,
  /// more accurate step keeps inside: the Fashion-MNIST run at n = 1000 let two samples off all
  /// 50 of their units after one step of log t 182 → 184, and 12 000 releases and recaptures
  /// followed. Exits are located like switches (Piiroinen & Kuznetsov, ACM TOMS 34(3), 2008,
  /// locate the end of sliding where the equivalent control reaches its bound). Evaluates the
  /// field at x and again at x_new, so the system's slopes are x_new's afterwards.
  double exit_fraction(const Eigen::VectorXd& x, double tau, const Eigen::VectorXd& x_new, double dt);
  /// Records a flip of k at the present step; true when k has flipped often enough to be tested.
  bool flips_often(Eigen::Index k);
  /// Forgets k's flips (it was captured).
  void forget_flips(Eigen::Index k) { m_flip_steps.erase(k); }
  /// The pairs to test at x, sorted: `at_kinks` (when capture_on_arrival), `often`, and those the
  /// event policy sees creeping up on a kink that are near_enough.
  std::vector<Eigen::Index> candidates(const std::vector<Eigen::Index>& at_kinks,
                                       const std::vector<Eigen::Index>& often, const EventPolicy& events,
                                       const Eigen::VectorXd& x) const;
  /// Of the pairs `approaching` their kinks at x (sorted), those whose capture moves the
  /// differences of the weighted margins by at most kMarginTol (margin_tolerance.hpp). Holding a
  /// pair projects it onto its kink, which moves its unit's row by the pair's distance; while
  /// still a step's length away, that can reweight every sample (two_layer_gaussian seed 5 at
  /// log t ≈ 5e8: differences of hundreds, every held slope out of its range at once, and 30 000
  /// steps of cascade). A pair left out crosses in a later step, where the crossing is located,
  /// or comes near enough.
  std::vector<Eigen::Index> near_enough(std::vector<Eigen::Index> approaching, const Eigen::VectorXd& x) const;
  /// Tests `trial` at x and keeps the largest subset whose slopes stay in range; they join the
  /// held set. Returns the kept pairs, sorted. The field at x is evaluated into the state's
  /// velocity along the way; the caller refreshes it on the surfaces afterwards.
  std::vector<Eigen::Index> capture_attracted(std::vector<Eigen::Index> trial, const Eigen::VectorXd& x);

 private:
  FlowSystem& m_sys;
  const SlidingOptions& m_opt;
  RunState& m_state;
  std::vector<char> m_mask;
  std::map<Eigen::Index, std::vector<std::int64_t>> m_flip_steps;
  Eigen::VectorXd m_field;  ///< exit_fraction's evaluations of the field
};

}  // namespace kktflow
