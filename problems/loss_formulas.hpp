#pragma once
/// \file loss_formulas.hpp
/// The log-domain loss formulas of loss.hpp for any real type S (double, long double,
/// Boost.Multiprecision's float128 and mpfr types): MarginLoss evaluates them in double, and the
/// late-phase stepper in the precision of flow.precision (solver/region_margins.hpp).
/// Math functions are found by argument-dependent lookup, so Boost's overloads serve its types.
#include "loss.hpp"

#include <Eigen/Dense>
#include <boost/math/special_functions/log1p.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

namespace kktflow::loss_formulas {

/// log(1 + x): the C library's for built-in types, Boost.Math's series for the others (Boost
/// 1.74's own float128 log1p does not compile with expression templates off).
template <class S>
S log1p(const S& x) {
  if constexpr (std::is_floating_point_v<S>) {
    return std::log1p(x);
  } else {
    return boost::math::log1p(x);
  }
}

/// log(1 + e^x) without overflow or loss of the tiny tail.
template <class S>
S softplus(const S& x) {
  using std::exp;
  if (x > 0) return S(x + log1p<S>(exp(S(-x))));
  return S(log1p<S>(exp(x)));
}

/// log ℓ(q), finite for all finite q.
template <class S>
S log_ell(LossKind kind, const S& q) {
  using std::exp;
  using std::log;
  if (kind == LossKind::exp) return S(-q);
  // log(log1p(e^{−q})): for q > 0 write log1p(r) = r·(log1p(r)/r), r = e^{−q} ≤ 1,
  // so the result is −q + log(log1p(r)/r), and log1p(r)/r → 1 as r underflows.
  if (q > 0) {
    const S r = exp(S(-q));
    return r == 0 ? S(-q) : S(-q + log(S(log1p<S>(r) / r)));
  }
  return S(log(softplus(S(-q))));
}

/// log(−ℓ'(q)), finite for all finite q.
template <class S>
S log_minus_dell(LossKind kind, const S& q) {
  if (kind == LossKind::exp) return S(-q);
  return S(-softplus(q));  // −ℓ'(q) = 1/(1 + e^q)
}

/// w_i = −(∂L/∂q_i)/L; returns log L. Every exponent is shifted by the same max log ℓ before
/// exponentiating: exp(a − b) with a, b ~ −q would lose |q|·u relative accuracy.
template <class S, class In, class Out>
S weights(LossKind kind, const In& q, Out& w) {
  using std::exp;
  using std::log;
  S vmax = -std::numeric_limits<S>::infinity();
  for (Eigen::Index i = 0; i < q.size(); ++i) vmax = std::max<S>(vmax, log_ell<S>(kind, q[i]));
  S sum = 0;
  for (Eigen::Index i = 0; i < q.size(); ++i) sum += exp(S(log_ell<S>(kind, q[i]) - vmax));
  for (Eigen::Index i = 0; i < q.size(); ++i) w[i] = exp(S(log_minus_dell<S>(kind, q[i]) - vmax)) / sum;
  return S(vmax + log(sum) - log(S(q.size())));
}

/// ρ(q) = −ℓ''(q)/ℓ'(q): 1 for exp, the sigmoid 1/(1 + e^{−q}) for logistic.
template <class S>
S curvature_ratio(LossKind kind, const S& q) {
  using std::exp;
  return kind == LossKind::exp ? S(1) : S(S(1) / (S(1) + exp(S(-q))));
}

/// J = ∂w/∂q = w wᵀ − diag(w ρ), ρ = −ℓ''/ℓ' (1 for exp, the sigmoid for logistic).
template <class S, class In, class Mat>
void weights_jacobian(LossKind kind, const In& q, const In& w, Mat& J) {
  J.noalias() = w * w.transpose();
  for (Eigen::Index i = 0; i < q.size(); ++i) J(i, i) -= w[i] * curvature_ratio<S>(kind, S(q[i]));
}

/// v = w ρ, the diagonal part of J = w wᵀ − diag(v).
template <class S, class In, class Out>
void weights_jacobian_diagonal(LossKind kind, const In& q, const In& w, Out& v) {
  for (Eigen::Index i = 0; i < q.size(); ++i) v[i] = w[i] * curvature_ratio<S>(kind, S(q[i]));
}

/// dw = (∂w/∂q) dq = w (wᵀdq) − w ρ dq, the Jacobian above applied in O(n).
template <class S, class In, class Out>
void weights_derivative(LossKind kind, const In& q, const In& w, const In& dq, Out& dw) {
  const S mean = w.dot(dq);
  for (Eigen::Index i = 0; i < q.size(); ++i) dw[i] = w[i] * (mean - curvature_ratio<S>(kind, S(q[i])) * dq[i]);
}

}  // namespace kktflow::loss_formulas
