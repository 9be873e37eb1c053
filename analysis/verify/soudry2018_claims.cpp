#include "analysis/verify/soudry2018_claims.hpp"

#include "analysis/verify/model_run.hpp"
#include "analysis/verify/svm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace kktflow {
namespace {

ClaimResult svm_direction(const RunData& run, const Soudry2018Settings& s) {
  ClaimResult r{"soudry2018.svm_direction", false, std::numeric_limits<double>::infinity(),
                s.direction_tolerance,      false, ""};
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

const ClaimFamily& soudry2018_family() {
  static const ClaimFamily family{
      {{"soudry2018.svm_direction", "θ_T is along the hard-margin SVM direction"}},
      [](const RunData& run) { return run.kind == "linear" ? ClaimNames{"soudry2018.svm_direction"} : ClaimNames{}; },
      [](const RunData& run) { return soudry2018_family().requestable(run); },
      [](const RunData& run, const ClaimNames& names) {
        VerifyOutcome outcome;
        if (!names.empty()) outcome.claims.push_back(svm_direction(run, Soudry2018Settings{}));
        return outcome;
      }};
  return family;
}

}  // namespace kktflow
