#include "analysis/model_claims.hpp"

#include "analysis/claims.hpp"
#include "analysis/gd_claims.hpp"
#include "analysis/kkt.hpp"
#include "analysis/matrix_game.hpp"
#include "analysis/relu2_claims.hpp"
#include "analysis/run_store.hpp"
#include "analysis/svm.hpp"
#include "problems/deep.hpp"
#include "problems/linear.hpp"
#include "problems/relu2.hpp"
#include "problems/two_layer_leaky.hpp"
#include "solver/metrics.hpp"
#include "solver/nnls.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <ranges>
#include <sstream>
#include <stdexcept>

namespace kktflow {
namespace {

using Index = Eigen::Index;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; std::getline(in, word, ',');) out.push_back(word);
  return out;
}

double number_attr(const ModelRun& run, const std::string& name) {
  const auto it = run.model_attrs.find(name);
  if (it == run.model_attrs.end()) throw h5::Error("/model has no attribute '" + name + "'");
  return std::stod(it->second);
}

std::unique_ptr<Model> rebuild_model(const ModelRun& run) {
  if (run.kind == "linear") return std::make_unique<LinearModel>(run.X);
  if (run.kind == "relu2") {
    Relu2Params p;
    p.width = static_cast<Index>(number_attr(run, "width"));
    p.outputs = static_cast<Index>(number_attr(run, "outputs"));
    p.init_radius = number_attr(run, "init_radius");
    return std::make_unique<Relu2>(run.X, p);
  }
  if (run.kind == "two_layer_leaky") {
    TwoLayerLeakyParams p;
    p.width = static_cast<Index>(number_attr(run, "width"));
    p.alpha = number_attr(run, "alpha");
    return std::make_unique<TwoLayerLeaky>(run.X, p);
  }
  DeepParams p;
  p.layers = split_commas(run.model_attrs.at("activation"));
  p.width = static_cast<Index>(number_attr(run, "width"));
  p.skip = run.model_attrs.at("skip") == "true";
  return std::make_unique<DeepNet>(run.X, p);
}

Eigen::Map<const RowMajor> layer_of(const Eigen::VectorXd& theta, const LayerView& v) {
  return {theta.data() + v.offset, v.rows, v.cols};
}

double angle(const Eigen::VectorXd& u, const Eigen::VectorXd& v) {
  return std::acos(std::clamp(u.dot(v) / (u.norm() * v.norm()), -1.0, 1.0));
}

/// Samples without a mirror image (−x, −y) in the data: 0 for Lyu et al.'s symmetric data.
Index samples_without_mirror(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  Index unmatched = 0;
  for (Index i = 0; i < X.rows(); ++i) {
    bool found = false;
    for (Index k = 0; k < X.rows() && !found; ++k)
      found = y[k] == -y[i] && (X.row(k) + X.row(i)).norm() <= 1e-12 * X.row(i).norm();
    unmatched += !found;
  }
  return unmatched;
}

/// The margins q_i = y_i f(x_i; θ).
Eigen::VectorXd margins_at(Model& model, const Eigen::VectorXd& y, const Eigen::VectorXd& theta) {
  Eigen::VectorXd q(y.size());
  model.forward(theta, q);
  return q.cwiseProduct(y);
}

/// Ours: in R² the dictionary of below_optimum holds this many directions evenly around the circle.
constexpr Index kCircleDirections = 720;

/// Unit neuron directions for the optimum's lower bound (below_optimum): in R² an even grid on the
/// circle; in every dimension ±x_i, ±(x_i ± x_k) normalised, ±w* and the limit's own directions.
/// Any dictionary gives a valid bound; a richer one a tighter bound.
Eigen::MatrixXd neuron_dictionary(const Eigen::MatrixXd& X, const Eigen::VectorXd& w_svm, const Eigen::MatrixXd& W) {
  std::vector<Eigen::VectorXd> units;
  const auto add = [&](const Eigen::VectorXd& v) {
    if (v.norm() > 1e-12 * std::max(1.0, X.cwiseAbs().maxCoeff())) {
      units.push_back(v.normalized());
      units.push_back(-v.normalized());
    }
  };
  if (X.cols() == 2) {
    for (Index k = 0; k < kCircleDirections / 2; ++k) {
      const double angle = 2 * std::acos(-1.0) * static_cast<double>(k) / kCircleDirections;
      add(Eigen::Vector2d(std::cos(angle), std::sin(angle)));
    }
  }
  for (Index i = 0; i < X.rows(); ++i) {
    add(X.row(i).transpose());
    for (Index k = i + 1; k < X.rows(); ++k) {
      add((X.row(i) + X.row(k)).transpose());
      add((X.row(i) - X.row(k)).transpose());
    }
  }
  add(w_svm);
  for (Index j = 0; j < W.rows(); ++j) add(W.row(j).transpose());
  Eigen::MatrixXd U(X.cols(), static_cast<Index>(units.size()));
  for (std::size_t k = 0; k < units.size(); ++k) U.col(static_cast<Index>(k)) = units[k];
  return U;
}

