#include "two_layer_leaky.hpp"

#include "init.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace kktflow {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

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

void TwoLayerLeaky::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  for (Eigen::Index i = 0; i < m_Z.cols(); ++i)
    for (Eigen::Index j = 0; j < m_m; ++j) m_M(j, i) = m_a[j] * dphi(m_Z(j, i)) * G[i];
  Eigen::Map<RowMajorMatrix> dW(grad.data(), m_m, m_d);
  dW.noalias() = m_M * m_X;
  grad.tail(m_m).noalias() = m_Phi * G;
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
