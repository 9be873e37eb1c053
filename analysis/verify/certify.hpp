#pragma once
/// \file certify.hpp
/// Certificates for the limit of the Frei net (kkt.hpp), in interval arithmetic with directed
/// rounding (Boost.Interval, rounded_arith_opp): every bound holds for the exact real numbers
/// defined by the doubles it is given (W, λ, the data), whatever the rounding of the arithmetic.
/// This translation unit is compiled with -frounding-math so that the compiler neither folds nor
/// reorders floating-point operations across the rounding-mode switches.
#include "analysis/verify/kkt.hpp"

#include <Eigen/Dense>

namespace kktflow {

/// Lyu & Li's (ε, δ)-KKT conditions at W̃ = W / q_min(W), with the gradients the pattern fixes.
struct KktCertificate {
  double epsilon_upper = 0;           ///< ‖W̃ − Σ_i λ_i ∇q_i(W̃)‖_F ≤ epsilon_upper
  double delta_upper = 0;             ///< Σ_i λ_i (q_i(W̃) − 1) ≤ delta_upper
  double epsilon_relative_upper = 0;  ///< ε/‖W̃‖_F ≤ this (scale-free)
  double delta_relative_upper = 0;    ///< δ/‖W̃‖_F² ≤ this (Σλ_i = ‖W̃‖² at a KKT point)
  double q_min_lower = 0;             ///< min_i q_i(W) ∈ [q_min_lower, q_min_upper] (primal feasibility)
  double q_min_upper = 0;
  /// min over pairs of |⟨w_j, x_i⟩| / (‖w_j‖‖x_i‖) ≥ strictness_lower: how far the pattern is
  /// from its nearest kink (0 when some pair is not strict).
  double strictness_lower = 0;
  Eigen::Index non_strict = 0;  ///< pairs whose sign is not certified to be the pattern's (kinks included)
  /// Every pair is strict and q_min > 0: q_i is differentiable at W with the pattern's slopes, so
  /// the bounds are bounds on the (ε, δ) of the exact point W̃.
  bool valid = false;
};

/// `lambda` are multipliers for W̃ (λ ≥ 0 is required and checked by std::invalid_argument).
KktCertificate certify_kkt(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W,
                           const Eigen::Ref<const Eigen::VectorXd>& lambda, const Pattern& pattern);

/// σ₃/σ₁ of W, by Weyl's inequality σ₃(W) ≤ σ₃(W₂) + ‖W − W₂‖₂ = ‖W − W₂‖₂ ≤ ‖W − W₂‖_F for the
/// rank-≤2 matrix W₂ = (W V₂) V₂ᵀ, V₂ the top two right singular vectors of a float SVD (any V₂
/// gives a valid bound; a good one a tight bound), and σ₁(W) ≥ ‖W v‖/‖v‖ for v = V₂'s first column.
struct RankCertificate {
  double sigma1_lower = 0;
  double sigma3_upper = 0;  ///< ‖W − W₂‖_F
  double ratio_upper = 0;   ///< σ₃/σ₁ ≤ ratio_upper (+∞ when σ₁ cannot be bounded away from 0)
  double ratio_float = 0;   ///< σ₃/σ₁ of the float SVD, for reference
};

RankCertificate certify_rank2(const Eigen::Ref<const Eigen::MatrixXd>& W);

/// Frei et al.'s two families: rows with a_j > 0 parallel to p = Σ_{a_j>0} w_j, rows with a_j < 0
/// parallel to q = Σ_{a_j<0} w_j. W₂ has rows α_j p (a_j > 0) and α_j q (a_j < 0) with the
/// doubles α_j = ⟨w_j, p⟩/‖p‖² (resp. q), so it is exactly of rank ≤ 2 and two-family.
struct FamilyCertificate {
  Eigen::VectorXd p;          ///< family direction of the rows with a_j > 0 (zero if none)
  Eigen::VectorXd q;          ///< family direction of the rows with a_j < 0
  Eigen::VectorXd alpha;      ///< the multiples α_j of W₂, m
  double angle_upper = 0;     ///< max_j ∠(w_j, its family direction) ≤ angle_upper (rad)
  double angle_float = 0;     ///< the same maximum in floating point, for reference
  double distance_upper = 0;  ///< ‖W − W₂‖_F ≤ distance_upper
  bool positive = false;      ///< every ⟨w_j, family direction⟩ > 0 certified and α_j > 0
};

FamilyCertificate certify_two_families(const Leaky2Net& net, const Eigen::Ref<const Eigen::MatrixXd>& W);

/// Frei's linear decision boundary. For the two-family W₂ (α_j > 0) and u = ⟨p, x⟩, v = ⟨q, x⟩,
///   f(x; W₂) = A φ(u) − B φ(v),  A = Σ_{a_j>0} a_j α_j,  B = −Σ_{a_j<0} a_j α_j,
/// and for A, B ≥ 0 (not both 0) and γ ∈ (0, 1) a 2-D cone argument gives, for every x,
///   sign f(x; W₂) = sign⟨z₂, x⟩,  |f(x; W₂)| ≥ γ |⟨z₂, x⟩|,   z₂ = A p − B q
/// (quadrants u, v > 0 and u, v < 0: f = Au − Bv resp. γ(Au − Bv); u > 0 > v: f = Au − γBv > 0
/// and Au − Bv > 0; u < 0 < v: both negative). With |f(x; W) − f(x; W₂)| ≤ ‖a‖ ‖W − W₂‖_F ‖x‖
/// (φ is 1-Lipschitz), sign f(x; W) = sign⟨z, x⟩ for every x whose angle to the hyperplane z^⊥
/// exceeds κ = asin(‖a‖ ‖W − W₂‖_F / (γ‖z₂‖)) + ∠(z₂, z).
struct BoundaryCertificate {
  double a_lower = 0;      ///< A ≥ a_lower
  double b_lower = 0;      ///< B ≥ b_lower
  double angle_upper = 0;  ///< ∠(z₂, z) ≤ angle_upper
  double wedge_upper = 0;  ///< κ ≤ wedge_upper (rad)
  bool proven = false;     ///< the premises hold: families positive, A, B ≥ 0 not both 0, γ > 0, ⟨z₂, z⟩ > 0
};

/// z is Frei's predictor for `lambda` (frei_predictor), enclosed from the data, not rounded.
BoundaryCertificate certify_linear_boundary(const Leaky2Net& net, const FamilyCertificate& families,
                                            const Eigen::Ref<const Eigen::VectorXd>& lambda);

/// Frei's linear predictor z = Σ_i λ_i y_i c_i x_i, c_i = |J+| + γ|J−| (y_i = +1) or
/// γ|J+| + |J−| (y_i = −1), J± = {j : ±a_j > 0} (Frei et al. 2023, Thm 3.2), in doubles.
/// (The c_i assume |a_j| equal for all j, as a_j = ±1/√m.)
Eigen::VectorXd frei_predictor(const Leaky2Net& net, const Eigen::Ref<const Eigen::VectorXd>& lambda);

}  // namespace kktflow
