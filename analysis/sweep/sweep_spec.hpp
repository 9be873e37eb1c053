#pragma once
/// \file sweep_spec.hpp
/// The sweep file of `kktflow sweep` (docs/sweeps.md): a base run configuration and the cases
/// to run from it, each a list of `--set section.key=value` overrides.
///
///   base = "../configs/tiny.toml"   # required, relative to the sweep file
///   mode = "grid"                   # "grid": every combination of [grid]; "list": the [[case]] tables;
///                                   # "continuation": along one key, [continuation]
///   claims = ["frei2023.rank_le_2"] # optional: the claims verify checks (default: all that apply)
///   budget_s = 600                  # optional: no case starts after this many wall seconds
///   [set]                           # optional: overrides every case shares
///   "stop.kkt_eps" = 1e-4
///   [grid]                          # key = [values]; keys in name order, the last varies fastest
///   "data.d" = [50, 100]
///   seed = [1, 2]
///   [[case]]                        # mode = "list": one table per case
///   "model.gamma" = 0.1
///   [continuation]                  # mode = "continuation" (sweep_continuation.hpp)
///   key = "data.shift"              # the config key followed, a number
///   from = 1.5                      # the first case (from its base θ(0))
///   to = 0.5                        # the last
///   step = 0.25                     # the first step; doubled while the limit keeps its signature
///   max_step = 0.5                  # optional: default 4 × step
///   locate_tol = 0.01               # optional: a change is bracketed to this width; default step / 16
///   support_tol = 1e-3              # optional: margins within this (relative) of the least are the
///                                   # support set; default 1e-3
///
/// Keys are written quoted ("data.d") or as TOML dotted keys (data.d); either names the config
/// key section.key. TOML tables are unordered, so keys come in name order (toml++ keeps tables
/// sorted), in [grid] and in every [[case]] alike. Whether a key exists and a value is in range is the run
/// configuration's business: the caller loads every case's configuration before anything runs.
#include "analysis/io/sweep_index.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kktflow {

/// A malformed sweep file; the message names the key, the bad value and what is allowed.
struct SweepError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// One case: its position in the sweep and the overrides that make it.
struct SweepCase {
  int index = 0;
  /// (config key, value as TOML text) of every swept key, in the sweep's key order.
  std::vector<std::pair<std::string, std::string>> params;
  /// The sweep's [set] overrides followed by params, as "section.key=value" for load_config.
  std::vector<std::string> overrides;
  /// "data.d=50 seed=1": the params, for messages and the index.
  [[nodiscard]] std::string label() const;
};

/// mode = "continuation": follow the limit along one numeric key (sweep_continuation.hpp).
struct ContinuationSpec {
  std::string key;
  double from = 0;
  double to = 0;
  double step = 0;         ///< > 0; the direction is that of to − from
  double max_step = 0;     ///< ≥ step
  double locate_tol = 0;   ///< in (0, step]
  double support_tol = 0;  ///< in (0, 1)
};

struct SweepSpec {
  std::string path;                 ///< the sweep file
  std::string text;                 ///< its contents, stored in the index
  std::string base_config;          ///< the base run configuration, resolved against the sweep file's directory
  std::string mode;                 ///< "grid", "list" or "continuation"
  std::vector<std::string> keys;    ///< swept keys, in order
  std::vector<std::string> claims;  ///< claims to verify; empty: every claim that applies
  double budget_s = 0;              ///< wall seconds after which no case starts; 0: no budget
  std::vector<SweepCase> cases;     ///< grid and list; continuation makes its cases as it goes
  std::vector<std::string> shared;  ///< the [set] overrides, as "section.key=value"
  ContinuationSpec continuation;    ///< mode = "continuation"
};

/// `value` as the shortest TOML float text that reads back to it (0.3, 1.0, 1e-05).
std::string toml_float_text(double value);

/// What the sweep index records about `spec` (its root attributes).
SweepDescription describe_sweep(const SweepSpec& spec);

/// Reads and expands a sweep file. Throws SweepError naming the key, the value and the allowed
/// values or range; a grid or list with no case is an error too.
SweepSpec read_sweep_file(const std::string& path);

}  // namespace kktflow
