#pragma once
/// \file claims.hpp
/// The claims `kktflow verify` checks on a run of the fixed-outer leaky-ReLU net (DESIGN §6).
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
///  frei2023.kkt               W_T is an (ε, δ)-KKT point with Clarke multipliers,
///                             ε/‖W̃‖ ≤ kkt_tolerance and δ/‖W̃‖² ≤ kkt_tolerance (Lyu & Li 2020);
///                             certified when the polished point is accepted and its certified
///                             ε/‖W̃‖, δ/‖W̃‖² ≤ certified_tolerance
///  frei2023.linear_boundary   sign f(x) = sign⟨z, x⟩ proven outside a wedge of half-angle
///                             κ ≤ certified_tolerance around z^⊥, z = Σ λ_i y_i c_i x_i, and no
///                             disagreement on the training points and on `probes` Gaussian probes
///  frei2023.global_max_margin no competitor (competitors.hpp) has a normalized margin above
///                             (1 + margin_tolerance) × the limit's
///  frei2023.near_orthogonal   the data's indicator R_min²/(n p R²) ≥ regime_constant/γ
///  lyuli2020.smoothed_margin_monotone   γ̃ never decreases by more than
///                             smoothed_margin_factor × flow.rel_tol (relative) once L < ℓ(0)/n
///  lyuli2020.kkt_rate         slope of log ε_KKT against log ‖θ‖ (least squares) plus two standard
///                             errors is below 0
#include "analysis/competitors.hpp"
#include "analysis/verify_store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace kktflow {

/// Every constant is ours unless stated; README "Verify" gives the reasons.
struct VerifySettings {
  double kink_threshold = kKinkThreshold;
  double kkt_tolerance = 1e-2;           ///< on ε/‖W̃‖ and δ/‖W̃‖² of the flow's final direction
  double certified_tolerance = 1e-10;    ///< on certified bounds (relative ε and δ, σ₃/σ₁, angles in rad)
  double polish_angle_tolerance = 1e-2;  ///< largest ∠(W_T, W_pol) (rad) for the polished point to count
  double margin_tolerance = 1e-6;        ///< relative margin a competitor may exceed the limit's by
  double regime_constant = 0.05;         ///< regime met iff R_min²/(n p R²) ≥ regime_constant/γ
  double smoothed_margin_factor = 100;   ///< γ̃ may drop by this × flow.rel_tol, relative
  std::int64_t probes = 100000;          ///< Gaussian probes of the decision boundary
  std::uint64_t probe_seed = 2023;
  CompetitorSettings competitors;
};

/// What the trajectory-only claims (lyuli2020.*) read from a run of any model.
struct TrajectoryInput {
  const std::vector<Record>* trajectory = nullptr;
  std::string loss;            ///< "exp" or "logistic"
  Eigen::Index samples = 0;    ///< n
  double rel_tol = 0;          ///< flow.rel_tol
};

/// lyuli2020.smoothed_margin_monotone: once L < ℓ(0)/n, γ̃ never drops by more than
/// factor × rel_tol (relative) between rows (Lyu & Li 2020, Lemma 5.1).
ClaimResult smoothed_margin_monotone_claim(const TrajectoryInput& run, double factor);
/// lyuli2020.kkt_rate: slope of log ε_KKT against log ‖θ‖ plus two standard errors is below 0.
ClaimResult kkt_rate_claim(const TrajectoryInput& run);

/// The claim names verify knows, in the order it reports them.
const std::vector<std::string>& known_claims();

/// The claims' rows and what verify writes besides them.
struct VerifyOutcome {
  std::vector<ClaimResult> claims;
  VerifyFinals finals;  ///< empty when the polished point was not accepted
};

/// Evaluates `names` (every known claim when empty, in known_claims() order otherwise in the
/// order given) on a run read by read_run_input. Throws std::invalid_argument for an unknown
/// name, listing the known ones.
VerifyOutcome verify_claims(const RunInput& run, const std::vector<std::string>& names,
                            const VerifySettings& settings = {});

}  // namespace kktflow
