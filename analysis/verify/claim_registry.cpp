#include "analysis/verify/claim_registry.hpp"

#include "analysis/verify/frei2023_claims.hpp"
#include "analysis/verify/frei2023_gd_claims.hpp"
#include "analysis/verify/le2022_claims.hpp"
#include "analysis/verify/lyu2021_claims.hpp"
#include "analysis/verify/lyuli2020_claims.hpp"
#include "analysis/verify/soudry2018_claims.hpp"
#include "analysis/verify/timor2023_claims.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace kktflow {
namespace {

using Names = std::vector<std::string>;

/// The claims of one paper: what they are, which apply to a run, and how they are checked.
struct ClaimFamily {
  std::vector<ClaimInfo> claims;
  Names (*requestable)(const RunData&);  ///< may be asked for on this run
  Names (*applicable)(const RunData&);   ///< checked by default (a subset of requestable)
  VerifyOutcome (*check)(const RunData&, const Names&);
};

Names names_of(const std::vector<ClaimInfo>& claims) {
  Names out;
  for (const ClaimInfo& c : claims) out.push_back(c.name);
  return out;
}

bool frei_flow_run(const RunData& run) { return run.kind == "leaky2_fixed_outer" && !is_gd_run(run.config); }
bool frei_gd_run(const RunData& run) { return run.kind == "leaky2_fixed_outer" && is_gd_run(run.config); }

Names frei2023_requestable(const RunData& run) { return frei_flow_run(run) ? frei2023_claim_names() : Names{}; }
Names frei2023_gd_requestable(const RunData& run) { return frei_gd_run(run) ? frei2023_gd_claim_names() : Names{}; }
Names timor2023_requestable(const RunData& run) { return run.kind == "relu2" ? timor2023_claim_names() : Names{}; }
/// Lyu & Li's trajectory claims need the gradient flow; a GD run of a few steps has none to check.
Names lyuli2020_requestable(const RunData& run) { return frei_gd_run(run) ? Names{} : lyuli2020_applicable(run); }

const std::vector<ClaimFamily>& families() {
  static const std::vector<ClaimFamily> table{
      {{{"frei2023.rank_le_2", "σ₃/σ₁ of the limit direction ≤ 1e-10, certified"},
        {"frei2023.two_families", "rows with a_j > 0 mutually parallel, and rows with a_j < 0, certified"},
        {"frei2023.kkt", "the final direction is an (ε, δ)-KKT point with Clarke multipliers"},
        {"frei2023.linear_boundary", "sign f(x) = sign⟨z, x⟩ proven outside a thin wedge, checked on probes"},
        {"frei2023.global_max_margin", "no competitor has a larger normalized margin"},
        {"frei2023.near_orthogonal", "whether the data meet the theorem's nearly-orthogonal regime"}},
       frei2023_requestable, frei2023_requestable,
       [](const RunData& run, const Names& names) { return check_frei2023(leaky2_run(run), names); }},
      {{{"frei2023.gd_initial_srank", "srank(W⁰) against md/(√m + √d)² (Gaussian init)"},
        {"frei2023.gd_one_step_srank", "srank(W¹ − W⁰) against 1 + ((1 − γ)/(1 + γ))² on orthogonal data"}},
       frei2023_gd_requestable, frei2023_gd_requestable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_frei2023_gd(leaky2_run(run), names), {}}; }},
      {{{"timor2023.loss_reached", "L(θ_T) < 1e-4"},
        {"timor2023.rank2_limit", "a zero-loss limit has srank(W) = 2/(1 + |cos∡|), not rank 1"},
        {"timor2023.balancedness", "‖w_j‖² − ‖v_j‖² conserved"},
        {"timor2023.rank1_exists", "a rank-1 zero-loss net exists (Thm 1)"},
        {"timor2023.closed_form", "the closed-form limit s∞² = (s0² + √(s0⁴ + 4))/2"},
        {"timor2023.ensemble_rank2", "every seed that reaches zero loss has rank(W) = 2"},
        {"timor2023.thm3_probability", "the rank-2 event's frequency is at least Thm 3's bound"}},
       timor2023_requestable, timor2023_requestable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_timor2023(run, names), {}}; }},
      {{{"lyu2021.linear_max_margin", "normalized margin = (1+α)γ_lin/4 on symmetric data"},
        {"lyu2021.below_optimum", "without symmetric data the margin stops below the optimum"},
        {"lyu2021.svm_direction", "Σ_j a_j w_j is along the SVM direction"},
        {"lyu2021.conservation", "a_j² − ‖w_j‖² conserved"}},
       lyu2021_requestable, lyu2021_applicable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_lyu2021(run, names), {}}; }},
      {{{"le2022.relu_not_rank1", "some ReLU layer is not rank 1"},
        {"le2022.trailing_rank1", "trailing linear layers tend to rank 1"},
        {"le2022.alignment", "adjacent trailing layers align"},
        {"le2022.invariant", "W_{l+1}ᵀW_{l+1} − W_lW_lᵀ conserved"}},
       le2022_applicable, le2022_applicable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_le2022(run, names), {}}; }},
      {{{"soudry2018.svm_direction", "θ_T is along the hard-margin SVM direction"}},
       soudry2018_applicable, soudry2018_applicable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_soudry2018(run, names), {}}; }},
      {{{"lyuli2020.kkt", "θ_T/q_min^{1/L} is an approximate KKT point (NNLS multipliers)"},
        {"lyuli2020.normalized_margin", "the smoothed margin has caught up with the normalized margin"},
        {"lyuli2020.smoothed_margin_monotone", "the smoothed margin never decreases once L < ℓ(0)/n"},
        {"lyuli2020.kkt_rate", "ε_KKT falls as ‖θ‖ grows"}},
       lyuli2020_requestable, lyuli2020_requestable,
       [](const RunData& run, const Names& names) { return VerifyOutcome{check_lyuli2020(run, names), {}}; }},
  };
  return table;
}