class Checker {
 public:
  Checker(const ModelRun& run, const ModelVerifySettings& settings) : m_run(run), m_s(settings) {}

  ClaimResult kkt() const;
  ClaimResult normalized_margin() const;
  ClaimResult linear_max_margin();
  ClaimResult below_optimum();
  ClaimResult svm_direction();
  ClaimResult neuron_conservation() const;
  ClaimResult relu_not_rank1() const;
  ClaimResult trailing_rank1() const;
  ClaimResult alignment() const;
  ClaimResult layer_invariant() const;
  ClaimResult soudry_direction();
  ClaimResult smoothed_margin_monotone() const {
    return smoothed_margin_monotone_claim(trajectory_input(), m_s.smoothed_margin_factor);
  }
  ClaimResult kkt_rate() const { return kkt_rate_claim(trajectory_input()); }

 private:
  TrajectoryInput trajectory_input() const { return {&m_run.trajectory, m_run.loss, m_run.X.rows(), m_run.rel_tol}; }
  const LinearSvm& svm() {
    if (!m_svm) m_svm = hard_margin_svm(m_run.X, m_run.y);
    return *m_svm;
  }
  std::vector<std::size_t> trailing_layers() const;
  /// Largest relative drift of `invariant` (a vector of conserved numbers) from θ(0) over the snapshots and θ_T.
  template <class Invariant>
  std::pair<double, double> drift(Invariant invariant) const;
  /// Σ_j a_j w_j: f(x) − f(−x) = (1+α)⟨v, x⟩.
  Eigen::VectorXd odd_part() const;

  const ModelRun& m_run;
  const ModelVerifySettings& m_s;
  std::optional<LinearSvm> m_svm;
};

ClaimResult Checker::kkt() const {
  Model& model = *m_run.model;
  const double L = model.homogeneity();
  ClaimResult r{"lyuli2020.kkt", false, kInf, m_s.kkt_tolerance, false, ""};
  const Eigen::VectorXd q = margins_at(model, m_run.y, m_run.theta_final);
  const double q_min = q.minCoeff();
  if (!(q_min > 0)) {
    r.detail = fmt::format("θ_T does not separate the data (q_min = {:.4g}): no KKT rescaling exists", q_min);
    return r;
  }
  const Eigen::VectorXd theta = m_run.theta_final / std::pow(q_min, 1.0 / L);
  const Eigen::VectorXd q_tilde = q / q_min;
  std::vector<Index> support;
  for (Index i = 0; i < q.size(); ++i)
    if (q_tilde[i] <= 1 + m_s.support_slack) support.push_back(i);
  Eigen::MatrixXd G(model.dim(), static_cast<Index>(support.size()));
  Eigen::VectorXd F(q.size()), e = Eigen::VectorXd::Zero(q.size());
  model.forward(theta, F);
  for (std::size_t k = 0; k < support.size(); ++k) {
    e.setZero();
    e[support[k]] = m_run.y[support[k]];
    model.vjp(e, G.col(static_cast<Index>(k)));
  }
  const Eigen::VectorXd lambda = nnls_normal(G.transpose() * G, G.transpose() * theta).lambda;
  const double eps = (theta - G * lambda).norm() / theta.norm();
  double delta = 0;
  for (std::size_t k = 0; k < support.size(); ++k) delta += lambda[static_cast<Index>(k)] * (q_tilde[support[k]] - 1);
  delta /= theta.squaredNorm();
  r.value = std::max(eps, delta);
  r.passed = r.value <= m_s.kkt_tolerance;
  r.detail = fmt::format(
      "final direction θ̃ = θ_T/q_min^(1/{}): ε/‖θ̃‖ = {:.3g}, δ/‖θ̃‖² = {:.3g} with NNLS multipliers on the {} of {} "
      "margins within {:g} of q_min (λ sum {:.4g}); the run's last ε_KKT (all margins) {:.3g}",
      model.homogeneity(), eps, delta, support.size(), q.size(), m_s.support_slack, lambda.sum(),
      m_run.trajectory.empty() ? kInf : m_run.trajectory.back().kkt_eps);
  return r;
}

