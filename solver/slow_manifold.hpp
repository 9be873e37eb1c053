#pragma once
/// \file slow_manifold.hpp
/// Where double cannot resolve the loss weights, and what the flow's velocity is there.
///
/// The weights w_i ∝ e^{−q_i} depend on the O(1) differences of margins that grow like ‖θ‖^L,
/// and a forward pass rounds each margin by up to u Σ |terms| ≤ u ‖θ‖ ‖∇q_i‖ (Euler's identity
/// L q_i = ⟨θ, ∇q_i⟩ and Cauchy–Schwarz; far above u |q_i| where the terms cancel, as the even
/// part of Lyu et al.'s net does). margin_rounding is κ times that bound (κ ours). Once it exceeds
/// 1 (for L ≥ 2 around ε_KKT ≈ 1e−8; never within the span chart's runs, where L = 1), the weights
/// of a state are rounding: they can be one-hot, and so is −∇L/L at any double θ near the flow.
///
/// The flow itself is then on its slow manifold: perturbations of the margin differences decay at
/// a rate ~ q, and the weights with them, onto the λ that keeps the velocities of the tied margins
/// equal, (K λ)_i = min_k (K λ)_k on λ's support with λ ≥ 0, Σ λ = 1: the minimum-norm point
/// G λ of the convex hull of the tied margins' gradients (its KKT conditions are these), the
/// least-norm Clarke subgradient of min_i q_i. Its distance from the true weights, and so the
/// velocity's, is O(1/q) relative (the drift of the margin differences over the relaxation time),
/// far below what double resolves where this applies. The tied set is the samples within
/// kTiedGap resolutions of the least margin (ours).
#include <Eigen/Dense>

#include <optional>

namespace kktflow {

/// κ u ‖θ‖ max_i ‖∇q_i‖, the bound on the margins' rounding, from ‖θ‖ and the margin gradients'
/// Gram K (its diagonal holds ‖∇q_i‖²).
double margin_rounding(double theta_norm, const Eigen::MatrixXd& K);

/// The margins' resolution: max(1, margin_rounding). Above 1, slow_weights replace the loss's.
double margin_resolution(double theta_norm, const Eigen::MatrixXd& K);

/// The margins' resolution on a step held to rel_tol: its local error e, normwise up to rel_tol ‖θ‖,
/// moves margin i by up to ‖∇q_i‖ ‖e‖, so margins closer than rel_tol ‖θ‖ max_i ‖∇q_i‖ are not
/// told apart by the steps; margin_resolution where rounding is coarser. On the slow manifold the
/// tied set is taken at this resolution: the tied margins' velocities are equal there, so nothing
/// pulls their differences back, and at the rounding's resolution a stage's error split them
/// (two_layer_gaussian seed 2 at q ≈ 1e12: every step five times the last was rejected with an
/// error of 7e7, and the steps stayed 35 times shorter than after).
double step_resolution(double theta_norm, const Eigen::MatrixXd& K, double rel_tol);

/// Whether a late step takes the slow manifold's velocity: where the margins' rounding exceeds 1
/// (resolution > 1), and where 1/q_min ≤ rel_tol. The slow velocity is within O(1/q) relative of
/// the flow's (above), below what a step held to rel_tol resolves; and the loss's own weights are
/// then unreliable at a step's end, whose state carries a local error of order rel_tol: that
/// moves the margins' O(1) differences by up to rel_tol ‖θ‖ ‖∇q‖ ≈ L rel_tol q. Measured on
/// two_layer_gaussian (seeds 2 and 5) at q ≈ 1e11 with rel_tol = 1e-10: weights one-hot to
/// e^{−140} at step ends, every held pair's Filippov slope out of its range at once, and the step
/// collapsing; the slow manifold's weights carried both to ε_KKT ≤ 1e-10.
bool follows_slow_manifold(double resolution, double q_min, double rel_tol);

/// The one rule for a state reached by steps held to rel_tol (0: a state exact to rounding), used
/// by the region methods' step ends and the rows' β: the resolution at which to tie its margins
/// (step_resolution) where follows_slow_manifold holds there, nullopt where the loss's own weights
/// give the flow's velocity.
std::optional<double> slow_manifold_resolution(double theta_norm, const Eigen::MatrixXd& K, double q_min,
                                               double rel_tol);

/// λ on the slow manifold (above), for the margins q and their gradients' Gram K, with the tied set S
/// taken at `resolution`: min_{x≥0} ‖G_S x‖²/k + (1ᵀx − 1)² by NNLS, normalized to Σ λ = 1 (for
/// x = t λ, λ on the simplex, the least value over t is ‖Gλ‖²/(k + ‖Gλ‖²), increasing in ‖Gλ‖:
/// Lawson & Hanson 1974, Ch. 23's least-distance problem; it holds where the tied gradients are
/// dependent, K_SS singular). k = max_i K_ii keeps both terms of order one.
Eigen::VectorXd slow_weights(const Eigen::VectorXd& q, const Eigen::MatrixXd& K, double resolution);

}  // namespace kktflow
