#pragma once
/// \file soudry2018_claims.hpp
/// Soudry, Hoffer, Nacson, Gunasekar, Srebro (JMLR 2018), "The implicit bias of gradient descent
/// on separable data": the linear predictor's direction tends to the hard-margin SVM direction
/// w*, at rate O(1/log t). What `kktflow verify` checks on linear runs:
///
///  soudry2018.svm_direction   ∠(θ_T, w*) ≤ direction_tolerance rad
#include "analysis/verify/claim_result.hpp"
#include "analysis/verify/run_data.hpp"

#include <string>
#include <vector>

namespace kktflow {

struct Soudry2018Settings {
  double direction_tolerance = 1e-2;  ///< rad, ours: ≈ 2.8/log t measured at log t = 1000
};

/// The claim names above, in the order verify reports them.
const std::vector<std::string>& soudry2018_claim_names();

/// The claims above that apply to this run (linear models only).
std::vector<std::string> soudry2018_applicable(const RunData& run);

/// Evaluates `names` (every applicable claim when empty). Throws std::invalid_argument for a
/// name not among soudry2018_claim_names().
std::vector<ClaimResult> check_soudry2018(const RunData& run, const std::vector<std::string>& names,
                                          const Soudry2018Settings& settings = {});

}  // namespace kktflow
