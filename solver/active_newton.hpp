#pragma once
/// \file active_newton.hpp
/// switch_radau's two simplified-Newton matrices M = I − hα J, J = K P (margin_newton.hpp),
/// factored on the samples whose loss weights can move the margins within a step, and exact
/// block elimination for the rest.
///
/// With the samples I whose weights cannot move the margins within the step set aside and the
/// others A (active_samples.hpp), P ≈ [P_AA 0; 0 0], so J ≈ [J_AA 0; J_IA 0] and
///   M ≈ [M_AA 0; −hα K_IA P_AA  I]:
///   M⁻¹ b:  x_A = M_AA⁻¹ b_A,                       x_I = b_I + hα K_IA P_AA x_A;
///   M⁻ᵀ b:  x_A = M_AA⁻ᵀ (b_A + hα P_AA K_AI b_I),  x_I = b_I.
/// The factorizations cost O(|A|³) instead of O(n³). The Newton matrix changes by at most 1% of
/// I, which changes its contraction rate by about as much, and the converged stages not at all
/// (simplified Newton converges to the collocation solution whatever its matrix, while it
/// contracts).
#include "active_samples.hpp"
#include "margin_newton.hpp"

#include <Eigen/Core>

#include <complex>
#include <vector>

namespace kktflow {

class ActiveSetNewton {
 public:
  /// Factors I − h μ J and I − h ν J for J = K P at weights w and P's diagonal part v. Keeps a
  /// reference to K: it must outlive the solves.
  void compute(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v, double h, double mu,
               std::complex<double> nu);
  /// M = I for both: where h|α| bounds J's spectral radius far below 1 (switch_radau's early steps),
  /// simplified Newton on I contracts about as fast as on the factors, which then cost more than
  /// the iterations they save.
  void set_identity(Eigen::Index n) {
    m_n = n;
    m_identity = true;
    m_reduced = false;
  }
  /// (I − h μ J)⁻¹ b, or its transpose's inverse with `transposed`.
  Eigen::VectorXd solve_real(const Eigen::VectorXd& b, bool transposed = false) const;
  /// (I − h ν J)⁻¹ b.
  Eigen::VectorXcd solve_complex(const Eigen::VectorXcd& b) const;
  /// The samples the last compute() factored (all of them when it did not reduce).
  Eigen::Index active_size() const {
    return m_identity ? 0 : m_reduced ? static_cast<Eigen::Index>(m_split.active.size()) : m_n;
  }

 private:
  template <class Scalar>
  Eigen::Matrix<Scalar, Eigen::Dynamic, 1> solve_blocks(const MarginNewton<Scalar>& newton, Scalar h_alpha,
                                                        const Eigen::Matrix<Scalar, Eigen::Dynamic, 1>& b,
                                                        bool transposed) const;
  /// P_AA x = w_A (w_Aᵀ x) − v_A ∘ x.
  template <class Vector>
  Vector times_p(const Vector& x) const;

  Eigen::Index m_n = 0;
  bool m_reduced = false;
  bool m_identity = false;
  double m_h = 0, m_mu = 0;
  std::complex<double> m_nu;
  SampleSplit m_split;
  Eigen::MatrixXd m_K_AA, m_K_IA;
  Eigen::VectorXd m_w_A, m_v_A;
  MarginJacobian m_jacobian;
  MarginNewton<double> m_real;
  MarginNewton<std::complex<double>> m_complex;
};

}  // namespace kktflow
