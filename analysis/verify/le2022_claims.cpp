#include "analysis/verify/le2022_claims.hpp"

#include "analysis/verify/model_run.hpp"
#include "problems/deep.hpp"
#include "solver/metrics.hpp"

#include <fmt/format.h>

#include <Eigen/SVD>

#include <algorithm>
#include <ranges>

namespace kktflow {
namespace {

/// srank(W) − 1 and σ2/σ1 of one layer.
std::pair<double, double> rank_excess(const Eigen::Map<const RowMajorMatrix>& W) {
  const Eigen::VectorXd s = singular_values(W);
  return {s.squaredNorm() / (s[0] * s[0]) - 1, s[1] / s[0]};
}

/// The claims of one deep run, sharing the rebuilt net.
class Le2022Checker {
 public:
  Le2022Checker(const RunData& data, const Le2022Settings& s)
      : m_run(data),
        m_data(data),
        m_s(s),
        m_deep(dynamic_cast<const DeepNet&>(m_run.model())),
        m_views(m_deep.layers()) {}

  ClaimResult check(const std::string& name) const {
    if (name == "le2022.trailing_rank1") return trailing_rank1();
    if (name == "le2022.relu_not_rank1") return relu_not_rank1();
    if (name == "le2022.alignment") return alignment();
    return invariant();
  }

 private:
  ClaimResult trailing_rank1() const;
  ClaimResult relu_not_rank1() const;
  ClaimResult alignment() const;
  ClaimResult invariant() const;
  /// srank − 1 of every matrix layer l with chosen(l): the largest into r.value, each in the text returned.
  template <class Chosen>
  std::string largest_rank_excess(ClaimResult& r, Chosen chosen) const;
  auto layer(std::size_t l) const { return layer_of(m_data.theta_final, m_views[l]); }
  bool is_matrix(std::size_t l) const { return std::min(m_views[l].rows, m_views[l].cols) >= 2; }

