#include "analysis/verify/cone_qp.hpp"

#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using SparseColumn = std::vector<std::pair<Index, double>>;

enum class TailState : char { low, high, inside };

/// The working set as states (see the file comment), and the substitution basis it induces.
class WorkingSet {
 public:
  WorkingSet(const ConeStructure& cone, Index size) : m_cone(cone) {
    std::vector<char> claimed(static_cast<std::size_t>(size), 0);
    const auto claim = [&](Index k) {
      if (k < 0 || k >= size || claimed[static_cast<std::size_t>(k)] != 0) {
        throw std::invalid_argument("solve_cone_qp: variable " + std::to_string(k) +
                                    " is out of range or belongs to two cone groups");
      }
      claimed[static_cast<std::size_t>(k)] = 1;
    };
    if (cone.tails.size() != cone.heads.size()) {
      throw std::invalid_argument("solve_cone_qp: ConeStructure.tails must have one entry per head");
    }
    if (!(cone.ratio_low >= 0 && cone.ratio_low < 1)) {
      throw std::invalid_argument("solve_cone_qp: ConeStructure.ratio_low must lie in [0, 1)");
    }
    for (std::size_t g = 0; g < cone.heads.size(); ++g) {
      claim(cone.heads[g]);
      for (Index t : cone.tails[g]) claim(t);
      m_tail_state.emplace_back(cone.tails[g].size(), TailState::low);
    }
    m_positive.assign(cone.heads.size(), 0);
    for (Index k = 0; k < size; ++k) {
      if (claimed[static_cast<std::size_t>(k)] == 0) m_free.push_back(k);
    }
  }

  [[nodiscard]] std::size_t groups() const { return m_positive.size(); }
  [[nodiscard]] Index head(std::size_t g) const { return m_cone.heads[g]; }
  [[nodiscard]] const std::vector<Index>& tails(std::size_t g) const { return m_cone.tails[g]; }
  [[nodiscard]] double gamma() const { return m_cone.ratio_low; }
  [[nodiscard]] bool positive(std::size_t g) const { return m_positive[g] != 0; }
  [[nodiscard]] TailState state(std::size_t g, std::size_t t) const { return m_tail_state[g][t]; }

  [[nodiscard]] bool has_inside_tail(std::size_t g) const {
    return std::ranges::any_of(m_tail_state[g], [](TailState s) { return s == TailState::inside; });
  }

  /// Columns of T: v = T x spans the face of 𝒦 that the working set fixes.
  [[nodiscard]] std::vector<SparseColumn> basis() const {
    std::vector<SparseColumn> columns;
    for (Index k : m_free) columns.push_back({{k, 1.0}});
    for (std::size_t g = 0; g < groups(); ++g) {
      if (!positive(g)) continue;
      SparseColumn tied{{head(g), 1.0}};
      for (std::size_t t = 0; t < tails(g).size(); ++t) {
        const TailState s = state(g, t);
        if (s == TailState::inside) {
          columns.push_back({{tails(g)[t], 1.0}});
        } else {
          tied.emplace_back(tails(g)[t], s == TailState::low ? gamma() : 1.0);
        }
      }
      columns.push_back(std::move(tied));
    }
    return columns;
  }

  /// Makes group g zero: v_h = 0 forces its tails to 0 too.
  void set_zero(std::size_t g, Eigen::VectorXd& v) {
    m_positive[g] = 0;
    v[head(g)] = 0;
    for (Index t : tails(g)) v[t] = 0;
  }
  /// Makes group g positive with its tails at the vertex `low[t]` ? γ : 1 of the group's cone.
  void set_positive(std::size_t g, const std::vector<char>& low) {
    m_positive[g] = 1;
    for (std::size_t t = 0; t < low.size(); ++t) m_tail_state[g][t] = low[t] != 0 ? TailState::low : TailState::high;
  }
  /// Puts tail t of group g on a bound, snapping v onto it so that v stays exactly on the face.
  void set_tail_bound(std::size_t g, std::size_t t, TailState s, Eigen::VectorXd& v) {
    m_tail_state[g][t] = s;
    v[tails(g)[t]] = (s == TailState::low ? gamma() : 1.0) * v[head(g)];
  }
  void set_tail_inside(std::size_t g, std::size_t t) { m_tail_state[g][t] = TailState::inside; }

