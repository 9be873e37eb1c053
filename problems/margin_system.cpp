#include "margin_system.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kktflow {

void MarginSystem::set_sliding(const std::vector<Eigen::Index>& switches) {
  if (!switches.empty())
    throw std::logic_error("this margin system cannot hold switches on a sliding surface "
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

void FullCoordinates::gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) {
  const Eigen::Index n = m_y.size();
  Eigen::MatrixXd grads(m_model.dim(), n);
  for (Eigen::Index i = 0; i < n; ++i) {
    m_G.setZero();
    m_G[i] = m_y[i];
    if (m_held.empty()) {
      m_model.vjp(m_G, grads.col(i));
    } else {
      m_held.vjp(m_G, grads.col(i), false);
    }
  }
  K.noalias() = grads.transpose() * grads;
}

void FullCoordinates::hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) {
  if (!m_held.empty()) m_model.hold_on_kinks(state);
}

}  // namespace kktflow
