#pragma once
/// \file newton_lu.hpp
/// LU factors of a simplified-Newton matrix through LAPACK's getrf/getrs (OpenBLAS ships them),
/// real or complex. switch_radau factors a real and a complex matrix of order n at every
/// attempt; at n = 1000 zgetrf takes 0.031 s where Eigen's complex PartialPivLU took 0.046 s.
/// Single-precision factors (cgetrf: 0.017 s) were tried and dropped: at (1000, 10000, 1000)
/// from log t 130 they cost 91 more refused steps (Newton contracting too slowly where the
/// matrices' condition reached ~1e5), 46 with only the complex factor in single precision.
#include <Eigen/Core>

#include <complex>
#include <vector>

namespace kktflow {

/// For Scalar = double or std::complex<double>.
template <class Scalar>
class NewtonLU {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// Factors M (square), evaluated into the storage of the last factors (an attempt's matrices
  /// at n = 1000 are 8 and 16 MB: fresh ones cost page faults and zeroing every attempt). A
  /// singular M leaves factors whose solves give non-finite values, which the Newton iteration
  /// takes for divergence.
  template <class Derived>
  void compute(const Eigen::MatrixBase<Derived>& M) {
    m_lu = M;
    factor();
  }
  /// M⁻¹ b, or M⁻ᵀ b with `transposed` (the transpose, not the conjugate transpose).
  Vector solve(const Vector& b, bool transposed = false) const;

 private:
  void factor();

  Matrix m_lu;
  std::vector<int> m_pivots;
};

}  // namespace kktflow
