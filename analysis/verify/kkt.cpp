#include "analysis/verify/kkt.hpp"

#include "analysis/verify/cone_qp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double pattern_slope(std::int8_t sign, double gamma) { return sign > 0 ? 1.0 : gamma; }

/// Multiplier directions as coefficient matrices G_k ∈ R^{m×n} on the data (W = Σ v_k G_k X):
/// a column generator puts u ∈ R^m in column i (one sample's whole margin gradient), an entry
/// generator puts c at (j, i) (one pair's share). Inner products are those of the matrices G X,
/// ⟨A X, B X⟩_F = tr(A Γ Bᵀ), so only Γ = X Xᵀ is ever needed.
class Generators {
 public:
  struct Entry {
    Index j;
    Index i;
    double c;
  };

  Index add_column(Index i, Eigen::VectorXd u) {
    m_columns.emplace_back(i, std::move(u));
    return size() - 1;
  }
  Index add_entry(Index j, Index i, double c) {
    m_entries.push_back({j, i, c});
    return size() - 1;
  }
  [[nodiscard]] Index size() const { return static_cast<Index>(m_columns.size() + m_entries.size()); }

  [[nodiscard]] Eigen::MatrixXd gram(const Eigen::MatrixXd& Gamma) const {
    const auto nc = static_cast<Index>(m_columns.size());
    Eigen::MatrixXd H(size(), size());
    for (Index r = 0; r < nc; ++r) {
      const auto& [i, u] = m_columns[static_cast<std::size_t>(r)];
      for (Index s = 0; s <= r; ++s) {
        const auto& [l, w] = m_columns[static_cast<std::size_t>(s)];
        H(r, s) = H(s, r) = u.dot(w) * Gamma(i, l);
      }
      for (std::size_t e = 0; e < m_entries.size(); ++e) {
        const Entry& g = m_entries[e];
        H(r, nc + static_cast<Index>(e)) = H(nc + static_cast<Index>(e), r) = u[g.j] * g.c * Gamma(i, g.i);
      }
    }
    for (std::size_t e = 0; e < m_entries.size(); ++e) {
      for (std::size_t f = 0; f <= e; ++f) {
        const Entry& g = m_entries[e];
        const Entry& h = m_entries[f];
        const double value = g.j == h.j ? g.c * h.c * Gamma(g.i, h.i) : 0.0;
        H(nc + static_cast<Index>(e), nc + static_cast<Index>(f)) = value;
        H(nc + static_cast<Index>(f), nc + static_cast<Index>(e)) = value;
      }
    }
    return H;
  }

  /// ⟨G_k X, W⟩_F for every k, from Z = W Xᵀ.
  [[nodiscard]] Eigen::VectorXd inner(const Eigen::MatrixXd& Z) const {
    Eigen::VectorXd out(size());
    Index k = 0;
    for (const auto& [i, u] : m_columns) out[k++] = u.dot(Z.col(i));
    for (const Entry& g : m_entries) out[k++] = g.c * Z(g.j, g.i);
    return out;
  }

  /// Σ_k v_k G_k, m × n.
  [[nodiscard]] Eigen::MatrixXd combine(const Eigen::VectorXd& v, Index m, Index n) const {
    Eigen::MatrixXd M = Eigen::MatrixXd::Zero(m, n);
    Index k = 0;
    for (const auto& [i, u] : m_columns) M.col(i) += v[k++] * u;
    for (const Entry& g : m_entries) M(g.j, g.i) += v[k++] * g.c;
    return M;
  }

 private:
  std::vector<std::pair<Index, Eigen::VectorXd>> m_columns;
  std::vector<Entry> m_entries;
};

/// Column generator of sample i under a pattern: u_j = a_j y_i φ'_ji on strict pairs, 0 on kinks
/// (a kink's share is a separate entry generator).
Eigen::VectorXd margin_column(const Leaky2Net& net, const Pattern& pattern, Index i) {
  Eigen::VectorXd u(net.width());
  for (Index j = 0; j < net.width(); ++j) {
    const std::int8_t s = pattern(j, i);
    u[j] = s == 0 ? 0.0 : net.a[j] * net.y[i] * pattern_slope(s, net.gamma);
  }
  return u;
}

[[noreturn]] void invalid(const std::string& what) { throw std::invalid_argument("make_leaky2_net: " + what); }

/// One round of the polishing dual: multipliers λ (margins), ν (generated sign constraints) and
/// ρ (kinks, free); returns the coefficient matrix C of W = C X, or nothing if the dual is unbounded.
struct DualRound {
  Eigen::MatrixXd C;
  Eigen::VectorXd lambda;
  Eigen::VectorXd nu;
  bool unbounded = false;
  bool converged = false;
};

