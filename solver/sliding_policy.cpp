#include "sliding_policy.hpp"

#include "margin_tolerance.hpp"
#include "problems/held_kinks.hpp"
#include "run_text.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace kktflow {

void validate(const SlidingOptions& o) {
  if (o.flips < 2) throw std::invalid_argument("flow.sliding_flips = " + std::to_string(o.flips) + ": must be ≥ 2");
  if (o.window_steps < 1)
    throw std::invalid_argument("flow.sliding_window = " + std::to_string(o.window_steps) + ": must be ≥ 1");
}

void SlidingPolicy::start() {
  m_mask.assign(static_cast<std::size_t>(m_sys.margins().num_switches()), 0);
  for (Eigen::Index k : m_state.sliding) m_mask[static_cast<std::size_t>(k)] = 1;
  m_flip_steps.clear();
  const auto& history = m_state.flip_history;
  for (std::size_t i = 0; i + 1 < history.size(); i += 2) m_flip_steps[history[i]].push_back(history[i + 1]);
}

void SlidingPolicy::save_flips() {
  m_state.flip_history.clear();
  for (const auto& [k, steps] : m_flip_steps)
    for (const std::int64_t step : steps) m_state.flip_history.insert(m_state.flip_history.end(), {k, step});
}

void SlidingPolicy::hold(std::vector<Eigen::Index> pairs) {
  for (Eigen::Index k : m_state.sliding) m_mask[static_cast<std::size_t>(k)] = 0;
  m_state.sliding = std::move(pairs);
  for (Eigen::Index k : m_state.sliding) m_mask[static_cast<std::size_t>(k)] = 1;
  m_sys.margins().set_sliding(m_state.sliding);
}

std::vector<Eigen::Index> SlidingPolicy::release_leaving(EventPolicy& events, const SwitchReport& report) {
  std::vector<Eigen::Index> released;
  for (const auto& [k, above] : m_sys.margins().leaving_sliding()) {
    released.push_back(k);
    ++m_state.releases;
    report(k, above ? 2 : -2);
    // The field at the clamped slope pushes the pair off its kink on the side it is leaving to.
    events.set_side(k, m_state.switch_velocity[k] > 0);
  }
  if (released.empty()) return released;
  std::vector<Eigen::Index> kept;
  std::set_difference(m_state.sliding.begin(), m_state.sliding.end(), released.begin(), released.end(),
                      std::back_inserter(kept));
  hold(std::move(kept));
  return released;
}

double SlidingPolicy::exit_fraction(const Eigen::VectorXd& x, double tau, const Eigen::VectorXd& x_new, double dt) {
  MarginSystem& ms = m_sys.margins();
  if (!on() || empty()) return 1.0;
  const auto leaving = ms.leaving_sliding();
  if (leaving.empty()) return 1.0;
  const Eigen::MatrixX2d end = ms.sliding_headroom();
  m_field.resize(x.size());
  m_sys(x, m_field, tau);
  const Eigen::MatrixX2d start = ms.sliding_headroom();
  m_sys(x_new, m_field, tau + dt);
  const auto& held = ms.sliding();
  double fraction = 1.0;
  for (const auto& [k, above] : leaving) {
    const auto r = std::lower_bound(held.begin(), held.end(), k) - held.begin();
    const int side = above ? 1 : 0;  // the end of the range it left through
    const double h0 = start(r, side), h1 = end(r, side);
    if (h0 > 0.0) fraction = std::min(fraction, h0 / (h0 - h1));
  }
  return fraction;
}

bool SlidingPolicy::flips_often(Eigen::Index k) {
  auto& history = m_flip_steps[k];
  history.push_back(m_state.step);
  std::erase_if(history, [&](std::int64_t s) { return s + m_opt.window_steps < m_state.step; });
  return static_cast<int>(history.size()) >= m_opt.flips;
}

std::vector<Eigen::Index> SlidingPolicy::near_enough(std::vector<Eigen::Index> approaching,
                                                     const Eigen::VectorXd& x) const {
  if (approaching.empty()) return approaching;
  MarginSystem& ms = m_sys.margins();
  Eigen::VectorXd q(ms.num_margins()), q_held(ms.num_margins()), y;
  ms.margins(x, q);
  std::erase_if(approaching, [&](Eigen::Index k) {
    std::vector<Eigen::Index> trial = m_state.sliding;
    trial.insert(std::upper_bound(trial.begin(), trial.end(), k), k);
    ms.set_sliding(trial);
    y = x;
    ms.hold_on_sliding_surfaces(y);
    ms.margins(y, q_held);
    return relevant_spread(q, q_held - q) > kMarginTol;
  });
  ms.set_sliding(m_state.sliding);
  return approaching;
}

std::vector<Eigen::Index> SlidingPolicy::candidates(const std::vector<Eigen::Index>& at_kinks,
                                                    const std::vector<Eigen::Index>& often, const EventPolicy& events,
                                                    const Eigen::VectorXd& x) const {
  if (!on()) return {};
  std::vector<Eigen::Index> out;
  if (m_opt.capture_on_arrival) out = at_kinks;
  out.insert(out.end(), often.begin(), often.end());
  const auto approaching = near_enough(events.approaching_kinks(at_kinks), x);
  out.insert(out.end(), approaching.begin(), approaching.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<Eigen::Index> SlidingPolicy::capture_attracted(std::vector<Eigen::Index> trial, const Eigen::VectorXd& x) {
  MarginSystem& ms = m_sys.margins();
  // It is tested at x as it stands, a located step's overshoot off the surfaces: the slopes
  // depend on x only through the margins, which that moves by O(1e-6 dt), and the products at x
  // are memoised, so a rejected candidate costs no product with Γ.
  const auto kept = keep_attracted(
      m_state.sliding, std::move(trial),
      [&](const std::vector<Eigen::Index>& merged) {
        ms.set_sliding(merged);
        m_sys(x, m_state.dxdt, m_state.tau);
      },
      [&] { return ms.leaving_sliding(); });
  if (kept.empty()) {
    ms.set_sliding(m_state.sliding);
  } else {
    std::vector<Eigen::Index> merged;
    std::merge(m_state.sliding.begin(), m_state.sliding.end(), kept.begin(), kept.end(), std::back_inserter(merged));
    hold(std::move(merged));
  }
  return kept;
}

}  // namespace kktflow
