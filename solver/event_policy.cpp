#include "event_policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace kktflow {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Sign-following: a step is restarted at a switch unless the crossing already lies in its last
// 1e-6 (ours); the jump in the field then acts over ≤ 1e-6 of a step, below the local error
// tolerance. Restarted steps end 1e-9 past the Newton estimate (ours).
constexpr double kEventFractionTol = 1e-6;
constexpr double kEventOvershoot = 1e-9;
// Frozen pattern: a located step ends this fraction past the switch (ours), well above the error
// of the Hermite location, so the pair lands on its new side; the frozen field acts on the wrong
// side for that 1e-6 of a step only.
constexpr double kLocatedOvershoot = 1e-6;
// … and a switch located in the last kLocatedTol of a step is taken as at its end (ours; must
// exceed kLocatedOvershoot, or a located step would be located again).
constexpr double kLocatedTol = 1e-5;
// A pair due at its kink within this fraction of the next step has arrived (ours): moving the
// pattern on now, not after a sliver of a step, costs no more than kLocatedTol does.
constexpr double kKinkReach = 1e-5;
// A crossing may be taken at the step's end, unlocated, when holding its old side for the rest
// of the step adds at most this much to the step's error norm, whose bound is 1 (ours).
constexpr double kUnlocatedError = 0.1;

/// The cubic Hermite weights at t ∈ [0, 1] of (p0, dt·ṗ0, p1, dt·ṗ1): one basis for the switch
/// functions that locate a crossing and for the state that ends there, so the two agree.
std::array<double, 4> hermite_weights(double t) {
  const double t2 = t * t, t3 = t2 * t;
  return {2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, 3 * t2 - 2 * t3, t3 - t2};
}

