#pragma once
/// \file enclosure.hpp
/// Enclosures of exact real results computed from doubles, for the limit certificate
/// (limit_certificate.hpp). Round-to-nearest must be in effect when these are called.
///
///  - dot2: Ogita, Rump & Oishi's accurate dot product (SIAM J. Sci. Comput. 26, 2005, Alg. 5.3).
///    Error-free transformations (TwoProduct by FMA: x_i y_i = h_i + r_i; TwoSum along the
///    cascade p_i = fl(p_{i−1} + h_i), error q_i) give xᵀy = p_n + Σ_i (q_i + r_i) exactly. Only
///    the correction sum s of the t_i = q_i + r_i is rounded: recursive summation gives
///    |s − Σ t_i| ≤ γ_n Σ|t_i|, and |q_i| ≤ u|p_i|, |r_i| ≤ u|h_i| give Σ|t_i| ≤ γ_n H,
///    H = Σ|h_i|. So |p_n + s − xᵀy| ≤ γ_n² H, with γ_n = nu/(1 − nu), u = 2⁻⁵³: relative to
///    Σ|x_i y_i| the error is O(n²u²), not O(nu). Underflow adds at most η = 2⁻¹⁰⁷⁴ per term.
///    p_n + s is returned unevaluated, so a margin of 10¹² keeps its O(1) differences.
///  - enclose_product: a conventional matrix product of doubles (any summation order, with or
///    without FMA, as Eigen and OpenBLAS compute it) obeys |fl(AB) − AB| ≤ γ_k|A||B| + kη for
///    inner dimension k (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed.,
///    §3.5, (3.13), with η for underflow). Strassen-like products would void this bound.
///  - enclose_solution: for x̃ ≈ A⁻¹b and R ≈ A⁻¹, if ‖I − RA‖_∞ ≤ c < 1 for every A in the
///    enclosure, every such A is nonsingular and ‖A⁻¹b − x̃‖_∞ ≤ ‖R(b − Ax̃)‖_∞/(1 − c), since
///    (RA)(x − x̃) = R(b − Ax̃) (Rump, Acta Numerica 19, 2010, §10.1).
///  - certify_positive_definite: Cholesky in interval arithmetic; when every pivot is
///    certified positive, every symmetric matrix in the enclosure is positive definite.
#include <Eigen/Dense>

namespace kktflow {

/// The exact value lies in [hi + lo − err, hi + lo + err]; hi + lo is not evaluated.
struct DotEnclosure {
  double hi = 0;
  double lo = 0;
  double err = 0;
};

/// xᵀy for x, y contiguous of length n ≥ 1.
DotEnclosure dot2(const double* x, const double* y, Eigen::Index n);

/// Every exact entry lies within rad (≥ 0) of mid.
struct MidRad {
  Eigen::MatrixXd mid;
  Eigen::MatrixXd rad;
};

/// A matrix of doubles as its own enclosure (rad = 0).
MidRad exact_enclosure(const Eigen::MatrixXd& A);

/// The exact product A B of matrices of doubles.
MidRad enclose_product(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B);

/// The exact product of every pair of matrices in the two enclosures:
/// |AB − A_m B_m| ≤ A_r(|B_m| + B_r) + |A_m| B_r, plus the rounding of A_m B_m.
MidRad enclose_product(const MidRad& A, const MidRad& B);

/// An upper bound of P Q for entrywise non-negative P, Q: fl(PQ)/(1 − γ_k) + kη.
Eigen::MatrixXd product_upper(const Eigen::MatrixXd& P, const Eigen::MatrixXd& Q);

/// The solution of A x = b for every A in the enclosure: within rad (∞-norm) of mid.
struct SolveEnclosure {
  Eigen::VectorXd mid;
  double rad = 0;
  bool verified = false;  ///< false: ‖I − RA‖_∞ < 1 could not be shown
};

SolveEnclosure enclose_solution(const MidRad& A, const Eigen::VectorXd& b);

/// Every symmetric matrix in the enclosure of the symmetric A is positive definite.
bool certify_positive_definite(const MidRad& A);

/// γ_k = k u / (1 − k u), rounded up (u = 2⁻⁵³).
double gamma_upper(Eigen::Index k);

}  // namespace kktflow
