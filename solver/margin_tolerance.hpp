#pragma once
/// \file margin_tolerance.hpp
/// How far the late phase lets the differences of the margins that carry weight move by anything
/// but the flow. The loss weights w_i ∝ e^{−q_i} depend on those O(1) differences alone while the
/// margins themselves grow like ‖θ‖^L, so an error that is small next to q can still reweight the
/// samples: a step (margin_ros_stepper.cpp) and a capture's projection onto the kinks
/// (sliding_policy.cpp) are held to the same bound.
#include <Eigen/Dense>

#include <algorithm>
#include <limits>

namespace kktflow {

/// Ours: the change a step or a capture may leave in the differences of the margins that carry
/// weight, i.e. in log w: 1%. (Late, measured on lyu2021_symmetric, a step leaves ~3e−5.)
inline constexpr double kMarginTol = 1e-2;
/// Ours: e^{−40} ≈ 4e−18, a weight below double's resolution next to one of O(1).
inline constexpr double kRelevantGap = 40;

/// max − min of dq over the samples within kRelevantGap of the least margin q: how much dq moves
/// the differences of the margins that carry weight (the least margin's sample is always among
/// them, so the bounds are finite).
inline double relevant_spread(const Eigen::VectorXd& q, const Eigen::VectorXd& dq) {
  const double q_min = q.minCoeff();
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (Eigen::Index i = 0; i < q.size(); ++i) {
    if (q[i] - q_min > kRelevantGap) continue;
    lo = std::min(lo, dq[i]);
    hi = std::max(hi, dq[i]);
  }
  return hi - lo;
}

}  // namespace kktflow