void sort_unique(std::vector<Eigen::Index>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

class FrozenPatternEvents final : public EventPolicy {
 public:
  FrozenPatternEvents(FlowSystem& system, RunState& state, const std::vector<char>& sliding, FrozenPattern& pattern)
      : EventPolicy(system, state, sliding), m_pattern(pattern) {}

  FrozenPattern* frozen() const override { return &m_pattern; }
  void set_side(Eigen::Index k, bool positive) override {
    EventPolicy::set_side(k, positive);
    m_pattern.set_side(k, positive);
  }

  // Aim at the first switch Newton from the step's start puts inside it: when Newton is close,
  // this saves the attempt that would only have located the switch.
  std::optional<std::pair<double, Eigen::Index>> aim(double dt) const override {
    if (m_state.switch_velocity_stale != 0) {
      m_sys.margins().switch_velocity(m_state.dxdt, m_state.switch_velocity);
      m_state.switch_velocity_stale = 0;
    }
    // Pairs due within kKinkReach were moved on by the last step's bookkeeping; one still due
    // there is chattering.
    const double floor = kKinkReach * m_state.dt;
    std::pair<double, Eigen::Index> first{dt, -1};
    for (Eigen::Index k = 0; k < m_state.switches.size(); ++k) {
      if (is_sliding(k) || zeno_guarded(k)) continue;
      if (const double h = time_to_kink(k); h > floor && h < first.first && !negligible(k, dt)) first = {h, k};
    }
    if (first.second < 0) return std::nullopt;
    return std::make_pair(first.first * (1.0 + kLocatedOvershoot), first.second);
  }

  Flip first_crossing(const std::vector<Flip>& flips, const Eigen::VectorXd& s1, const Eigen::VectorXd& sdot_end,
                      double dt) const override {
    Flip first{-1, 2.0, 0};
    for (const Flip& f : flips) {
      if (zeno_guarded(f.index)) continue;  // chattering: taken at the step's end
      const double t = hermite_crossing(f.index, s1, sdot_end, dt);
      if (t < first.fraction && !negligible(f.index, (1 - t) * dt)) first = {f.index, t, f.new_sign};
    }
    return first;
  }
  bool locates_on_interpolant() const override { return true; }
  double end_tolerance() const override { return kLocatedTol; }
  double overshoot() const override { return kLocatedOvershoot; }

  // A pair due at its kink within kKinkReach of the next step moves on now, and so does one
  // already past it and moving on (a release or a turn put it on the wrong side).
  std::vector<Eigen::Index> pairs_at_kinks(const std::vector<Flip>& flips,
                                           const std::vector<Eigen::Index>& released) const override {
    std::vector<Eigen::Index> out = EventPolicy::pairs_at_kinks(flips, released);
    const double reach = kKinkReach * m_state.dt;
    const Eigen::VectorXd& s = m_state.switches;
    const Eigen::VectorXd& sdot = m_state.switch_velocity;
    for (Eigen::Index k = 0; k < s.size(); ++k) {
      if (is_sliding(k) || std::binary_search(released.begin(), released.end(), k)) continue;
      const bool past = (s[k] > 0) != (m_state.side[static_cast<std::size_t>(k)] != 0) && s[k] * sdot[k] > 0;
      if (past || time_to_kink(k) <= reach) out.push_back(k);
    }
    sort_unique(out);
    return out;
  }

  // With a frozen pattern the field never sees the kink, so Newton cannot creep up on it; but a
  // pair chattering across a kink it cannot slide on would make every step a sliver.
  bool zeno_guarded(Eigen::Index k) const override {
    return m_state.step < m_state.unlocated_until[static_cast<std::size_t>(k)];
  }

 private:
  /// Whether holding switch k's committed side for `span` of τ past its kink stays within
  /// kUnlocatedError of the step's error norm (at the weights of the last evaluation).
  bool negligible(Eigen::Index k, double span) const {
    if (!(m_abs_tol > 0 || m_rel_tol > 0)) return false;
    return span * m_pattern.switch_jump_error(k, m_sys.last_weights(), m_state.state, m_abs_tol, m_rel_tol) <=
           kUnlocatedError;
  }

  /// Fraction of the step at which switch k first leaves its committed side on the cubic Hermite
  /// interpolant of the step (exact in s, which is affine in the state).
  double hermite_crossing(Eigen::Index k, const Eigen::VectorXd& s1, const Eigen::VectorXd& sdot1, double dt) const {
    const double p0 = m_state.switches[k], p1 = s1[k], m0 = m_state.switch_velocity[k] * dt, m1 = sdot1[k] * dt;
    const bool side = m_state.side[static_cast<std::size_t>(k)] != 0;
    auto off_side = [&](double t) {
      const auto h = hermite_weights(t);
      return (h[0] * p0 + h[1] * m0 + h[2] * p1 + h[3] * m1 > 0) != side;
    };
    if (off_side(0.0)) return 0.0;
    // Bracket the first exit on a coarse grid (a cubic turns at most twice), then bisect.
    constexpr int kGrid = 16;
    double lo = 0.0, hi = 1.0;
    for (int g = 1; g <= kGrid; ++g) {
      const double t = static_cast<double>(g) / kGrid;
      if (off_side(t)) {
        hi = t;
        break;
      }
      lo = t;
    }
    for (int it = 0; it < 50 && hi - lo > 1e-12; ++it) {
      const double mid = 0.5 * (lo + hi);
      (off_side(mid) ? hi : lo) = mid;
    }
    return hi;
  }

  FrozenPattern& m_pattern;
};

class SignFollowingEvents final : public EventPolicy {
 public:
  using EventPolicy::EventPolicy;

  // Zeno guard: a pair we already stepped up to once and fell short of is approaching an
  // attracting kink asymptotically; stepping to it again would shrink geometrically. The error
  // control handles that crossing, and the step is not restarted.
  Flip first_crossing(const std::vector<Flip>& flips, const Eigen::VectorXd& /*s1*/, const Eigen::VectorXd& /*sdot*/,
                      double /*dt*/) const override {
    Flip first{-1, 2.0, 0};
    for (const Flip& f : flips)
      if (f.fraction < first.fraction) first = f;
    if (first.index >= 0 && zeno_guarded(first.index)) first.index = -1;
    return first;
  }
  bool locates_on_interpolant() const override { return false; }
  double end_tolerance() const override { return kEventFractionTol; }
  double overshoot() const override { return kEventOvershoot; }

  // A pair creeping up on a kink that attracts from both sides never crosses at an accepted step
  // end (the error control rejects every step whose stages see the other side, so the step size
  // collapses: measured on two_layer_leaky, dt 2e-9 after 7e5 steps). It is tested for sliding
  // when due within the next step; the sliding policy keeps it only if its equivalent slope lies
  // in its range.
  std::vector<Eigen::Index> approaching_kinks(const std::vector<Eigen::Index>& crossed) const override {
    std::vector<Eigen::Index> out;
    for (Eigen::Index k = 0; k < m_state.switches.size(); ++k)
      if (!is_sliding(k) && time_to_kink(k) <= m_state.dt && !std::binary_search(crossed.begin(), crossed.end(), k))
        out.push_back(k);
    return out;
  }
  void settle_sides() override {
    for (Eigen::Index k = 0; k < m_state.switches.size(); ++k)
      m_state.side[static_cast<std::size_t>(k)] = m_state.switches[k] > 0;
  }
  bool zeno_guarded(Eigen::Index k) const override {
    return k == m_state.short_of || m_state.step < m_state.unlocated_until[static_cast<std::size_t>(k)];
  }
};

}  // namespace

