#pragma once
/// \file lyuli2020_claims.hpp
/// Lyu & Li (ICLR 2020), "Gradient descent maximizes the margin of homogeneous neural networks":
/// for any L-homogeneous model trained on the exp or logistic loss, once L < ℓ(0)/n the smoothed
/// margin γ̃ = ℓ⁻¹(L)/‖θ‖^L never decreases (their Lemma 5.1), and θ/q_min^{1/L} is an (ε, δ)-KKT
/// point of min ½‖θ‖² s.t. q_i ≥ 1 (their Def. 4.2) with ε, δ → 0. What `kktflow verify` checks,
/// each with its tolerance (ours):
///
///  lyuli2020.kkt                  θ_T is an approximate KKT point: at θ̃ = θ_T / q_min^{1/L},
///                                 λ = argmin_{λ ≥ 0} ‖θ̃ − Σ_{i∈S} λ_i ∇q_i(θ̃)‖ by NNLS over the
///                                 near-minimal margins S = {i : q_i(θ̃) ≤ 1 + support_slack};
///                                 ε/‖θ̃‖ and δ/‖θ̃‖² ≤ kkt_tolerance (every model but the fixed-outer
///                                 net, whose frei2023.kkt is a certified Clarke residual)
///  lyuli2020.normalized_margin    γ = q_min/‖θ‖^L > 0 and γ̃ ≤ γ has caught up: (γ − γ̃)/γ ≤
///                                 margin_gap_tolerance (both tend to the same limit, their §4)
///  lyuli2020.smoothed_margin_monotone   γ̃ never drops by more than smoothed_margin_factor ×
///                                 flow.rel_tol (relative) between rows once L < ℓ(0)/n
///  lyuli2020.kkt_rate             the least-squares slope of log ε_KKT against log ‖θ‖ plus two
///                                 standard errors is below 0 (not for linear, whose ε_KKT is zero
///                                 up to rounding once θ lies in the data span)
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// Every constant is ours.
struct Lyuli2020Settings {
  double support_slack = 1e-2;  ///< margins within this of q_min count as near-minimal
  double kkt_tolerance = 1e-2;  ///< as frei2023.kkt's for the flow's direction
  double margin_gap_tolerance = 1e-2;
  double smoothed_margin_factor = 100;  ///< γ̃ may drop by this × flow.rel_tol, relative
};

/// The claims above, with the default settings, for gradient-flow runs on a margin loss: the
/// fixed-outer net has only the trajectory claims (its frei2023.kkt is a certified Clarke
/// residual), a linear model no kkt_rate, a square-loss or gradient-descent run none.
const ClaimFamily& lyuli2020_family();

}  // namespace kktflow
