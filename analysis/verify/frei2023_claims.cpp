#include "analysis/verify/frei2023_claims.hpp"

#include "analysis/verify/frei2023_gd_claims.hpp"

#include "analysis/verify/certify.hpp"
#include "problems/loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <random>
#include <stdexcept>

namespace kktflow {
namespace {

using Index = Eigen::Index;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The limit under test (see claims.hpp): the polished point if accepted, else the flow's W_T.
struct Limit {
  Polished polished;
  double final_angle = kInf;            ///< ∠(W_T, W_pol)
  std::vector<double> snapshot_angles;  ///< ∠(snapshot, W_pol) of the snapshots with q_min > 0
  bool shrinking = false;
  bool accepted = false;
  std::string status;      ///< one phrase: why it was (not) accepted
  Eigen::MatrixXd W;       ///< W_pol or W_T
  Eigen::VectorXd lambda;  ///< multipliers for W̃ = W / q_min(W)
};

/// Ours: the angle must not grow over the last four separating snapshots (the run writes them
/// log-spaced in t, so they span the late phase), and there must be at least three of them.
bool angles_shrink(const std::vector<double>& angles) {
  if (angles.size() < 3) return false;
  const std::size_t first = angles.size() > 4 ? angles.size() - 4 : 0;
  for (std::size_t k = first + 1; k < angles.size(); ++k) {
    if (angles[k] > angles[k - 1]) return false;
  }
  return true;
}

std::string angle_trend(const std::vector<double>& angles) {
  if (angles.empty()) return "no separating snapshot";
  return fmt::format("{} over {} separating snapshots, {:.3g} → {:.3g}",
                     angles_shrink(angles) ? "shrinking" : "NOT shrinking", angles.size(), angles.front(),
                     angles.back());
}

/// sign f(x; W) ≠ sign⟨z, x⟩ on the training points and on Gaussian probes.
struct Disagreements {
  std::int64_t training = 0;
  std::int64_t probes = 0;
};

int sign(double v) { return (v > 0) - (v < 0); }

/// Probes x ~ N(0, I_d). Only ⟨w_j, x⟩ and ⟨z, x⟩ matter, so x = Q g with Q an orthonormal basis
/// of a subspace holding the rows of W and z (both directions tested share it) and g ~ N(0, I_k):
/// the same joint law at k/d of the cost.
class ProbeSet {
 public:
  ProbeSet(const std::vector<const Eigen::MatrixXd*>& weights, const std::vector<const Eigen::VectorXd*>& predictors,
           std::int64_t count, std::uint64_t seed)
      : m_count(count), m_seed(seed) {
    const Index d = predictors.front()->size();
    Index cols = static_cast<Index>(predictors.size());
    for (const Eigen::MatrixXd* W : weights) cols += W->rows();
    if (cols >= d) {
      m_basis = Eigen::MatrixXd::Identity(d, d);
      return;
    }
    Eigen::MatrixXd span(d, cols);
    Index c = 0;
    for (const Eigen::MatrixXd* W : weights) span.middleCols(c, W->rows()) = W->transpose(), c += W->rows();
    for (const Eigen::VectorXd* z : predictors) span.col(c++) = *z;
    m_basis = Eigen::HouseholderQR<Eigen::MatrixXd>(span).householderQ() * Eigen::MatrixXd::Identity(d, cols);
  }

  [[nodiscard]] std::int64_t count(const Leaky2Net& net, const Eigen::MatrixXd& W, const Eigen::VectorXd& z) const {
    const Eigen::MatrixXd WQ = W * m_basis;
    const Eigen::RowVectorXd zQ = z.transpose() * m_basis;
    std::mt19937_64 rng(m_seed);
    std::normal_distribution<double> normal;
    constexpr std::int64_t kChunk = 10000;
    std::int64_t wrong = 0;
    for (std::int64_t done = 0; done < m_count; done += kChunk) {
      const Index chunk = static_cast<Index>(std::min(kChunk, m_count - done));
      const Eigen::MatrixXd G = Eigen::MatrixXd::NullaryExpr(m_basis.cols(), chunk, [&] { return normal(rng); });
      const Eigen::MatrixXd Z = WQ * G;
      const Eigen::RowVectorXd linear = zQ * G;
      for (Index p = 0; p < chunk; ++p) {
        double f = 0;
        for (Index j = 0; j < Z.rows(); ++j) f += net.a[j] * leaky(Z(j, p), net.gamma);
        wrong += sign(f) != sign(linear[p]);
      }
    }
    return wrong;
  }

