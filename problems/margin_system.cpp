#include "margin_system.hpp"

#include <algorithm>
#include <stdexcept>

namespace kktflow {

void MarginSystem::set_sliding(const std::vector<Eigen::Index>& switches) {
  if (!switches.empty())
    throw std::logic_error("this margin system cannot hold switches on a sliding surface "
                           "(its model has no held kinks)");
}

FullCoordinates::FullCoordinates(Model& model, const Eigen::VectorXd& y)
    : m_model(model), m_y(y), m_G(y.size()) {}

namespace {
// A sliding slope this far outside its range (ours, as in leaky2_span) is taken as leaving: the
// solve's rounding must not release a pair that sits at the end of its range.
constexpr double kSlopeSlack = 1e-9;
}  // namespace

void FullCoordinates::margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) {
  m_model.forward(state, q);
  q.array() *= m_y.array();
  if (m_sliding.empty()) return;
  m_state = state;
  m_have_factor = false;
}

void FullCoordinates::ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) {
  m_G.array() = m_y.array() * w.array();
  if (m_sliding.empty()) {
    m_model.vjp(m_G, dstate);
    return;
  }
  sliding_ascent(m_G, dstate, true);
}

void FullCoordinates::gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) {
  const Eigen::Index n = m_y.size();
  Eigen::MatrixXd grads(m_model.dim(), n);
  for (Eigen::Index i = 0; i < n; ++i) {
    m_G.setZero();
    m_G[i] = m_y[i];
    if (m_sliding.empty()) {
      m_model.vjp(m_G, grads.col(i));
    } else {
      sliding_ascent(m_G, grads.col(i), false);
    }
  }
  K.noalias() = grads.transpose() * grads;
}

void FullCoordinates::set_sliding(const std::vector<Eigen::Index>& switches) {
  m_sliding = switches;
  std::sort(m_sliding.begin(), m_sliding.end());
  m_sliding.erase(std::unique(m_sliding.begin(), m_sliding.end()), m_sliding.end());
  m_model.set_held(m_sliding);
  const auto held = static_cast<Eigen::Index>(m_sliding.size());
  m_A.resize(held, held);
  m_unit.setZero(held);
  m_delta.resize(held);
  m_incoming.resize(held);
  m_sdot_held.resize(held);
  m_raw_slopes.resize(held);
  for (Eigen::Index r = 0; r < held; ++r) m_raw_slopes[r] = m_model.kink_slopes(m_sliding[static_cast<std::size_t>(r)]).first;
  m_zero_G.setZero(m_y.size());
  m_column.resize(m_model.dim());
  m_s.resize(m_model.num_switches());
  m_ds.resize(m_model.num_switches());
  m_have_factor = false;
}

std::vector<std::pair<Eigen::Index, bool>> FullCoordinates::leaving_sliding() const {
  std::vector<std::pair<Eigen::Index, bool>> out;
  for (std::size_t r = 0; r < m_sliding.size(); ++r) {
    const auto [lo, hi] = m_model.kink_slopes(m_sliding[r]);
    const double raw = m_raw_slopes[static_cast<Eigen::Index>(r)];
    if (raw < lo - kSlopeSlack || raw > hi + kSlopeSlack) out.emplace_back(m_sliding[r], raw > hi);
  }
  return out;
}

void FullCoordinates::hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) {
  if (!m_sliding.empty()) m_model.hold_on_kinks(state);
}

void FullCoordinates::held_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate) {
  m_model.switch_velocity(dstate, m_ds);
  for (std::size_t r = 0; r < m_sliding.size(); ++r) m_sdot_held[static_cast<Eigen::Index>(r)] = m_ds[m_sliding[r]];
}

void FullCoordinates::factor_sliding_matrix() {
  m_model.switch_functions(m_state, m_s);  // the JVP's linearization point
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

void FullCoordinates::sliding_ascent(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> dstate,
                                     bool clamp) {
  if (!m_have_factor) factor_sliding_matrix();
  m_delta.setZero();
  m_model.vjp_held(G, m_delta, dstate, m_incoming);
  held_velocity(dstate);
  m_delta = m_factor.solve(-m_sdot_held);
  m_model.vjp_held(G, m_delta, dstate, m_incoming);
  bool clamped = false;
  for (std::size_t r = 0; r < m_sliding.size(); ++r) {
    const auto k = static_cast<Eigen::Index>(r);
    const auto [lo, hi] = m_model.kink_slopes(m_sliding[r]);
    // No incoming signal: every slope gives δ = 0, and the pair is no reason to leave.
    const double raw = m_incoming[k] != 0.0 ? m_delta[k] / m_incoming[k] : lo;
    if (clamp) m_raw_slopes[k] = raw;
    const double slope = std::clamp(raw, lo, hi);
    if (clamp && (slope != raw || m_incoming[k] == 0.0)) {
      m_delta[k] = slope * m_incoming[k];
      clamped = true;
    }
  }
  if (clamped) m_model.vjp_held(G, m_delta, dstate, m_incoming);
}

}  // namespace kktflow
