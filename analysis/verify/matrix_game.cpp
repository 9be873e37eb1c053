/// \file matrix_game.cpp
/// Tableau simplex for the value of a matrix game (matrix_game.hpp).
#include "analysis/verify/matrix_game.hpp"

#include <stdexcept>

namespace kktflow {
namespace {

using Eigen::Index;

/// Ours: reduced costs and ratios within this of zero count as zero (entries of A' are O(1)).
constexpr double kPivotTol = 1e-12;

/// The tableau of max 1ᵀy s.t. Gy ≤ 1, y ≥ 0 with G = A'ᵀ (k × m): k rows of [G | I | 1], the
/// objective row last, basic variable of each row in m_basis.
class Tableau {
 public:
  explicit Tableau(const Eigen::MatrixXd& G)
      : m_m(G.cols()), m_k(G.rows()), m_t(G.rows() + 1, G.cols() + G.rows() + 1), m_basis(m_k) {
    m_t.setZero();
    m_t.topLeftCorner(m_k, m_m) = G;
    m_t.block(0, m_m, m_k, m_k).setIdentity();
    m_t.topRightCorner(m_k, 1).setOnes();
    m_t.row(m_k).head(m_m).setConstant(-1.0);
    for (Index r = 0; r < m_k; ++r) m_basis[r] = m_m + r;
  }

  /// One Bland pivot; false at the optimum.
  bool pivot() {
    Index enter = -1;
    for (Index c = 0; c < m_m + m_k && enter < 0; ++c)
      if (m_t(m_k, c) < -kPivotTol) enter = c;
    if (enter < 0) return false;
    Index leave = -1;
    double best = 0;
    for (Index r = 0; r < m_k; ++r) {
      if (m_t(r, enter) <= kPivotTol) continue;
      const double ratio = m_t(r, m_m + m_k) / m_t(r, enter);
      if (leave < 0 || ratio < best - kPivotTol || (ratio <= best + kPivotTol && m_basis[r] < m_basis[leave])) {
        leave = r;
        best = ratio;
      }
    }
    if (leave < 0) throw std::logic_error("solve_matrix_game: unbounded, impossible for a positive matrix");
    m_t.row(leave) /= m_t(leave, enter);
    for (Index r = 0; r <= m_k; ++r)
      if (r != leave && m_t(r, enter) != 0) m_t.row(r) -= m_t(r, enter) * m_t.row(leave);
    m_basis[leave] = enter;
    return true;
  }

  /// x: the objective row's entries under the slack columns (the dual of the y-problem).
  [[nodiscard]] Eigen::VectorXd dual() const { return m_t.row(m_k).segment(m_m, m_k).transpose().cwiseMax(0.0); }
  [[nodiscard]] Eigen::VectorXd primal() const {
    Eigen::VectorXd y = Eigen::VectorXd::Zero(m_m);
    for (Index r = 0; r < m_k; ++r)
      if (m_basis[r] < m_m) y[m_basis[r]] = m_t(r, m_m + m_k);
    return y.cwiseMax(0.0);
  }

 private:
  Index m_m, m_k;
  // Row-major: a pivot updates whole rows (1.6k × 1.6k for below_optimum's 810 directions,
  // where column-major storage made each pivot's row updates stride through memory).
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m_t;
  Eigen::VectorXi m_basis;
};

}  // namespace

GameSolution solve_matrix_game(const Eigen::Ref<const Eigen::MatrixXd>& A) {
  if (A.size() == 0 || !A.allFinite())
    throw std::invalid_argument("solve_matrix_game: the matrix is empty or not finite");
  const double shift = 1.0 - A.minCoeff();
  Tableau tableau(Eigen::MatrixXd((A.array() + shift).matrix().transpose()));
  GameSolution out;
  // Ours: a generous budget; Bland's rule ends in far fewer pivots on games this size.
  const int budget = static_cast<int>(50 * (A.rows() + A.cols()));
  while (out.pivots < budget && tableau.pivot()) ++out.pivots;
  out.converged = out.pivots < budget;
  const Eigen::VectorXd x = tableau.dual(), y = tableau.primal();
  out.columns = x.sum() > 0 ? Eigen::VectorXd(x / x.sum()) : Eigen::VectorXd::Constant(A.cols(), 1.0 / A.cols());
  out.rows = y.sum() > 0 ? Eigen::VectorXd(y / y.sum()) : Eigen::VectorXd::Constant(A.rows(), 1.0 / A.rows());
  out.value = (A * out.columns).minCoeff();
  return out;
}

}  // namespace kktflow
