#pragma once
/// \file frei2023_claims.hpp
/// Frei, Vardi, Bartlett, Srebro, Hu (ICLR 2023): the claims `kktflow verify` checks on a run of
/// the fixed-outer leaky-ReLU net trained by gradient flow.
///
/// The limit under test: the flow's final direction W_T is polished (kkt.hpp: the max-margin QP
/// restricted to W_T's activation pattern). The polished point is accepted as the flow's limit
/// when the QP is feasible, ∠(W_T, W_pol) ≤ polish_angle_tolerance and that angle shrinks along
/// the run's snapshots; the rank, family and boundary claims are then certified on it (certify.hpp).
/// Otherwise they are evaluated on W_T, in floating point, and cannot reach their tolerances.
///
///  frei2023.rank_le_2         σ₃/σ₁ of the limit ≤ certified_tolerance (certified bound)
///  frei2023.two_families      rows with a_j > 0 mutually parallel, rows with a_j < 0 too:
///                             max angle to the family direction ≤ certified_tolerance (certified)
///  frei2023.kkt               the limit is an (ε, δ)-KKT point (Lyu & Li 2020) with Clarke
///                             multipliers, ε/‖W̃‖, δ/‖W̃‖² ≤ certified_tolerance: certified bounds
///                             at the accepted polished limit, else floating-point figures (NOT
///                             CERTIFIED when above it); W_T must also be within kkt_tolerance
///  frei2023.linear_boundary   sign f(x) = sign⟨z, x⟩ proven outside a wedge of half-angle
///                             κ ≤ certified_tolerance around z^⊥, z = Σ λ_i y_i c_i x_i, and no
///                             disagreement on the training points and on `probes` Gaussian probes
///  frei2023.global_max_margin no competitor (competitors.hpp) has a normalized margin above
///                             (1 + margin_tolerance) × the limit's
///  frei2023.near_orthogonal   the data's indicator R_min²/(n p R²) ≥ regime_constant/γ
#include "analysis/verify/claim_family.hpp"
#include "analysis/verify/competitors.hpp"
#include "analysis/verify/leaky2_run.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

/// Every constant is ours unless stated; docs/claims.md gives the reasons.
struct Frei2023Settings {
  double kink_threshold = kKinkThreshold;
  double kkt_tolerance = 1e-2;           ///< on ε/‖W̃‖ and δ/‖W̃‖² of the flow's final direction
  double certified_tolerance = 1e-10;    ///< on certified bounds (relative ε and δ, σ₃/σ₁, angles in rad)
  double polish_angle_tolerance = 1e-2;  ///< largest ∠(W_T, W_pol) (rad) for the polished point to count
  double margin_tolerance = 1e-6;        ///< relative margin a competitor may exceed the limit's by
  double regime_constant = 0.05;         ///< regime met iff R_min²/(n p R²) ≥ regime_constant/γ
  std::int64_t probes = 100000;          ///< Gaussian probes of the decision boundary
  std::uint64_t probe_seed = 2023;
  CompetitorSettings competitors;
};

/// The claims above, with the default settings, for gradient-flow runs of the fixed-outer net.
/// The outcome's finals hold the polished limit when it was accepted.
const ClaimFamily& frei2023_family();

}  // namespace kktflow
