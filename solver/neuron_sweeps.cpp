#include "neuron_sweeps.hpp"

#include "flow_system.hpp"
#include "step_control.hpp"
#include "stepper.hpp"

#include "problems/leaky2_span.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kktflow {

namespace {

// All ours. A neuron with more switches and onsets than this in one sweep is chattering: the
// caller refuses the step.
constexpr int kMaxEventsPerNeuron = 10000;
// Crossings are bracketed on this grid of the rest of the step (a cubic turns at most twice), then
// bisected to this width in u.
constexpr int kGrid = 16;
constexpr double kRootWidth = 1e-13;
// A held pair is released inside a sweep once its equivalent slope passes γ or 1 by this much of
// 1 − γ: the weights' path is the collocation polynomial, whose slopes near the step's start are
// extrapolated (6 % off the driver's at the start of a step on Fashion-MNIST at log t 150); a
// pair that only grazes its range's end is left to the driver's test at the step's end.
constexpr double kReleaseSlack = 0.1;
// A step retried to a release ends this fraction of it past the release (ours, as a located
// switch's overshoot).
constexpr double kReleaseOvershoot = 1e-6;

double cubic(const double* p, double u) { return p[0] + u * (p[1] + u * (p[2] + u * p[3])); }
double cubic_slope(const double* p, double u) { return p[1] + u * (2 * p[2] + 3 * u * p[3]); }

/// The grid point lo + (1 − lo) g / kGrid.
double grid_point(double lo, int g) { return lo + (1 - lo) * g / kGrid; }

/// Where the cubic p leaves side `positive` (p > 0; the other side is p ≤ 0) in (lo, 1] after
/// having been on it, to the grid: the g ≤ limit whose interval (grid_point(g − 1), grid_point(g)]
/// holds the exit, or 0 when it does not leave by grid_point(limit). A pair that starts a hair
/// off its committed side (moved on at its kink just short of it) is on it once it gets there.
/// Exits in earlier intervals are smaller, so only the pairs of the first interval met need the
/// bisection (exit_in).
int exit_interval(const double* p, bool positive, double lo, int limit) {
  const double z = cubic(p, lo);
  const double reach = std::abs(p[1]) * (1 - lo) + std::abs(p[2]) * (1 - lo * lo) + std::abs(p[3]) * (1 - lo * lo * lo);
  if (positive ? z - reach > 0 : z + reach <= 0) return 0;
  bool on = (z > 0) == positive;
  for (int g = 1; g <= limit; ++g) {
    if ((cubic(p, grid_point(lo, g)) > 0) == positive)
      on = true;
    else if (on)
      return g;
  }
  return 0;
}

/// The exit in interval g of exit_interval, bisected to kRootWidth: the first u at which the
/// cubic is off its side, to within kRootWidth.
double exit_in(const double* p, bool positive, double lo, int g) {
  auto off = [&](double u) { return (cubic(p, u) > 0) != positive; };
  double a = g == 1 ? lo : grid_point(lo, g - 1), b = grid_point(lo, g);
  for (int it = 0; it < 64 && b - a > kRootWidth; ++it) {
    const double mid = 0.5 * (a + b);
    (off(mid) ? b : a) = mid;
  }
  return b;
}

/// The earliest exit after lo among the cubics offered: only those whose grid interval is the
/// first met so far are bisected.
struct EarliestExit {
  double lo;
  int interval = kGrid;
  double u = 2;
  /// Whether p's exit from side `positive` comes before every exit offered so far.
  bool offer(const double* p, bool positive) {
    const int g = exit_interval(p, positive, lo, interval);
    if (g == 0) return false;
    const double at = exit_in(p, positive, lo, g);
    if (g >= interval && at >= u) return false;
    interval = g;
    u = at;
    return true;
  }
};

using HeldFactor = Eigen::LLT<Eigen::MatrixXd>;

/// The Cholesky factor of Γ_SS for the held set S.
void factor_held(const Eigen::MatrixXd& G, const std::vector<Eigen::Index>& held, HeldFactor& factor) {
  const auto s = static_cast<Eigen::Index>(held.size());
  Eigen::MatrixXd G_SS(s, s);
  for (Eigen::Index r = 0; r < s; ++r)
    for (Eigen::Index c = 0; c < s; ++c)
      G_SS(r, c) = G(held[static_cast<std::size_t>(r)], held[static_cast<std::size_t>(c)]);
  factor.compute(G_SS);
}

/// X − Γ_{:,S} Γ_SS⁻¹ X_S, column by column: the change X of a neuron's pre-activations with its
/// held pairs kept on their kinks, which moves its held coefficients by −Γ_SS⁻¹ X_S.
void project_off_held(const Eigen::MatrixXd& G, const std::vector<Eigen::Index>& held, const HeldFactor& factor,
                      Eigen::Ref<Eigen::MatrixXd> X) {
  if (held.empty()) return;
  const auto s = static_cast<Eigen::Index>(held.size());
  Eigen::MatrixXd X_S(s, X.cols());
  for (Eigen::Index r = 0; r < s; ++r) X_S.row(r) = X.row(held[static_cast<std::size_t>(r)]);
  const Eigen::MatrixXd held_coefficients = factor.solve(X_S);
  for (Eigen::Index r = 0; r < s; ++r) X -= G.col(held[static_cast<std::size_t>(r)]) * held_coefficients.row(r);
}

}  // namespace

