#pragma once
/// \file limit_region.hpp
/// The activation region at a run's last state, enclosed, for the limit certificate
/// (limit_certificate.hpp): the Gram K of the margin gradients, the margins, and for the
/// fixed-outer net the linear functionals that must stay positive for its signs to hold.
///
/// Fixed-outer net f(x; W) = Σ_j a_j φ(⟨w_j, x⟩) (Frei et al., ICLR 2023) in the region of the
/// strict pattern s_ji = sign z_ji, z_ji = ⟨w_j, x_i⟩, slopes φ'_ji ∈ {1, γ}:
///   q_i = y_i Σ_j a_j φ'_ji z_ji = ⟨G_i, W⟩,   K_ik = y_i y_k Γ_ik P_ik,
///   Γ = X Xᵀ,   P_ik = Σ_j a_j² φ'_ji φ'_jk,
///   s_ji z_ji(W + Σ_k c_k G_k) = s_ji z_ji(W) + Σ_k c_k β_ji,k,   β_ji,k = s_ji a_j y_k φ'_jk Γ_ik.
/// Linear model f(x) = ⟨θ, x⟩: q_i = y_i⟨θ, x_i⟩, K_ik = y_i y_k Γ_ik, no signs to keep.
///
/// The pre-activations z_ji and margins q_i come from dot2 (enclosure.hpp): late in a run
/// q ~ 10⁹–10¹³ while the weights depend on O(1) differences, which a plain dot product in double
/// would blur by d u ‖w‖‖x‖ ~ 10⁻³.
#include "analysis/verify/enclosure.hpp"
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/kl_ball.hpp"

#include <Eigen/Dense>

#include <vector>

namespace kktflow {

/// q_i − q_ref ∈ [lo_i, hi_i]; the common shift q_ref leaves the softmax weights unchanged.
struct MarginBounds {
  double q_ref = 0;
  Eigen::VectorXd lo;
  Eigen::VectorXd hi;
};

/// What the certificate needs of a region.
struct Region {
  MidRad K;              ///< n × n
  MarginBounds margins;  ///< at θ_T
};

/// The fixed-outer net's pattern at W, with certified signs.
struct NetPattern {
  Pattern signs;                  ///< s_ji; meaningful where strict
  Eigen::MatrixXd slopes;         ///< φ'_ji ∈ {1, γ}, m × n
  std::vector<DotEnclosure> pre;  ///< z_ji enclosed, j-major (j n + i)
  Eigen::Index not_strict = 0;    ///< pairs whose sign is not certified
  /// Pairs within kKinkThreshold of their kink: where the run held pairs in Filippov sliding.
  /// dot2 may still certify their signs (the rounding residue the run left), so the proof is
  /// tried on the strict pattern; it can hold, but a sliding limit is not that pattern's.
  Eigen::Index kinks = 0;
};

NetPattern net_pattern(const Leaky2Net& net, const Eigen::MatrixXd& W);
/// The region of a strict pattern (pattern.not_strict == 0), and Γ enclosed.
Region net_region(const Leaky2Net& net, const NetPattern& pattern, const MidRad& gram);

/// The linear model's single region.
Region linear_region(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& theta,
                     const MidRad& gram);

/// The sign functionals β_ji of the net, one per pair, own index i (the pair's sample), in the
/// form kl_ball.hpp's relative_margin reads; certified bounds (limit_checks.cpp).
Functionals net_sign_functionals(const Leaky2Net& net, const NetPattern& pattern, const MidRad& gram,
                                 const Equilibrium& eq);

/// θ* ∝ Σ_i λ̂_i G_i in floating point: the net's W* (m × d).
Eigen::MatrixXd net_limit(const Leaky2Net& net, const NetPattern& pattern, const Eigen::VectorXd& lambda);

}  // namespace kktflow
