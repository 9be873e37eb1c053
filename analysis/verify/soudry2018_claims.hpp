#pragma once
/// \file soudry2018_claims.hpp
/// Soudry, Hoffer, Nacson, Gunasekar, Srebro (JMLR 2018), "The implicit bias of gradient descent
/// on separable data": the linear predictor's direction tends to the hard-margin SVM direction
/// w*, at rate O(1/log t). What `kktflow verify` checks on linear runs:
///
///  soudry2018.svm_direction   ∠(θ_T, w*) ≤ direction_tolerance rad
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

struct Soudry2018Settings {
  double direction_tolerance = 1e-2;  ///< rad, ours: ≈ 2.8/log t measured at log t = 1000
};

/// The claim above, with the default settings, for linear runs.
const ClaimFamily& soudry2018_family();

}  // namespace kktflow