void NeuronSweeps::sweep_neuron(const Leaky2Span& span, const Eigen::Ref<const Eigen::VectorXd>& Zflat,
                                const WeightCubic& path, Eigen::Index j, double h, const std::vector<double>& nodes,
                                Lane& lane) {
  const Eigen::Index n = span.num_samples();
  const double a = span.outer_weights()[j], gamma = span.gamma();
  const Eigen::VectorXd& y = span.labels();
  const Eigen::MatrixXd& G = span.gram();
  const Eigen::Map<const RowMajorMatrix> Z(Zflat.data(), path.G1.rows(), n);
  const Eigen::VectorXd &b1 = path.b1, &b2 = path.b2, &b3 = path.b3;
  Eigen::MatrixXd& P = lane.P;
  P.row(0) = Z.row(j);
  P.row(1) = h * path.G1.row(j);
  P.row(2) = h * path.G2.row(j);
  P.row(3) = h * path.G3.row(j);
  lane.slopes = span.frozen_slopes().row(j).transpose();
  for (Eigen::Index i = 0; i < n; ++i) lane.positive[static_cast<std::size_t>(i)] = lane.slopes[i] == 1.0;
  lane.held = span.sliding_samples(j);
  std::fill(lane.is_held.begin(), lane.is_held.end(), 0);
  for (Eigen::Index k : lane.held) lane.is_held[static_cast<std::size_t>(k)] = 1;
  if (!lane.held.empty()) factor_held(G, lane.held, lane.held_factor);
  auto W = [&](Eigen::Index i, double u) { return h * u * (b1[i] + u * (b2[i] + u * b3[i])); };

  std::size_t next_node = 0;
  auto record_nodes_before = [&](double u) {
    for (; next_node < nodes.size() && nodes[next_node] < u; ++next_node) {
      const auto k = static_cast<Eigen::Index>(next_node);
      for (Eigen::Index i = 0; i < n; ++i)
        lane.q(i, k) += a * lane.slopes[i] * cubic(P.col(i).data(), nodes[next_node]);
    }
  };
  // C_j over [u_from, u] with the slopes and held set of that stretch (region_ascent's row).
  double u_from = 0;
  lane.dC.setZero();
  auto close_stretch = [&](double u) {
    for (Eigen::Index i = 0; i < n; ++i)
      lane.v[i] =
          lane.is_held[static_cast<std::size_t>(i)] ? 0.0 : a * y[i] * lane.slopes[i] * (W(i, u) - W(i, u_from));
    lane.dC += lane.v;
    if (!lane.held.empty()) {
      Eigen::VectorXd g(static_cast<Eigen::Index>(lane.held.size()));
      for (std::size_t r = 0; r < lane.held.size(); ++r)
        g[static_cast<Eigen::Index>(r)] = G.col(lane.held[r]).dot(lane.v);
      const Eigen::VectorXd held_coefficients = lane.held_factor.solve(g);
      for (std::size_t r = 0; r < lane.held.size(); ++r)
        lane.dC[lane.held[r]] -= held_coefficients[static_cast<Eigen::Index>(r)];
    }
    u_from = u;
  };
  // From u on, with the held set just enlarged: the neuron's cubic anew, its held pairs fixed.
  // Its velocity coefficients are h proj_S(Γ T), T the unheld pairs' a y φ' b_p; holding l
  // takes l's column out of T, which changes Γ T only along Γ_{:,l}, and proj_S' annihilates the
  // columns of Γ on S' = S ∪ {l} ⊇ S. So proj_S'(Γ T') = proj_S'(proj_S(Γ T)): the current
  // coefficients projected once more, O(n |S'|) where Γ T afresh is O(n²).
  auto hold_from = [&](double u) {
    for (Eigen::Index i = 0; i < n; ++i) lane.v[i] = cubic(P.col(i).data(), u);
    lane.GT = P.bottomRows(3).transpose();
    project_off_held(G, lane.held, lane.held_factor, lane.GT);
    P.bottomRows(3) = lane.GT.transpose();
    P.row(0) = lane.v.transpose() - u * P.row(1) - u * u * P.row(2) - u * u * u * P.row(3);
  };
  // κ_p = Γ_SS⁻¹ (Γ t_p)_S, t_p the unheld pairs' a y φ' b_p: the held coefficients move at
  // −(κ_1 + 2u κ_2 + 3u² κ_3) (close_stretch's rates), O(|S| n).
  auto held_rates = [&] {
    const auto s = static_cast<Eigen::Index>(lane.held.size());
    lane.kappa.resize(s, 3);
    if (s == 0) return;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double c = lane.is_held[static_cast<std::size_t>(i)] ? 0.0 : a * y[i] * lane.slopes[i];
      lane.T(i, 0) = c * b1[i];
      lane.T(i, 1) = c * b2[i];
      lane.T(i, 2) = c * b3[i];
    }
    for (Eigen::Index r = 0; r < s; ++r)
      lane.kappa.row(r) = G.col(lane.held[static_cast<std::size_t>(r)]).transpose() * lane.T;
    lane.kappa = lane.held_factor.solve(lane.kappa);
  };
  // The first u after lo at which a held pair's equivalent slope φ' = rate / (a y w) leaves
  // [γ, 1] by kReleaseSlack, 2 if none; in r its place in the held set, in above whether it left
  // through 1. The headrooms σ(rate − γ' a y w) and σ(1' a y w − rate), σ = sign(a y), γ' and 1'
  // the range's ends moved out by the slack, are quadratics in u.
  auto next_release = [&](double lo, std::size_t& r_out, bool& above) {
    EarliestExit first{lo};
    const double lo_slope = gamma - kReleaseSlack * (1 - gamma), hi_slope = 1 + kReleaseSlack * (1 - gamma);
    for (std::size_t r = 0; r < lane.held.size(); ++r) {
      const Eigen::Index l = lane.held[r];
      const auto k = static_cast<Eigen::Index>(r);
      const double A = a * y[l], sigma = A > 0 ? 1.0 : -1.0;
      const double k1 = lane.kappa(k, 0), k2 = lane.kappa(k, 1), k3 = lane.kappa(k, 2);
      const double headroom[2][4] = {{-sigma * (k1 + lo_slope * A * b1[l]), -2 * sigma * (k2 + lo_slope * A * b2[l]),
                                      -3 * sigma * (k3 + lo_slope * A * b3[l]), 0},
                                     {sigma * (hi_slope * A * b1[l] + k1), 2 * sigma * (hi_slope * A * b2[l] + k2),
                                      3 * sigma * (hi_slope * A * b3[l] + k3), 0}};
      for (int side = 0; side < 2; ++side) {
        if (!first.offer(headroom[side], true)) continue;
        r_out = r;
        above = side == 1;
      }
    }
    return first.u;
  };
  // Held pair r leaves its kink at u, its slope clamped to 1 (above) or γ. With S' = S \ {l},
  // proj_S'(Γ T) = proj_S(Γ T) + κ_l g, g = proj_S'(Γ_{:,l}), and l's own term in T' adds
  // a y_l φ'_l h b_p g: a rank-one change of the cubic, O(n |S|).
  auto release = [&](std::size_t r, bool above, double u) {
    const Eigen::Index l = lane.held[r];
    const Eigen::RowVector3d kappa_l = lane.kappa.row(static_cast<Eigen::Index>(r));
    for (Eigen::Index i = 0; i < n; ++i) lane.v[i] = cubic(P.col(i).data(), u);
    lane.held.erase(lane.held.begin() + static_cast<std::ptrdiff_t>(r));
    lane.is_held[static_cast<std::size_t>(l)] = 0;
    if (!lane.held.empty()) factor_held(G, lane.held, lane.held_factor);
    lane.dz = G.col(l);
    project_off_held(G, lane.held, lane.held_factor, lane.dz);
    lane.slopes[l] = above ? 1.0 : gamma;
    lane.positive[static_cast<std::size_t>(l)] = above ? 1 : 0;
    const double c = a * y[l] * lane.slopes[l];
    P.row(1) += (h * (kappa_l[0] + c * b1[l])) * lane.dz.transpose();
    P.row(2) += (h * (kappa_l[1] + c * b2[l])) * lane.dz.transpose();
    P.row(3) += (h * (kappa_l[2] + c * b3[l])) * lane.dz.transpose();
    P.row(0) = lane.v.transpose() - u * P.row(1) - u * u * P.row(2) - u * u * u * P.row(3);
  };
  // The first exit after lo of a pair not held, 2 if none, and in l its pair (the lowest index
  // among equal exits): bisected only for the pairs whose grid interval is the first met.
  auto next_exit = [&](double lo, Eigen::Index& l) {
    EarliestExit first{lo};
    l = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (lane.is_held[static_cast<std::size_t>(i)]) continue;
      if (first.offer(P.col(i).data(), lane.positive[static_cast<std::size_t>(i)] != 0)) l = i;
    }
    return first.u;
  };
  double lo = 0;
  held_rates();
  for (int events = 0;; ++events) {
    Eigen::Index l = 0;
    const double u = next_exit(lo, l);
    std::size_t r = 0;
    bool above = false;
    const double u_release = lane.held.empty() ? 2.0 : next_release(lo, r, above);
    lo = std::min(u, u_release);
    if (lo > 1) break;
    if (events == kMaxEventsPerNeuron) {
      lane.overflow = true;
      break;
    }
    record_nodes_before(lo);
    close_stretch(lo);
    if (u_release < u) {
      release(r, above, lo);
      lane.first_release = std::min(lane.first_release, lo);
      held_rates();
      continue;
    }
    const bool to_positive = lane.positive[static_cast<std::size_t>(l)] == 0;
    const double new_slope = to_positive ? 1.0 : gamma;
    const double alpha = a * y[l] * (new_slope - lane.slopes[l]);
    lane.dz = G.col(l);
    project_off_held(G, lane.held, lane.held_factor, lane.dz);
    const double w_l = b1[l] + u * (2 * b2[l] + 3 * u * b3[l]);
    const double before = cubic_slope(P.col(l).data(), u);
    const double after = before + alpha * h * w_l * lane.dz[l];
    if (after * before <= 0) {  // the new side's field points back at the kink: sliding onset
      lane.held.insert(std::upper_bound(lane.held.begin(), lane.held.end(), l), l);
      lane.is_held[static_cast<std::size_t>(l)] = 1;
      lane.captured.push_back(j * n + l);
      factor_held(G, lane.held, lane.held_factor);
      hold_from(u);
    } else {
      const double W_l = W(l, u);
      P.row(0) -= (alpha * W_l) * lane.dz.transpose();
      P.row(1) += (alpha * h * b1[l]) * lane.dz.transpose();
      P.row(2) += (alpha * h * b2[l]) * lane.dz.transpose();
      P.row(3) += (alpha * h * b3[l]) * lane.dz.transpose();
      lane.positive[static_cast<std::size_t>(l)] = to_positive ? 1 : 0;
      lane.slopes[l] = new_slope;
    }
    held_rates();
  }
  record_nodes_before(2.0);
  close_stretch(1.0);
  m_dC.row(j) = lane.dC.transpose();
  m_Z_end.row(j) = P.colwise().sum();
}