ClaimResult Checker::normalized_margin() const {
  ClaimResult r{"lyuli2020.normalized_margin", false, kInf, m_s.margin_gap_tolerance, false, ""};
  if (m_run.trajectory.empty()) {
    r.detail = "no trajectory row";
    return r;
  }
  const Record& last = m_run.trajectory.back();
  if (!(last.normalized_margin > 0)) {
    r.detail = fmt::format("last row (log t = {:.4g}): normalized margin {:.4g}: the data are not separated yet", last.log_t,
                           last.normalized_margin);
    return r;
  }
  const double gap = (last.normalized_margin - last.smoothed_margin) / last.normalized_margin;
  r.value = gap;
  r.passed = gap >= 0 && gap <= m_s.margin_gap_tolerance;
  r.detail = fmt::format("last row (log t = {:.4g}): normalized margin γ = q_min/‖θ‖^L = {:.8g}, smoothed γ̃ = {:.8g}, "
                         "(γ − γ̃)/γ = {:.3g}; both tend to the same limit (Lyu & Li 2020 §4)",
                         last.log_t, last.normalized_margin, last.smoothed_margin, gap);
  return r;
}

Eigen::VectorXd Checker::odd_part() const {
  const auto views = m_run.model->layers();
  const Eigen::VectorXd a = m_run.theta_final.tail(views[1].cols);
  return layer_of(m_run.theta_final, views[0]).transpose() * a;
}

ClaimResult Checker::linear_max_margin() {
  const double alpha = number_attr(m_run, "alpha");
  ClaimResult r{"lyu2021.linear_max_margin", false, kInf, m_s.linear_margin_tolerance, false, ""};
  const LinearSvm& lin = svm();
  if (!lin.separable) {
    r.detail = "the data are not linearly separable: the theorem does not apply";
    return r;
  }
  const Eigen::VectorXd q = margins_at(*m_run.model, m_run.y, m_run.theta_final);
  const double gamma = q.minCoeff() / m_run.theta_final.squaredNorm();
  const double optimum = (1 + alpha) * lin.margin / 4;
  // Symmetric data: every (x, y) has (−x, −y); the theorem's hypothesis.
  const Index unmatched = samples_without_mirror(m_run.X, m_run.y);
  r.value = std::abs(gamma / optimum - 1);
  r.passed = unmatched == 0 && r.value <= m_s.linear_margin_tolerance;
  r.detail = fmt::format("normalized margin q_min/‖θ‖² = {:.8g} against (1+α)γ_lin/4 = {:.8g} (α = {:g}, γ_lin = {:.8g}): "
                         "ratio {:.8f}; data {} (Lyu et al. 2021, Thm 3.2: symmetric data)",
                         gamma, optimum, alpha, lin.margin, gamma / optimum,
                         unmatched == 0 ? "symmetric" : fmt::format("NOT symmetric ({} samples without a mirror)", unmatched));
  return r;
}