const ClaimFamily* family_of(const std::string& name) {
  for (const ClaimFamily& f : families())
    for (const ClaimInfo& c : f.claims)
      if (c.name == name) return &f;
  return nullptr;
}

/// Every claim that may be asked for on `run`, in report order.
Names requestable_claims(const RunData& run) {
  Names out;
  for (const ClaimFamily& f : families())
    for (const std::string& name : f.requestable(run)) out.push_back(name);
  return out;
}

}  // namespace

const std::vector<ClaimInfo>& all_claims() {
  static const std::vector<ClaimInfo> claims = [] {
    std::vector<ClaimInfo> out;
    for (const ClaimFamily& f : families()) out.insert(out.end(), f.claims.begin(), f.claims.end());
    return out;
  }();
  return claims;
}

Names all_claim_names() { return names_of(all_claims()); }

Names applicable_claims(const RunData& run) {
  Names out;
  for (const ClaimFamily& f : families())
    for (const std::string& name : f.applicable(run)) out.push_back(name);
  return out;
}

VerifyOutcome verify_run(const RunData& run, const Names& names) {
  const Names requestable = requestable_claims(run);
  for (const std::string& name : names) {
    if (!family_of(name))
      throw std::invalid_argument(fmt::format("unknown claim '{}'; known claims: {}", name, fmt::join(all_claim_names(), ", ")));
    if (std::ranges::find(requestable, name) == requestable.end())
      throw std::invalid_argument(fmt::format("claim '{}' does not apply to model kind {}; claims that do: {}", name, run.kind,
                                              fmt::join(requestable, ", ")));
  }
  VerifyOutcome outcome;
  std::map<std::string, ClaimResult> by_name;
  for (const ClaimFamily& f : families()) {
    Names wanted;
    for (const std::string& name : names.empty() ? f.applicable(run) : names)
      if (family_of(name) == &f) wanted.push_back(name);
    if (wanted.empty()) continue;
    VerifyOutcome part = f.check(run, wanted);
    if (part.finals.polished_theta.size() > 0) outcome.finals = std::move(part.finals);
    for (ClaimResult& r : part.claims) {
      if (names.empty()) outcome.claims.push_back(r);
      by_name[r.name] = std::move(r);
    }
  }
  for (const std::string& name : names) outcome.claims.push_back(by_name.at(name));
  return outcome;
}

}  // namespace kktflow