  /// States read off a feasible v (a warm start): a head below `tol` of the largest is zero, a
  /// tail within `tol` (relative to its head) of a bound is on it; v is snapped onto that face.
  void adopt(Eigen::VectorXd& v, double tol) {
    double head_max = 0;
    for (std::size_t g = 0; g < groups(); ++g) head_max = std::max(head_max, v[head(g)]);
    for (std::size_t g = 0; g < groups(); ++g) {
      const double h = v[head(g)];
      if (!(h > tol * head_max)) {
        set_zero(g, v);
        continue;
      }
      m_positive[g] = 1;
      for (std::size_t t = 0; t < tails(g).size(); ++t) {
        const double mu = v[tails(g)[t]];
        if (mu - gamma() * h <= tol * h) {
          set_tail_bound(g, t, TailState::low, v);
        } else if (h - mu <= tol * h) {
          set_tail_bound(g, t, TailState::high, v);
        } else {
          set_tail_inside(g, t);
        }
      }
    }
  }

 private:
  const ConeStructure& m_cone;
  std::vector<char> m_positive;
  std::vector<std::vector<TailState>> m_tail_state;
  std::vector<Index> m_free;
};

/// The minimizer of the objective on the face's span (consistent), or else a ray T r along
/// which it decreases without bound on that span (r ∈ ker Tᵀ H T with bᵀT r > 0).
struct FaceStep {
  Eigen::VectorXd direction;  ///< target − v, or the ray
  bool ray = false;
};

Eigen::VectorXd lift(const std::vector<SparseColumn>& columns, const Eigen::VectorXd& x, Index size) {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(size);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (const auto& [k, t] : columns[c]) v[k] += t * x[static_cast<Index>(c)];
  }
  return v;
}

FaceStep face_step(const Eigen::Ref<const Eigen::MatrixXd>& H, const Eigen::Ref<const Eigen::VectorXd>& b,
                   const std::vector<SparseColumn>& columns, const Eigen::VectorXd& v) {
  const auto p = static_cast<Index>(columns.size());
  Eigen::MatrixXd Hr(p, p);
  Eigen::VectorXd br(p);
  // Tᵀ H T gathered column by column: T is sparse (a head and its tied tails), so this costs
  // (nonzeros of T)², not N² p.
  for (Index c = 0; c < p; ++c) {
    double bc = 0;
    for (const auto& [k, t] : columns[static_cast<std::size_t>(c)]) bc += t * b[k];
    br[c] = bc;
    for (Index e = 0; e <= c; ++e) {
      double h = 0;
      for (const auto& [k, t] : columns[static_cast<std::size_t>(c)]) {
        for (const auto& [l, s] : columns[static_cast<std::size_t>(e)]) h += t * s * H(k, l);
      }
      Hr(c, e) = Hr(e, c) = h;
    }
  }
  FaceStep step;
  if (p == 0) {
    step.direction = -v;
    return step;
  }
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(Hr);
  Eigen::VectorXd x = ldlt.solve(br);
  // Consistency of Hr x = br (ours: 1e-9 relative). Failing it, br has a component in ker Hr: the
  // least-squares residual of the complete orthogonal decomposition is that component.
  const double scale = br.norm() + Hr.cwiseAbs().maxCoeff() * x.norm();
  if (ldlt.info() == Eigen::Success && x.allFinite() && (Hr * x - br).norm() <= 1e-9 * scale) {
    step.direction = lift(columns, x, b.size()) - v;
    return step;
  }
  const Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(Hr);
  x = cod.solve(br);
  const Eigen::VectorXd r = br - Hr * x;
  if (r.norm() <= 1e-9 * (br.norm() + Hr.cwiseAbs().maxCoeff() * x.norm())) {
    step.direction = lift(columns, x, b.size()) - v;
    return step;
  }
  step.direction = lift(columns, r, b.size());
  step.ray = true;
  return step;
}

/// A constraint that stops a step, and what the working set becomes when it does.
struct Block {
  double alpha = std::numeric_limits<double>::infinity();
  std::size_t group = 0;
  std::ptrdiff_t tail = -1;  ///< −1: the group becomes zero
  TailState state = TailState::low;
};

/// Largest α with v + α p ∈ 𝒦 for the constraints outside the working set.
Block ratio_test(const WorkingSet& ws, const Eigen::VectorXd& v, const Eigen::VectorXd& p) {
  Block block;
  const auto consider = [&](double slack, double rate, std::size_t g, std::ptrdiff_t t, TailState s) {
    if (rate < 0) {
      const double alpha = std::max(0.0, slack) / -rate;
      if (alpha < block.alpha) block = {alpha, g, t, s};
    }
  };
  const double gamma = ws.gamma();
  for (std::size_t g = 0; g < ws.groups(); ++g) {
    if (!ws.positive(g)) continue;
    const Index h = ws.head(g);
    // With a tail inside, v_h ≥ 0 follows from its two constraints; otherwise it is the constraint.
    if (!ws.has_inside_tail(g)) consider(v[h], p[h], g, -1, TailState::low);
    for (std::size_t t = 0; t < ws.tails(g).size(); ++t) {
      if (ws.state(g, t) != TailState::inside) continue;
      const Index k = ws.tails(g)[t];
      const auto tt = static_cast<std::ptrdiff_t>(t);
      consider(v[k] - gamma * v[h], p[k] - gamma * p[h], g, tt, TailState::low);
      consider(v[h] - v[k], p[h] - p[k], g, tt, TailState::high);
    }
  }
  return block;
}

