#include "two_layer_leaky.hpp"

#include "init.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace kktflow {

void validate(const TwoLayerLeakyParams& p) {
  if (p.width < 1)
    throw std::invalid_argument("model.width = " + std::to_string(p.width) + ": must be an integer ≥ 1");
  if (!(p.alpha >= 0.0 && p.alpha < 1.0))
    throw std::invalid_argument("model.alpha = " + std::to_string(p.alpha) + ": must be in [0, 1)");
  if (!(p.init_scale > 0.0 && std::isfinite(p.init_scale)))
    throw std::invalid_argument("model.init_scale = " + std::to_string(p.init_scale) +
                                ": must be a finite number > 0");
}

TwoLayerLeaky::TwoLayerLeaky(const Eigen::MatrixXd& X, const TwoLayerLeakyParams& params)
    : m_X(X), m_params(params), m_m(params.width), m_d(X.cols()), m_Z(params.width, X.rows()),
      m_Phi(params.width, X.rows()), m_M(params.width, X.rows()), m_a(params.width) {
  validate(params);
}

Eigen::VectorXd TwoLayerLeaky::initial_theta() const {
  return gaussian_theta(dim(), m_params.init_scale, m_params.seed);
}

void TwoLayerLeaky::forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), m_m, m_d);
  m_a = theta.tail(m_m);
  m_Z.noalias() = W * m_X.transpose();
  m_Phi = m_Z.unaryExpr([this](double z) { return phi(z); });
  F.noalias() = m_Phi.transpose() * m_a;
}

void TwoLayerLeaky::backward_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G) {
  for (Eigen::Index i = 0; i < m_Z.cols(); ++i)
    for (Eigen::Index j = 0; j < m_m; ++j) m_M(j, i) = m_a[j] * dphi(m_Z(j, i)) * G[i];
}

void TwoLayerLeaky::gradient_from_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G,
                                               Eigen::Ref<Eigen::VectorXd> grad) const {
  Eigen::Map<RowMajorMatrix> dW(grad.data(), m_m, m_d);
  dW.noalias() = m_M * m_X;
  grad.tail(m_m).noalias() = m_Phi * G;
}

void TwoLayerLeaky::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  backward_coefficients(G);
  gradient_from_coefficients(G, grad);
}

void TwoLayerLeaky::set_held(const std::vector<Eigen::Index>& switches) { m_held = held_units(switches, m_X.rows()); }

void TwoLayerLeaky::vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G,
                             const Eigen::Ref<const Eigen::VectorXd>& delta_held, Eigen::Ref<Eigen::VectorXd> grad,
                             Eigen::Ref<Eigen::VectorXd> incoming_held) {
  backward_coefficients(G);
  for (std::size_t r = 0; r < m_held.size(); ++r) {
    const auto [j, i] = m_held[r];
    const auto k = static_cast<Eigen::Index>(r);
    incoming_held[k] = m_a[j] * G[i];
    m_M(j, i) = delta_held[k];
  }
  gradient_from_coefficients(G, grad);
}

void TwoLayerLeaky::hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta) {
  project_rows_off_inputs(Eigen::Map<RowMajorMatrix>(theta.data(), m_m, m_d), m_X.transpose(), m_held);
}

void TwoLayerLeaky::switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), m_m, m_d);
  Eigen::Map<RowMajorMatrix> S(s.data(), m_m, m_X.rows());
  S.noalias() = W * m_X.transpose();
}

Eigen::VectorXd neuron_balance(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Index width, Eigen::Index features) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), width, features);
  return theta.tail(width).array().square() - W.rowwise().squaredNorm().array();
}

}  // namespace kktflow