 private:
  std::int64_t m_count;
  std::uint64_t m_seed;
  Eigen::MatrixXd m_basis;
};

std::int64_t training_disagreements(const Leaky2Net& net, const Eigen::MatrixXd& W, const Eigen::VectorXd& z) {
  const Eigen::VectorXd f = outputs(net, W, net.X);
  const Eigen::VectorXd linear = net.X * z;
  std::int64_t wrong = 0;
  for (Index i = 0; i < net.samples(); ++i) wrong += sign(f[i]) != sign(linear[i]);
  return wrong;
}

/// Everything the claims share, computed once and on demand.
class Context {
 public:
  Context(const Leaky2Run& run, const Frei2023Settings& settings) : m_run(run), m_settings(settings) {}

  [[nodiscard]] const Leaky2Run& run() const { return m_run; }
  [[nodiscard]] const Leaky2Net& net() const { return m_run.net; }
  [[nodiscard]] const Frei2023Settings& settings() const { return m_settings; }

  const KktResidual& final_kkt() {
    if (!m_final_kkt) m_final_kkt = clarke_kkt(net(), m_run.W_final, m_settings.kink_threshold);
    return *m_final_kkt;
  }
  const Limit& limit() {
    if (!m_limit) m_limit = find_limit();
    return *m_limit;
  }
  const LinearSvm& svm() {
    if (!m_svm) m_svm = hard_margin_svm(net().X, net().y);
    return *m_svm;
  }
  const FamilyCertificate& families() {
    if (!m_families) m_families = certify_two_families(net(), limit().W);
    return *m_families;
  }

 private:
  Limit find_limit() {
    Limit lim;
    lim.W = m_run.W_final;
    lim.lambda = final_kkt().lambda;
    lim.polished = polish(net(), activation_pattern(net(), m_run.W_final, m_settings.kink_threshold));
    if (!lim.polished.feasible) {
      lim.status = lim.polished.capped ? "the pattern QP of the final direction was " + polish_refusal(lim.polished)
                                       : "the pattern QP of the final direction is infeasible";
      return lim;
    }
    lim.final_angle = angle_between(m_run.W_final, lim.polished.W);
    for (const Eigen::MatrixXd& S : m_run.snapshots) {
      if (margins(net(), S).minCoeff() > 0) lim.snapshot_angles.push_back(angle_between(S, lim.polished.W));
    }
    lim.shrinking = angles_shrink(lim.snapshot_angles);
    lim.accepted = lim.polished.converged && lim.shrinking && lim.final_angle <= m_settings.polish_angle_tolerance;
    lim.status = fmt::format("∠(final, polished) = {:.3g} rad ({}), {}", lim.final_angle,
                             lim.final_angle <= m_settings.polish_angle_tolerance ? "within tolerance" : "too large",
                             angle_trend(lim.snapshot_angles));
    if (lim.accepted) {
      const double q_min = margins(net(), lim.polished.W).minCoeff();
      lim.W = lim.polished.W;
      lim.lambda = lim.polished.lambda / q_min;
    }
    return lim;
  }

