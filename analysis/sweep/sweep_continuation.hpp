#pragma once
/// \file sweep_continuation.hpp
/// `mode = "continuation"` of `kktflow sweep`: follow the limit of gradient flow along
/// one numeric config key p from `from` to `to`, case after case, each warm-started from the
/// previous case's limit direction (init.theta_file, scaled to the late phase by init.margin;
/// problems/init.hpp), so that one branch of KKT points is followed rather than found afresh.
///
/// The signature of a limit θ_T: its support set S = {i : q̄_i ≤ q̄_min + support_tol |q̄_min|},
/// q̄_i = y_i f(x_i; θ_T)/‖θ_T‖^L, and its activation pattern (the sign of every switch function,
/// 0 at a kink: |s_k| ≤ kKinkThreshold max_k |s_k|, for the fixed-outer net kkt.hpp's per-pair test).
/// Stepping (ours): from p, try p + h toward `to`; if the signature is unchanged accept it and
/// double h (up to max_step); if it changed, bisect between the last two cases, each midpoint
/// warm-started from the lower end's limit, until the bracket is at most locate_tol wide, record
/// the change (bracket, signatures before and after), and go on with h = step from the case that
/// revealed the change (from the bracket's far end if that case differs from it again). Two
/// changes closer together than the step that spans them may be recorded as one.
///
/// The cases are numbered in the order they run; their parameter values are in /params/<key> and
/// /continuation/value of the index, the changes in /continuation/changes (docs/file-format.md).
/// The sequence of cases depends only on the limits found, so re-running a killed continuation
/// replays it, skipping every case whose file is complete.
#include "analysis/io/sweep_index.hpp"
#include "analysis/sweep/sweep_runner.hpp"
#include "analysis/sweep/sweep_spec.hpp"

#include <Eigen/Dense>

#include <functional>
#include <string>
#include <vector>

namespace kktflow {

/// What identifies a limit's branch: its support set and activation pattern.
struct LimitSignature {
  std::vector<Eigen::Index> support;  ///< sorted sample indices
  std::string pattern;                ///< one of '+', '-', '0' per switch function; "" for linear models

  [[nodiscard]] std::string support_text() const;  ///< "0,1,2"
  [[nodiscard]] bool same_branch(const LimitSignature& other) const {
    return support == other.support && pattern == other.pattern;
  }
};

/// The signature of the final θ of a finished run file. Throws h5::Error when the file has no
/// final θ (an unfinished or failed run), std::invalid_argument for a relu2 run (no margins).
LimitSignature read_limit_signature(const std::string& run_file, double support_tol);

/// The resolved run configuration (RunConfig::resolved_toml) of the base config with these
/// overrides; throws ConfigError (the app's) naming the key and value.
using ConfigResolver = std::function<std::string(const std::vector<std::string>& overrides)>;

struct ContinuationOutcome {
  SweepOutcome sweep;
  ContinuationRecord record;
  std::string stopped;  ///< why the branch was left before `to` ("" when it reached `to`)
};

/// Runs the continuation of `spec` (mode "continuation") into opts.dir, one case at a time
/// (opts.jobs is not used: every case waits for its predecessor's limit).
ContinuationOutcome run_continuation(const SweepSpec& spec, const ConfigResolver& resolve, const SweepOptions& opts);

}  // namespace kktflow
