#pragma once
/// \file timor2023_claims.hpp
/// Timor, Vardi, Shamir (ALT 2023), "Implicit regularization towards rank minimization in ReLU
/// networks", §3 and §3.2: what `kktflow verify` checks on runs of model.kind = "relu2" (square
/// loss, two samples x1, x2 at angle ∡, labels e1, e2). Tolerances are ours unless marked.
///
///  timor2023.loss_reached    L(θ_T) < 1e-4, the paper's threshold for a converged run (§3.2)
///  timor2023.rank2_limit     at a zero-loss limit, |srank(W_T) − 2/(1 + |cos∡|)| ≤ 1e-3: W_T's rows are
///                            ≈ s_i x_i (each neuron fits one sample), rank 2, not the rank 1 a
///                            zero-loss net can have
///  timor2023.balancedness    max_j |Δ(‖w_j‖² − ‖v_j‖²)| over every snapshot and θ_T, relative to ‖θ_T‖²,
///                            ≤ 1e-8 (ours)
///  timor2023.rank1_exists    Thm 1's net w1 = x1/‖x1‖ − x2/‖x2‖, w2 = −w1, v_i = e_i/⟨w_i, x_i⟩ has
///                            L ≤ 1e-28 (zero up to the rounding of v_i) and rank 1
///  timor2023.closed_form     a dedicated flow from v(0) = 0, w_i(0) = s0 x_i (s0 = 0.5, ours; active on
///                            x_i only since ⟨x1, x2⟩ < 0) ends with |⟨w_i, x_i⟩ − s∞| ≤ 1e-8 (ours),
///                            s∞² = (s0² + √(s0⁴ + 4))/2
///  timor2023.ensemble_rank2  the flow from seeds 0..287 (the paper's 288) of the run's own init: every
///                            seed that reaches L < 1e-4 has rank(W) = 2 (σ2/σ1 ≥ 1e-3, ours); reports how
///                            many reached it (paper: 79 of 288), the srank histogram, and how many of the
///                            limits with each neuron on its own sample have srank within 1e-3 of 2/(1 + |cos∡|)
///  timor2023.thm3_probability  the fraction of those seeds whose limit has zero loss with each neuron
///                            active on exactly one sample, the two distinct (Thm 3's event: the flow
///                            converges to such a rank-2 net) is at least Thm 3's bound 2(∡/2π)²
///                            (≈ 0.1266), less 3 binomial standard errors at 288 seeds (ours)
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

struct Relu2VerifySettings {
  double loss_threshold = 1e-4;         ///< Timor et al. §3.2
  double srank_tolerance = 1e-3;        ///< ours: the limits' rows carry O(init radius) off-axis parts
  double rank2_ratio = 1e-3;            ///< ours: σ2/σ1 above this counts as rank 2
  double invariant_tolerance = 1e-8;    ///< ours
  double rank1_loss_tolerance = 1e-28;  ///< ours: v_i = e_i/⟨w_i, x_i⟩ is exact up to one rounding
  double closed_form_s0 = 0.5;          ///< ours
  double closed_form_tolerance = 1e-8;  ///< ours
  int ensemble_seeds = 288;             ///< Timor et al. §3.2
  double ensemble_sigmas = 3;           ///< ours
};

/// The claims above, with the default settings, for relu2 runs.
const ClaimFamily& timor2023_family();

}  // namespace kktflow
