#include "analysis/verify/tolerance_source.hpp"

#include <map>

namespace kktflow {

std::string tolerance_source(const std::string& claim) {
  // As docs/claims.md gives them, claim by claim: a claim added without an entry here shows
  // "unstated" rather than a source nobody checked.
  static const std::map<std::string, std::string> kSources{
      {"frei2023.rank_le_2", "ours"},
      {"frei2023.two_families", "ours"},
      {"frei2023.kkt", "ours"},
      {"frei2023.linear_boundary", "ours"},
      {"frei2023.global_max_margin", "ours"},
      {"frei2023.near_orthogonal", "ours"},
      {"frei2023.gd_initial_srank", "ours"},
      {"frei2023.gd_one_step_srank", "ours"},
      {"lyuli2020.smoothed_margin_monotone", "ours"},
      {"lyuli2020.kkt_rate", "ours"},
      {"lyuli2020.kkt", "ours"},
      {"lyuli2020.normalized_margin", "ours"},
      {"lyuli2020.limit_certified", "the proof's"},
      {"lyu2021.linear_max_margin", "ours"},
      {"lyu2021.below_optimum", "ours"},
      {"lyu2021.svm_direction", "ours"},
      {"lyu2021.conservation", "ours"},
      {"le2022.trailing_rank1", "ours"},
      {"le2022.relu_not_rank1", "ours"},
      {"le2022.alignment", "ours"},
      {"le2022.invariant", "ours"},
      {"soudry2018.svm_direction", "ours"},
      {"timor2023.loss_reached", "Timor et al. §3.2"},
      {"timor2023.rank2_limit", "Timor et al. §3.2; ours"},
      {"timor2023.balancedness", "ours"},
      {"timor2023.rank1_exists", "ours"},
      {"timor2023.closed_form", "ours"},
      {"timor2023.ensemble_rank2", "ours"},
      {"timor2023.thm3_probability", "Timor et al. Thm 3; ours"},
  };
  const auto it = kSources.find(claim);
  return it == kSources.end() ? "unstated" : it->second;
}

}  // namespace kktflow
