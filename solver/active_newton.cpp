#include "active_newton.hpp"

#include <algorithm>
#include <cmath>

namespace kktflow {

void ActiveSetNewton::compute(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v, double h,
                              double mu, std::complex<double> nu) {
  m_n = K.rows();
  m_identity = false;
  m_h = h;
  m_mu = mu;
  m_nu = nu;
  m_reduced = split_samples(v, 2 * h * std::max(std::abs(mu), std::abs(nu)) * K.diagonal().maxCoeff(), m_split);
  if (!m_reduced) {
    m_jacobian.compute(K, w, v);
  } else {
    m_K_AA = submatrix(K, m_split.active, m_split.active);
    m_K_IA = submatrix(K, m_split.inactive, m_split.active);
    m_w_A = gather(w, m_split.active);
    m_v_A = gather(v, m_split.active);
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
  Vector b_A = gather(b, m_split.active);
  const Vector b_I = gather(b, m_split.inactive);
  Vector out = b;
  if (transposed) {
    const Vector K_AI_b = m_K_IA.transpose().template cast<Scalar>() * b_I;
    b_A += h_alpha * times_p(K_AI_b);
    const Vector x_A = newton.solve(b_A, true);
    for (std::size_t r = 0; r < m_split.active.size(); ++r) out[m_split.active[r]] = x_A[static_cast<Eigen::Index>(r)];
    return out;
  }
  const Vector x_A = newton.solve(b_A);
  const Vector x_I = b_I + h_alpha * (m_K_IA.template cast<Scalar>() * times_p(x_A));
  for (std::size_t r = 0; r < m_split.active.size(); ++r) out[m_split.active[r]] = x_A[static_cast<Eigen::Index>(r)];
  for (std::size_t r = 0; r < m_split.inactive.size(); ++r)
    out[m_split.inactive[r]] = x_I[static_cast<Eigen::Index>(r)];
  return out;
}

Eigen::VectorXd ActiveSetNewton::solve_real(const Eigen::VectorXd& b, bool transposed) const {
  if (m_identity) return b;
  if (!m_reduced) return m_real.solve(b, transposed);
  return solve_blocks<double>(m_real, m_h * m_mu, b, transposed);
}

Eigen::VectorXcd ActiveSetNewton::solve_complex(const Eigen::VectorXcd& b) const {
  if (m_identity) return b;
  if (!m_reduced) return m_complex.solve(b);
  return solve_blocks<std::complex<double>>(m_complex, m_h * m_nu, b, false);
}

}  // namespace kktflow