  const Leaky2Run& m_run;
  const Frei2023Settings& m_settings;
  std::optional<KktResidual> m_final_kkt;
  std::optional<Limit> m_limit;
  std::optional<LinearSvm> m_svm;
  std::optional<FamilyCertificate> m_families;
};

std::string limit_name(const Limit& lim) { return lim.accepted ? "polished limit" : "final direction (unpolished)"; }

// ---- the claims -----------------------------------------------------------------------------

ClaimResult rank_le_2(Context& c) {
  const Limit& lim = c.limit();
  const RankCertificate cert = certify_rank2(lim.W);
  const double tol = c.settings().certified_tolerance;
  ClaimResult r{"frei2023.rank_le_2", false, cert.ratio_float, tol, false, ""};
  if (lim.accepted && cert.ratio_upper <= tol) {
    r.passed = r.certified = true;
    r.value = cert.ratio_upper;
  }
  const RankCertificate flow = certify_rank2(c.run().W_final);
  r.detail = fmt::format(
      "{}: σ3/σ1 ≤ {:.3g} certified (‖W − W V2 V2ᵀ‖_F ≤ {:.3g}, σ1 ≥ {:.4g}), {:.3g} in floating point; "
      "flow's final direction: σ3/σ1 = {:.3g}; {}",
      limit_name(lim), cert.ratio_upper, cert.sigma3_upper, cert.sigma1_lower, cert.ratio_float, flow.ratio_float,
      lim.status);
  return r;
}

ClaimResult two_families(Context& c) {
  const Limit& lim = c.limit();
  const FamilyCertificate& fam = c.families();
  const double tol = c.settings().certified_tolerance;
  const bool proven = lim.accepted && fam.positive && fam.angle_upper <= tol;
  const auto plus = (c.net().a.array() > 0).count();
  const double pq = fam.p.norm() > 0 && fam.q.norm() > 0 ? angle_between(fam.p, fam.q) : 0.0;
  return {"frei2023.two_families",
          proven,
          proven ? fam.angle_upper : fam.angle_float,
          tol,
          proven,
          fmt::format("{}: {} rows with a_j > 0 ∥ p, {} rows with a_j < 0 ∥ q; max ∠(w_j, family direction) ≤ "
                      "{:.3g} rad certified ({:.3g} in floating point); {}; ‖W − W2‖_F ≤ {:.3g} for the two-family W2; "
                      "∠(p, q) = {:.4g} rad",
                      limit_name(lim), plus, c.net().width() - plus, fam.angle_upper, fam.angle_float,
                      fam.positive ? "all positive multiples" : "NOT all positive multiples", fam.distance_upper, pq)};
}

/// The figure frei2023.kkt rests on: ε/‖W̃‖ and δ/‖W̃‖² of one point, and whether they are
/// certified bounds or floating-point values, and why.
struct KktFigure {
  double epsilon_relative = kInf;
  double delta_relative = kInf;
  bool certified = false;
  std::string what;  ///< which point and how, for the detail
};

KktFigure flow_figure(const KktResidual& flow, const std::string& why_not_certified) {
  return {flow.epsilon / flow.norm_tilde, flow.delta / (flow.norm_tilde * flow.norm_tilde), false,
          "not certified (" + why_not_certified + "): floating-point ε, δ of the final direction"};
}

/// The best figure available: the certified bounds at the accepted polished limit, else its
/// floating-point Clarke residual (kinks held cannot be certified: a zero pre-activation is not
/// certifiable in floating point), else the final direction's.
KktFigure kkt_figure(Context& c, const KktCertificate* cert) {
  const Limit& lim = c.limit();
  if (!lim.polished.feasible) return flow_figure(c.final_kkt(), lim.status);
  if (!lim.accepted)
    return flow_figure(c.final_kkt(), "the polished point is not accepted as the limit: " + lim.status);
  if (cert != nullptr && cert->valid)
    return {cert->epsilon_relative_upper, cert->delta_relative_upper, true, "certified bounds at the polished limit"};
  const KktResidual polished = clarke_kkt(c.net(), lim.polished.W, c.settings().kink_threshold);
  const Eigen::Index loose = cert != nullptr ? cert->non_strict : lim.polished.kinks;
  return {polished.epsilon / polished.norm_tilde, polished.delta / (polished.norm_tilde * polished.norm_tilde), false,
          fmt::format("not certified ({} pairs not strict, {} kinks held: a pre-activation at zero cannot be certified "
                      "in floating point): floating-point Clarke ε, δ of the polished limit",
                      loose, lim.polished.kinks)};
}

/// One tolerance, certified_tolerance, whatever the figure: the row says whether its value is a
/// certified bound, and if not, why not; the flow's final direction must also be an (ε, δ)-KKT
/// point within kkt_tolerance, a check on the run rather than on the limit. An uncertified
/// figure above the tolerance is NOT CERTIFIED, not FAIL: a point that holds kinks (pairs within
/// kink_threshold of zero, a relative threshold) cannot be certified, and its floating-point
/// residual is no proof either way; the final direction's check is what can fail the claim then.
ClaimResult kkt(Context& c) {
  const KktResidual& flow = c.final_kkt();
  const Limit& lim = c.limit();
  const Frei2023Settings& s = c.settings();
  std::optional<KktCertificate> cert;
  if (lim.polished.feasible && lim.accepted) {
    const Pattern pattern = activation_pattern(c.net(), lim.polished.W, s.kink_threshold);
    const double q_min = margins(c.net(), lim.polished.W).minCoeff();
    cert = certify_kkt(c.net(), lim.polished.W, lim.polished.lambda / q_min, pattern);
  }
  const KktFigure figure = kkt_figure(c, cert ? &*cert : nullptr);
  const double eps_flow = flow.epsilon / flow.norm_tilde;
  const double delta_flow = flow.delta / (flow.norm_tilde * flow.norm_tilde);
  const bool flow_ok = eps_flow <= s.kkt_tolerance && delta_flow <= s.kkt_tolerance;
  const bool within =
      figure.epsilon_relative <= s.certified_tolerance && figure.delta_relative <= s.certified_tolerance;
  ClaimResult r{"frei2023.kkt",        within && flow_ok, figure.epsilon_relative,
                s.certified_tolerance, figure.certified,  ""};
  r.not_certified = flow_ok && !within && !figure.certified;
  r.detail = fmt::format(
      "{}: ε/‖W̃‖ = {:.3g}, δ/‖W̃‖² = {:.3g} against {:g}; final direction: ε/‖W̃‖ = {:.3g}, "
      "δ/‖W̃‖² = {:.3g} ({} {:g}; ε = {:.3g}, δ = {:.3g}, Clarke range [γ, 1] on {} kink pairs, "
      "|⟨w_j, x_i⟩| ≤ {:g}‖w_j‖‖x_i‖); ",
      figure.what, figure.epsilon_relative, figure.delta_relative, s.certified_tolerance, eps_flow, delta_flow,
      flow_ok ? "within" : "NOT within", s.kkt_tolerance, flow.epsilon, flow.delta, flow.kinks, s.kink_threshold);
  if (lim.polished.feasible)
    r.detail += fmt::format("polished point: {} QP round(s), {} sign constraints active, {} kinks held; ",
                            lim.polished.rounds, lim.polished.active_signs, lim.polished.kinks);
  if (cert && cert->valid)
    r.detail += fmt::format("min_i q_i ∈ [1 − {:.2g}, 1 + {:.2g}], pattern strict by ≥ {:.3g} (certified); ",
                            1 - cert->q_min_lower, cert->q_min_upper - 1, cert->strictness_lower);
  r.detail += lim.status;
  return r;
}

ClaimResult linear_boundary(Context& c) {
  const Limit& lim = c.limit();
  const Frei2023Settings& s = c.settings();
  const Eigen::VectorXd z = frei_predictor(c.net(), lim.lambda);
  const Eigen::VectorXd z_flow = frei_predictor(c.net(), c.final_kkt().lambda);
  const ProbeSet probes({&lim.W, &c.run().W_final}, {&z, &z_flow}, s.probes, s.probe_seed);
  const Disagreements limit{training_disagreements(c.net(), lim.W, z), probes.count(c.net(), lim.W, z)};
  const Disagreements flow{training_disagreements(c.net(), c.run().W_final, z_flow),
                           probes.count(c.net(), c.run().W_final, z_flow)};
  const BoundaryCertificate cert = certify_linear_boundary(c.net(), c.families(), lim.lambda);
  const bool proven = lim.accepted && cert.proven && cert.wedge_upper <= s.certified_tolerance;
  const bool clean = limit.training == 0 && limit.probes == 0;
  ClaimResult r{"frei2023.linear_boundary", proven && clean, cert.wedge_upper, s.certified_tolerance, proven, ""};
  if (!r.passed) {  // a failed proof bounds nothing: report the measured disagreement rate
    r.value = static_cast<double>(limit.probes) / static_cast<double>(s.probes);
    r.tolerance = 0;
    r.certified = false;
  }
  const LinearSvm& svm = c.svm();
  r.detail = fmt::format(
      "{}: {}; disagreements sign f ≠ sign⟨z, x⟩: training {}/{}, Gaussian probes {}/{}; final direction (z from its "
      "Clarke λ): training {}/{}, probes {}/{}; ",
      limit_name(lim),
      cert.proven
          ? fmt::format("sign f(x; W2) = sign⟨Ap − Bq, x⟩ for all x (2-D cone argument, A ≥ {:.4g}, B ≥ {:.4g}), "
                        "∠(Ap − Bq, z) ≤ {:.3g}, so sign f(x; W) = sign⟨z, x⟩ outside a wedge of half-angle "
                        "κ ≤ {:.3g} rad around z^⊥ (certified{})",
                        cert.a_lower, cert.b_lower, cert.angle_upper, cert.wedge_upper,
                        cert.wedge_upper >= std::numbers::pi / 2 ? "; vacuous" : "")
          : "no proof (W is not certified two-family with positive multiples)",
      limit.training, c.net().samples(), limit.probes, s.probes, flow.training, c.net().samples(), flow.probes,
      s.probes);
  if (svm.separable) {
    r.detail += fmt::format(
        "linear SVM: γ_lin = {:.6g} (KKT residual {:.2g}), ∠(z, w*) = {:.4g} rad, margin(z)/γ_lin = {:.6g}", svm.margin,
        svm.kkt_residual, angle_between(z, svm.w), linear_margin(c.net().X, c.net().y, z) / svm.margin);
  } else {
    r.detail += "the data are not linearly separable";
  }
  return r;
}

ClaimResult global_max_margin(Context& c) {
  const Limit& lim = c.limit();
  const Frei2023Settings& s = c.settings();
  const double margin = normalized_margin(c.net(), lim.W);
  const std::vector<Competitor> competitors = find_competitors(c.net(), lim.W, c.svm(), s.competitors);
  const Competitor* best = nullptr;
  std::string list;
  for (const Competitor& comp : competitors) {
    if (comp.feasible && (best == nullptr || comp.margin > best->margin)) best = &comp;
    list += fmt::format("{}{} {}", list.empty() ? "" : "; ", comp.label,
                        comp.feasible ? fmt::format("{:.6g}", comp.margin) : std::string("—"));
  }
  const double tol = 1 + s.margin_tolerance;
  ClaimResult r{"frei2023.global_max_margin", false, kNaN, tol, false, ""};
  if (!(margin > 0)) {
    r.detail = fmt::format("{} does not separate the data (normalized margin {:.6g}); competitors: {}", limit_name(lim),
                           margin, list);
    return r;
  }
  r.value = best != nullptr ? best->margin / margin : 0.0;
  r.passed = r.value <= tol;
  r.detail = fmt::format("{} normalized margin {:.8g}; best competitor {}; competitors: {}", limit_name(lim), margin,
                         best != nullptr ? fmt::format("{:.8g} ({}), ratio {:.8g}", best->margin, best->label, r.value)
                                         : std::string("none feasible"),
                         list);
  return r;
}

ClaimResult near_orthogonal(Context& c) {
  const Leaky2Net& net = c.net();
  const Index n = net.samples();
  const Eigen::VectorXd norms2 = net.gram.diagonal();
  const double r_min2 = norms2.minCoeff();
  const double ratio = std::sqrt(norms2.maxCoeff() / r_min2);
  const double p = (net.gram - Eigen::MatrixXd(norms2.asDiagonal())).cwiseAbs().maxCoeff();
  const double indicator = r_min2 / (static_cast<double>(n) * p * ratio * ratio);
  const double threshold = c.settings().regime_constant / net.gamma;
  const Polished candidate = polish(net, frei_pattern(net));
  const std::string rank2 = !candidate.feasible ? (candidate.capped ? polish_refusal(candidate) : "infeasible")
                            : candidate.active_signs == 0
                                ? fmt::format("strict, normalized margin {:.6g}", normalized_margin(net, candidate.W))
                                : fmt::format("NOT strict ({} pairs pushed onto their kink)", candidate.active_signs);
  return {"frei2023.near_orthogonal",
          indicator >= threshold,
          indicator,
          threshold,
          false,
          fmt::format(
              "regime {}: indicator R_min²/(n p R²) = {:.4g} vs our threshold {:g}/γ = {:.4g} (an indicator: the "
              "theorem's constant is not known to us); R_min² = {:.6g}, R = R_max/R_min = {:.5g}, p = max_{{i≠j}} "
              "|⟨x_i, x_j⟩| = {:.5g}, n = {}, γ = {:g}; Frei's rank-2 candidate (pattern sign(a_j y_i), polished): {}",
              indicator >= threshold ? "met" : "NOT met", indicator, c.settings().regime_constant, threshold, r_min2,
              ratio, p, n, net.gamma, rank2)};
}

ClaimResult check_one(Context& c, const std::string& name) {
  if (name == "frei2023.rank_le_2") return rank_le_2(c);
  if (name == "frei2023.two_families") return two_families(c);
  if (name == "frei2023.kkt") return kkt(c);
  if (name == "frei2023.linear_boundary") return linear_boundary(c);
  if (name == "frei2023.global_max_margin") return global_max_margin(c);
  return near_orthogonal(c);
}

ClaimNames requestable(const RunData& run) {
  if (run.kind != "leaky2_fixed_outer" || is_gd_run(run.config)) return {};
  return {"frei2023.rank_le_2",       "frei2023.two_families",      "frei2023.kkt",
          "frei2023.linear_boundary", "frei2023.global_max_margin", "frei2023.near_orthogonal"};
}

}  // namespace

const ClaimFamily& frei2023_family() {
  static const ClaimFamily family{
      {{"frei2023.rank_le_2", "σ₃/σ₁ of the limit direction ≤ 1e-10, certified"},
       {"frei2023.two_families", "rows with a_j > 0 mutually parallel, and rows with a_j < 0, certified"},
       {"frei2023.kkt", "the final direction is an (ε, δ)-KKT point with Clarke multipliers"},
       {"frei2023.linear_boundary", "sign f(x) = sign⟨z, x⟩ proven outside a thin wedge, checked on probes"},
       {"frei2023.global_max_margin", "no competitor has a larger normalized margin"},
       {"frei2023.near_orthogonal", "whether the data meet the theorem's nearly-orthogonal regime"}},
      requestable,
      requestable,
      [](const RunData& data, const ClaimNames& names) {
        const Leaky2Run run = leaky2_run(data);
        const Frei2023Settings settings;
        Context context(run, settings);
        VerifyOutcome outcome;
        for (const std::string& name : names) outcome.claims.push_back(check_one(context, name));
        const Limit& lim = context.limit();
        if (lim.accepted) outcome.finals = {theta_from_weights(lim.W), lim.lambda};
        return outcome;
      }};
  return family;
}

}  // namespace kktflow
