#include "active_newton.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kktflow {

namespace {

constexpr double kDroppedPart = 1e-2;          // ours: the largest ‖E‖_∞ set aside (file comment)
constexpr Eigen::Index kMinReducedSize = 256;  // ours: below it an O(n³) factorization takes milliseconds

template <class Vector>
Vector gather(const Vector& x, const std::vector<Eigen::Index>& index) {
  Vector out(static_cast<Eigen::Index>(index.size()));
  for (std::size_t r = 0; r < index.size(); ++r) out[static_cast<Eigen::Index>(r)] = x[index[r]];
  return out;
}

Eigen::MatrixXd submatrix(const Eigen::MatrixXd& K, const std::vector<Eigen::Index>& rows,
                          const std::vector<Eigen::Index>& cols) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t c = 0; c < cols.size(); ++c)
    for (std::size_t r = 0; r < rows.size(); ++r)
      out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = K(rows[r], cols[c]);
  return out;
}

}  // namespace

bool ActiveSetNewton::choose_active(const Eigen::MatrixXd& K, const Eigen::VectorXd& v, double h, double alpha_max) {
  m_active.clear();
  m_inactive.clear();
  if (m_n < kMinReducedSize) return false;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(m_n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](Eigen::Index i, Eigen::Index k) { return v[i] < v[k]; });
  const double scale = 2 * h * alpha_max * K.diagonal().maxCoeff();
  double dropped = 0;
  std::size_t set_aside = 0;
  // At least one sample stays: where h J is that small everywhere, M is I to 1% and its factors are 1 × 1.
  while (set_aside + 1 < order.size() && scale * (dropped + v[order[set_aside]]) <= kDroppedPart)
    dropped += v[order[set_aside++]];
  if (4 * set_aside < order.size()) return false;
  m_inactive.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(set_aside));
  m_active.assign(order.begin() + static_cast<std::ptrdiff_t>(set_aside), order.end());
  std::sort(m_active.begin(), m_active.end());
  std::sort(m_inactive.begin(), m_inactive.end());
  return true;
}

void ActiveSetNewton::compute(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v, double h,
                              double mu, std::complex<double> nu) {
  m_n = K.rows();
  m_h = h;
  m_mu = mu;
  m_nu = nu;
  m_reduced = choose_active(K, v, h, std::max(std::abs(mu), std::abs(nu)));
  if (!m_reduced) {
    m_jacobian.compute(K, w, v);
  } else {
    m_K_AA = submatrix(K, m_active, m_active);
    m_K_IA = submatrix(K, m_inactive, m_active);
    m_w_A = gather(w, m_active);
    m_v_A = gather(v, m_active);
    m_jacobian.compute(m_K_AA, m_w_A, m_v_A);
  }
  m_real.compute(m_jacobian, h * mu);
  m_complex.compute(m_jacobian, h * nu);
}

template <class Vector>
Vector ActiveSetNewton::times_p(const Vector& x) const {
  Vector out =
      m_w_A.template cast<typename Vector::Scalar>() * m_w_A.dot(x.real()) - (m_v_A.array() * x.array()).matrix();
  if constexpr (!std::is_same_v<typename Vector::Scalar, double>)
    out += std::complex<double>(0, 1) * m_w_A.template cast<std::complex<double>>() * m_w_A.dot(x.imag());
  return out;
}

template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1> ActiveSetNewton::solve_blocks(
    const MarginNewton<Scalar>& newton, Scalar h_alpha, const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& b,
    bool transposed) const {
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  Vector b_A = gather(b, m_active);
  const Vector b_I = gather(b, m_inactive);
  Vector out = b;
  if (transposed) {
    const Vector K_AI_b = m_K_IA.transpose().template cast<Scalar>() * b_I;
    b_A += h_alpha * times_p(K_AI_b);
    const Vector x_A = newton.solve(b_A, true);
    for (std::size_t r = 0; r < m_active.size(); ++r) out[m_active[r]] = x_A[static_cast<Eigen::Index>(r)];
    return out;
  }
  const Vector x_A = newton.solve(b_A);
  const Vector x_I = b_I + h_alpha * (m_K_IA.template cast<Scalar>() * times_p(x_A));
  for (std::size_t r = 0; r < m_active.size(); ++r) out[m_active[r]] = x_A[static_cast<Eigen::Index>(r)];
  for (std::size_t r = 0; r < m_inactive.size(); ++r) out[m_inactive[r]] = x_I[static_cast<Eigen::Index>(r)];
  return out;
}

Eigen::VectorXd ActiveSetNewton::solve_real(const Eigen::VectorXd& b, bool transposed) const {
  if (!m_reduced) return m_real.solve(b, transposed);
  return solve_blocks<double>(m_real, m_h * m_mu, b, transposed);
}

Eigen::VectorXcd ActiveSetNewton::solve_complex(const Eigen::VectorXcd& b) const {
  if (!m_reduced) return m_complex.solve(b);
  return solve_blocks<std::complex<double>>(m_complex, m_h * m_nu, b, false);
}

}  // namespace kktflow
