#pragma once
/// \file frei2023_gd_claims.hpp
/// Frei et al.'s gradient-descent experiment (Frei, Vardi, Bartlett, Srebro, Hu, ICLR 2023, its GD experiments;
/// data/configs/frei2023_gd.toml): leaky2_fixed_outer trained by plain GD (flow.stepper = "gd",
/// flow.time = "t") from a small Gaussian init. `kktflow verify` checks these on such runs:
///
///  frei2023.gd_initial_srank   srank(W⁰) = ‖W⁰‖_F²/‖W⁰‖₂² against md/(√m + √d)²: for i.i.d.
///                              N(0, ω²) entries ‖W⁰‖_F² ≈ ω²md and ‖W⁰‖₂ ≈ ω(√m + √d) (Yin, Bai &
///                              Krishnaiah 1988: the largest eigenvalue of a sample covariance
///                              matrix, hence the largest singular value of a Gaussian matrix).
///  frei2023.gd_one_step_srank  on exactly orthogonal, equal-norm data, with the init small enough
///                              that every margin is ≈ 0 at W⁰: the first step is
///                              W¹ − W⁰ = −η ℓ'(0)/n · diag(a) M X with M_ji = y_i φ'(⟨w_j, x_i⟩),
///                              whose entries are y_i (1 + γ)/2 ± (1 − γ)/2 with random signs. The
///                              mean is rank one and dominates the spectral norm, so
///                              srank(W¹ − W⁰) ≈ 1 + ((1 − γ)/(1 + γ))² (1.669 at γ = 0.1). It needs
///                              a run of exactly one step.
/// Both compare the ratio to the closed form with a relative tolerance of 5% (ours: finite-size
/// corrections are O((√m + √n)²/(mn)) for the step and O(1/√m) for the init at the demo's sizes).
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// True when the resolved configuration `config` (a run file's root attribute) ran plain GD.
bool is_gd_run(const std::string& config);

/// The claims above, for runs of the fixed-outer net by plain GD (is_gd_run).
const ClaimFamily& frei2023_gd_family();

}  // namespace kktflow
