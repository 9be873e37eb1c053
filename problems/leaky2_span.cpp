#include "leaky2_span.hpp"

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

#ifdef EIGEN_USE_BLAS
extern "C" int openblas_get_num_threads(void);
#endif

namespace kktflow {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
/// [X; W0] = R Qᵀ with Q orthonormal columns (thin Householder QR of [X; W0]ᵀ); returns R's rows
/// split as (X's, W0's). When n + m ≥ d nothing is gained and the chart is the identity.
std::pair<Eigen::MatrixXd, Eigen::MatrixXd> rows_in_orthonormal_basis(const Eigen::MatrixXd& X,
                                                                      const Eigen::MatrixXd& W0) {
  const Eigen::Index n = X.rows(), m = W0.rows(), k = n + m;
  if (k >= X.cols()) return {X, W0};
  Eigen::MatrixXd P(X.cols(), k);
  P << X.transpose(), W0.transpose();
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(P);
  const Eigen::MatrixXd rows = qr.matrixQR().topRows(k).triangularView<Eigen::Upper>().transpose();
  return {rows.topRows(n), rows.bottomRows(m)};
}

/// out = offset + C · rows, row-major, with C the m × n coefficients (m = out rows, n = rows'
/// rows); no offset for a velocity. θ and its compact chart are both lifted this way.
void combine_rows(const Eigen::Ref<const Eigen::VectorXd>& coefficients, const Eigen::MatrixXd& rows,
                  const Eigen::MatrixXd* offset, Eigen::Ref<Eigen::VectorXd> out) {
  const Eigen::Index m = out.size() / rows.cols();
  const Eigen::Map<const RowMajorMatrix> C(coefficients.data(), m, rows.rows());
  Eigen::Map<RowMajorMatrix> W(out.data(), m, rows.cols());
  if (offset) {
    W = *offset;
    W.noalias() += C * rows;
  } else {
    W.noalias() = C * rows;
  }
}

/// The threads C Γ's rows are shared by: the product threads (solver/product_threads.hpp), unless
/// OpenBLAS runs on threads of its own (OPENBLAS_NUM_THREADS), which would then be oversubscribed.
int gram_product_parts(Eigen::Index rows) {
  int threads = std::max(1, Eigen::nbThreads());
#ifdef EIGEN_USE_BLAS
  if (openblas_get_num_threads() > 1) threads = 1;
#endif
  return static_cast<int>(std::min<Eigen::Index>(threads, rows));
}

/// Thread p's share of `size` rows or columns split into `parts`: (first, count).
std::pair<Eigen::Index, Eigen::Index> thread_part(Eigen::Index size, int p, int parts) {
  const Eigen::Index first = size * p / parts;
  return {first, size * (p + 1) / parts - first};
}

/// out = C Γ, or out += C Γ with `accumulate`, for the m × n coefficients C, one GEMM per thread
/// on its rows of C. On one OpenBLAS thread a row of the product is summed over Γ's rows the same
/// way whichever rows go with it, so the entries are the same bits on any number of threads.
template <class Out>
void times_gram(const Eigen::Ref<const Eigen::VectorXd>& coefficients, const Eigen::MatrixXd& gram, Out& out,
                bool accumulate) {
  const Eigen::Index n = gram.rows(), m = coefficients.size() / n;
  const Eigen::Map<const RowMajorMatrix> C(coefficients.data(), m, n);
  const int parts = gram_product_parts(m);
#pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
  for (int p = 0; p < parts; ++p) {
    const auto [begin, rows] = thread_part(m, p, parts);
    auto part = out.middleRows(begin, rows);
    if (accumulate)
      part.noalias() += C.middleRows(begin, rows) * gram;
    else
      part.noalias() = C.middleRows(begin, rows) * gram;
  }
}
}  // namespace

Leaky2Span::Leaky2Span(const Leaky2FixedOuter& model, const Eigen::VectorXd& y, const Eigen::VectorXd& theta0)
    : m_X(model.inputs()),
      m_y(y),
      m_a(model.outer()),
      m_gamma(model.gamma()),
      m_m(model.width()),
      m_n(model.inputs().rows()),
      m_W0(Eigen::Map<const RowMajorMatrix>(theta0.data(), model.width(), model.inputs().cols())),
      m_Gram(m_X * m_X.transpose()),
      m_Z0(m_W0 * m_X.transpose()),
      m_D(m_m, m_n),
      m_blocks(static_cast<std::size_t>(m_m)),
      m_v(m_n),
      m_u(m_n),
      m_raw_slopes(m_m, m_n),
      m_frozen_D(m_m, m_n) {
  std::tie(m_Xc, m_W0c) = rows_in_orthonormal_basis(m_X, m_W0);
  m_Z_memo.reserve(state_dim(), m_m, m_n);
  m_dZ_memo.reserve(state_dim(), m_m, m_n);
}

