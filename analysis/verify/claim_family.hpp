#pragma once
/// \file claim_family.hpp
/// The claims of one paper as the registry (claim_registry.hpp) holds them: what each checks,
/// which apply to a run, and how they are checked. Each paper's file defines one family.
#include "analysis/verify/claim_result.hpp"
#include "analysis/verify/run_data.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// One claim: its name and what it checks, in a line.
struct ClaimInfo {
  std::string name;
  std::string summary;
};

using ClaimNames = std::vector<std::string>;

struct ClaimFamily {
  std::vector<ClaimInfo> claims;              ///< in report order
  ClaimNames (*requestable)(const RunData&);  ///< the claims that may be asked for on this run
  ClaimNames (*applicable)(const RunData&);   ///< those checked by default (a subset)
  /// Checks `names`, requestable on `run` (the registry has made sure), in the order given.
  VerifyOutcome (*check)(const RunData& run, const ClaimNames& names);
};

}  // namespace kktflow
