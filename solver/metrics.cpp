#include "metrics.hpp"

#include "nnls.hpp"
#include "slow_manifold.hpp"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

// LAPACK's dgesvd (OpenBLAS ships LAPACK), Fortran calling convention: gfortran passes the
// lengths of the two job strings as hidden trailing arguments.
extern "C" void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a, const int* lda,
                        double* s, double* u, const int* ldu, double* vt, const int* ldvt, double* work,
                        const int* lwork, int* info, std::size_t jobu_len, std::size_t jobvt_len);

// LAPACK dsyevr: selected eigenvalues of a symmetric matrix (MRRR / bisection after tridiagonal
// reduction); three hidden string lengths.
extern "C" void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a, const int* lda,
                        const double* vl, const double* vu, const int* il, const int* iu, const double* abstol,
                        int* found, double* w, double* z, const int* ldz, int* isuppz, double* work, const int* lwork,
                        int* iwork, const int* liwork, int* info, std::size_t jobz_len, std::size_t range_len,
                        std::size_t uplo_len);

namespace kktflow {

namespace {

constexpr Eigen::Index kGramMinSide = 256;               // ours: below it dgesvd takes a few ms anyway
constexpr double kGramRelError = 1e-9;                   // ours: the relative error accepted from the Gram route
constexpr double kDeflationGap = 4;                      // ours: λ_{p+1} ≤ λ_p / 4 where the Gram route deflates
constexpr Eigen::Index kSketchExtra = 4;                 // ours: sketch columns beyond the k values asked for
constexpr int kMaxPowerSteps = 3;                        // ours: past it the Gram route costs less
constexpr std::uint64_t kSketchSeed = 0x6b6b74666c6f77;  // ours: a fixed test matrix, so σ is a function of W

/// The k largest eigenvalues of the symmetric G (lower triangle read), descending, and their
/// eigenvectors as the columns of `vectors`.
Eigen::VectorXd top_eigenpairs(Eigen::MatrixXd& G, Eigen::Index k, Eigen::MatrixXd& vectors) {
  const int n = static_cast<int>(G.rows()), il = n - static_cast<int>(k) + 1, iu = n;
  const double unused = 0, abstol = 0;
  int found = 0, info = 0, query = -1, iwork_size = 0;
  double work_size = 0;
  Eigen::VectorXd values(n);
  Eigen::MatrixXd Z(n, k);
  std::vector<int> isuppz(static_cast<std::size_t>(2 * k));
  dsyevr_("V", "I", "L", &n, G.data(), &n, &unused, &unused, &il, &iu, &abstol, &found, values.data(), Z.data(), &n,
          isuppz.data(), &work_size, &query, &iwork_size, &query, &info, 1, 1, 1);
  const int lwork = static_cast<int>(work_size), liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(std::max(1, lwork)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(1, liwork)));
  dsyevr_("V", "I", "L", &n, G.data(), &n, &unused, &unused, &il, &iu, &abstol, &found, values.data(), Z.data(), &n,
          isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1, 1);
  if (info != 0 || found != static_cast<int>(k))
    throw std::runtime_error("top eigenpairs of a " + std::to_string(n) + " × " + std::to_string(n) +
                             " Gram matrix: LAPACK dsyevr returned info = " + std::to_string(info));
  vectors = Z.rowwise().reverse();
  return values.head(k).reverse();
}

/// How many of the leading k of a Gram's eigenvalues λ (descending) it resolves to
/// kGramRelError: those ≥ u λ₁ / (2 kGramRelError).
Eigen::Index resolved_count(const Eigen::VectorXd& lambda, Eigen::Index k) {
  const double floor = lambda[0] * std::numeric_limits<double>::epsilon() / (2 * kGramRelError);
  Eigen::Index resolved = 0;
  while (resolved < k && lambda[resolved] >= floor) ++resolved;
  return resolved;
}

/// The largest p ≤ at_most with λ_{p+1} ≤ λ_p / kDeflationGap: how many leading values to
/// deflate; 0 where there is no such gap.
Eigen::Index deflation_point(const Eigen::VectorXd& lambda, Eigen::Index at_most) {
  Eigen::Index p = at_most;
  while (p > 0 && !(lambda[p] <= lambda[p - 1] / kDeflationGap)) --p;
  return p;
}

/// σ from the p deflated eigenvalues λ, then the rest's singular values.
Eigen::VectorXd deflated_and_rest(const Eigen::VectorXd& lambda, Eigen::Index p, const Eigen::VectorXd& rest) {
  Eigen::VectorXd out(p + rest.size());
  out << lambda.head(p).cwiseSqrt(), rest;
  return out;
}

/// The k largest singular values of W through its Gram, deflating past the values the Gram
/// cannot resolve (see top_singular_values); empty when there is no gap to deflate at.
Eigen::VectorXd gram_singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W, Eigen::Index k) {
  const bool wide = W.rows() <= W.cols();
  const Eigen::Index r = std::min(W.rows(), W.cols());
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(r, r), vectors;
  if (wide)
    G.selfadjointView<Eigen::Lower>().rankUpdate(W);
  else
    G.selfadjointView<Eigen::Lower>().rankUpdate(W.transpose());
  const Eigen::VectorXd lambda = top_eigenpairs(G, k, vectors);
  const Eigen::Index resolved = resolved_count(lambda, k);
  if (resolved == k) return lambda.cwiseMax(0.0).cwiseSqrt();
  // Deflate the leading p values, p ≤ resolved with λ_{p+1} ≤ λ_p/4 (ours): the Gram's
  // eigenvectors there are accurate to δ ~ u λ1/(λ_p − λ_{p+1}), and the rest of the spectrum is
  // that of W with them projected out, to δσ1.
  const Eigen::Index p = deflation_point(lambda, resolved);
  if (p == 0) return {};
  const auto U = vectors.leftCols(p);
  const Eigen::MatrixXd rest =
      wide ? Eigen::MatrixXd(W - U * (U.transpose() * W)) : Eigen::MatrixXd(W - (W * U) * U.transpose());
  const Eigen::VectorXd tail = gram_singular_values(rest, k - p);
  if (tail.size() == 0) return {};
  return deflated_and_rest(lambda, p, tail);
}

