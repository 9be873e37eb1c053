#include "margin_woodbury.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kktflow {

void MarginWoodbury::compute(const Eigen::MatrixXd& G, const Eigen::MatrixXd& K, const Eigen::VectorXd& w,
                             const Eigen::VectorXd& v, double c) {
  m_G = &G;
  m_c = c;
  m_d = v.cwiseMax(0.0).cwiseSqrt();
  m_s = (m_d.array() > 0).select(w.cwiseQuotient(m_d), 0.0);  // D s = w
  const double sigma = m_s.squaredNorm();
  if (sigma > 1) m_s /= std::sqrt(sigma);
  m_k = 1.0 / (1.0 + std::sqrt(std::max(0.0, 1.0 - sigma)));
  // R D K D R, R = I − k s sᵀ applied on both sides.
  m_S = m_d.asDiagonal() * K * m_d.asDiagonal();
  const Eigen::VectorXd Ss = m_S * m_s;
  const double sSs = m_s.dot(Ss);
  m_S -= m_k * (m_s * Ss.transpose() + Ss * m_s.transpose());
  m_S += (m_k * m_k * sSs) * (m_s * m_s.transpose());
  m_S *= c;
  m_S.diagonal().array() += 1.0;
  m_llt.compute(m_S);
}

void MarginWoodbury::solve(const Eigen::VectorXd& b, Eigen::VectorXd& out) {
  const Eigen::MatrixXd& G = *m_G;
  m_y.noalias() = G.transpose() * b;
  m_y = m_d.cwiseProduct(m_y);
  m_y -= (m_k * m_s.dot(m_y)) * m_s;  // R D Gᵀb
  m_llt.solveInPlace(m_y);
  m_y -= (m_k * m_s.dot(m_y)) * m_s;
  m_y = m_d.cwiseProduct(m_y);  // D R S⁻¹ R D Gᵀb
  out = b;
  out.noalias() -= m_c * (G * m_y);
}

void MarginWoodbury::jacobian_times(const Eigen::VectorXd& b, Eigen::VectorXd& out) {
  // P = −D R² D, R² = I − s sᵀ (‖s‖ ≤ 1 with k as above: R² = I − (2k − k²σ) s sᵀ = I − s sᵀ).
  const Eigen::MatrixXd& G = *m_G;
  m_y.noalias() = G.transpose() * b;
  m_y = m_d.cwiseProduct(m_y);
  const double sigma = m_s.squaredNorm();
  m_y -= ((2 * m_k - m_k * m_k * sigma) * m_s.dot(m_y)) * m_s;
  m_y = m_d.cwiseProduct(m_y);
  out.noalias() = -(G * m_y);
}

}  // namespace kktflow