void Leaky2Span::GramProductMemo::reserve(Eigen::Index key_size, Eigen::Index rows, Eigen::Index cols) {
  for (std::size_t slot = 0; slot < 2; ++slot) {
    m_key[slot].resize(key_size);
    m_value[slot].resize(rows, cols);
  }
}

Eigen::MatrixXd* Leaky2Span::GramProductMemo::find(const Eigen::Ref<const Eigen::VectorXd>& key) {
  for (const std::size_t slot : {m_newest, 1 - m_newest})
    if (m_valid[slot] && (m_key[slot].array() == key.array()).all()) {
      m_newest = slot;
      return &m_value[slot];
    }
  return nullptr;
}

void Leaky2Span::GramProductMemo::rekey_newest(const Eigen::Ref<const Eigen::VectorXd>& key) { m_key[m_newest] = key; }

Eigen::MatrixXd& Leaky2Span::GramProductMemo::insert(const Eigen::Ref<const Eigen::VectorXd>& key) {
  m_newest = 1 - m_newest;
  m_key[m_newest] = key;
  m_valid[m_newest] = true;
  return m_value[m_newest];
}

const Eigen::MatrixXd& Leaky2Span::pre_activations(const Eigen::Ref<const Eigen::VectorXd>& state) {
  if (const Eigen::MatrixXd* Z = m_Z_memo.find(state)) return *Z;
  Eigen::MatrixXd& Z = m_Z_memo.insert(state);
  Z = m_Z0;
  times_gram(state, m_Gram, Z, true);
  ++m_products;
  return Z;
}

void Leaky2Span::margins(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> q) {
  const Eigen::MatrixXd& Z = pre_activations(state);
  // φ(z) = φ'(z) z on either branch; with a frozen pattern this is the frozen branch continued.
  // Slopes and margins column by column: one pass over Z and D instead of two.
  for (Eigen::Index i = 0; i < m_n; ++i) {
    if (m_frozen)
      m_D.col(i) = m_frozen_D.col(i);
    else
      m_D.col(i) = (Z.col(i).array() > 0).select(Eigen::VectorXd::Ones(m_m), m_gamma);
    q[i] = m_y[i] * m_a.dot(m_D.col(i).cwiseProduct(Z.col(i)));
  }
}

void Leaky2Span::freeze_pattern(const std::vector<std::int64_t>& positive) {
  for (Eigen::Index j = 0; j < m_m; ++j)
    for (Eigen::Index i = 0; i < m_n; ++i)
      m_frozen_D(j, i) = positive[static_cast<std::size_t>(j * m_n + i)] != 0 ? 1.0 : m_gamma;
  m_frozen = true;
  ++m_region_version;
}

void Leaky2Span::set_side(Eigen::Index k, bool positive) {
  m_frozen_D(k / m_n, k % m_n) = positive ? 1.0 : m_gamma;
  ++m_region_version;
}

void Leaky2Span::ascent(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Ref<Eigen::VectorXd> dstate) {
  if (!m_sliding.empty()) filippov_slopes(w);
  Eigen::Map<RowMajorMatrix> dC(dstate.data(), m_m, m_n);
  for (Eigen::Index j = 0; j < m_m; ++j)
    for (Eigen::Index i = 0; i < m_n; ++i) dC(j, i) = m_a[j] * m_D(j, i) * m_y[i] * w[i];
}

void Leaky2Span::filippov_slopes(const Eigen::Ref<const Eigen::VectorXd>& w) {
  for (Eigen::Index j = 0; j < m_m; ++j) {
    const SlideBlock& b = m_blocks[static_cast<std::size_t>(j)];
    if (b.samples.empty()) continue;
    m_v = m_y.cwiseProduct(w).cwiseProduct(m_D.row(j).transpose());
    const auto u = sliding_coefficients(b);
    for (Eigen::Index r = 0; r < u.size(); ++r) {
      const Eigen::Index k = b.samples[static_cast<std::size_t>(r)];
      const double force = m_y[k] * w[k];
      // A sample whose weight is 0 (underflowed: far past the margin) holds its pair only if no
      // force is needed there; otherwise the slope needed is infinite and the pair leaves.
      const double raw = force != 0.0  ? u[r] / force
                         : u[r] == 0.0 ? m_gamma
                                       : std::copysign(std::numeric_limits<double>::infinity(), u[r] * m_y[k]);
      m_raw_slopes(j, k) = raw;
      m_D(j, k) = std::clamp(raw, m_gamma, 1.0);
    }
  }
}

