#include "margin_newton.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace kktflow {

namespace {

constexpr Eigen::Index kBlock = 64;          // ours: the fastest of 32/64/128/256 at n = 1000
constexpr Eigen::Index kParallelRest = 256;  // ours: a trailing part this small is left to one thread
constexpr double kUnitSlack = 1e-12;         // ours: σ = Σ w²/v above 1 by rounding only (exp: σ = Σ w = 1)

/// A = L Lᵀ (no conjugation) in A's lower triangle, right-looking and blocked: the trailing
/// update is a GEMM per block column, on the lower triangle only, the block columns shared by
/// the product threads (product_threads.hpp).
template <class Matrix>
void symmetric_cholesky(Matrix& A) {
  using Scalar = typename Matrix::Scalar;
  const Eigen::Index n = A.rows();
  const int threads = std::max(1, Eigen::nbThreads());
  for (Eigen::Index k = 0; k < n; k += kBlock) {
    const Eigen::Index b = std::min(kBlock, n - k), rest = n - k - b;
    auto A11 = A.block(k, k, b, b);
    for (Eigen::Index j = 0; j < b; ++j) {
      const Scalar pivot = std::sqrt(A11(j, j));
      A11(j, j) = pivot;
      A11.col(j).tail(b - j - 1) /= pivot;
      for (Eigen::Index c = j + 1; c < b; ++c) A11.col(c).tail(b - c) -= A11(c, j) * A11.col(j).tail(b - c);
    }
    if (rest == 0) break;
    auto A21 = A.block(k + b, k, rest, b);
    A11.template triangularView<Eigen::Lower>().transpose().template solveInPlace<Eigen::OnTheRight>(A21);
    // The trailing block columns are independent: each thread updates whole ones, so the
    // factors are the same bits on any number of threads.
    const Eigen::Index columns = (rest + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (rest >= kParallelRest)
    for (Eigen::Index i = 0; i < columns; ++i) {
      const Eigen::Index c = i * kBlock, width = std::min(kBlock, rest - c);
      A.block(k + b + c, k + b + c, rest - c, width).noalias() -=
          A21.bottomRows(rest - c) * A21.middleRows(c, width).transpose();
    }
  }
}

template <class Vector>
typename Vector::Scalar bilinear(const Vector& a, const Vector& b) {
  return (a.transpose() * b).value();
}

}  // namespace

ScaledWeights scale_weights(const Eigen::VectorXd& w, const Eigen::VectorXd& v) {
  ScaledWeights out;
  out.d = v.cwiseMax(0.0).cwiseSqrt();
  out.s = (out.d.array() > 0).select(w.cwiseQuotient(out.d), 0.0);  // D s = w
  out.sigma = out.s.squaredNorm();
  out.projected = out.sigma <= 1 + kUnitSlack;
  return out;
}

void MarginJacobian::compute(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v) {
  if (K.rows() != K.cols() || w.size() != K.rows() || v.size() != K.rows())
    throw std::logic_error("MarginJacobian: K, w and v do not fit");
  m_K = &K;
  m_w = w;
  ScaledWeights scaled = scale_weights(w, v);
  m_d = std::move(scaled.d);
  m_s = std::move(scaled.s);
  m_projected = scaled.projected;
  const double sigma = scaled.sigma;
  m_reduced = m_d.asDiagonal() * K * m_d.asDiagonal();
  if (!m_projected) {
    m_u = K * w;
    return;
  }
  // I − s sᵀ = R², R = I − c s sᵀ with c = 1/(1 + √(1 − σ)): R D K D R = B − c (s gᵀ + g sᵀ) +
  // c² (sᵀg) s sᵀ with B = D K D and g = B s, one pass over B.
  m_c = 1 / (1 + std::sqrt(std::max(0.0, 1 - sigma)));
  const Eigen::VectorXd g = m_reduced * m_s;
  const Eigen::VectorXd t = m_c * g - (0.5 * m_c * m_c * m_s.dot(g)) * m_s;  // R D K D R = B − s tᵀ − t sᵀ
  for (Eigen::Index j = 0; j < m_reduced.cols(); ++j) m_reduced.col(j) -= m_s * t[j] + t * m_s[j];
}

template <class Scalar>
void MarginNewton<Scalar>::compute(const MarginJacobian& J, Scalar h_alpha) {
  m_J = &J;
  m_h_alpha = h_alpha;
  m_L = J.reduced().template cast<Scalar>() * h_alpha;
  m_L.diagonal().array() += Scalar(1);
  symmetric_cholesky(m_L);
  if (J.projected()) return;
  const Vector w = J.w().template cast<Scalar>();
  m_z = solve_n(J.u().template cast<Scalar>());
  m_z_transposed = solve_n_transposed(w);
  m_denominator = Scalar(1) - h_alpha * bilinear(w, m_z);
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::times_k(const Vector& b) const {
  if constexpr (std::is_same_v<Scalar, double>) {
    return m_J->gram() * b;
  } else {
    const Eigen::VectorXd re = m_J->gram() * b.real(), im = m_J->gram() * b.imag();
    Vector out(b.size());
    out.real() = re;
    out.imag() = im;
    return out;
  }
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::times_r(Vector b) const {
  if (m_J->projected())
    b -= (m_J->c() * bilinear(m_J->s().template cast<Scalar>().eval(), b)) * m_J->s().template cast<Scalar>();
  return b;
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::times_d(const Vector& b) const {
  return m_J->d().template cast<Scalar>().cwiseProduct(b);
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::solve_s(Vector b) const {
  m_L.template triangularView<Eigen::Lower>().solveInPlace(b);
  m_L.template triangularView<Eigen::Lower>().transpose().solveInPlace(b);
  return b;
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::solve_n(const Vector& b) const {
  return b - m_h_alpha * times_k(times_d(times_r(solve_s(times_r(times_d(b))))));
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::solve_n_transposed(const Vector& b) const {
  return b - m_h_alpha * times_d(times_r(solve_s(times_r(times_d(times_k(b))))));
}

template <class Scalar>
typename MarginNewton<Scalar>::Vector MarginNewton<Scalar>::solve(const Vector& b, bool transposed) const {
  if (m_J->projected()) return transposed ? solve_n_transposed(b) : solve_n(b);
  if (transposed) {
    const Vector y = solve_n_transposed(b);
    return y + (m_h_alpha * bilinear(m_J->u().template cast<Scalar>().eval(), y) / m_denominator) * m_z_transposed;
  }
  const Vector y = solve_n(b);
  return y + (m_h_alpha * bilinear(m_J->w().template cast<Scalar>().eval(), y) / m_denominator) * m_z;
}

template class MarginNewton<double>;
template class MarginNewton<std::complex<double>>;

}  // namespace kktflow
