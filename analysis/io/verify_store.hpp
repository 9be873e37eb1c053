#pragma once
/// \file verify_store.hpp
/// What `kktflow verify` reads from a run file and what it writes back:
///   /verify            one row per claim (dimension scale "claim"): name, passed, value,
///                      tolerance, certified, detail; replaced as a whole on every verify;
///   /final/polished_theta, /final/lambda   the polished limit and its KKT multipliers.
#include "analysis/verify/claim_result.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// The rows of /verify in the run file `path`, with their details; empty when the run has not
/// been verified. Throws h5::Error when the file cannot be read.
std::vector<ClaimResult> read_verify(const std::string& path);

/// Replaces /verify with `rows` and writes the non-empty finals, then flushes.
/// Throws h5::Error.
void write_verify(const std::string& path, const std::vector<ClaimResult>& rows, const VerifyFinals& finals);

}  // namespace kktflow
