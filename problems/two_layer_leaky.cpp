#include "two_layer_leaky.hpp"

#include "init.hpp"
#include "param_checks.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace kktflow {

TwoLayerLeaky::TwoLayerLeaky(const Eigen::MatrixXd& X, const TwoLayerLeakyParams& params)
    : FirstLayerModel(X, params.width),
      m_params(params),
      m_m(params.width),
      m_Z(params.width, X.rows()),
      m_Phi(params.width, X.rows()),
      m_M(params.width, X.rows()),
      m_a(params.width) {
  validate(params);
}

Eigen::VectorXd TwoLayerLeaky::initial_theta() const {
  return gaussian_theta(dim(), m_params.init_scale, m_params.seed);
}

void TwoLayerLeaky::forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) {
  m_a = theta.tail(m_m);
  m_first.pre_activations(theta, m_Z);
  m_Phi = m_Z.unaryExpr([this](double z) { return phi(z); });
  F.noalias() = m_Phi.transpose() * m_a;
}

void TwoLayerLeaky::backward_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G) {
  for (Eigen::Index i = 0; i < m_Z.cols(); ++i)
    for (Eigen::Index j = 0; j < m_m; ++j) m_M(j, i) = m_a[j] * dphi(m_Z(j, i)) * G[i];
}

void TwoLayerLeaky::gradient_from_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G,
                                               Eigen::Ref<Eigen::VectorXd> grad) const {
  m_first.weight_gradient(m_M, grad);
  grad.tail(m_m).noalias() = m_Phi * G;
}

void TwoLayerLeaky::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  backward_coefficients(G);
  gradient_from_coefficients(G, grad);
}

void TwoLayerLeaky::vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G,
                             const Eigen::Ref<const Eigen::VectorXd>& delta_held, Eigen::Ref<Eigen::VectorXd> grad,
                             Eigen::Ref<Eigen::VectorXd> incoming_held) {
  backward_coefficients(G);
  const std::vector<HeldUnit>& held = m_first.held();
  for (std::size_t r = 0; r < held.size(); ++r) {
    const auto [j, i] = held[r];
    const auto k = static_cast<Eigen::Index>(r);
    incoming_held[k] = m_a[j] * G[i];
    m_M(j, i) = delta_held[k];
  }
  gradient_from_coefficients(G, grad);
}

Eigen::VectorXd neuron_balance(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Index width,
                               Eigen::Index features) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), width, features);
  return theta.tail(width).array().square() - W.rowwise().squaredNorm().array();
}

void validate(const TwoLayerLeakyParams& p) {
  require_count("model.width", p.width);
  require_slope("model.alpha", p.alpha);
  require_scale("model.init_scale", p.init_scale);
}

}  // namespace kktflow