  ModelRun m_run;
  const RunData& m_data;
  const Le2022Settings& m_s;
  const DeepNet& m_deep;
  std::vector<LayerView> m_views;
};

ClaimResult Le2022Checker::trailing_rank1() const {
  ClaimResult r{"le2022.trailing_rank1", false, 0, m_s.rank_tolerance, false, ""};
  const auto trailing = m_deep.trailing_linear_layers();
  const std::string parts = largest_rank_excess(r, [&](std::size_t l) { return std::ranges::count(trailing, l) > 0; });
  r.passed = r.value <= m_s.rank_tolerance;
  r.detail = "trailing linear layers at θ_T (Le & Jegelka 2022, Thm 3.1: rank 1 in the limit): " + parts;
  return r;
}

ClaimResult Le2022Checker::relu_not_rank1() const {
  ClaimResult r{"le2022.relu_not_rank1", false, 0, m_s.relu_rank_excess, false, ""};
  const std::string parts = largest_rank_excess(r, [&](std::size_t l) { return m_deep.is_relu(l); });
  r.passed = r.value >= m_s.relu_rank_excess;
  r.detail =
      "ReLU layers at θ_T, which Le & Jegelka 2022 do not force to rank 1 (only their stably active parts "
      "align): " +
      parts + (r.passed ? " — not rank 1" : " — rank 1 here");
  return r;
}

template <class Chosen>
std::string Le2022Checker::largest_rank_excess(ClaimResult& r, Chosen chosen) const {
  std::string parts;
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    if (!chosen(l) || !is_matrix(l)) continue;
    const auto [excess, ratio] = rank_excess(layer(l));
    r.value = std::max(r.value, excess);
    parts += fmt::format("{}{}: srank − 1 = {:.4g}, σ2/σ1 = {:.3g}", parts.empty() ? "" : "; ", m_views[l].name, excess,
                         ratio);
  }
  return parts;
}

ClaimResult Le2022Checker::alignment() const {
  ClaimResult r{"le2022.alignment", false, 0, m_s.rank_tolerance, false, ""};
  const auto trailing = m_deep.trailing_linear_layers();
  std::string parts;
  for (std::size_t k = 0; k + 1 < trailing.size(); ++k) {
    const LayerView& lower = m_views[trailing[k]];
    const LayerView& upper = m_views[trailing[k + 1]];
    const Eigen::JacobiSVD<Eigen::MatrixXd> a(Eigen::MatrixXd(layer(trailing[k])), Eigen::ComputeThinU);
    const Eigen::JacobiSVD<Eigen::MatrixXd> b(Eigen::MatrixXd(layer(trailing[k + 1])), Eigen::ComputeThinV);
    const double misalignment = 1 - std::abs(b.matrixV().col(0).dot(a.matrixU().col(0)));
    r.value = std::max(r.value, misalignment);
    parts +=
        fmt::format("{}1 − |v({})ᵀu({})| = {:.3g}", parts.empty() ? "" : "; ", upper.name, lower.name, misalignment);
  }
  r.passed = r.value <= m_s.rank_tolerance;
  r.detail = "adjacent trailing linear layers at θ_T (top singular vectors; Le & Jegelka 2022): " + parts;
  return r;
}

ClaimResult Le2022Checker::invariant() const {
  ClaimResult r{"le2022.invariant", false, 0, m_s.invariant_tolerance, false, ""};
  std::string parts;
  for (std::size_t l = 0; l + 1 < m_views.size(); ++l) {
    const bool whole = !m_deep.is_relu(l) && !m_deep.has_skip(l);
    const auto [relative, absolute] = invariant_drift(m_data, [&](const Eigen::VectorXd& theta) {
      const auto W = layer_of(theta, m_views[l]);
      const auto U = layer_of(theta, m_views[l + 1]);
      const Eigen::MatrixXd D = U.transpose() * U - W * W.transpose();
      return whole ? Eigen::VectorXd(D.reshaped()) : Eigen::VectorXd(D.diagonal());
    });
    r.value = std::max(r.value, relative);
    parts += fmt::format("{}{}ᵀ{} − {}{}ᵀ{}: {:.3g} (|Δ| {:.3g})", parts.empty() ? "" : "; ", m_views[l + 1].name,
                         m_views[l + 1].name, m_views[l].name, m_views[l].name, whole ? "" : " (diagonal)", relative,
                         absolute);
  }
  r.passed = r.value <= m_s.invariant_tolerance;
  r.detail = fmt::format(
      "largest drift from θ(0) over {} snapshots and θ_T, relative to ‖θ‖² (entries for linear pairs, "
      "per-neuron balance for ReLU: Arora et al. 2018, Du et al. 2018): {}",
      m_data.snapshots.size(), parts);
  return r;
}

/// Whether claim `name` has the layers it needs in this net.
bool has_layers_for(const DeepNet& deep, const std::string& name) {
  const auto views = deep.layers();
  const auto trailing = deep.trailing_linear_layers();
  const auto is_matrix = [&](std::size_t l) { return std::min(views[l].rows, views[l].cols) >= 2; };
  if (name == "le2022.trailing_rank1") return std::ranges::any_of(trailing, is_matrix);
  if (name == "le2022.alignment") return trailing.size() >= 2;
  if (name == "le2022.relu_not_rank1")
    return !trailing.empty() && std::ranges::any_of(std::views::iota(std::size_t{0}, views.size()),
                                                    [&](std::size_t l) { return deep.is_relu(l) && is_matrix(l); });
  return views.size() >= 2;  // le2022.invariant
}

}  // namespace

const ClaimFamily& le2022_family() {
  static const ClaimFamily family{{{"le2022.relu_not_rank1", "some ReLU layer is not rank 1"},
                                   {"le2022.trailing_rank1", "trailing linear layers tend to rank 1"},
                                   {"le2022.alignment", "adjacent trailing layers align"},
                                   {"le2022.invariant", "W_{l+1}ᵀW_{l+1} − W_lW_lᵀ conserved"}},
                                  [](const RunData& run) {
                                    if (run.kind != "deep") return ClaimNames{};
                                    const ModelRun model_run(run);
                                    const auto& deep = dynamic_cast<const DeepNet&>(model_run.model());
                                    ClaimNames out;
                                    for (const ClaimInfo& claim : le2022_family().claims)
                                      if (has_layers_for(deep, claim.name)) out.push_back(claim.name);
                                    return out;
                                  },
                                  [](const RunData& run) { return le2022_family().requestable(run); },
                                  [](const RunData& run, const ClaimNames& names) {
                                    const Le2022Settings settings;
                                    const Le2022Checker checker(run, settings);
                                    VerifyOutcome outcome;
                                    for (const std::string& name : names) outcome.claims.push_back(checker.check(name));
                                    return outcome;
                                  }};
  return family;
}

}  // namespace kktflow
