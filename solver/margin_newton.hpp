#pragma once
/// \file margin_newton.hpp
/// switch_radau's simplified-Newton matrices M = I − hα K P for the margins' ODE dq/dτ = K w(q)
/// inside a region: K the region Gram (symmetric positive semidefinite), P = ∂w/∂q = w wᵀ − V
/// with V = diag(v), v = w ρ ≥ 0 (MarginLoss::weights_jacobian_diagonal), and α = μ (real) or ν
/// (complex, Re ν > 0, Im ν > 0), eigenvalues of Radau IIA's A.
///
/// With D = V^{1/2} and s = D⁻¹w (0 where v = 0), P = −D (I − s sᵀ) D. Where σ = ‖s‖² ≤ 1 (exp:
/// σ = Σ w = 1, P the softmax Jacobian) I − s sᵀ = R² with R = I − c s sᵀ, c = 1/(1 + √(1 − σ)),
/// and the push-through identity gives, with the symmetric
///   S = I + hα R D K D R,
/// M⁻¹ = I − hα K D R S⁻¹ R D and M⁻ᵀ = I − hα D R S⁻¹ R D K.
/// Otherwise (logistic: σ ≥ 1) M = N − hα u wᵀ, N = I + hα K V, u = K w: N⁻¹ comes from
/// S = I + hα D K D as above with R = I, and Sherman–Morrison adds the rank-one term,
/// M⁻¹ b = N⁻¹b + hα (wᵀN⁻¹b) / (1 − hα wᵀN⁻¹u) N⁻¹u (for Mᵀ, u and w swapped). That form loses
/// ~u·h‖K V‖ of relative accuracy to cancellation when σ = 1 (backward error 1e-5 at h = 1e8 in
/// the unit test), which the projected form avoids.
///
/// S = L Lᵀ without pivoting and without conjugation: Cholesky for real α; for complex α the
/// complex-symmetric factorization, stable without pivoting when Re S and Im S are positive
/// (semi)definite (Higham 1998, Math. Comp. 67(224), growth factor ≤ 3): here Re S ⪰ I and
/// Im S = h Im(α) D K D ⪰ 0. At n = 1000 the two take 7 ms and 19 ms where LAPACK's LUs of M take
/// 14 ms (dgetrf) and 31 ms (zgetrf). Their trailing updates are shared by the product threads,
/// the same bits on any number of them (9.1 and 33.9 ms on one thread of this machine, 5.9 and
/// 20.7 ms on two; at n = 320, 0.55 and 1.86 ms against 0.40 and 1.43). The factors stay in
/// double: in single precision (cgetrf, 17 ms) Newton contracts too slowly where the matrices'
/// condition reaches ~1e5 (91 more refused steps at (1000, 10000, 1000) from log t 130).
#include <Eigen/Core>

#include <complex>

namespace kktflow {

/// P = w wᵀ − V written as −D (I − s sᵀ) D: D = V^{1/2}, s = D⁻¹w (0 where v = 0), and whether
/// σ = ‖s‖² ≤ 1 up to rounding, where P is negative semidefinite and the projected form applies.
struct ScaledWeights {
  Eigen::VectorXd d, s;
  double sigma = 0;  ///< ‖s‖²
  bool projected = false;
};
ScaledWeights scale_weights(const Eigen::VectorXd& w, const Eigen::VectorXd& v);

/// J = K P at one point in the form both factorizations take: D, s, R and the real, symmetric
/// R D K D R (with R = I in the Sherman–Morrison form), formed once for the real and the complex one.
class MarginJacobian {
 public:
  /// Keeps a reference to K: it must outlive this and the factors made from it.
  void compute(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, const Eigen::VectorXd& v);

  const Eigen::MatrixXd& gram() const { return *m_K; }
  const Eigen::MatrixXd& reduced() const { return m_reduced; }  ///< R D K D R
  const Eigen::VectorXd& d() const { return m_d; }
  const Eigen::VectorXd& s() const { return m_s; }
  const Eigen::VectorXd& w() const { return m_w; }
  const Eigen::VectorXd& u() const { return m_u; }  ///< K w (Sherman–Morrison form only)
  bool projected() const { return m_projected; }
  double c() const { return m_c; }

 private:
  const Eigen::MatrixXd* m_K = nullptr;
  Eigen::MatrixXd m_reduced;
  Eigen::VectorXd m_d, m_s, m_w, m_u;
  bool m_projected = false;  ///< σ ≤ 1: the projected form, no rank-one term
  double m_c = 0;            ///< R = I − c s sᵀ
};

/// The factors of M = I − hα J, for Scalar = double or std::complex<double>.
template <class Scalar>
class MarginNewton {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  /// Keeps a reference to J: it must outlive the solves. Reuses the storage of the last factors
  /// (8 and 16 MB at n = 1000).
  void compute(const MarginJacobian& J, Scalar h_alpha);
  /// M⁻¹ b, or M⁻ᵀ b with `transposed` (the transpose, not the conjugate transpose).
  Vector solve(const Vector& b, bool transposed = false) const;

 private:
  Vector solve_n(const Vector& b) const;             ///< N⁻¹ b (M⁻¹ b in the projected form)
  Vector solve_n_transposed(const Vector& b) const;  ///< N⁻ᵀ b
  Vector solve_s(Vector b) const;                    ///< S⁻¹ b
  Vector times_k(const Vector& b) const;             ///< K b
  Vector times_r(Vector b) const;                    ///< R b
  Vector times_d(const Vector& b) const;             ///< D b

  const MarginJacobian* m_J = nullptr;
  Scalar m_h_alpha{}, m_denominator{};
  Vector m_z, m_z_transposed;  ///< Sherman–Morrison form: N⁻¹u, N⁻ᵀw
  Matrix m_L;                  ///< S = L Lᵀ in the lower triangle
};

}  // namespace kktflow
