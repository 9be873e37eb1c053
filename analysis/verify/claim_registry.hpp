#pragma once
/// \file claim_registry.hpp
/// Every claim `kktflow verify` knows, family by family (one family per paper, one file each),
/// and the one entry point that checks a run held in memory:
///
///   frei2023      frei2023_claims.hpp     fixed-outer leaky-ReLU net, gradient flow
///   frei2023 GD   frei2023_gd_claims.hpp  the same net trained by plain gradient descent
///   timor2023     timor2023_claims.hpp    depth-2 ReLU net, square loss
///   lyu2021       lyu2021_claims.hpp      two-layer leaky net, both layers trained
///   le2022        le2022_claims.hpp       deep ReLU/linear nets
///   soudry2018    soudry2018_claims.hpp   linear predictor
///   lyuli2020     lyuli2020_claims.hpp    any homogeneous model on a margin loss
///   lyuli2020     limit_certificate_claims.hpp  the certified limit: fixed-outer net, linear model
///
/// A family says which of its claims apply to a run (by default) and which may be asked for;
/// the registry reports in family order, or in the order asked.
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// Every claim, in report order.
const std::vector<ClaimInfo>& all_claims();

/// Every claim name, in report order.
std::vector<std::string> all_claim_names();

/// The claims checked on `run` by default, in report order.
std::vector<std::string> applicable_claims(const RunData& run);

/// Checks `names` on `run` (applicable_claims(run) when empty), reporting in the order given.
/// Throws std::invalid_argument for a name that is unknown or does not apply to the run's
/// model, listing the claims that do.
VerifyOutcome verify_run(const RunData& run, const std::vector<std::string>& names = {});

}  // namespace kktflow