/// A constraint of the working set whose multiplier is negative: releasing it lowers the objective.
struct Release {
  double score = 0;
  std::size_t group = 0;
  std::ptrdiff_t tail = -1;  ///< −1: the zero group g becomes positive
};

Release best_release(const WorkingSet& ws, const Eigen::VectorXd& grad, double tol, const std::vector<char>& refused) {
  Release best;
  const double gamma = ws.gamma();
  for (std::size_t g = 0; g < ws.groups(); ++g) {
    if (!ws.positive(g)) {
      if (refused[static_cast<std::size_t>(ws.head(g))] != 0) continue;
      // Steepest vertex of the group's cone: v_h = 1, each tail at γ or 1, whichever lowers more.
      double slope = grad[ws.head(g)];
      for (Index t : ws.tails(g)) slope += std::min(gamma * grad[t], grad[t]);
      if (-slope > std::max(tol, best.score)) best = {-slope, g, -1};
      continue;
    }
    for (std::size_t t = 0; t < ws.tails(g).size(); ++t) {
      if (refused[static_cast<std::size_t>(ws.tails(g)[t])] != 0) continue;
      const double gt = grad[ws.tails(g)[t]];
      const TailState s = ws.state(g, t);
      const double score = s == TailState::low ? -gt : s == TailState::high ? gt : 0.0;
      if (score > std::max(tol, best.score)) best = {score, g, static_cast<std::ptrdiff_t>(t)};
    }
  }
  return best;
}

void release(WorkingSet& ws, const Release& r, const Eigen::VectorXd& grad) {
  if (r.tail >= 0) {
    ws.set_tail_inside(r.group, static_cast<std::size_t>(r.tail));
    return;
  }
  std::vector<char> low;
  for (Index t : ws.tails(r.group)) low.push_back(grad[t] >= 0 ? 1 : 0);
  ws.set_positive(r.group, low);
}

/// Euclidean projection of one group (λ0, μ0) onto {λ ≥ 0, γλ ≤ μ_t ≤ λ}. For fixed λ the best
/// μ_t is μ0_t clipped to [γλ, λ]; what remains is the root of the increasing piecewise-linear
///   h(λ) = (λ − λ0) + γ Σ_{μ0_t < γλ} (γλ − μ0_t) − Σ_{μ0_t > λ} (μ0_t − λ),
/// found by sweeping its breakpoints μ0_t/γ (t joins the first sum) and μ0_t (t leaves the last).
void project_group(Eigen::VectorXd& v, Index h, const std::vector<Index>& tails, double gamma) {
  struct Event {
    double at;
    bool joins_low;  ///< true: t joins the low set; false: t leaves the high set
    double mu;
  };
  double slope = 1;  // h(λ) = slope λ − offset between breakpoints
  double offset = v[h];
  std::vector<Event> events;
  for (Index t : tails) {
    const double mu = v[t];
    if (mu < 0) {
      slope += gamma * gamma, offset += gamma * mu;  // below γλ for every λ > 0
    } else if (gamma > 0) {
      events.push_back({mu / gamma, true, mu});
    }
    if (mu > 0) {
      slope += 1, offset += mu;
      events.push_back({mu, false, mu});
    }
  }
  std::ranges::sort(events, {}, &Event::at);
  double lambda = std::max(0.0, offset / slope);
  for (const Event& e : events) {
    if (lambda <= e.at) break;
    if (e.joins_low) {
      slope += gamma * gamma, offset += gamma * e.mu;
    } else {
      slope -= 1, offset -= e.mu;
    }
    lambda = std::max(e.at, offset / slope);
  }
  v[h] = lambda;
  for (Index t : tails) v[t] = std::clamp(v[t], gamma * lambda, lambda);
}

void project(const WorkingSet& ws, Eigen::VectorXd& v) {
  for (std::size_t g = 0; g < ws.groups(); ++g) project_group(v, ws.head(g), ws.tails(g), ws.gamma());
}

