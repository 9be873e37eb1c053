#include "leaky2_fixed_outer.hpp"

#include "param_checks.hpp"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace kktflow {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void validate(const Leaky2Params& p) {
  require_count("model.width", p.width);
  require_slope("model.gamma", p.gamma);
  require_scale("model.init_scale", p.init_scale);
}

namespace {

Eigen::VectorXd outer_weights(const Leaky2Params& p) {
  Eigen::VectorXd a(p.width);
  const double mag = 1.0 / std::sqrt(static_cast<double>(p.width));
  std::mt19937_64 rng(p.seed ^ 0x9e3779b97f4a7c15ULL);
  std::bernoulli_distribution coin(0.5);
  for (Eigen::Index j = 0; j < p.width; ++j) {
    const bool positive = p.balanced_signs ? (j < (p.width + 1) / 2) : coin(rng);
    a[j] = positive ? mag : -mag;
  }
  return a;
}

}  // namespace

Leaky2FixedOuter::Leaky2FixedOuter(const Eigen::MatrixXd& X, const Leaky2Params& params)
    : m_X(X),
      m_params(params),
      m_m(params.width),
      m_d(X.cols()),
      m_a(outer_weights(params)),
      m_Z(params.width, X.rows()),
      m_M(params.width, X.rows()) {
  validate(params);
}

Eigen::VectorXd Leaky2FixedOuter::initial_theta() const {
  std::mt19937_64 rng(m_params.seed);
  std::normal_distribution<double> normal(0.0, m_params.init_scale);
  Eigen::VectorXd theta(dim());
  for (Eigen::Index k = 0; k < theta.size(); ++k) theta[k] = normal(rng);
  return theta;
}

void Leaky2FixedOuter::forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), m_m, m_d);
  m_Z.noalias() = W * m_X.transpose();
  for (Eigen::Index i = 0; i < m_Z.cols(); ++i) {
    double f = 0.0;
    for (Eigen::Index j = 0; j < m_m; ++j) f += m_a[j] * phi(m_Z(j, i));
    F[i] = f;
  }
}

void Leaky2FixedOuter::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  for (Eigen::Index i = 0; i < m_Z.cols(); ++i)
    for (Eigen::Index j = 0; j < m_m; ++j) m_M(j, i) = m_a[j] * dphi(m_Z(j, i)) * G[i];
  Eigen::Map<RowMajorMatrix> dW(grad.data(), m_m, m_d);
  dW.noalias() = m_M * m_X;
}

void Leaky2FixedOuter::switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), m_m, m_d);
  Eigen::Map<RowMajorMatrix> S(s.data(), m_m, m_X.rows());
  S.noalias() = W * m_X.transpose();
}

}  // namespace kktflow
