#pragma once
/// \file leaky2_run.hpp
/// A run of the fixed-outer leaky-ReLU net as its claims read it: the net (data, outer layer, γ)
/// and the weights as m × d matrices.
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/run_data.hpp"

#include <string>
#include <vector>

namespace kktflow {

struct Leaky2Run {
  Leaky2Net net;
  Eigen::MatrixXd W_final;                 ///< θ_T as m × d
  std::vector<Eigen::MatrixXd> snapshots;  ///< the snapshots as m × d, θ(0) first
  std::vector<Record> trajectory;          ///< every trajectory row
  std::string loss;                        ///< "exp" or "logistic"
  double rel_tol = 0;                      ///< flow.rel_tol
};

/// The view of a leaky2_fixed_outer run. Throws std::invalid_argument when `data` is of another
/// kind, lacks the outer layer or γ, or its sizes disagree.
Leaky2Run leaky2_run(const RunData& data);

}  // namespace kktflow
