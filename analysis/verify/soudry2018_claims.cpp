#include "analysis/verify/soudry2018_claims.hpp"

#include "analysis/verify/model_run.hpp"
#include "analysis/verify/svm.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace kktflow {
namespace {

ClaimResult svm_direction(const RunData& run, const Soudry2018Settings& s) {
  ClaimResult r{"soudry2018.svm_direction", false, std::numeric_limits<double>::infinity(), s.direction_tolerance, false,
                ""};
  const LinearSvm lin = hard_margin_svm(run.X, run.y);
  if (!lin.separable) {
    r.detail = "the data are not linearly separable: no SVM direction";
    return r;
  }
  r.value = angle(run.theta_final, lin.w);
  r.passed = r.value <= s.direction_tolerance;
  r.detail = fmt::format("∠(θ_T, w*) = {:.3e} rad at log t = {:.4g} (Soudry et al. 2018: O(1/log t)); γ_lin = {:.8g}",
                         r.value, run.trajectory.empty() ? 0.0 : run.trajectory.back().log_t, lin.margin);
  return r;
}

}  // namespace

const std::vector<std::string>& soudry2018_claim_names() {
  static const std::vector<std::string> names{"soudry2018.svm_direction"};
  return names;
}

std::vector<std::string> soudry2018_applicable(const RunData& run) {
  return run.kind == "linear" ? soudry2018_claim_names() : std::vector<std::string>{};
}

std::vector<ClaimResult> check_soudry2018(const RunData& run, const std::vector<std::string>& names,
                                          const Soudry2018Settings& settings) {
  const auto& known = soudry2018_claim_names();
  for (const std::string& name : names)
    if (std::ranges::find(known, name) == known.end())
      throw std::invalid_argument(fmt::format("unknown claim '{}'; Soudry et al.'s: {}", name, fmt::join(known, ", ")));
  std::vector<ClaimResult> out;
  if (!names.empty() || !soudry2018_applicable(run).empty()) out.push_back(svm_direction(run, settings));
  return out;
}

}  // namespace kktflow
