#include "analysis/verify/lyu2021_claims.hpp"

#include "analysis/verify/matrix_game.hpp"
#include "analysis/verify/model_run.hpp"
#include "analysis/verify/svm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace kktflow {
namespace {

using Index = Eigen::Index;
constexpr double kInf = std::numeric_limits<double>::infinity();

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

/// The claims of one run, sharing the rebuilt model and the data's SVM.
class Lyu2021Checker {
 public:
  Lyu2021Checker(const RunData& data, const Lyu2021Settings& s)
      : m_run(data), m_data(data), m_s(s), m_svm(hard_margin_svm(data.X, data.y)), m_alpha(m_run.number("alpha")) {}

  ClaimResult check(const std::string& name) {
    if (name == "lyu2021.linear_max_margin") return linear_max_margin();
    if (name == "lyu2021.below_optimum") return below_optimum();
    if (name == "lyu2021.svm_direction") return svm_direction();
    return conservation();
  }

 private:
  ClaimResult linear_max_margin();
  ClaimResult below_optimum();
  ClaimResult svm_direction();
  ClaimResult conservation() const;
  /// q_min/‖θ_T‖², the normalized margin of a 2-homogeneous net.
  double normalized_margin() const {
    return margins_at(m_run.model(), m_data.y, m_data.theta_final).minCoeff() / m_data.theta_final.squaredNorm();
  }
  /// Σ_j a_j w_j: f(x) − f(−x) = (1+α)⟨v, x⟩.
  Eigen::VectorXd odd_part() const {
    const auto views = m_run.model().layers();
    const Eigen::VectorXd a = m_data.theta_final.tail(views[1].cols);
    return layer_of(m_data.theta_final, views[0]).transpose() * a;
  }

