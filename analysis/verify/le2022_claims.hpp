#pragma once
/// \file le2022_claims.hpp
/// Le & Jegelka (ICLR 2022), "Training invariances and the low-rank phenomenon: beyond linear
/// networks": in deep nets whose last layers are linear, trained on the exp or logistic loss, the
/// trailing linear layers tend to rank one (their Thm 3.1), adjacent ones align, and
/// W_{l+1}ᵀW_{l+1} − W_lW_lᵀ is conserved for linear pairs (the per-neuron balance for ReLU ones).
/// What `kktflow verify` checks on deep runs, each with its tolerance (ours):
///
///  le2022.trailing_rank1   srank(W_l) − 1 ≤ rank_tolerance for every trailing linear layer with
///                          min(rows, cols) ≥ 2
///  le2022.relu_not_rank1   some ReLU layer keeps srank − 1 ≥ relu_rank_excess at θ_T: the rank-1
///                          limit does not extend to the ReLU layers (only stably active submatrices
///                          align); PASS says "not rank 1"
///  le2022.alignment        1 − |v_{l+1}ᵀu_l| ≤ rank_tolerance for adjacent trailing layers
///  le2022.invariant        ‖Δ(W_{l+1}ᵀW_{l+1} − W_lW_lᵀ)‖ / ‖θ‖² ≤ invariant_tolerance over every
///                          snapshot and θ_T: all entries for a linear ψ_l without skip, the
///                          diagonal (per-neuron balance) for a ReLU ψ_l
#include "analysis/verify/claim_family.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// Every constant is ours.
struct Le2022Settings {
  double rank_tolerance = 1e-6;  ///< srank → 1 within this; the same for alignment
  double invariant_tolerance = 1e-8;
  double relu_rank_excess = 1e-2;  ///< srank − 1 of a ReLU layer that is clearly not rank 1 (10⁴ × rank_tolerance)
};

/// The claims above, with the default settings, for deep nets with the layers each claim needs.
const ClaimFamily& le2022_family();

}  // namespace kktflow