DualRound solve_polish_dual(const Leaky2Net& net, const Pattern& pattern,
                            const std::vector<std::pair<Index, Index>>& signs) {
  const Index n = net.samples();
  Generators gens;
  ConeStructure cone;
  for (Index i = 0; i < n; ++i) cone.heads.push_back(gens.add_column(i, margin_column(net, pattern, i)));
  for (const auto& [j, i] : signs) cone.heads.push_back(gens.add_entry(j, i, pattern(j, i)));
  for (Index j = 0; j < net.width(); ++j) {
    for (Index i = 0; i < n; ++i) {
      if (pattern(j, i) == 0) gens.add_entry(j, i, 1.0);  // free: ⟨w_j, x_i⟩ = 0 is an equality
    }
  }
  cone.tails.resize(cone.heads.size());
  Eigen::VectorXd b = Eigen::VectorXd::Zero(gens.size());
  b.head(n).setOnes();
  // The dual max Σλ − ½‖C X‖² as a minimization.
  const ConeQpResult qp = solve_cone_qp(gens.gram(net.gram), b, cone);
  DualRound round;
  round.unbounded = qp.unbounded;
  round.converged = qp.converged;
  round.lambda = qp.v.head(n);
  round.nu = qp.v.segment(n, static_cast<Index>(signs.size()));
  round.C = gens.combine(qp.v, net.width(), n);
  return round;
}

/// Strict pairs of the pattern whose sign constraint C Γ violates, beyond rounding.
std::vector<std::pair<Index, Index>> violated_signs(const Pattern& pattern, const Eigen::MatrixXd& Z,
                                                    const std::vector<char>& generated) {
  // Ours: 1e-12 of the largest pre-activation is rounding, not a violation.
  const double tol = 1e-12 * std::max(Z.cwiseAbs().maxCoeff(), 1e-300);
  std::vector<std::pair<Index, Index>> out;
  for (Index i = 0; i < Z.cols(); ++i) {
    for (Index j = 0; j < Z.rows(); ++j) {
      const std::int8_t s = pattern(j, i);
      if (s != 0 && generated[static_cast<std::size_t>(j * Z.cols() + i)] == 0 && s * Z(j, i) < -tol) {
        out.emplace_back(j, i);
      }
    }
  }
  return out;
}

}  // namespace

Leaky2Net make_leaky2_net(Eigen::MatrixXd X, Eigen::VectorXd y, Eigen::VectorXd a, double gamma) {
  if (y.size() != X.rows())
    invalid("y has " + std::to_string(y.size()) + " labels, X has " + std::to_string(X.rows()) + " rows");
  if (a.size() < 1) invalid("the outer layer a is empty");
  if (!(gamma >= 0 && gamma < 1)) invalid("gamma = " + std::to_string(gamma) + " is outside [0, 1)");
  if (!y.cwiseAbs().isOnes()) invalid("labels must be ±1");
  Leaky2Net net{std::move(X), std::move(y), std::move(a), gamma, {}};
  net.gram = net.X * net.X.transpose();
  return net;
}

Eigen::MatrixXd weights_from_theta(const Eigen::Ref<const Eigen::VectorXd>& theta, Index m, Index d) {
  if (theta.size() != m * d) {
    throw std::invalid_argument("weights_from_theta: θ has " + std::to_string(theta.size()) + " entries, W is " +
                                std::to_string(m) + " × " + std::to_string(d));
  }
  return Eigen::Map<const RowMajorMatrix>(theta.data(), m, d);
}

Eigen::VectorXd theta_from_weights(const Eigen::Ref<const Eigen::MatrixXd>& W) {
  const RowMajorMatrix row_major = W;
  return Eigen::Map<const Eigen::VectorXd>(row_major.data(), row_major.size());
}

Eigen::VectorXd outputs(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                        const Eigen::Ref<const Eigen::MatrixXd>& P) {
  const Eigen::MatrixXd Z = P * W.transpose();
  const double gamma = net.gamma;
  return Z.unaryExpr([gamma](double z) { return leaky(z, gamma); }) * net.a;
}

Eigen::VectorXd margins(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W) {
  return net.y.cwiseProduct(outputs(net, W, net.X));
}

double normalized_margin(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W) {
  return margins(net, W).minCoeff() / W.norm();
}

double angle_between(const Eigen::Ref<const Eigen::MatrixXd>& A, const Eigen::Ref<const Eigen::MatrixXd>& B) {
  const double chord = (A / A.norm() - B / B.norm()).norm();
  return 2 * std::asin(std::min(1.0, chord / 2));
}

Pattern activation_pattern(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W, double threshold) {
  const Eigen::MatrixXd Z = W * net.X.transpose();
  const Eigen::VectorXd row_norms = W.rowwise().norm();
  const Eigen::VectorXd x_norms = net.X.rowwise().norm();
  Pattern s(Z.rows(), Z.cols());
  for (Index i = 0; i < Z.cols(); ++i) {
    for (Index j = 0; j < Z.rows(); ++j) {
      const double z = Z(j, i);
      s(j, i) = std::abs(z) <= threshold * row_norms[j] * x_norms[i] ? 0 : z > 0 ? 1 : -1;
    }
  }
  return s;
}