Eigen::MatrixX2d Leaky2Span::sliding_headroom() const {
  Eigen::MatrixX2d h(static_cast<Eigen::Index>(m_sliding.size()), 2);
  for (Eigen::Index r = 0; r < h.rows(); ++r) {
    const Eigen::Index k = m_sliding[static_cast<std::size_t>(r)];
    const double raw = m_raw_slopes(k / m_n, k % m_n);
    h.row(r) << raw - m_gamma, 1.0 - raw;
  }
  return h;
}

void Leaky2Span::set_sliding(const std::vector<Eigen::Index>& switches) {
  m_sliding = switches;
  std::sort(m_sliding.begin(), m_sliding.end());
  m_sliding.erase(std::unique(m_sliding.begin(), m_sliding.end()), m_sliding.end());
  std::vector<std::vector<Eigen::Index>> by_neuron(static_cast<std::size_t>(m_m));
  for (Eigen::Index k : m_sliding) by_neuron[static_cast<std::size_t>(k / m_n)].push_back(k % m_n);
  for (std::size_t j = 0; j < by_neuron.size(); ++j) {
    SlideBlock& b = m_blocks[j];
    if (b.samples == by_neuron[j]) continue;  // refactorize only the neurons whose set changed
    b.samples = std::move(by_neuron[j]);
    const auto s = static_cast<Eigen::Index>(b.samples.size());
    b.gram_rows.resize(s, m_n);
    for (Eigen::Index r = 0; r < s; ++r) b.gram_rows.row(r) = m_Gram.row(b.samples[static_cast<std::size_t>(r)]);
    Eigen::MatrixXd G_SS(s, s);
    for (Eigen::Index c = 0; c < s; ++c) G_SS.col(c) = b.gram_rows.col(b.samples[static_cast<std::size_t>(c)]);
    b.gram_ss.compute(G_SS);
  }
  m_raw_slopes.setConstant(m_gamma);
  ++m_region_version;
}

void Leaky2Span::hold_on_sliding_surfaces(Eigen::Ref<Eigen::VectorXd> state) {
  if (m_sliding.empty()) return;
  Eigen::MatrixXd* Z = m_Z_memo.find(state);
  Eigen::Map<RowMajorMatrix> C(state.data(), m_m, m_n);
  for (Eigen::Index j = 0; j < m_m; ++j) {
    const SlideBlock& b = m_blocks[static_cast<std::size_t>(j)];
    if (b.samples.empty()) continue;
    const auto s = static_cast<Eigen::Index>(b.samples.size());
    auto z = m_u.head(s);
    z.noalias() = b.gram_rows * C.row(j).transpose();  // Γ symmetric: (C Γ)_{j,S} = Γ_{S,:} C_jᵀ
    for (Eigen::Index r = 0; r < s; ++r) z[r] += m_Z0(j, b.samples[static_cast<std::size_t>(r)]);
    b.gram_ss.solveInPlace(z);
    for (Eigen::Index r = 0; r < s; ++r) C(j, b.samples[static_cast<std::size_t>(r)]) -= z[r];
    if (Z) Z->row(j).noalias() -= z.transpose() * b.gram_rows;
  }
  if (Z) m_Z_memo.rekey_newest(state);
}

void Leaky2Span::resume_switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state,
                                         const Eigen::Ref<const Eigen::VectorXd>& s) {
  m_Z_memo.insert(state) = Eigen::Map<const RowMajorMatrix>(s.data(), m_m, m_n);
}

void Leaky2Span::adopt_pre_activations(const Eigen::Ref<const Eigen::VectorXd>& state, const RowMajorMatrix& Z) {
  m_Z_memo.insert(state) = Z;
}

Eigen::VectorBlock<Eigen::VectorXd> Leaky2Span::sliding_coefficients(const SlideBlock& b) {
  for (Eigen::Index k : b.samples) m_v[k] = 0.0;
  auto u = m_u.head(static_cast<Eigen::Index>(b.samples.size()));
  u.noalias() = -b.gram_rows * m_v;
  b.gram_ss.solveInPlace(u);
  return u;
}