/// A two-layer leaky net with neurons c_k φ(u_kᵀx), ‖u_k‖ = 1, is θ with w_k = √|c_k| u_k and
/// a_k = sign(c_k)√|c_k|, ‖θ‖² = 2‖c‖₁ and margins M c, M_ik = y_i φ(u_kᵀx_i). So the best net on a
/// dictionary of directions is the matrix game max_{p ∈ Δ} min_i ([M, −M] p)_i (matrix_game.hpp),
/// and the net of any p has normalized margin min_i (M c)_i / (2‖c‖₁): a lower bound on the optimum
/// over every width ≥ the number of directions p uses (a basic solution uses at most n + 1).
ClaimResult Checker::below_optimum() {
  const double alpha = number_attr(m_run, "alpha");
  ClaimResult r{"lyu2021.below_optimum", false, kInf, m_s.shortfall_tolerance, false, ""};
  if (m_run.trajectory.empty() || !(m_run.trajectory.back().normalized_margin > 0)) {
    r.detail = "the data are not separated at θ_T: no margin to compare";
    return r;
  }
  const auto views = m_run.model->layers();
  const RowMajor W = layer_of(m_run.theta_final, views[0]);
  const Eigen::MatrixXd U = neuron_dictionary(m_run.X, svm().separable ? svm().w : Eigen::VectorXd::Zero(m_run.X.cols()), W);
  const Eigen::MatrixXd Z = m_run.X * U;
  const Eigen::MatrixXd M = m_run.y.asDiagonal() * Z.unaryExpr([alpha](double z) { return z > 0 ? z : alpha * z; });
  Eigen::MatrixXd game(M.rows(), 2 * M.cols());
  game << M, -M;
  const GameSolution best = solve_matrix_game(game);
  const Eigen::VectorXd c = best.columns.head(M.cols()) - best.columns.tail(M.cols());
  const double bound = (M * c).minCoeff() / (2 * c.lpNorm<1>());
  const Eigen::VectorXd q = margins_at(*m_run.model, m_run.y, m_run.theta_final);
  const double gamma = q.minCoeff() / m_run.theta_final.squaredNorm();
  const Record& last = m_run.trajectory.back();
  const double unsettled = std::max(0.0, (last.normalized_margin - last.smoothed_margin) / last.normalized_margin);
  r.value = 1 - gamma / bound;
  r.passed = r.value > m_s.shortfall_tolerance + unsettled;
  const Index used = (c.array().abs() > 1e-12 * c.cwiseAbs().maxCoeff()).count();
  r.detail = fmt::format("normalized margin q_min/‖θ‖² = {:.8g} against {:.8g}, the margin of an explicit net on {} of {} "
                         "dictionary directions (a lower bound on the optimum; matrix game, {} pivots{}): shortfall {:.4g} "
                         "(needs > tolerance + (γ − γ̃)/γ = {:.3g}); (1+α)γ_lin/4 = {:.8g} (Lyu et al. 2021: without symmetric "
                         "data the margin can stop below the optimum)",
                         gamma, bound, used, U.cols(), best.pivots, best.converged ? "" : ", not converged", r.value,
                         m_s.shortfall_tolerance + unsettled, svm().separable ? (1 + alpha) * svm().margin / 4 : 0.0);
  return r;
}

ClaimResult Checker::svm_direction() {
  ClaimResult r{"lyu2021.svm_direction", false, kInf, m_s.direction_tolerance, false, ""};
  const LinearSvm& lin = svm();
  if (!lin.separable) {
    r.detail = "the data are not linearly separable: no SVM direction";
    return r;
  }
  const Eigen::VectorXd v = odd_part();
  r.value = angle(v, lin.w);
  r.passed = r.value <= m_s.direction_tolerance;
  r.detail = fmt::format("∠(Σ_j a_j w_j, w*) = {:.3e} rad (f(x) − f(−x) = (1+α)⟨Σ_j a_j w_j, x⟩); linear margin of "
                         "Σ_j a_j w_j {:.8g} against γ_lin {:.8g}",
                         r.value, linear_margin(m_run.X, m_run.y, v), lin.margin);
  return r;
}

template <class Invariant>
std::pair<double, double> Checker::drift(Invariant invariant) const {
  const auto start = invariant(m_run.snapshots.front());
  double worst = 0, worst_abs = 0;
  auto consider = [&](const Eigen::VectorXd& theta) {
    const double change = (invariant(theta) - start).cwiseAbs().maxCoeff();
    worst = std::max(worst, change / theta.squaredNorm());
    worst_abs = std::max(worst_abs, change);
  };
  for (std::size_t k = 1; k < m_run.snapshots.size(); ++k) consider(m_run.snapshots[k]);
  consider(m_run.theta_final);
  return {worst, worst_abs};
}

ClaimResult Checker::neuron_conservation() const {
  ClaimResult r{"lyu2021.conservation", false, kInf, m_s.invariant_tolerance, false, ""};
  const auto views = m_run.model->layers();
  const auto [relative, absolute] = drift([&](const Eigen::VectorXd& theta) {
    return Eigen::VectorXd(neuron_balance(theta, views[0].rows, views[0].cols));
  });
  r.value = relative;
  r.passed = relative <= m_s.invariant_tolerance;
  r.detail = fmt::format("max_j |Δ(a_j² − ‖w_j‖²)| over {} snapshots and θ_T: {:.3g}, relative to ‖θ‖² {:.3g} "
                         "(conserved exactly by gradient flow, Lyu et al. 2021)",
                         m_run.snapshots.size(), absolute, relative);
  return r;
}

