#include "nnls.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace kktflow {

namespace {

// A pivot below this fraction of its diagonal entry (ours) counts as K_PP singular: the passive
// set's gradients are dependent, and its solves fall back to a complete orthogonal decomposition.
constexpr double kPivotFloor = 1e-12;

/// The passive set P in the order its members entered, with the Cholesky factor L of K_PP in
/// that order: adding a member costs O(p²) instead of a new factorization.
class PassiveSet {
 public:
  PassiveSet(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b)
      : m_K(K), m_b(b), m_L(b.size(), b.size()), m_row(b.size()) {}

  const std::vector<Eigen::Index>& members() const { return m_P; }

  void add(Eigen::Index j) {
    m_P.push_back(j);
    if (!m_factored) return;
    const auto p = static_cast<Eigen::Index>(m_P.size()) - 1;
    for (Eigen::Index r = 0; r < p; ++r) m_row[r] = m_K(m_P[static_cast<std::size_t>(r)], j);
    auto L = m_L.topLeftCorner(p, p).triangularView<Eigen::Lower>();
    L.solveInPlace(m_row.head(p));
    const double pivot2 = m_K(j, j) - m_row.head(p).squaredNorm();
    if (!(pivot2 > kPivotFloor * m_K(j, j))) {
      m_factored = false;
      return;
    }
    m_L.row(p).head(p) = m_row.head(p).transpose();
    m_L(p, p) = std::sqrt(pivot2);
  }

  /// Drops the member added last; the factor of the others is its leading block.
  void remove_last() {
    m_P.pop_back();
    if (!m_factored) factor();
  }

  /// Keeps the members with keep(i) true, in their order, and factors K_PP afresh.
  template <class Keep>
  void retain(Keep&& keep) {
    std::erase_if(m_P, [&](Eigen::Index i) { return !keep(i); });
    factor();
  }

  /// Makes `members` the passive set and factors K_PP in one blocked Cholesky (O(p³/3) at
  /// matrix-product speed, where p adds would each take a triangular solve).
  void assign(std::vector<Eigen::Index> members) {
    m_P = std::move(members);
    factor();
  }

  /// s with K_PP s = b_P (least squares where K_PP is singular).
  Eigen::VectorXd solve() const {
    const auto p = static_cast<Eigen::Index>(m_P.size());
    Eigen::VectorXd s(p);
    for (Eigen::Index r = 0; r < p; ++r) s[r] = m_b[m_P[static_cast<std::size_t>(r)]];
    if (m_factored) {
      const auto L = m_L.topLeftCorner(p, p).triangularView<Eigen::Lower>();
      L.solveInPlace(s);
      L.transpose().solveInPlace(s);
      return s;
    }
    Eigen::MatrixXd Kpp(p, p);
    for (Eigen::Index r = 0; r < p; ++r)
      for (Eigen::Index c = 0; c < p; ++c)
        Kpp(r, c) = m_K(m_P[static_cast<std::size_t>(r)], m_P[static_cast<std::size_t>(c)]);
    return Kpp.completeOrthogonalDecomposition().solve(s);
  }

 private:
  void factor() {
    const auto p = static_cast<Eigen::Index>(m_P.size());
    Eigen::MatrixXd Kpp(p, p);
    for (Eigen::Index c = 0; c < p; ++c)
      for (Eigen::Index r = 0; r < p; ++r)
        Kpp(r, c) = m_K(m_P[static_cast<std::size_t>(r)], m_P[static_cast<std::size_t>(c)]);
    const Eigen::LLT<Eigen::MatrixXd> llt(Kpp);
    m_factored = llt.info() == Eigen::Success;
    for (Eigen::Index r = 0; r < p && m_factored; ++r) {
      const double pivot = llt.matrixLLT()(r, r);
      m_factored = pivot * pivot > kPivotFloor * Kpp(r, r);
    }
    if (m_factored) m_L.topLeftCorner(p, p).triangularView<Eigen::Lower>() = llt.matrixL();
  }

  const Eigen::Ref<const Eigen::MatrixXd>& m_K;
  const Eigen::Ref<const Eigen::VectorXd>& m_b;
  std::vector<Eigen::Index> m_P;
  Eigen::MatrixXd m_L;
  Eigen::VectorXd m_row;
  bool m_factored = true;
};

}  // namespace