/// `cols` × `width` standard normal entries from a fixed seed: the same test matrix at every call.
Eigen::MatrixXd fixed_gaussian(Eigen::Index cols, Eigen::Index width) {
  std::mt19937_64 rng(kSketchSeed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd out(cols, width);
  for (double& v : out.reshaped()) v = normal(rng);
  return out;
}

/// Orthonormal columns spanning those of Y (thin Householder QR).
Eigen::MatrixXd orthonormal_basis(const Eigen::MatrixXd& Y) {
  return Eigen::HouseholderQR<Eigen::MatrixXd>(Y).householderQ() * Eigen::MatrixXd::Identity(Y.rows(), Y.cols());
}

/// The k largest singular values of a wide W whose leading p stand apart from the rest
/// (λ_{p+1} ≤ λ_p/4) where the rest is too small for W's Gram to resolve (σ_k/σ₁ ≲ 3e-4: late in a
/// run W nears rank 2 and σ3/σ1 falls like 1/log t), without W's Gram: a randomized range finder
/// with power steps (Halko, Martinsson & Tropp 2011, SIAM Review 53(2), Alg. 4.3) gives Ritz
/// pairs; their leading p vectors U are deflated, W = U B + R with UᵀR = 0, and the rest taken
/// from R by gram_singular_values. In the basis [U, U⊥] W Wᵀ is [[B Bᵀ, E], [Eᵀ, R Rᵀ]] with
/// E = B Rᵀ, so with g the gap between the two blocks' spectra every eigenvalue is within ‖E‖²/g of
/// a block's (the quadratic residual bound, Mathias 1998; Li & Li 2005): σ_i keeps the relative
/// error kGramRelError when ‖E‖² ≤ 2 kGramRelError g σ_k². Power steps go on until the Ritz
/// values say that holds (at most kMaxPowerSteps); it is checked again with R's values. Empty
/// where W has no such head or the bound does not hold: the Gram route then. Late in bench/scale's
/// largest case (1000 × 2000) one power step does: 0.065 s where the Gram route's two Grams and
/// their tridiagonal reductions take 0.14 s.
Eigen::VectorXd sketched_singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W, Eigen::Index k) {
  auto allowed_coupling2 = [](const Eigen::VectorXd& lambda, Eigen::Index p, double lambda_next, double lambda_k) {
    return 2 * kGramRelError * (lambda[p - 1] - lambda_next) * lambda_k;
  };
  // Resolved in the plain sketch (no power step): the Gram route takes them in one round, and this
  // cost two passes over W.
  Eigen::MatrixXd B = orthonormal_basis(W * fixed_gaussian(W.cols(), k + kSketchExtra)).transpose() * W;
  {
    const Eigen::VectorXd lambda0 =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>((B * B.transpose()).eval(), Eigen::EigenvaluesOnly)
            .eigenvalues()
            .reverse();
    if (resolved_count(lambda0, k) == k) return {};
  }
  Eigen::Index p = 0;
  Eigen::VectorXd lambda;
  Eigen::MatrixXd Bp, R;
  double coupling2 = 0;
  for (int step = 1;; ++step) {
    const Eigen::MatrixXd Q = orthonormal_basis(W * B.transpose());  // span of W Wᵀ Q_previous
    B = Q.transpose() * W;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ritz((B * B.transpose()).eval());
    lambda = ritz.eigenvalues().reverse();  // descending
    // The head's values come from B Bᵀ, accurate to ~u λ₁: only values the Gram resolves join it.
    p = deflation_point(lambda, std::min(resolved_count(lambda, k), k - 1));
    if (p == 0) return {};
    const Eigen::MatrixXd V = ritz.eigenvectors().rowwise().reverse().leftCols(p);
    Bp = V.transpose() * B;
    R = W - (Q * V) * Bp;
    coupling2 = (Bp * R.transpose()).squaredNorm();
    if (coupling2 <= allowed_coupling2(lambda, p, lambda[p], lambda[k - 1])) break;
    if (step == kMaxPowerSteps) return {};
  }
  const Eigen::VectorXd tail = gram_singular_values(R, k - p);
  if (tail.size() == 0) return {};
  const double lambda_k = tail[k - p - 1] * tail[k - p - 1];
  if (!(lambda[p - 1] > tail[0] * tail[0] && coupling2 <= allowed_coupling2(lambda, p, tail[0] * tail[0], lambda_k)))
    return {};
  return deflated_and_rest(lambda, p, tail);
}

}  // namespace

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::VectorXd singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W) {
  // dgesvd without vectors: QR of the long side when it is much longer, Householder
  // bidiagonalization, then implicit zero-shift QR on the bidiagonal (dbdsqr, Demmel & Kahan
  // 1990). Backward stable, so small singular values keep their absolute accuracy ~ u‖W‖. It
  // takes 1.5 ms on the demo's 100 × 150 chart where Householder QR + Eigen's BDCSVD take 3.4 ms.
  Eigen::MatrixXd A = W;
  const int rows = static_cast<int>(A.rows()), cols = static_cast<int>(A.cols()), one = 1;
  Eigen::VectorXd s(std::min(A.rows(), A.cols()));
  if (s.size() == 0) return s;
  double no_vectors = 0, work_size = 0;
  int info = 0, query = -1;
  dgesvd_("N", "N", &rows, &cols, A.data(), &rows, s.data(), &no_vectors, &one, &no_vectors, &one, &work_size, &query,
          &info, 1, 1);
  const int lwork = static_cast<int>(work_size);
  std::vector<double> work(static_cast<std::size_t>(std::max(1, lwork)));
  dgesvd_("N", "N", &rows, &cols, A.data(), &rows, s.data(), &no_vectors, &one, &no_vectors, &one, work.data(), &lwork,
          &info, 1, 1);
  if (info != 0)
    throw std::runtime_error("singular values of a " + std::to_string(rows) + " × " + std::to_string(cols) +
                             " matrix: LAPACK dgesvd returned info = " + std::to_string(info) +
                             (info > 0 ? " (the bidiagonal QR did not converge)" : " (bad argument)"));
  return s;
}