std::vector<std::size_t> Checker::trailing_layers() const {
  return dynamic_cast<const DeepNet&>(*m_run.model).trailing_linear_layers();
}

ClaimResult Checker::trailing_rank1() const {
  ClaimResult r{"le2022.trailing_rank1", false, 0, m_s.rank_tolerance, false, ""};
  const auto views = m_run.model->layers();
  std::string parts;
  for (std::size_t l : trailing_layers()) {
    if (std::min(views[l].rows, views[l].cols) < 2) continue;
    const Eigen::VectorXd s = singular_values(layer_of(m_run.theta_final, views[l]));
    const double excess = s.squaredNorm() / (s[0] * s[0]) - 1;
    r.value = std::max(r.value, excess);
    parts += fmt::format("{}{}: srank − 1 = {:.3g}, σ2/σ1 = {:.3g}", parts.empty() ? "" : "; ", views[l].name, excess,
                         s[1] / s[0]);
  }
  r.passed = r.value <= m_s.rank_tolerance;
  r.detail = "trailing linear layers at θ_T (Le & Jegelka 2022, Thm 3.1: rank 1 in the limit): " + parts;
  return r;
}

ClaimResult Checker::relu_not_rank1() const {
  ClaimResult r{"le2022.relu_not_rank1", false, 0, m_s.relu_rank_excess, false, ""};
  const auto* deep = dynamic_cast<const DeepNet*>(m_run.model.get());
  const auto views = deep->layers();
  std::string parts;
  for (std::size_t l = 0; l < views.size(); ++l) {
    if (!deep->is_relu(l) || std::min(views[l].rows, views[l].cols) < 2) continue;
    const Eigen::VectorXd s = singular_values(layer_of(m_run.theta_final, views[l]));
    const double excess = s.squaredNorm() / (s[0] * s[0]) - 1;
    r.value = std::max(r.value, excess);
    parts += fmt::format("{}{}: srank − 1 = {:.4g}, σ2/σ1 = {:.3g}", parts.empty() ? "" : "; ", views[l].name, excess,
                         s[1] / s[0]);
  }
  r.passed = r.value >= m_s.relu_rank_excess;
  r.detail = "ReLU layers at θ_T, which Le & Jegelka 2022 do not force to rank 1 (only their stably active parts "
             "align): " + parts + (r.passed ? " — not rank 1" : " — rank 1 here");
  return r;
}

ClaimResult Checker::alignment() const {
  ClaimResult r{"le2022.alignment", false, 0, m_s.rank_tolerance, false, ""};
  const auto views = m_run.model->layers();
  const auto trailing = trailing_layers();
  std::string parts;
  for (std::size_t k = 0; k + 1 < trailing.size(); ++k) {
    const LayerView& lower = views[trailing[k]];
    const LayerView& upper = views[trailing[k + 1]];
    const Eigen::JacobiSVD<Eigen::MatrixXd> a(Eigen::MatrixXd(layer_of(m_run.theta_final, lower)), Eigen::ComputeThinU);
    const Eigen::JacobiSVD<Eigen::MatrixXd> b(Eigen::MatrixXd(layer_of(m_run.theta_final, upper)), Eigen::ComputeThinV);
    const double misalignment = 1 - std::abs(b.matrixV().col(0).dot(a.matrixU().col(0)));
    r.value = std::max(r.value, misalignment);
    parts += fmt::format("{}1 − |v({})ᵀu({})| = {:.3g}", parts.empty() ? "" : "; ", upper.name, lower.name, misalignment);
  }
  r.passed = r.value <= m_s.rank_tolerance;
  r.detail = "adjacent trailing linear layers at θ_T (top singular vectors; Le & Jegelka 2022): " + parts;
  return r;
}

