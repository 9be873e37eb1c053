#include "relu2.hpp"

#include "param_checks.hpp"

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

namespace kktflow {

Relu2::Relu2(const Eigen::MatrixXd& X, const Relu2Params& params)
    : FirstLayerModel(X, params.width),
      m_params(params),
      m_m(params.width),
      m_d(X.cols()),
      m_k(params.outputs),
      m_Z(params.width, X.rows()),
      m_H(params.width, X.rows()),
      m_V(params.outputs, params.width),
      m_dZ(params.width, X.rows()) {
  validate(params);
}

namespace {

/// A vector uniform on the sphere of radius r: a normalized Gaussian.
template <class Out>
void uniform_on_sphere(std::mt19937_64& rng, double r, Out&& out) {
  std::normal_distribution<double> normal;
  for (Eigen::Index i = 0; i < out.size(); ++i) out[i] = normal(rng);
  out *= r / out.norm();
}

}  // namespace

Eigen::VectorXd Relu2::initial_theta() const {
  std::mt19937_64 rng(m_params.seed);
  Eigen::VectorXd theta(dim());
  Eigen::Map<RowMajorMatrix> W(theta.data(), m_m, m_d);
  Eigen::Map<RowMajorMatrix> V(theta.data() + m_m * m_d, m_k, m_m);
  for (Eigen::Index j = 0; j < m_m; ++j) uniform_on_sphere(rng, m_params.init_radius, W.row(j));
  for (Eigen::Index j = 0; j < m_m; ++j) uniform_on_sphere(rng, m_params.init_radius, V.col(j));
  return theta;
}

void Relu2::forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) {
  m_V = Eigen::Map<const RowMajorMatrix>(theta.data() + m_m * m_d, m_k, m_m);
  m_first.pre_activations(theta, m_Z);
  m_H = m_Z.cwiseMax(0.0);
  Eigen::Map<RowMajorMatrix> out(F.data(), m_first.samples(), m_k);
  out.noalias() = m_H.transpose() * m_V.transpose();
}

void Relu2::gradient_from_coefficients(const Eigen::Ref<const Eigen::VectorXd>& G,
                                       Eigen::Ref<Eigen::VectorXd> grad) const {
  const Eigen::Map<const RowMajorMatrix> Gm(G.data(), m_first.samples(), m_k);
  Eigen::Map<RowMajorMatrix> dV(grad.data() + m_m * m_d, m_k, m_m);
  dV.noalias() = Gm.transpose() * m_H.transpose();
  m_first.weight_gradient(m_dZ, grad);
}

void Relu2::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  const Eigen::Map<const RowMajorMatrix> Gm(G.data(), m_first.samples(), m_k);
  m_dZ.noalias() = m_V.transpose() * Gm.transpose();
  m_dZ = (m_Z.array() > 0.0).select(m_dZ, 0.0);  // σ'(0) := 0
  gradient_from_coefficients(G, grad);
}

void Relu2::vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                     Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held) {
  const Eigen::Map<const RowMajorMatrix> Gm(G.data(), m_first.samples(), m_k);
  m_dZ.noalias() = m_V.transpose() * Gm.transpose();  // the incoming coefficients g
  const std::vector<HeldUnit>& held = m_first.held();
  for (std::size_t r = 0; r < held.size(); ++r) {
    const auto [j, i] = held[r];
    incoming_held[static_cast<Eigen::Index>(r)] = m_dZ(j, i);
  }
  m_dZ = (m_Z.array() > 0.0).select(m_dZ, 0.0);
  for (std::size_t r = 0; r < held.size(); ++r)
    m_dZ(held[r].row, held[r].sample) = delta_held[static_cast<Eigen::Index>(r)];
  gradient_from_coefficients(G, grad);
}

Eigen::VectorXd relu2_balance(const Eigen::Ref<const Eigen::VectorXd>& theta, const Relu2Params& p,
                              Eigen::Index features) {
  const Eigen::Map<const RowMajorMatrix> W(theta.data(), p.width, features);
  const Eigen::Map<const RowMajorMatrix> V(theta.data() + p.width * features, p.outputs, p.width);
  return W.rowwise().squaredNorm() - V.colwise().squaredNorm().transpose();
}

namespace {

void require_two_samples(const Eigen::MatrixXd& X, const char* what) {
  if (X.rows() != 2)
    throw std::invalid_argument(std::string(what) + ": needs exactly 2 samples, the data have " +
                                std::to_string(X.rows()));
}

}  // namespace

Eigen::VectorXd rank1_zero_loss_theta(const Eigen::MatrixXd& X) {
  require_two_samples(X, "Timor et al.'s rank-1 net");
  const Eigen::Index d = X.cols();
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(2 * d + 4);
  Eigen::Map<RowMajorMatrix> W(theta.data(), 2, d);
  Eigen::Map<RowMajorMatrix> V(theta.data() + 2 * d, 2, 2);
  W.row(0) = X.row(0) / X.row(0).norm() - X.row(1) / X.row(1).norm();
  W.row(1) = -W.row(0);
  for (Eigen::Index i = 0; i < 2; ++i) V(i, i) = 1.0 / W.row(i).dot(X.row(i));
  return theta;
}

Eigen::VectorXd closed_form_start(const Eigen::MatrixXd& X, double s0) {
  require_two_samples(X, "the closed-form start");
  const Eigen::Index d = X.cols();
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(2 * d + 4);
  Eigen::Map<RowMajorMatrix> W(theta.data(), 2, d);
  for (Eigen::Index i = 0; i < 2; ++i) W.row(i) = s0 * X.row(i) / X.row(i).norm();
  return theta;
}

double closed_form_limit(double s0) {
  const double s0sq = s0 * s0;
  return std::sqrt((s0sq + std::sqrt(s0sq * s0sq + 4.0)) / 2.0);
}

void validate(const Relu2Params& p) {
  require_count("model.width", p.width);
  require_count("model.outputs", p.outputs);
  require_scale("model.init_radius", p.init_radius);
}

}  // namespace kktflow