TopSingularValues top_singular_values(const Eigen::Ref<const Eigen::MatrixXd>& W, Eigen::Index k) {
  TopSingularValues out;
  out.frobenius2 = W.squaredNorm();
  const Eigen::Index r = std::min(W.rows(), W.cols());
  k = std::min(k, r);
  if (r > kGramMinSide && k > 0) {
    out.sigma = W.rows() <= W.cols() ? sketched_singular_values(W, k)
                                     : sketched_singular_values(Eigen::MatrixXd(W.transpose()), k);
    if (out.sigma.size() == k) return out;
    out.sigma = gram_singular_values(W, k);
    if (out.sigma.size() == k) return out;
  }
  out.sigma = singular_values(W).head(k);
  return out;
}

MetricsEvaluator::MetricsEvaluator(MarginSystem& margins, const MarginLoss& loss, LayerView first_layer, int k_top,
                                   double rel_tol)
    : m_margins(margins),
      m_loss(loss),
      m_layer(margins.compact_layer(first_layer)),
      m_k_top(k_top),
      m_rel_tol(rel_tol),
      m_q(margins.num_samples()),
      m_w(margins.num_samples()),
      m_lambda(margins.num_samples()),
      m_dstate(margins.state_dim()),
      m_dtheta(margins.compact_dim()),
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
  // Where the margins' O(1) differences are below what the steps (or rounding) resolve, the loss's
  // weights at the state carry the steps' error, and so does the direction of −∇L; the flow's
  // velocity is then that of its slow manifold (slow_manifold.hpp), and β measures the alignment
  // with it, as the steppers' velocity does.
  const auto resolution = slow_manifold_resolution(row.norm, m_K, q_min, m_rel_tol);
  const Eigen::VectorXd& w = resolution ? (m_w_slow = slow_weights(m_q, m_K, *resolution)) : m_w;
  const double ascent_norm = std::sqrt(std::max(0.0, w.dot(m_K * w)));
  row.alignment_beta = L * w.dot(m_q) / (row.norm * ascent_norm);
  kkt(theta_c, q_min, row);
  first_layer_spectrum(theta_c, m_layer, m_k_top, row);
}