  ModelRun m_run;
  const RunData& m_data;
  const Lyu2021Settings& m_s;
  LinearSvm m_svm;
  double m_alpha;
};

/// A claim that cannot be checked on this run, failed with the reason.
ClaimResult unchecked(std::string name, double tolerance, std::string why) {
  return {std::move(name), false, kInf, tolerance, false, std::move(why)};
}

ClaimResult Lyu2021Checker::linear_max_margin() {
  if (!m_svm.separable)
    return unchecked("lyu2021.linear_max_margin", m_s.linear_margin_tolerance,
                     "the data are not linearly separable: the theorem does not apply");
  ClaimResult r{"lyu2021.linear_max_margin", false, kInf, m_s.linear_margin_tolerance, false, ""};
  const double gamma = normalized_margin();
  const double optimum = (1 + m_alpha) * m_svm.margin / 4;
  // Symmetric data: every (x, y) has (−x, −y); the theorem's hypothesis.
  const Index unmatched = samples_without_mirror(m_data.X, m_data.y);
  r.value = std::abs(gamma / optimum - 1);
  r.passed = unmatched == 0 && r.value <= m_s.linear_margin_tolerance;
  r.detail = fmt::format(
      "normalized margin q_min/‖θ‖² = {:.8g} against (1+α)γ_lin/4 = {:.8g} (α = {:g}, γ_lin = {:.8g}): "
      "ratio {:.8f}; data {} (Lyu et al. 2021, Thm 3.2: symmetric data)",
      gamma, optimum, m_alpha, m_svm.margin, gamma / optimum,
      unmatched == 0 ? "symmetric" : fmt::format("NOT symmetric ({} samples without a mirror)", unmatched));
  return r;
}

/// A two-layer leaky net with neurons c_k φ(u_kᵀx), ‖u_k‖ = 1, is θ with w_k = √|c_k| u_k and
/// a_k = sign(c_k)√|c_k|, ‖θ‖² = 2‖c‖₁ and margins M c, M_ik = y_i φ(u_kᵀx_i). So the best net on a
/// dictionary of directions is the matrix game max_{p ∈ Δ} min_i ([M, −M] p)_i (matrix_game.hpp),
/// and the net of any p has normalized margin min_i (M c)_i / (2‖c‖₁): a lower bound on the optimum
/// over every width ≥ the number of directions p uses (a basic solution uses at most n + 1).
ClaimResult Lyu2021Checker::below_optimum() {
  if (m_data.trajectory.empty() || !(m_data.trajectory.back().normalized_margin > 0))
    return unchecked("lyu2021.below_optimum", m_s.shortfall_tolerance,
                     "the data are not separated at θ_T: no margin to compare");
  ClaimResult r{"lyu2021.below_optimum", false, kInf, m_s.shortfall_tolerance, false, ""};
  const auto views = m_run.model().layers();
  const RowMajorMatrix W = layer_of(m_data.theta_final, views[0]);
  const Eigen::VectorXd w_svm = m_svm.separable ? m_svm.w : Eigen::VectorXd::Zero(m_data.X.cols());
  const Eigen::MatrixXd U = neuron_dictionary(m_data.X, w_svm, W);
  const Eigen::MatrixXd Z = m_data.X * U;
  const double alpha = m_alpha;
  const Eigen::MatrixXd M = m_data.y.asDiagonal() * Z.unaryExpr([alpha](double z) { return z > 0 ? z : alpha * z; });
  Eigen::MatrixXd game(M.rows(), 2 * M.cols());
  game << M, -M;
  const GameSolution best = solve_matrix_game(game);
  const Eigen::VectorXd c = best.columns.head(M.cols()) - best.columns.tail(M.cols());
  const double bound = (M * c).minCoeff() / (2 * c.lpNorm<1>());
  const double gamma = normalized_margin();
  const Record& last = m_data.trajectory.back();
  const double unsettled = std::max(0.0, (last.normalized_margin - last.smoothed_margin) / last.normalized_margin);
  r.value = 1 - gamma / bound;
  r.passed = r.value > m_s.shortfall_tolerance + unsettled;
  const Index used = (c.array().abs() > 1e-12 * c.cwiseAbs().maxCoeff()).count();
  r.detail = fmt::format(
      "normalized margin q_min/‖θ‖² = {:.8g} against {:.8g}, the margin of an explicit net on {} of {} "
      "dictionary directions (a lower bound on the optimum; matrix game, {} pivots{}): shortfall {:.4g} "
      "(needs > tolerance + (γ − γ̃)/γ = {:.3g}); (1+α)γ_lin/4 = {:.8g} (Lyu et al. 2021: without symmetric "
      "data the margin can stop below the optimum)",
      gamma, bound, used, U.cols(), best.pivots, best.converged ? "" : ", not converged", r.value,
      m_s.shortfall_tolerance + unsettled, m_svm.separable ? (1 + m_alpha) * m_svm.margin / 4 : 0.0);
  return r;
}

ClaimResult Lyu2021Checker::svm_direction() {
  if (!m_svm.separable)
    return unchecked("lyu2021.svm_direction", m_s.direction_tolerance,
                     "the data are not linearly separable: no SVM direction");
  ClaimResult r{"lyu2021.svm_direction", false, kInf, m_s.direction_tolerance, false, ""};
  const Eigen::VectorXd v = odd_part();
  r.value = angle(v, m_svm.w);
  r.passed = r.value <= m_s.direction_tolerance;
  r.detail = fmt::format(
      "∠(Σ_j a_j w_j, w*) = {:.3e} rad (f(x) − f(−x) = (1+α)⟨Σ_j a_j w_j, x⟩); linear margin of "
      "Σ_j a_j w_j {:.8g} against γ_lin {:.8g}",
      r.value, linear_margin(m_data.X, m_data.y, v), m_svm.margin);
  return r;
}

ClaimResult Lyu2021Checker::conservation() const {
  ClaimResult r{"lyu2021.conservation", false, kInf, m_s.invariant_tolerance, false, ""};
  const auto views = m_run.model().layers();
  const auto [relative, absolute] = invariant_drift(m_data, [&](const Eigen::VectorXd& theta) {
    return Eigen::VectorXd(neuron_balance(theta, views[0].rows, views[0].cols));
  });
  r.value = relative;
  r.passed = relative <= m_s.invariant_tolerance;
  r.detail = fmt::format(
      "max_j |Δ(a_j² − ‖w_j‖²)| over {} snapshots and θ_T: {:.3g}, relative to ‖θ‖² {:.3g} "
      "(conserved exactly by gradient flow, Lyu et al. 2021)",
      m_data.snapshots.size(), absolute, relative);
  return r;
}

}  // namespace

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

const ClaimFamily& lyu2021_family() {
  static const ClaimFamily family{
      {{"lyu2021.linear_max_margin", "normalized margin = (1+α)γ_lin/4 on symmetric data"},
       {"lyu2021.below_optimum", "without symmetric data the margin stops below the optimum"},
       {"lyu2021.svm_direction", "Σ_j a_j w_j is along the SVM direction"},
       {"lyu2021.conservation", "a_j² − ‖w_j‖² conserved"}},
      [](const RunData& run) {
        return run.kind == "two_layer_leaky" ? ClaimNames{"lyu2021.linear_max_margin", "lyu2021.below_optimum",
                                                          "lyu2021.svm_direction", "lyu2021.conservation"}
                                             : ClaimNames{};
      },
      [](const RunData& run) {
        ClaimNames out = lyu2021_family().requestable(run);
        if (!out.empty() && samples_without_mirror(run.X, run.y) == 0) std::erase(out, "lyu2021.below_optimum");
        return out;
      },
      [](const RunData& run, const ClaimNames& names) {
        const Lyu2021Settings settings;
        Lyu2021Checker checker(run, settings);
        VerifyOutcome outcome;
        for (const std::string& name : names) outcome.claims.push_back(checker.check(name));
        return outcome;
      }};
  return family;
}

}  // namespace kktflow
