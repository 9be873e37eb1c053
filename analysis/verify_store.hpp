#pragma once
/// \file verify_store.hpp
/// What `kktflow verify` reads from a run file and what it writes back (DESIGN §4):
///   /verify            one row per claim (dimension scale "claim"): name, passed, value,
///                      tolerance, certified, detail; replaced as a whole on every verify;
///   /final/polished_theta, /final/lambda   the polished limit and its KKT multipliers.
#include "analysis/h5.hpp"
#include "analysis/kkt.hpp"
#include "solver/record.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kktflow {

/// The parts of a finished run of the fixed-outer leaky-ReLU net that the claims need.
struct RunInput {
  Leaky2Net net;
  Eigen::MatrixXd W_final;                  ///< /final/theta as m × d
  std::vector<Eigen::MatrixXd> snapshots;   ///< /snapshots/theta rows as m × d, in order
  std::vector<Record> trajectory;           ///< every complete /trajectory row
  std::string loss;                         ///< /model attribute loss: "exp" or "logistic"
  double rel_tol = 0;                       ///< flow.rel_tol of the resolved configuration
};

/// Reads a run. Throws h5::Error when the file is not a finished kktflow run (or is damaged) and
/// std::invalid_argument when its model is not leaky2_fixed_outer (the only one verify knows).
RunInput read_run_input(const std::string& path);

/// Every complete /snapshots/theta row of the open run file's root group, θ(0) first.
std::vector<Eigen::VectorXd> read_snapshot_thetas(const h5::Group& root);

/// flow.rel_tol of the resolved TOML configuration `config` (the root attribute) of the file `path`.
/// Throws h5::Error when it holds none.
double config_rel_tol(const std::string& path, const std::string& config);

/// One row of /verify.
struct ClaimResult {
  std::string name;
  bool passed = false;
  double value = std::numeric_limits<double>::quiet_NaN();      ///< the figure the verdict rests on
  double tolerance = std::numeric_limits<double>::quiet_NaN();  ///< the bound it is compared with
  bool certified = false;  ///< value is a rigorous bound (interval arithmetic), not a float estimate
  std::string detail;
};

/// What verify writes besides the rows; empty vectors are not written.
struct VerifyFinals {
  Eigen::VectorXd polished_theta;
  Eigen::VectorXd lambda;
};

/// The rows of /verify in the run file `path`, with their details; empty when the run has not
/// been verified. Throws h5::Error when the file cannot be read.
std::vector<ClaimResult> read_verify(const std::string& path);

/// Replaces /verify with `rows` and writes the non-empty finals, then flushes.
/// Throws h5::Error.
void write_verify(const std::string& path, const std::vector<ClaimResult>& rows, const VerifyFinals& finals);

}  // namespace kktflow
