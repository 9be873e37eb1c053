#include "loss.hpp"

#include "loss_formulas.hpp"
#include "named_values.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

const NamedValues<LossKind> kLossNames{{"exp", LossKind::exp}, {"logistic", LossKind::logistic}};

LossKind parse_loss_kind(const std::string& text, const std::string& key) { return kLossNames.parse(text, key); }
std::string to_string(LossKind kind) { return kLossNames.name(kind); }

double MarginLoss::log_ell(double q) const { return loss_formulas::log_ell<double>(m_kind, q); }

double MarginLoss::log_minus_dell(double q) const { return loss_formulas::log_minus_dell<double>(m_kind, q); }

double log_sum_exp(const Eigen::Ref<const Eigen::VectorXd>& v) {
  if (v.size() == 0) return -std::numeric_limits<double>::infinity();
  const double vmax = v.maxCoeff();
  if (!std::isfinite(vmax)) return vmax;
  return vmax + std::log((v.array() - vmax).exp().sum());
}

double MarginLoss::log_value(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  double vmax = -std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < q.size(); ++i) vmax = std::max(vmax, log_ell(q[i]));
  double sum = 0.0;
  for (Eigen::Index i = 0; i < q.size(); ++i) sum += std::exp(log_ell(q[i]) - vmax);
  return vmax + std::log(sum) - std::log(static_cast<double>(q.size()));
}

double MarginLoss::weights(const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::Ref<Eigen::VectorXd> w) const {
  return loss_formulas::weights<double>(m_kind, q, w);
}

void MarginLoss::weights_jacobian(const Eigen::Ref<const Eigen::VectorXd>& q,
                                  const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::MatrixXd> J) const {
  loss_formulas::weights_jacobian<double>(m_kind, q, w, J);
}

void MarginLoss::weights_jacobian_diagonal(const Eigen::Ref<const Eigen::VectorXd>& q,
                                           const Eigen::Ref<const Eigen::VectorXd>& w,
                                           Eigen::Ref<Eigen::VectorXd> v) const {
  loss_formulas::weights_jacobian_diagonal<double>(m_kind, q, w, v);
}

void MarginLoss::weights_derivative(const Eigen::Ref<const Eigen::VectorXd>& q,
                                    const Eigen::Ref<const Eigen::VectorXd>& w,
                                    const Eigen::Ref<const Eigen::VectorXd>& dq, Eigen::Ref<Eigen::VectorXd> dw) const {
  loss_formulas::weights_derivative<double>(m_kind, q, w, dq, dw);
}

double MarginLoss::inverse_of_total(double log_value, Eigen::Index n) const {
  const double log_total = log_value + std::log(static_cast<double>(n));
  if (m_kind == LossKind::exp) return -log_total;
  // −log(expm1(s)), s = e^{log_total}; for tiny s, expm1(s)/s → 1.
  const double s = std::exp(log_total);
  if (s == 0.0) return -log_total;
  return -(log_total + std::log(std::expm1(s) / s));
}

double SquareLoss::value(const Eigen::Ref<const Eigen::VectorXd>& F) const {
  return (F - m_Y).squaredNorm() / (2.0 * static_cast<double>(m_n));
}

double SquareLoss::gradient(const Eigen::Ref<const Eigen::VectorXd>& F, Eigen::Ref<Eigen::VectorXd> G) const {
  G = (F - m_Y) / static_cast<double>(m_n);
  return G.squaredNorm() * static_cast<double>(m_n) / 2.0;
}

Eigen::VectorXd two_class_targets(const Eigen::Ref<const Eigen::VectorXd>& y) {
  Eigen::VectorXd Y = Eigen::VectorXd::Zero(2 * y.size());
  for (Eigen::Index i = 0; i < y.size(); ++i) Y[2 * i + (y[i] > 0 ? 0 : 1)] = 1.0;
  return Y;
}

}  // namespace kktflow