ClaimResult Checker::layer_invariant() const {
  ClaimResult r{"le2022.invariant", false, 0, m_s.invariant_tolerance, false, ""};
  const auto* deep = dynamic_cast<const DeepNet*>(m_run.model.get());
  const auto views = deep->layers();
  std::string parts;
  for (std::size_t l = 0; l + 1 < views.size(); ++l) {
    const bool whole = !deep->is_relu(l) && !deep->has_skip(l);
    const auto [relative, absolute] = drift([&](const Eigen::VectorXd& theta) {
      const auto W = layer_of(theta, views[l]);
      const auto U = layer_of(theta, views[l + 1]);
      const Eigen::MatrixXd D = U.transpose() * U - W * W.transpose();
      return whole ? Eigen::VectorXd(D.reshaped()) : Eigen::VectorXd(D.diagonal());
    });
    r.value = std::max(r.value, relative);
    parts += fmt::format("{}{}ᵀ{} − {}{}ᵀ{}: {:.3g} (|Δ| {:.3g})", parts.empty() ? "" : "; ", views[l + 1].name,
                         views[l + 1].name, views[l].name, views[l].name, whole ? "" : " (diagonal)", relative, absolute);
  }
  r.passed = r.value <= m_s.invariant_tolerance;
  r.detail = fmt::format("largest drift from θ(0) over {} snapshots and θ_T, relative to ‖θ‖² (entries for linear pairs, "
                         "per-neuron balance for ReLU: Arora et al. 2018, Du et al. 2018): {}",
                         m_run.snapshots.size(), parts);
  return r;
}

ClaimResult Checker::soudry_direction() {
  ClaimResult r{"soudry2018.svm_direction", false, kInf, m_s.soudry_tolerance, false, ""};
  const LinearSvm& lin = svm();
  if (!lin.separable) {
    r.detail = "the data are not linearly separable: no SVM direction";
    return r;
  }
  r.value = angle(m_run.theta_final, lin.w);
  r.passed = r.value <= m_s.soudry_tolerance;
  r.detail = fmt::format("∠(θ_T, w*) = {:.3e} rad at log t = {:.4g} (Soudry et al. 2018: O(1/log t)); γ_lin = {:.8g}",
                         r.value, m_run.trajectory.empty() ? 0.0 : m_run.trajectory.back().log_t, lin.margin);
  return r;
}

using ClaimFunction = ClaimResult (*)(Checker&);

const std::vector<std::pair<std::string, ClaimFunction>>& claim_table() {
  static const std::vector<std::pair<std::string, ClaimFunction>> table{
      {"lyuli2020.kkt", [](Checker& c) { return c.kkt(); }},
      {"lyuli2020.normalized_margin", [](Checker& c) { return c.normalized_margin(); }},
      {"lyu2021.linear_max_margin", [](Checker& c) { return c.linear_max_margin(); }},
      {"lyu2021.below_optimum", [](Checker& c) { return c.below_optimum(); }},
      {"lyu2021.svm_direction", [](Checker& c) { return c.svm_direction(); }},
      {"lyu2021.conservation", [](Checker& c) { return c.neuron_conservation(); }},
      {"le2022.relu_not_rank1", [](Checker& c) { return c.relu_not_rank1(); }},
      {"le2022.trailing_rank1", [](Checker& c) { return c.trailing_rank1(); }},
      {"le2022.alignment", [](Checker& c) { return c.alignment(); }},
      {"le2022.invariant", [](Checker& c) { return c.layer_invariant(); }},
      {"soudry2018.svm_direction", [](Checker& c) { return c.soudry_direction(); }},
      {"lyuli2020.smoothed_margin_monotone", [](Checker& c) { return c.smoothed_margin_monotone(); }},
      {"lyuli2020.kkt_rate", [](Checker& c) { return c.kkt_rate(); }},
  };
  return table;
}

/// Deep nets: the rank and alignment claims need a trailing linear layer that is a matrix (min
/// dimension ≥ 2), resp. two adjacent trailing layers.
bool deep_has(const ModelRun& run, const std::string& name) {
  const auto& deep = dynamic_cast<const DeepNet&>(*run.model);
  const auto views = deep.layers();
  const auto trailing = deep.trailing_linear_layers();
  if (name == "le2022.trailing_rank1")
    return std::ranges::any_of(trailing, [&](std::size_t l) { return std::min(views[l].rows, views[l].cols) >= 2; });
  if (name == "le2022.alignment") return trailing.size() >= 2;
  if (name == "le2022.relu_not_rank1")
    return !trailing.empty() && std::ranges::any_of(std::views::iota(std::size_t{0}, views.size()), [&](std::size_t l) {
             return deep.is_relu(l) && std::min(views[l].rows, views[l].cols) >= 2;
           });
  return views.size() >= 2;  // le2022.invariant
}