namespace {

// Rounds of the seeded start (ours) before it gives up and starts from the empty set.
constexpr int kSeedRounds = 8;

/// The seeded start: from `members` (every index, or a caller's guess at the support), shrunk to
/// the positive part of each restricted solution until that solution is positive. Leaves λ the
/// solution on the final set, a feasible point from which Lawson–Hanson's outer loop goes on;
/// false (λ = 0, P empty) when no round ended positive.
bool seed_passive_set(std::vector<Eigen::Index> members, PassiveSet& P, std::vector<bool>& passive,
                      Eigen::VectorXd& lambda) {
  for (int round = 0; round < kSeedRounds && !members.empty(); ++round) {
    P.assign(members);
    const Eigen::VectorXd s = P.solve();
    std::vector<Eigen::Index> positive;
    for (std::size_t r = 0; r < members.size(); ++r)
      if (s[static_cast<Eigen::Index>(r)] > 0) positive.push_back(members[r]);
    if (positive.size() == members.size()) {
      for (std::size_t r = 0; r < members.size(); ++r) {
        lambda[members[r]] = s[static_cast<Eigen::Index>(r)];
        passive[static_cast<std::size_t>(members[r])] = true;
      }
      return true;
    }
    members = std::move(positive);
  }
  P.assign({});
  return false;
}

/// λ solved afresh on its support in increasing index order, negative rounding clipped: the
/// answer then depends on the support found, not on the order members entered it, so a warm
/// and a cold start that end on one support give the same bits.
void solve_on_support(PassiveSet& P, Eigen::VectorXd& lambda) {
  std::vector<Eigen::Index> support;
  for (Eigen::Index i = 0; i < lambda.size(); ++i)
    if (lambda[i] > 0) support.push_back(i);
  P.assign(support);
  const Eigen::VectorXd s = P.solve();
  lambda.setZero();
  for (std::size_t r = 0; r < support.size(); ++r) lambda[support[r]] = std::max(0.0, s[static_cast<Eigen::Index>(r)]);
}

}  // namespace

NnlsResult nnls_normal(const Eigen::Ref<const Eigen::MatrixXd>& K, const Eigen::Ref<const Eigen::VectorXd>& b,
                       const std::vector<Eigen::Index>& guess) {
  const Eigen::Index n = b.size();
  NnlsResult res;
  res.lambda = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  PassiveSet P(K, b);
  std::vector<Eigen::Index> every(static_cast<std::size_t>(n));
  std::iota(every.begin(), every.end(), Eigen::Index{0});
  if (guess.empty() || !seed_passive_set(guess, P, passive, res.lambda))
    seed_passive_set(every, P, passive, res.lambda);
  // Optimality tolerance (ours): gradients below 1e-13 of the problem's scale are rounding.
  const double tol = 1e-13 * std::max(b.cwiseAbs().maxCoeff(), 1e-300);
  const int max_iter = static_cast<int>(3 * n + 10);
  // Members whose entry came out ≤ 0 on the solve right after they entered, at the present λ:
  // in exact arithmetic a positive gradient gives a positive entry (Lawson & Hanson, Lemma 23.17),
  // so their gradient is rounding; taking them again would cycle with λ unchanged.
  std::vector<bool> blocked(static_cast<std::size_t>(n), false);
  for (res.iterations = 0; res.iterations < max_iter; ++res.iterations) {
    const Eigen::VectorXd g = b - K * res.lambda;
    Eigen::Index j = -1;
    double best = tol;
    for (Eigen::Index i = 0; i < n; ++i)
      if (!passive[static_cast<std::size_t>(i)] && !blocked[static_cast<std::size_t>(i)] && g[i] > best)
        best = g[i], j = i;
    if (j < 0) {
      res.converged = true;
      break;
    }
    passive[static_cast<std::size_t>(j)] = true;
    P.add(j);
    for (int inner = 0; inner < max_iter; ++inner) {
      const auto& members = P.members();
      const Eigen::VectorXd s = P.solve();
      if (inner == 0 && !(s[s.size() - 1] > 0)) {
        passive[static_cast<std::size_t>(j)] = false;
        blocked[static_cast<std::size_t>(j)] = true;
        P.remove_last();
        break;
      }
      std::fill(blocked.begin(), blocked.end(), false);
      double alpha = 1.0;
      std::size_t leaving = members.size();
      for (std::size_t r = 0; r < members.size(); ++r) {
        const auto rr = static_cast<Eigen::Index>(r);
        if (s[rr] > 0) continue;
        const double ratio = res.lambda[members[r]] / (res.lambda[members[r]] - s[rr]);
        if (ratio < alpha) alpha = ratio, leaving = r;
      }
      for (std::size_t r = 0; r < members.size(); ++r)
        res.lambda[members[r]] += alpha * (s[static_cast<Eigen::Index>(r)] - res.lambda[members[r]]);
      if (alpha >= 1.0) break;
      // The member that set α is at 0 in exact arithmetic; rounding may leave it a hair above,
      // and then it would set α ≈ 0 again at every pass.
      if (leaving < members.size()) res.lambda[members[leaving]] = 0;
      for (Eigen::Index i : members)
        if (res.lambda[i] <= 0) res.lambda[i] = 0, passive[static_cast<std::size_t>(i)] = false;
      P.retain([&](Eigen::Index i) { return passive[static_cast<std::size_t>(i)]; });
    }
  }
  solve_on_support(P, res.lambda);
  return res;
}

}  // namespace kktflow
