#pragma once
/// \file claim_result.hpp
/// What checking a claim yields: one verdict with the figure it rests on, and what `kktflow
/// verify` keeps besides the verdicts (the polished limit and its multipliers).
#include <Eigen/Core>

#include <limits>
#include <string>
#include <vector>

namespace kktflow {

/// One checked claim: a row of the run file's /verify group.
struct ClaimResult {
  std::string name;
  bool passed = false;
  double value = std::numeric_limits<double>::quiet_NaN();      ///< the figure the verdict rests on
  double tolerance = std::numeric_limits<double>::quiet_NaN();  ///< the bound it is compared with
  bool certified = false;  ///< value is a rigorous bound (interval arithmetic), not a float estimate
  std::string detail;
  /// Neither passed nor failed: a claim that is a certificate could not be established (the
  /// reason is in detail). passed is false; verify reports NOT CERTIFIED and does not count it
  /// as a failure, since a missing proof is no evidence against the theorem.
  bool not_certified = false;
};

/// What verify writes besides the rows; empty vectors are not written.
struct VerifyFinals {
  Eigen::VectorXd polished_theta;
  Eigen::VectorXd lambda;
};

/// The verdicts on one run and what verify writes besides them.
struct VerifyOutcome {
  std::vector<ClaimResult> claims;
  VerifyFinals finals;  ///< empty unless a polished limit was accepted
};

}  // namespace kktflow
