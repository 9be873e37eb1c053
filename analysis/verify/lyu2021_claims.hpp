#pragma once
/// \file lyu2021_claims.hpp
/// Lyu, Li, Wang, Arora (NeurIPS 2021), "Gradient descent on two-layer nets: margin maximization
/// and simplicity bias": two-layer leaky-ReLU nets f(x) = Σ_j a_j φ(⟨w_j, x⟩), both layers
/// trained from small init on linearly separable symmetric data ((x, y) and (−x, −y) both
/// present), converge to a linear, globally max-margin predictor (their Thm 3.2). What `kktflow
/// verify` checks on two_layer_leaky runs, each with its tolerance (ours):
///
///  lyu2021.linear_max_margin   on symmetric data, γ = q_min/‖θ‖² within linear_margin_tolerance
///                              (relative) of (1+α)γ_lin/4, the global optimum
///  lyu2021.below_optimum       data not symmetric (on request otherwise): the shortfall 1 − γ/γ_LB
///                              of γ below γ_LB, the margin of an explicit net on a dictionary of
///                              directions (a lower bound on the optimum), exceeds
///                              shortfall_tolerance + (γ − γ̃)/γ; PASS says "below the optimum"
///                              (the symmetric-data result is fragile)
///  lyu2021.svm_direction       ∠(Σ_j a_j w_j, w*) ≤ direction_tolerance rad
///  lyu2021.conservation        max_j |Δ(a_j² − ‖w_j‖²)| / ‖θ‖² ≤ invariant_tolerance over every
///                              snapshot and θ_T (conserved exactly by gradient flow)
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// Every constant is ours.
struct Lyu2021Settings {
  double linear_margin_tolerance = 1e-3;
  double direction_tolerance = 1e-3;  ///< rad
  double shortfall_tolerance = 1e-3;  ///< a margin this far (relative) below the bound counts as below it
  double invariant_tolerance = 1e-8;
};

/// The claims above, with the default settings: requestable on two_layer_leaky runs, checked by
/// default but for below_optimum on symmetric data, where linear_max_margin checks the theorem
/// itself.
const ClaimFamily& lyu2021_family();

/// Samples without a mirror image (−x, −y) in the data: 0 for symmetric data.
Eigen::Index samples_without_mirror(const Eigen::MatrixXd& X, const Eigen::VectorXd& y);

}  // namespace kktflow
