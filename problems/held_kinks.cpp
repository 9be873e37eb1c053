#include "held_kinks.hpp"

#include <algorithm>

namespace kktflow {

namespace {
// A sliding slope this far outside its range (ours) is taken as leaving: the slope is a ratio of
// O(1) quantities, so 1e-9 is far above the solve's rounding, which must not release a pair that
// sits at the end of its range.
constexpr double kSlopeSlack = 1e-9;
}  // namespace

HeldKinks::HeldKinks(Model& model) : m_model(model) {}

void HeldKinks::set(std::vector<Eigen::Index> switches) {
  std::sort(switches.begin(), switches.end());
  switches.erase(std::unique(switches.begin(), switches.end()), switches.end());
  m_held = std::move(switches);
  m_model.set_held(m_held);
  const auto count = static_cast<Eigen::Index>(m_held.size());
  m_A.resize(count, count);
  m_unit.setZero(count);
  m_delta.resize(count);
  m_incoming.resize(count);
  m_sdot_held.resize(count);
  m_raw_slopes.resize(count);
  for (Eigen::Index r = 0; r < count; ++r)
    m_raw_slopes[r] = m_model.kink_slopes(m_held[static_cast<std::size_t>(r)]).first;
  m_zero_G.setZero(m_model.num_samples() * m_model.num_outputs());
  m_column.resize(m_model.dim());
  m_s.resize(m_model.num_switches());
  m_ds.resize(m_model.num_switches());
  m_have_factor = false;
}

void HeldKinks::moved_to(const Eigen::Ref<const Eigen::VectorXd>& theta) {
  m_theta = theta;
  m_have_factor = false;
}

std::vector<std::pair<Eigen::Index, bool>> HeldKinks::leaving() const {
  return leaving_from_headroom(m_held, headroom());
}

std::vector<std::pair<Eigen::Index, bool>> leaving_from_headroom(const std::vector<Eigen::Index>& held,
                                                                 const Eigen::MatrixX2d& headroom) {
  std::vector<std::pair<Eigen::Index, bool>> out;
  for (Eigen::Index r = 0; r < headroom.rows(); ++r) {
    const bool above = headroom(r, 1) < -kSlopeSlack;
    if (above || headroom(r, 0) < -kSlopeSlack) out.emplace_back(held[static_cast<std::size_t>(r)], above);
  }
  return out;
}

Eigen::MatrixX2d HeldKinks::headroom() const {
  Eigen::MatrixX2d h(m_raw_slopes.size(), 2);
  for (Eigen::Index r = 0; r < h.rows(); ++r) {
    const auto [lo, hi] = m_model.kink_slopes(m_held[static_cast<std::size_t>(r)]);
    h.row(r) << m_raw_slopes[r] - lo, hi - m_raw_slopes[r];
  }
  return h;
}

void HeldKinks::held_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta) {
  m_model.switch_velocity(dtheta, m_ds);
  for (std::size_t r = 0; r < m_held.size(); ++r) m_sdot_held[static_cast<Eigen::Index>(r)] = m_ds[m_held[r]];
}

void HeldKinks::factor() {
  m_model.switch_functions(m_theta, m_s);  // the JVP's linearization point
  for (Eigen::Index r = 0; r < m_A.cols(); ++r) {
    m_unit.setZero();
    m_unit[r] = 1.0;
    m_model.vjp_held(m_zero_G, m_unit, m_column, m_incoming);
    held_velocity(m_column);
    m_A.col(r) = m_sdot_held;
  }
  m_factor.compute(m_A);
  m_have_factor = true;
}

void HeldKinks::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad, bool clamp) {
  if (!m_have_factor) factor();
  m_delta.setZero();
  m_model.vjp_held(G, m_delta, grad, m_incoming);
  held_velocity(grad);
  m_delta = m_factor.solve(-m_sdot_held);
  m_model.vjp_held(G, m_delta, grad, m_incoming);
  bool clamped = false;
  for (std::size_t r = 0; r < m_held.size(); ++r) {
    const auto k = static_cast<Eigen::Index>(r);
    const auto [lo, hi] = m_model.kink_slopes(m_held[r]);
    // No incoming signal: every slope gives δ = 0, and the pair is no reason to leave.
    const double raw = m_incoming[k] != 0.0 ? m_delta[k] / m_incoming[k] : lo;
    if (clamp) m_raw_slopes[k] = raw;
    const double slope = std::clamp(raw, lo, hi);
    if (clamp && (slope != raw || m_incoming[k] == 0.0)) {
      m_delta[k] = slope * m_incoming[k];
      clamped = true;
    }
  }
  if (clamped) m_model.vjp_held(G, m_delta, grad, m_incoming);
}

}  // namespace kktflow