void EventPolicy::set_side(Eigen::Index k, bool positive) {
  m_state.side[static_cast<std::size_t>(k)] = positive ? 1 : 0;
}

std::optional<std::pair<double, Eigen::Index>> EventPolicy::aim(double /*dt*/) const { return std::nullopt; }

std::vector<Eigen::Index> EventPolicy::pairs_at_kinks(const std::vector<Flip>& flips,
                                                      const std::vector<Eigen::Index>& /*released*/) const {
  std::vector<Eigen::Index> out;
  for (const Flip& f : flips) out.push_back(f.index);
  sort_unique(out);
  return out;
}

std::vector<Eigen::Index> EventPolicy::arrived_at_end(const std::vector<Eigen::Index>& held,
                                                      const std::vector<Eigen::Index>& crossed, double dt) const {
  std::vector<Eigen::Index> out = held;
  for (Eigen::Index k : crossed)
    if (std::abs(m_state.switches[k]) <= end_tolerance() * dt * std::abs(m_state.switch_velocity[k])) out.push_back(k);
  sort_unique(out);
  return out;
}

std::vector<Eigen::Index> EventPolicy::approaching_kinks(const std::vector<Eigen::Index>& /*crossed*/) const {
  return {};
}

bool EventPolicy::any_flip(const Eigen::VectorXd& s1) const {
  for (Eigen::Index k = 0; k < s1.size(); ++k)
    if (!is_sliding(k) && (s1[k] > 0) != (m_state.side[static_cast<std::size_t>(k)] != 0)) return true;
  return false;
}

std::vector<Flip> EventPolicy::flipped_switches(const Eigen::VectorXd& s1, double dt) const {
  std::vector<Flip> flips;
  for (Eigen::Index k = 0; k < s1.size(); ++k) {
    const bool pos1 = s1[k] > 0;
    if (is_sliding(k) || pos1 == (m_state.side[static_cast<std::size_t>(k)] != 0)) continue;
    // Newton from the step's start, where the field is smooth on the current side: a crossing
    // estimate from both ends would mix in the other side's field and creep up on an
    // attracting kink geometrically (Zeno-like). Fall back to the chord when ṡ points away.
    const double s0 = m_state.switches[k];
    const double sdot = m_state.switch_velocity[k];
    const double chord = s0 != s1[k] ? s0 / (s0 - s1[k]) : 0.0;
    const double newton = sdot != 0 ? -s0 / (sdot * dt) : -1.0;
    const double fraction = newton > 0 && newton <= 1 ? newton : chord;
    flips.push_back({k, fraction, pos1 ? 1 : -1});
  }
  return flips;
}

double EventPolicy::time_to_kink(Eigen::Index k) const {
  // The committed side, not the sign of s: a pair moved on at its kink may sit a hair short of it.
  const bool positive = m_state.side[static_cast<std::size_t>(k)] != 0;
  const double sdot = m_state.switch_velocity[k];
  const bool approaching = positive ? sdot < 0 : sdot > 0;
  return approaching ? std::abs(m_state.switches[k]) / std::abs(sdot) : kInf;
}

std::unique_ptr<EventPolicy> make_event_policy(FlowSystem& system, RunState& state, const std::vector<char>& sliding,
                                               FrozenPattern* frozen) {
  if (frozen) return std::make_unique<FrozenPatternEvents>(system, state, sliding, *frozen);
  return std::make_unique<SignFollowingEvents>(system, state, sliding);
}

void end_step_on_interpolant(FlowSystem& system, const Eigen::VectorXd& x, const Eigen::VectorXd& dxdt, double tau,
                             double fraction, double& dt, Eigen::VectorXd& x_new, Eigen::VectorXd& f_new,
                             Eigen::VectorXd& s_new, Eigen::VectorXd& scratch) {
  const auto h = hermite_weights(fraction);
  scratch = h[0] * x + h[2] * x_new + (h[1] * dt) * dxdt + (h[3] * dt) * f_new;
  x_new.swap(scratch);
  dt *= fraction;
  system(x_new, f_new, tau + dt);
  system.margins().switch_functions(x_new, s_new);
}

}  // namespace kktflow
