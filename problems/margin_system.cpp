#include "margin_system.hpp"

#include <stdexcept>

namespace kktflow {

void MarginSystem::set_sliding(const std::vector<Eigen::Index>& switches) {
  if (!switches.empty())
    throw std::logic_error("this margin system cannot hold switches on a sliding surface; "
                           "use flow.coordinates = \"span\"");
}

FullCoordinates::FullCoordinates(Model& model, const Eigen::VectorXd& y)
    : m_model(model), m_y(y), m_G(y.size()) {}

void FullCoordinates::margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) {
  m_model.forward(state, q);
  q.array() *= m_y.array();
}

void FullCoordinates::ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) {
  m_G.array() = m_y.array() * w.array();
  m_model.vjp(m_G, dstate);
}

void FullCoordinates::gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) {
  const Eigen::Index n = m_y.size();
  Eigen::MatrixXd grads(m_model.dim(), n);
  for (Eigen::Index i = 0; i < n; ++i) {
    m_G.setZero();
    m_G[i] = m_y[i];
    m_model.vjp(m_G, grads.col(i));
  }
  K.noalias() = grads.transpose() * grads;
}

}  // namespace kktflow
