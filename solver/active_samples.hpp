#pragma once
/// \file active_samples.hpp
/// The samples whose loss weights can move the margins within a step, for the implicit
/// steppers' matrices I − hα J with J = K P or P K (switch_radau's Newton matrices,
/// active_newton.hpp; region_ros2's Rosenbrock matrix, region_margins.hpp).
///
/// P = ∂w/∂q = w wᵀ − diag(v) has rows and columns of size ~v_i, and with the exp or logistic
/// loss late in a run most v_i are below 1e-30 of the largest (samples far past the margin).
/// Setting a set I of them aside drops a part E of h α J with ‖E‖ ≤ 2 h |α| κ Σ_I v_i,
/// κ = max_k K_kk (≥ every |K_ki|, K positive semidefinite; the ∞-norm for K P, the 1-norm for
/// P K). I is the largest set of smallest v_i with that bound ≤ kDroppedPart (1e-2, ours): the
/// matrix changes by at most 1% of I. Below kMinReducedSize samples (256, ours) and when fewer
/// than a quarter of the samples can be set aside, nothing is: the saving would not pay for the
/// gathers.
#include <Eigen/Core>

#include <vector>

namespace kktflow {

struct SampleSplit {
  std::vector<Eigen::Index> active;    ///< sorted
  std::vector<Eigen::Index> inactive;  ///< sorted
};

/// Splits the samples by their P-diagonal v for a matrix I − hα J with scale = 2 h |α| κ; false
/// (and both sets empty) when the split does not pay.
bool split_samples(const Eigen::VectorXd& v, double scale, SampleSplit& split);

/// x at `index`, in its order.
template <class Vector>
Vector gather(const Vector& x, const std::vector<Eigen::Index>& index) {
  Vector out(static_cast<Eigen::Index>(index.size()));
  for (std::size_t r = 0; r < index.size(); ++r) out[static_cast<Eigen::Index>(r)] = x[index[r]];
  return out;
}

/// K's rows `rows` and columns `cols`.
template <class Matrix>
Matrix submatrix(const Matrix& K, const std::vector<Eigen::Index>& rows, const std::vector<Eigen::Index>& cols) {
  Matrix out(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t c = 0; c < cols.size(); ++c)
    for (std::size_t r = 0; r < rows.size(); ++r)
      out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = K(rows[r], cols[c]);
  return out;
}

}  // namespace kktflow