/// A feasible point near the optimum by ADMM on min ½vᵀHv − bᵀv + ι_𝒦(v) (Boyd et al. 2011,
/// §5; ρ balanced between the residuals every 50 iterations), for the active-set method to
/// finish from: from cold, that method releases one constraint per O(p³) iteration, which costs
/// seconds for the ~700 kink pairs of a setting outside Frei's regime.
Eigen::VectorXd admm_warm_start(const Eigen::Ref<const Eigen::MatrixXd>& H, const Eigen::Ref<const Eigen::VectorXd>& b,
                                const WorkingSet& ws) {
  const Index n = b.size();
  double rho = std::max(H.diagonal().mean(), 1e-300);
  Eigen::LLT<Eigen::MatrixXd> llt(H + rho * Eigen::MatrixXd::Identity(n, n));
  Eigen::VectorXd z = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd u = Eigen::VectorXd::Zero(n);
  // Ours: 2000 iterations and 1e-10 relative residuals; the active-set method makes it exact.
  for (int k = 1; k <= 2000; ++k) {
    const Eigen::VectorXd x = llt.solve(b + rho * (z - u));
    const Eigen::VectorXd z_old = z;
    z = x + u;
    project(ws, z);
    u += x - z;
    const double primal = (x - z).norm();
    const double dual = rho * (z - z_old).norm();
    if (primal <= 1e-10 * z.norm() && dual <= 1e-10 * b.norm()) break;
    if (k % 50 == 0 && (primal > 10 * dual || dual > 10 * primal)) {
      const double factor = primal > dual ? 2.0 : 0.5;
      rho *= factor;
      u /= factor;
      llt.compute(H + rho * Eigen::MatrixXd::Identity(n, n));
    }
  }
  return z;
}

}  // namespace

double cone_qp_bytes(Index variables) {
  constexpr double kArrays = 5;  // H, Tᵀ H T, its LDLᵀ, the two factors of the fallback
  const auto n = static_cast<double>(variables);
  return kArrays * n * n * static_cast<double>(sizeof(double));
}

ConeQpResult solve_cone_qp(const Eigen::Ref<const Eigen::MatrixXd>& H, const Eigen::Ref<const Eigen::VectorXd>& b,
                           const ConeStructure& cone) {
  const Index n = b.size();
  if (H.rows() != n || H.cols() != n) {
    throw std::invalid_argument("solve_cone_qp: H is " + std::to_string(H.rows()) + " × " + std::to_string(H.cols()) +
                                ", b has " + std::to_string(n) + " entries");
  }
  WorkingSet ws(cone, n);
  ConeQpResult result;
  result.v = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd& v = result.v;
  // Ours: below 64 variables a cold start is cheaper than ADMM; 1e-8 decides the warm states.
  if (n >= 64) {
    v = admm_warm_start(H, b, ws);
    ws.adopt(v, 1e-8);
  }
  // A constraint released and at once blocked again (rounding at a degenerate vertex) is not
  // released again until some step moves v: Lawson & Hanson's safeguard against cycling.
  // Keyed by variable: the head for a group, the tail for a tail.
  std::vector<char> refused(static_cast<std::size_t>(n), 0);
  Index last_released = -1;
  const double h_max = n > 0 ? H.cwiseAbs().maxCoeff() : 0.0;
  const int max_iterations = static_cast<int>(10 * n + 100);
  for (result.iterations = 0; result.iterations < max_iterations; ++result.iterations) {
    const FaceStep step = face_step(H, b, ws.basis(), v);
    const Block block = ratio_test(ws, v, step.direction);
    if (step.ray && !std::isfinite(block.alpha)) {
      result.unbounded = true;
      return result;
    }
    const double alpha = std::min(block.alpha, step.ray ? block.alpha : 1.0);
    v += alpha * step.direction;
    if (alpha > 0) std::ranges::fill(refused, 0);
    if (block.alpha <= alpha) {
      const Index blocked =
          block.tail < 0 ? ws.head(block.group) : ws.tails(block.group)[static_cast<std::size_t>(block.tail)];
      if (alpha == 0 && blocked == last_released) refused[static_cast<std::size_t>(blocked)] = 1;
      if (block.tail < 0) {
        ws.set_zero(block.group, v);
      } else {
        ws.set_tail_bound(block.group, static_cast<std::size_t>(block.tail), block.state, v);
      }
      continue;
    }
    const Eigen::VectorXd grad = H * v - b;
    // Optimality tolerance (ours): multipliers below 1e-12 of the problem's scale are rounding.
    const double tol = 1e-12 * std::max({b.cwiseAbs().maxCoeff(), h_max * v.lpNorm<1>(), 1e-300});
    const Release r = best_release(ws, grad, tol, refused);
    if (r.score <= 0) {
      result.converged = true;
      return result;
    }
    last_released = r.tail < 0 ? ws.head(r.group) : ws.tails(r.group)[static_cast<std::size_t>(r.tail)];
    release(ws, r, grad);
  }
  return result;
}

}  // namespace kktflow
