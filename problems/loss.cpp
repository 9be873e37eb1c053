#include "loss.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {

LossKind parse_loss_kind(const std::string& text, const std::string& key) {
  if (text == "exp") return LossKind::exp;
  if (text == "logistic") return LossKind::logistic;
  throw std::invalid_argument(key + " = \"" + text + "\": allowed values are \"exp\", \"logistic\"");
}

std::string to_string(LossKind kind) { return kind == LossKind::exp ? "exp" : "logistic"; }

namespace {

// log(1 + e^x) without overflow or loss of the tiny tail.
double softplus(double x) {
  if (x > 0) return x + std::log1p(std::exp(-x));
  return std::log1p(std::exp(x));
}

}  // namespace

double MarginLoss::log_ell(double q) const {
  if (m_kind == LossKind::exp) return -q;
  // log(log1p(e^{−q})): for q > 0 write log1p(r) = r·(log1p(r)/r), r = e^{−q} ≤ 1,
  // so the result is −q + log(log1p(r)/r), and log1p(r)/r → 1 as r underflows.
  if (q > 0) {
    const double r = std::exp(-q);
    return r == 0.0 ? -q : -q + std::log(std::log1p(r) / r);
  }
  return std::log(softplus(-q));
}

double MarginLoss::log_minus_dell(double q) const {
  if (m_kind == LossKind::exp) return -q;
  return -softplus(q);  // −ℓ'(q) = 1/(1 + e^q)
}

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

double MarginLoss::weights(const Eigen::Ref<const Eigen::VectorXd>& q,
                           Eigen::Ref<Eigen::VectorXd> w) const {
  // Shift every exponent by the same max log ℓ before exponentiating: exp(a − b) with a, b ~ −q
  // would lose |q|·u relative accuracy, while a − max and b − max are O(1) and exact-ish.
  double vmax = -std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < q.size(); ++i) vmax = std::max(vmax, log_ell(q[i]));
  double sum = 0.0;
  for (Eigen::Index i = 0; i < q.size(); ++i) sum += std::exp(log_ell(q[i]) - vmax);
  for (Eigen::Index i = 0; i < q.size(); ++i) w[i] = std::exp(log_minus_dell(q[i]) - vmax) / sum;
  return vmax + std::log(sum) - std::log(static_cast<double>(q.size()));
}

void MarginLoss::weights_jacobian(const Eigen::Ref<const Eigen::VectorXd>& q,
                                  const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::MatrixXd> J) const {
  J.noalias() = w * w.transpose();
  for (Eigen::Index i = 0; i < q.size(); ++i) {
    const double rho = m_kind == LossKind::exp ? 1.0 : 1.0 / (1.0 + std::exp(-q[i]));
    J(i, i) -= w[i] * rho;
  }
}

double MarginLoss::inverse_of_total(double log_value, Eigen::Index n) const {
  const double log_total = log_value + std::log(static_cast<double>(n));
  if (m_kind == LossKind::exp) return -log_total;
  // −log(expm1(s)), s = e^{log_total}; for tiny s, expm1(s)/s → 1.
  const double s = std::exp(log_total);
  if (s == 0.0) return -log_total;
  return -(log_total + std::log(std::expm1(s) / s));
}

}  // namespace kktflow