void MetricsEvaluator::kkt(const Eigen::VectorXd& theta_c, double q_min, Record& row) {
  if (!(q_min > 0)) {  // not separating yet: the KKT problem has no feasible rescaling
    m_lambda.setZero();
    row.kkt_eps = std::numeric_limits<double>::infinity();
    row.kkt_delta = std::numeric_limits<double>::infinity();
    return;
  }
  const double L = m_margins.homogeneity();
  const double grad_scale = std::pow(q_min, -(L - 1) / L);  // ∇q_i(θ̃) = grad_scale ∇q_i(θ)
  const Eigen::VectorXd b = (L / q_min) * m_q;              // G̃ᵀθ̃
  const Eigen::MatrixXd K_tilde = grad_scale * grad_scale * m_K;
  m_lambda = nnls_normal(K_tilde, b, m_support).lambda;
  m_support.clear();
  for (Eigen::Index i = 0; i < m_lambda.size(); ++i)
    if (m_lambda[i] > 0) m_support.push_back(i);
  // r = θ̃ − G̃λ, formed in θ-space (its isometric chart θ_c). ascent() recomputes sliding slopes for weights λ, which
  // picks φ' ∈ [γ, 1] on sliding pairs: an element of the Clarke subdifferential.
  m_margins.ascent(m_lambda, m_dstate);
  m_margins.lift_velocity_compact(m_dstate, m_dtheta);
  row.kkt_eps = (theta_c / std::pow(q_min, 1.0 / L) - grad_scale * m_dtheta).norm();
  row.kkt_delta = m_lambda.dot(m_q / q_min - Eigen::VectorXd::Ones(m_q.size()));
}

void first_layer_spectrum(const Eigen::VectorXd& theta_c, const LayerView& layer, int k_top, Record& row) {
  const Eigen::Map<const RowMajorMatrix> W(theta_c.data() + layer.offset, layer.rows, layer.cols);
  const TopSingularValues top = top_singular_values(W, k_top);
  row.sigma = Eigen::VectorXd::Zero(k_top);
  row.sigma.head(top.sigma.size()) = top.sigma;
  const double s1 = top.sigma.size() > 0 ? top.sigma[0] : 0.0;
  row.stable_rank = s1 > 0 ? top.frobenius2 / (s1 * s1) : 0.0;
}

}  // namespace kktflow