Leaky2Span& span_chart(FlowSystem& sys, const char* method) {
  auto* span = dynamic_cast<Leaky2Span*>(&sys.margins());
  if (!span)
    throw std::logic_error(std::string(method) +
                           " needs the span chart (leaky2_fixed_outer with flow.coordinates = \"span\")");
  return *span;
}

Leaky2Span& begin_batched_step(FlowSystem& sys, const char* method, const Eigen::VectorXd& x, Eigen::VectorXd& s,
                               Eigen::VectorXd& q0, Eigen::VectorXd& w0) {
  Leaky2Span& span = span_chart(sys, method);
  s.resize(span.num_switches());
  q0.resize(span.num_samples());
  w0.resize(span.num_samples());
  span.switch_functions(x, s);
  span.margins(x, q0);
  sys.loss().weights(q0, w0);
  return span;
}

double state_change_norm(Leaky2Span& span, const Eigen::VectorXd& x, const Eigen::VectorXd& v,
                         const StepperOptions& options, Eigen::VectorXd& work) {
  span.region_ascent(v, work);
  return error_norm(x, x, work, options.abs_tol, options.rel_tol);
}

bool NeuronSweeps::run(const Leaky2Span& span, const Eigen::Ref<const Eigen::VectorXd>& Z, const WeightCubic& path,
                       double h, const std::vector<double>& nodes) {
  const Eigen::Index m = path.G1.rows(), n = span.num_samples(), k = static_cast<Eigen::Index>(nodes.size());
  const int threads = std::max(1, Eigen::nbThreads());
  if (static_cast<int>(m_lanes.size()) != threads) m_lanes.resize(static_cast<std::size_t>(threads));
  for (Lane& lane : m_lanes) {
    lane.P.resize(4, n);
    for (Eigen::VectorXd* v : {&lane.slopes, &lane.dz, &lane.v, &lane.dC}) v->resize(n);
    lane.T.resize(n, 3);
    lane.GT.resize(n, 3);
    lane.q.setZero(n, k);
    lane.positive.resize(static_cast<std::size_t>(n));
    lane.is_held.resize(static_cast<std::size_t>(n));
    lane.captured.clear();
    lane.overflow = false;
    lane.first_release = 2;
  }
  m_dC.resize(m, n);
  m_Z_end.resize(m, n);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index j = 0; j < m; ++j)
    sweep_neuron(span, Z, path, j, h, nodes, m_lanes[static_cast<std::size_t>(omp_get_thread_num())]);
  m_q.setZero(n, k);
  for (const Lane& lane : m_lanes) m_q += lane.q;
  m_q = span.labels().asDiagonal() * m_q;
  m_captured.clear();
  for (const Lane& lane : m_lanes) m_captured.insert(m_captured.end(), lane.captured.begin(), lane.captured.end());
  std::sort(m_captured.begin(), m_captured.end());
  m_first_release = 2;
  for (const Lane& lane : m_lanes) m_first_release = std::min(m_first_release, lane.first_release);
  return std::none_of(m_lanes.begin(), m_lanes.end(), [](const Lane& l) { return l.overflow; });
}

double NeuronSweeps::retry_step(double dt_next, double h) const {
  return m_first_release < 1 ? std::min(dt_next, m_first_release * h * (1 + kReleaseOvershoot)) : dt_next;
}

}  // namespace kktflow
