#pragma once
/// \file limit_certificate.hpp
/// A proof, in interval arithmetic, that the exact gradient flow started from a run's last
/// recorded state θ_T never leaves θ_T's activation region, so that its limit direction is
/// exactly that region's max-margin point θ* (Lyu & Li, ICLR 2020, show the limit is a KKT
/// point; this says which one, for this trajectory).
///
/// Models whose margins are linear in θ inside a region: the fixed-outer leaky-ReLU net (Frei
/// et al., ICLR 2023), q_i = ⟨G_i, W⟩ with G_i's row j = y_i a_j φ'_ji x_i while every pair
/// (j, i) keeps its sign s_ji, and the linear model (Soudry et al., JMLR 2018), G_i = y_i x_i,
/// one region. The argument (docs/claims.md, "The certified limit"):
///  1. θ(τ) = θ_T + Σ_i c_i(τ) G_i, dc/dτ = w = softmax(−q) ∈ Δ (exp loss, loss time), as long
///     as the pattern holds; q = q_T + K c.
///  2. KL(λ̂‖w) never increases (kl_ball.hpp), so w(τ) stays in the ball N_ρ around λ̂ if θ_T's
///     weights lie in it: KL(λ̂‖w(θ_T)) < ρ.
///  3. The pre-activations are affine in c: s_ji z_ji(τ) = s_ji z_ji(θ_T) + (τ − τ_T)⟨ν̄, β_ji⟩,
///     ν̄ = c/(τ − τ_T) ∈ N_ρ (a convex set holds the mean of a path in it), β_ji,k =
///     s_ji a_j y_k φ'_jk ⟨x_k, x_i⟩. So every sign is kept if s_ji z_ji(θ_T) > 0 and
///     min_{ν∈N_ρ} ⟨ν, β_ji⟩ > 0; the region's flow is then the flow.
///  4. ∫ δᵀKδ dτ ≤ KL(λ̂‖w(θ_T)), so ‖θ(τ)/τ − Σλ̂_i G_i‖ ≤ ‖θ_T‖/τ + √(ρ/τ) → 0: the direction
///     tends to θ* ∝ Σ λ̂_i G_i, the region's max-margin point, which satisfies every sign
///     strictly and so is also the pattern QP's solution (kkt.hpp, polish) and a KKT point.
/// The logistic loss adds a perturbation of size ≤ 2 max|K| e^{−q_min}, absorbed at the ball's
/// boundary by the certified decay rate.
#include "analysis/verify/kkt.hpp"
#include "problems/loss.hpp"

#include <Eigen/Dense>

#include <limits>
#include <string>

namespace kktflow {

/// The certificate's figures; NaN where the check did not get that far.
struct LimitCertificate {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  bool certified = false;
  std::string reason;           ///< why not, when not certified
  Eigen::Index pairs = 0;       ///< (neuron, sample) pairs whose sign must be kept (0: linear model)
  Eigen::Index kinks = 0;       ///< pairs at their kink, |z| ≤ kKinkThreshold ‖w_j‖‖x_i‖ (Filippov sliding)
  Eigen::Index not_strict = 0;  ///< pairs whose sign at θ_T is not certified
  Eigen::Index samples = 0;
  Eigen::Index support = 0;       ///< |S|, the samples with λ̂_i > 0
  double lambda_radius = kNaN;    ///< λ̂'s enclosure radius
  double rho = kNaN;              ///< the KL ball's radius
  double rho_limit = kNaN;        ///< the largest radius the floating-point checks allow
  double weight_ratio_lo = kNaN;  ///< ν_i/λ̂_i ≥ this on the ball, over S
  double weight_ratio_hi = kNaN;  ///< ν_i/λ̂_i ≤ this
  double initial_kl = kNaN;       ///< KL(λ̂‖w(θ_T)) ≤ initial_kl
  double decay = kNaN;            ///< dKL/dτ ≤ −decay · KL on the ball (NaN: rate not certified)
  double sign_margin = kNaN;      ///< min over pairs and the ball of ⟨ν, β_ji⟩/⟨λ̂, β_ji⟩ ≥ this
  double growth = kNaN;           ///< logistic: dq_i/ds = (Kν)_i ≥ growth (Kλ̂)_i on the ball
  double remainder = kNaN;        ///< logistic: the perturbation of dKL/ds is ≤ remainder
  double angle = kNaN;            ///< ∠(θ_T, θ*) in floating point, rad
  double seconds = 0;
};

/// The fixed-outer net ending at W (m × d).
LimitCertificate certify_limit(const Leaky2Net& net, const Eigen::MatrixXd& W, LossKind loss);

/// The linear model f(x) = ⟨θ, x⟩ ending at θ.
LimitCertificate certify_linear_limit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& theta,
                                      LossKind loss);

}  // namespace kktflow