void Leaky2Span::slope_gram(const Eigen::MatrixXd& D, Eigen::Ref<Eigen::MatrixXd> K) const {
  const Eigen::MatrixXd aD = m_a.asDiagonal() * D;
  K.noalias() = aD.transpose() * aD;
  K.array() *= m_Gram.array() * (m_y * m_y.transpose()).array();
}

void Leaky2Span::gradient_gram(Eigen::Ref<Eigen::MatrixXd> K) {
  // With the pattern frozen, m_D is the frozen slopes off the sliding pairs (margins() set it so),
  // and projected_gram zeroes the sliding pairs' entries: the region's Gram.
  if (m_frozen)
    region_gram(K);
  else
    projected_gram(m_D, K);
}

void Leaky2Span::projected_gram(const Eigen::MatrixXd& D_any, Eigen::Ref<Eigen::MatrixXd> K) const {
  Eigen::MatrixXd D = D_any;
  for (Eigen::Index k : m_sliding) D(k / m_n, k % m_n) = 0.0;
  slope_gram(D, K);
  // Σ_j a_j² gⱼᵀ Γ_SS⁻¹ gⱼ = HᵀH with H the rows a_j L_j⁻¹ gⱼ (Γ_SS = L_j L_jᵀ) stacked over the
  // sliding neurons, in chunks of kChunkRows rows: one product with a long inner dimension instead
  // of a rank-|S_j| product per neuron (0.02 s against 0.06 s with 788 sliding pairs at n = 1000).
  // The product's columns are shared by the threads as times_gram shares its rows, with the
  // same bits on any number of threads (bench/scale's (1000, 2000, 100) cell: 21 % more steps in
  // its first minute on two).
  constexpr Eigen::Index kChunkRows = 512;  // ours: 4 MB of H at n = 1000
  Eigen::MatrixXd H(std::min<Eigen::Index>(kChunkRows, static_cast<Eigen::Index>(m_sliding.size())), m_n);
  Eigen::Index rows = 0;
  const int parts = gram_product_parts(m_n);
  auto flush = [&] {
    const auto Hr = H.topRows(rows);
#pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
    for (int p = 0; p < parts; ++p) {
      const auto [first, columns] = thread_part(m_n, p, parts);
      K.middleCols(first, columns).noalias() -= Hr.transpose() * Hr.middleCols(first, columns);
    }
    rows = 0;
  };
  for (Eigen::Index j = 0; j < m_m; ++j) {
    const SlideBlock& b = m_blocks[static_cast<std::size_t>(j)];
    const auto s = static_cast<Eigen::Index>(b.samples.size());
    if (s == 0) continue;
    if (rows + s > H.rows()) {
      flush();
      if (s > H.rows()) H.resize(s, m_n);
    }
    auto g = H.middleRows(rows, s);
    g = (m_a[j] * b.gram_rows) * m_y.cwiseProduct(D.row(j).transpose()).asDiagonal();
    b.gram_ss.matrixL().solveInPlace(g);
    rows += s;
  }
  if (rows > 0) flush();
}

void Leaky2Span::region_ascent(const Eigen::Ref<const Eigen::VectorXd>& c, Eigen::Ref<Eigen::VectorXd> dstate) {
  Eigen::Map<RowMajorMatrix> dC(dstate.data(), m_m, m_n);
  for (Eigen::Index j = 0; j < m_m; ++j)
    for (Eigen::Index i = 0; i < m_n; ++i) dC(j, i) = m_a[j] * m_frozen_D(j, i) * m_y[i] * c[i];
  for (Eigen::Index j = 0; j < m_m; ++j) {
    const SlideBlock& b = m_blocks[static_cast<std::size_t>(j)];
    if (b.samples.empty()) continue;
    m_v = dC.row(j).transpose() / m_a[j];
    const auto u = sliding_coefficients(b);
    for (Eigen::Index r = 0; r < u.size(); ++r) dC(j, b.samples[static_cast<std::size_t>(r)]) = m_a[j] * u[r];
  }
}

void Leaky2Span::region_gram(Eigen::Ref<Eigen::MatrixXd> K) const {
  if (m_region_gram_version != m_region_version) {
    m_region_gram.resize(m_n, m_n);
    projected_gram(m_frozen_D, m_region_gram);
    m_region_gram_version = m_region_version;
  }
  K = m_region_gram;
}

void Leaky2Span::switch_functions(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> s) {
  Eigen::Map<RowMajorMatrix>(s.data(), m_m, m_n) = pre_activations(state);
}

