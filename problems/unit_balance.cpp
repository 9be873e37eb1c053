#include "unit_balance.hpp"

#include <Eigen/LU>

#include <cmath>

namespace kktflow {

namespace {

constexpr int kMaxNewtonSteps = 30;  // ours: the defects a capture leaves take 2–3
constexpr int kMaxHalvings = 30;
constexpr double kConverged = 1e-13;      // ours: |B − B*| relative to the largest Σ‖·‖² of a unit
constexpr double kRoundingFloor = 1e-11;  // ours: accepted when no step lowers |B − B*| further

/// The scaled chain's squared weights, balances and their Jacobian at scales s. Units of layer
/// l (1 ≤ l < T) sit at offset[l − 1] in s; the inputs and layer T carry no scale.
class BalanceResidual {
 public:
  explicit BalanceResidual(const LayerChain& chain) {
    Eigen::Index at = 0;
    for (std::size_t l = 0; l < chain.size(); ++l) {
      m_squares.push_back(chain[l].array().square().matrix());
      if (l + 1 < chain.size()) {
        m_offset.push_back(at);
        at += chain[l].rows();
      }
    }
    m_units = at;
    m_top_norms = m_squares.back().rowwise().sum();
  }

  Eigen::Index units() const { return m_units; }

  /// Σ of every unit's incoming and outgoing squared weights at s = 0: the scale of a balance.
  double scale() const {
    Eigen::VectorXd total = Eigen::VectorXd::Zero(m_units);
    for (std::size_t l = 0; l + 1 < m_squares.size(); ++l) {
      total.segment(m_offset[l], m_squares[l].rows()) += m_squares[l].rowwise().sum();
      total.segment(m_offset[l], m_squares[l].rows()) += m_squares[l + 1].colwise().sum().transpose();
    }
    return total.maxCoeff();
  }

  /// B(s) into r and ∂B/∂s into J.
  void evaluate(const Eigen::VectorXd& s, Eigen::VectorXd& r, Eigen::MatrixXd& J) const {
    r.setZero(m_units);
    J.setZero(m_units, m_units);
    for (std::size_t l = 0; l + 1 < m_squares.size(); ++l) add_inner_layer(l, s, r, J);
    add_top_layer(s, r, J);
  }

  /// Row factors of W_T after the column scaling: ‖row_j‖ at entry over ‖row_j‖ scaled.
  Eigen::VectorXd top_row_factors(const Eigen::VectorXd& s) const {
    const Eigen::VectorXd scaled = m_squares.back() * column_factors(s, m_squares.size() - 1).array().square().matrix();
    return (m_top_norms.array() / scaled.array()).sqrt().unaryExpr([](double f) { return std::isfinite(f) ? f : 1.0; });
  }

  /// e^{−s_k} for the columns of chain layer l (ones on the inputs).
  Eigen::VectorXd column_factors(const Eigen::VectorXd& s, std::size_t l) const {
    const Eigen::Index cols = m_squares[l].cols();
    if (l == 0) return Eigen::VectorXd::Ones(cols);
    return (-s.segment(m_offset[l - 1], cols)).array().exp();
  }

  /// e^{s_j} for the rows of chain layer l < T − 1 (0-based).
  Eigen::VectorXd row_factors(const Eigen::VectorXd& s, std::size_t l) const {
    return s.segment(m_offset[l], m_squares[l].rows()).array().exp();
  }

 private:
  /// Edge (j ← k) of layer l < T with c = W²e^{2(s_j − s_k)}: +c to B_j, −c to B_k.
  void add_inner_layer(std::size_t l, const Eigen::VectorXd& s, Eigen::VectorXd& r, Eigen::MatrixXd& J) const {
    const Eigen::VectorXd rows = row_factors(s, l).array().square();
    const Eigen::VectorXd cols = column_factors(s, l).array().square();
    const Eigen::MatrixXd c = rows.asDiagonal() * m_squares[l] * cols.asDiagonal();
    const Eigen::Index out = m_offset[l];
    const Eigen::VectorXd c_rows = c.rowwise().sum();
    r.segment(out, c.rows()) += c_rows;
    J.diagonal().segment(out, c.rows()) += 2.0 * c_rows;
    if (l == 0) return;
    const Eigen::Index in = m_offset[l - 1];
    const Eigen::VectorXd c_cols = c.colwise().sum().transpose();
    r.segment(in, c.cols()) -= c_cols;
    J.diagonal().segment(in, c.cols()) += 2.0 * c_cols;
    J.block(out, in, c.rows(), c.cols()) -= 2.0 * c;
    J.block(in, out, c.cols(), c.rows()) -= 2.0 * c.transpose();
  }

