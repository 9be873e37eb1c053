#include "margin_system.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kktflow {

void MarginSystem::set_sliding(const std::vector<Eigen::Index>& switches) {
  if (!switches.empty())
    throw std::logic_error(
        "this margin system cannot hold switches on a sliding surface "
        "(its model has no held kinks)");
}

FullCoordinates::FullCoordinates(Model& model, const Eigen::VectorXd& y)
    : m_model(model), m_y(y), m_G(y.size()), m_held(model) {
  if (y.size() != model.num_samples() * model.num_outputs())
    throw std::invalid_argument("FullCoordinates: " + std::to_string(y.size()) + " signs for " +
                                std::to_string(model.num_samples() * model.num_outputs()) + " outputs");
}

void FullCoordinates::margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) {
  m_model.forward(state, q);
  q.array() *= m_y.array();
  if (!m_held.empty()) m_held.moved_to(state);
}

void FullCoordinates::ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) {
  m_G.array() = m_y.array() * w.array();
  if (m_held.empty()) {
    m_model.vjp(m_G, dstate);
    return;
  }
  m_held.vjp(m_G, dstate, true);
}

void MarginSystem::margin_gradients(Eigen::Ref<Eigen::MatrixXd> G) {
  Eigen::VectorXd unit = Eigen::VectorXd::Zero(num_margins());
  for (Eigen::Index i = 0; i < unit.size(); ++i) {
    unit[i] = 1.0;
    ascent(unit, G.col(i));
    unit[i] = 0.0;
  }
}

void FullCoordinates::margin_gradients(Eigen::Ref<Eigen::MatrixXd> G) {
  for (Eigen::Index i = 0; i < m_y.size(); ++i) {
    m_G.setZero();
    m_G[i] = m_y[i];
    if (m_held.empty()) {
      m_model.vjp(m_G, G.col(i));
    } else {
      m_held.vjp(m_G, G.col(i), false);
    }
  }
}

void FullCoordinates::gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) {
  m_gradients.resize(m_model.dim(), m_y.size());
  margin_gradients(m_gradients);
  K.noalias() = m_gradients.transpose() * m_gradients;
}

void FullCoordinates::hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) {
  if (!m_held.empty()) m_model.hold_on_kinks(state);
}

}  // namespace kktflow
