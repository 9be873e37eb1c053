#include "metrics.hpp"

#include "nnls.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

// LAPACK's dgesvd (OpenBLAS ships LAPACK), Fortran calling convention: gfortran passes the
// lengths of the two job strings as hidden trailing arguments.
extern "C" void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a,
                        const int* lda, double* s, double* u, const int* ldu, double* vt, const int* ldvt,
                        double* work, const int* lwork, int* info, std::size_t jobu_len, std::size_t jobvt_len);

namespace kktflow {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::VectorXd singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W) {
  // dgesvd without vectors: QR of the long side when it is much longer, Householder
  // bidiagonalization, then implicit zero-shift QR on the bidiagonal (dbdsqr, Demmel & Kahan
  // 1990). Backward stable, so small singular values keep their absolute accuracy ~ u‖W‖. It
  // took 1.5 ms on the demo's 100 × 150 chart where Householder QR + Eigen's BDCSVD took 3.4 ms.
  Eigen::MatrixXd A = W;
  const int rows = static_cast<int>(A.rows()), cols = static_cast<int>(A.cols()), one = 1;
  Eigen::VectorXd s(std::min(A.rows(), A.cols()));
  if (s.size() == 0) return s;
  double no_vectors = 0, work_size = 0;
  int info = 0, query = -1;
  dgesvd_("N", "N", &rows, &cols, A.data(), &rows, s.data(), &no_vectors, &one, &no_vectors, &one, &work_size,
          &query, &info, 1, 1);
  const int lwork = static_cast<int>(work_size);
  std::vector<double> work(static_cast<std::size_t>(std::max(1, lwork)));
  dgesvd_("N", "N", &rows, &cols, A.data(), &rows, s.data(), &no_vectors, &one, &no_vectors, &one, work.data(),
          &lwork, &info, 1, 1);
  if (info != 0)
    throw std::runtime_error("singular values of a " + std::to_string(rows) + " × " + std::to_string(cols) +
                             " matrix: LAPACK dgesvd returned info = " + std::to_string(info) +
                             (info > 0 ? " (the bidiagonal QR did not converge)" : " (bad argument)"));
  return s;
}

MetricsEvaluator::MetricsEvaluator(MarginSystem& margins, const MarginLoss& loss, LayerView first_layer, int k_top)
    : m_margins(margins), m_loss(loss), m_layer(margins.compact_layer(first_layer)), m_k_top(k_top),
      m_q(margins.num_samples()), m_w(margins.num_samples()), m_lambda(margins.num_samples()),
      m_dstate(margins.state_dim()), m_dtheta(margins.compact_dim()),
      m_K(margins.num_samples(), margins.num_samples()) {}

void MetricsEvaluator::evaluate(const Eigen::VectorXd& state, Record& row, Eigen::VectorXd& theta_c) {
  theta_c.resize(m_margins.compact_dim());
  m_margins.lift_compact(state, theta_c);
  m_margins.margins(state, m_q);
  row.log_loss = m_loss.weights(m_q, m_w);
  m_margins.ascent(m_w, m_dstate);
  m_margins.gradient_gram(m_K);

  const double L = m_margins.homogeneity();
  row.norm = theta_c.norm();
  const double norm_L = std::pow(row.norm, L);
  const double q_min = m_q.minCoeff();
  row.normalized_margin = q_min / norm_L;
  row.smoothed_margin = m_loss.inverse_of_total(row.log_loss, m_q.size()) / norm_L;
  const double ascent_norm = std::sqrt(std::max(0.0, m_w.dot(m_K * m_w)));
  row.alignment_beta = L * m_w.dot(m_q) / (row.norm * ascent_norm);
  kkt(theta_c, q_min, row);
  spectrum(theta_c, row);
}

void MetricsEvaluator::kkt(const Eigen::VectorXd& theta_c, double q_min, Record& row) {
  if (!(q_min > 0)) {  // not separating yet: the KKT problem has no feasible rescaling
    m_lambda.setZero();
    row.kkt_eps = std::numeric_limits<double>::infinity();
    row.kkt_delta = std::numeric_limits<double>::infinity();
    return;
  }
  const double L = m_margins.homogeneity();
  const double grad_scale = std::pow(q_min, -(L - 1) / L);   // ∇q_i(θ̃) = grad_scale ∇q_i(θ)
  const Eigen::VectorXd b = (L / q_min) * m_q;                // G̃ᵀθ̃
  const Eigen::MatrixXd K_tilde = grad_scale * grad_scale * m_K;
  m_lambda = nnls_normal(K_tilde, b).lambda;
  // r = θ̃ − G̃λ, formed in θ-space (its isometric chart θ_c). ascent() recomputes sliding slopes for weights λ, which
  // picks φ' ∈ [γ, 1] on sliding pairs: an element of the Clarke subdifferential.
  m_margins.ascent(m_lambda, m_dstate);
  m_margins.lift_velocity_compact(m_dstate, m_dtheta);
  row.kkt_eps = (theta_c / std::pow(q_min, 1.0 / L) - grad_scale * m_dtheta).norm();
  row.kkt_delta = m_lambda.dot(m_q / q_min - Eigen::VectorXd::Ones(m_q.size()));
}

void MetricsEvaluator::spectrum(const Eigen::VectorXd& theta_c, Record& row) const {
  const Eigen::Map<const RowMajorMatrix> W(theta_c.data() + m_layer.offset, m_layer.rows, m_layer.cols);
  const Eigen::VectorXd s = singular_values(W);
  row.sigma = Eigen::VectorXd::Zero(m_k_top);
  row.sigma.head(std::min<Eigen::Index>(m_k_top, s.size())) = s.head(std::min<Eigen::Index>(m_k_top, s.size()));
  row.stable_rank = s[0] > 0 ? s.squaredNorm() / (s[0] * s[0]) : 0.0;
}

}  // namespace kktflow