  /// Top edges c_jk = W²e^{−2s_k} N_j/R_j (rows back at their norms N_j): −c_jk to B_k, and
  /// ∂B_k/∂s_m = 2δ_km Σ_j c_jk − 2 Σ_j c_jk c_jm / N_j.
  void add_top_layer(const Eigen::VectorXd& s, Eigen::VectorXd& r, Eigen::MatrixXd& J) const {
    const std::size_t top = m_squares.size() - 1;
    const Eigen::VectorXd rows = top_row_factors(s).array().square();
    const Eigen::VectorXd cols = column_factors(s, top).array().square();
    const Eigen::MatrixXd c = rows.asDiagonal() * m_squares[top] * cols.asDiagonal();
    const Eigen::VectorXd inverse_norms = m_top_norms.unaryExpr([](double n) { return n > 0 ? 1.0 / n : 0.0; });
    const Eigen::Index in = m_offset[top - 1];
    const Eigen::VectorXd c_cols = c.colwise().sum().transpose();
    r.segment(in, c.cols()) -= c_cols;
    J.diagonal().segment(in, c.cols()) += 2.0 * c_cols;
    J.block(in, in, c.cols(), c.cols()) -= 2.0 * c.transpose() * inverse_norms.asDiagonal() * c;
  }

  std::vector<Eigen::MatrixXd> m_squares;
  std::vector<Eigen::Index> m_offset;
  Eigen::Index m_units = 0;
  Eigen::VectorXd m_top_norms;
};

/// Newton's method with step halving on ‖B(s) − B*‖∞; s, or nothing when it does not converge.
bool solve_scales(const BalanceResidual& residual, const Eigen::VectorXd& targets, Eigen::VectorXd& s) {
  const double scale = residual.scale();
  Eigen::VectorXd r, trial_r;
  Eigen::MatrixXd J, trial_J;
  s.setZero(residual.units());
  residual.evaluate(s, r, J);
  r -= targets;
  for (int step = 0; step < kMaxNewtonSteps; ++step) {
    double defect = r.lpNorm<Eigen::Infinity>();
    if (defect <= kConverged * scale) return true;
    const Eigen::VectorXd direction = J.partialPivLu().solve(-r);
    bool lowered = false;
    for (double length = 1.0; !lowered && length > std::ldexp(1.0, -kMaxHalvings); length *= 0.5) {
      const Eigen::VectorXd trial = s + length * direction;
      residual.evaluate(trial, trial_r, trial_J);
      trial_r -= targets;
      const double trial_defect = trial_r.lpNorm<Eigen::Infinity>();
      lowered = std::isfinite(trial_defect) && trial_defect < defect;
      if (lowered) {
        s = trial;
        r.swap(trial_r);
        J.swap(trial_J);
      }
    }
    if (!lowered) return defect <= kRoundingFloor * scale;
  }
  return false;
}

}  // namespace

Eigen::VectorXd unit_balances(const LayerChain& chain) {
  Eigen::Index units = 0;
  for (std::size_t l = 0; l + 1 < chain.size(); ++l) units += chain[l].rows();
  Eigen::VectorXd B(units);
  Eigen::Index at = 0;
  for (std::size_t l = 0; l + 1 < chain.size(); ++l) {
    const Eigen::Index rows = chain[l].rows();
    B.segment(at, rows) = chain[l].rowwise().squaredNorm() - chain[l + 1].colwise().squaredNorm().transpose();
    at += rows;
  }
  return B;
}

bool rescale_to_balance(LayerChain& chain, const Eigen::VectorXd& targets) {
  if (chain.size() < 2) return true;  // no hidden unit below the top layer
  const BalanceResidual residual(chain);
  Eigen::VectorXd s;
  if (!solve_scales(residual, targets, s)) return false;
  const std::size_t top = chain.size() - 1;
  for (std::size_t l = 0; l < top; ++l)
    chain[l] = residual.row_factors(s, l).asDiagonal() * chain[l] * residual.column_factors(s, l).asDiagonal();
  const Eigen::VectorXd rows = residual.top_row_factors(s);
  chain[top] = rows.asDiagonal() * chain[top] * residual.column_factors(s, top).asDiagonal();
  return true;
}

}  // namespace kktflow