const Eigen::MatrixXd& Leaky2Span::pre_activation_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate) {
  if (const Eigen::MatrixXd* dZ = m_dZ_memo.find(dstate)) return *dZ;
  Eigen::MatrixXd& dZ = m_dZ_memo.insert(dstate);
  times_gram(dstate, m_Gram, dZ, false);
  ++m_products;
  return dZ;
}

void Leaky2Span::velocity_product(const Eigen::Ref<const Eigen::VectorXd>& dstate, RowMajorMatrix& dZ) {
  dZ.resize(m_m, m_n);
  times_gram(dstate, m_Gram, dZ, false);
  ++m_products;
}

void Leaky2Span::switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate, Eigen::Ref<Eigen::VectorXd> ds) {
  Eigen::Map<RowMajorMatrix>(ds.data(), m_m, m_n) = pre_activation_velocity(dstate);
}

void Leaky2Span::frozen_margin_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                                        Eigen::Ref<Eigen::VectorXd> dq) {
  const Eigen::MatrixXd& dZ = pre_activation_velocity(dstate);
  for (Eigen::Index i = 0; i < m_n; ++i) dq[i] = m_y[i] * m_a.dot(m_frozen_D.col(i).cwiseProduct(dZ.col(i)));
}

double Leaky2Span::switch_jump_error(Eigen::Index k, const Eigen::VectorXd& w, const Eigen::VectorXd& state,
                                     double abs_tol, double rel_tol) const {
  const Eigen::Index j = k / m_n, i = k % m_n;
  const double jump = std::abs(m_a[j]) * (1 - m_gamma) * std::abs(w[i]);
  const auto scaled = [&](Eigen::Index c, double rate) { return rate / (abs_tol + rel_tol * std::abs(state[c])); };
  double error = scaled(k, jump);
  const SlideBlock& b = m_blocks[static_cast<std::size_t>(j)];
  if (b.samples.empty() || jump == 0) return error;
  Eigen::VectorXd du = b.gram_rows.col(i);  // Γ_{S,i}
  b.gram_ss.solveInPlace(du);
  for (std::size_t r = 0; r < b.samples.size(); ++r)
    error = std::max(error, scaled(j * m_n + b.samples[r], jump * std::abs(du[static_cast<Eigen::Index>(r)])));
  return error;
}

void Leaky2Span::lift(const Eigen::Ref<const Eigen::VectorXd>& state, Eigen::Ref<Eigen::VectorXd> theta) const {
  combine_rows(state, m_X, &m_W0, theta);
}

void Leaky2Span::lift_velocity(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                               Eigen::Ref<Eigen::VectorXd> dtheta) const {
  combine_rows(dstate, m_X, nullptr, dtheta);
}

LayerView Leaky2Span::compact_layer(const LayerView& layer) const { return {layer.name, m_m, m_Xc.cols(), 0}; }

void Leaky2Span::lift_compact(const Eigen::Ref<const Eigen::VectorXd>& state,
                              Eigen::Ref<Eigen::VectorXd> theta_c) const {
  combine_compact_rows(state, &m_W0c, theta_c);
}

void Leaky2Span::lift_velocity_compact(const Eigen::Ref<const Eigen::VectorXd>& dstate,
                                       Eigen::Ref<Eigen::VectorXd> dtheta_c) const {
  combine_compact_rows(dstate, nullptr, dtheta_c);
}

void Leaky2Span::combine_compact_rows(const Eigen::Ref<const Eigen::VectorXd>& coefficients,
                                      const Eigen::MatrixXd* offset, Eigen::Ref<Eigen::VectorXd> out) const {
  if (m_Xc.cols() == m_X.cols()) {  // the chart is θ's own (n + m ≥ d)
    combine_rows(coefficients, m_Xc, offset, out);
    return;
  }
  // X in the basis of the QR of [Xᵀ W0ᵀ] is [L 0] with L = R_XXᵀ lower triangular (n × n): X
  // spans the first n basis vectors. A triangular product on those columns does a quarter of
  // the full product's work (a record's two lifts at (1000, 10000, 1000): 0.08 s before).
  const Eigen::Map<const RowMajorMatrix> C(coefficients.data(), m_m, m_n);
  Eigen::Map<RowMajorMatrix> W(out.data(), m_m, m_Xc.cols());
  if (offset)
    W = *offset;
  else
    W.setZero();
  W.leftCols(m_n).noalias() += C * m_Xc.leftCols(m_n).triangularView<Eigen::Lower>();
}

}  // namespace kktflow