bool applies(const ModelRun& run, const std::string& name) {
  // A linear model's ε_KKT is zero up to rounding once θ lies in the data's span (always, when the
  // data span R^d): there is no rate to fit.
  if (name == "lyuli2020.kkt_rate") return run.kind != "linear";
  if (name.starts_with("lyuli2020.")) return true;
  if (name.starts_with("lyu2021.")) return run.kind == "two_layer_leaky";
  if (name.starts_with("soudry2018.")) return run.kind == "linear";
  return run.kind == "deep" && deep_has(run, name);
}

/// Claims that apply but are left out unless asked for: below_optimum on symmetric data, where
/// Lyu et al.'s Thm 3.2 says the margin is optimal (lyu2021.linear_max_margin checks that instead).
bool listed_by_default(const ModelRun& run, const std::string& name) {
  return name != "lyu2021.below_optimum" || samples_without_mirror(run.X, run.y) > 0;
}

/// The claims `verify --claims` may name for this run (a superset of applicable_claims).
std::vector<std::string> requestable_claims(const ModelRun& run) {
  std::vector<std::string> out;
  for (const std::string& name : model_claim_names())
    if (applies(run, name)) out.push_back(name);
  return out;
}

}  // namespace

ModelRun read_model_run(const std::string& path) {
  const RunSummary summary = read_run_summary(path);
  ModelRun run;
  run.model_attrs = summary.model_attrs;
  const auto kind = summary.model_attrs.find("kind");
  run.kind = kind == summary.model_attrs.end() ? "" : kind->second;
  if (run.kind != "two_layer_leaky" && run.kind != "deep" && run.kind != "linear" && run.kind != "relu2")
    throw std::invalid_argument(fmt::format("{}: model kind '{}': expected two_layer_leaky, deep, linear or relu2", path, run.kind));
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  run.X = root.open_dataset("data/X").read_matrix();
  run.y = root.open_dataset("data/y").read_vector();
  run.model = rebuild_model(run);
  run.theta_final = read_final_theta(path);
  run.snapshots = read_snapshot_thetas(root);
  if (run.snapshots.empty()) throw h5::Error(path + ": /snapshots/theta holds no row (θ(0) is needed)");
  run.trajectory = read_trajectory(path);
  run.loss = summary.model_attrs.at("loss");
  run.rel_tol = config_rel_tol(path, summary.config);
  return run;
}

const std::vector<std::string>& model_claim_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& entry : claim_table()) out.push_back(entry.first);
    return out;
  }();
  return names;
}

std::vector<std::string> applicable_claims(const ModelRun& run) {
  std::vector<std::string> out;
  for (const std::string& name : requestable_claims(run))
    if (listed_by_default(run, name)) out.push_back(name);
  return out;
}

std::vector<ClaimResult> verify_model_claims(const ModelRun& run, const std::vector<std::string>& names,
                                             const ModelVerifySettings& settings) {
  const std::vector<std::string> requestable = requestable_claims(run);
  for (const std::string& name : names) {
    if (std::ranges::find(requestable, name) == requestable.end())
      throw std::invalid_argument(fmt::format("claim '{}' does not apply to model kind {}; claims that do: {}", name,
                                              run.kind, fmt::join(requestable, ", ")));
  }
  const std::vector<std::string> apply = applicable_claims(run);
  Checker checker(run, settings);
  std::vector<ClaimResult> out;
  for (const std::string& name : names.empty() ? apply : names) {
    const auto it = std::ranges::find_if(claim_table(), [&](const auto& entry) { return entry.first == name; });
    out.push_back(it->second(checker));
  }
  return out;
}

std::vector<std::string> all_claim_names() {
  std::vector<std::string> out = known_claims();
  for (const auto* names : {&model_claim_names(), &gd_claim_names(), &relu2_claim_names()})
    for (const std::string& name : *names)
      if (std::ranges::find(out, name) == out.end()) out.push_back(name);
  return out;
}

VerifyOutcome verify_run_file(const std::string& path, const std::vector<std::string>& names) {
  const RunSummary summary = read_run_summary(path);
  const auto kind = summary.model_attrs.find("kind");
  if (kind != summary.model_attrs.end() && kind->second == "leaky2_fixed_outer") {
    if (is_gd_run(summary.config)) return {verify_gd_claims(read_run_input(path), names), {}};
    return verify_claims(read_run_input(path), names);
  }
  if (kind != summary.model_attrs.end() && kind->second == "relu2") return {verify_relu2_claims(read_model_run(path), names), {}};
  return {verify_model_claims(read_model_run(path), names), {}};
}

}  // namespace kktflow