Pattern frei_pattern(const Leaky2Net& net) {
  Pattern s(net.width(), net.samples());
  for (Index i = 0; i < net.samples(); ++i) {
    for (Index j = 0; j < net.width(); ++j) s(j, i) = net.a[j] * net.y[i] > 0 ? 1 : -1;
  }
  return s;
}

Index count_kinks(const Pattern& pattern) { return (pattern.array() == 0).count(); }

KktResidual clarke_kkt(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W, double threshold) {
  const Index n = net.samples();
  const Index m = net.width();
  KktResidual r;
  const Eigen::VectorXd q = margins(net, W);
  r.q_min = q.minCoeff();
  r.lambda = Eigen::VectorXd::Zero(n);
  r.slopes = Eigen::MatrixXd::Constant(m, n, net.gamma);
  if (!(r.q_min > 0)) {
    r.epsilon = r.delta = std::numeric_limits<double>::infinity();
    return r;
  }
  const Eigen::MatrixXd W_tilde = W / r.q_min;
  r.norm_tilde = W_tilde.norm();
  const Pattern pattern = activation_pattern(net, W, threshold);
  r.kinks = count_kinks(pattern);

  Generators gens;
  ConeStructure cone{{}, std::vector<std::vector<Index>>(static_cast<std::size_t>(n)), net.gamma};
  for (Index i = 0; i < n; ++i) cone.heads.push_back(gens.add_column(i, margin_column(net, pattern, i)));
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < m; ++j) {
      if (pattern(j, i) == 0)
        cone.tails[static_cast<std::size_t>(i)].push_back(gens.add_entry(j, i, net.a[j] * net.y[i]));
    }
  }
  // min ½‖W̃ − M X‖² = ½vᵀHv − bᵀv + const, H the generators' Gram, b their inner products with W̃.
  const ConeQpResult qp = solve_cone_qp(gens.gram(net.gram), gens.inner(W_tilde * net.X.transpose()), cone);
  r.converged = qp.converged;
  r.lambda = qp.v.head(n);
  const Eigen::MatrixXd M = gens.combine(qp.v, m, n);
  r.epsilon = (W_tilde - M * net.X).norm();
  r.delta = r.lambda.dot(q / r.q_min - Eigen::VectorXd::Ones(n));
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < m; ++j) {
      if (r.lambda[i] > 0) {
        r.slopes(j, i) = M(j, i) / (net.a[j] * net.y[i] * r.lambda[i]);
      } else if (pattern(j, i) != 0) {
        r.slopes(j, i) = pattern_slope(pattern(j, i), net.gamma);
      }
    }
  }
  return r;
}

Polished polish(const Leaky2Net& net, const Pattern& pattern, Index max_sign_constraints, double max_bytes) {
  const Index n = net.samples();
  const Index m = net.width();
  if (pattern.rows() != m || pattern.cols() != n) {
    throw std::invalid_argument("polish: the pattern is " + std::to_string(pattern.rows()) + " × " +
                                std::to_string(pattern.cols()) + ", the net has m × n = " + std::to_string(m) + " × " +
                                std::to_string(n));
  }
  Polished out;
  out.kinks = count_kinks(pattern);
  out.max_bytes = max_bytes;
  std::vector<std::pair<Index, Index>> signs;
  std::vector<char> generated(static_cast<std::size_t>(m * n), 0);
  // Ours: 50 rounds; each round adds every violated sign constraint at once.
  for (out.rounds = 1; out.rounds <= 50; ++out.rounds) {
    out.dual_variables = n + static_cast<Index>(signs.size()) + out.kinks;
    out.dual_bytes = cone_qp_bytes(out.dual_variables);
    if (out.dual_bytes > max_bytes) {
      out.capped = out.over_memory = true;
      return out;
    }
    const DualRound round = solve_polish_dual(net, pattern, signs);
    if (round.unbounded) return out;  // the pattern admits no W with q_i ≥ 1
    const std::vector<std::pair<Index, Index>> violated = violated_signs(pattern, round.C * net.gram, generated);
    if (violated.empty()) {
      out.W = round.C * net.X;
      out.lambda = round.lambda;
      out.active_signs = (round.nu.array() > 0).count();
      out.feasible = margins(net, out.W).minCoeff() > 0;
      out.converged = round.converged;
      return out;
    }
    if (static_cast<Index>(signs.size() + violated.size()) > max_sign_constraints) {
      out.capped = true;
      return out;
    }
    for (const auto& [j, i] : violated) {
      generated[static_cast<std::size_t>(j * n + i)] = 1;
      signs.emplace_back(j, i);
    }
  }
  out.capped = true;  // out of rounds
  return out;
}

std::string polish_refusal(const Polished& p) {
  if (!p.capped) return {};
  if (!p.over_memory) return fmt::format("given up after {} round(s): sign-constraint or round cap", p.rounds);
  return fmt::format(
      "not computed: round {} needs a dense dual of {} variables, {:.3g} GB, above the {:.3g} GB "
      "a pattern QP may hold (ours)",
      p.rounds, p.dual_variables, p.dual_bytes / 1e9, p.max_bytes / 1e9);
}

}  // namespace kktflow
