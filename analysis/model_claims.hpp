#pragma once
/// \file model_claims.hpp
/// The claims `kktflow verify` checks on runs of the models other than leaky2_fixed_outer
/// (DESIGN §6), each with its tolerance (ours unless a paper gives one):
///
///  lyuli2020.kkt                 θ_T is an approximate KKT point of min ½‖θ‖² s.t. q_i ≥ 1 (Lyu & Li
///                                2020, Def. 4.2): at θ̃ = θ_T / q_min^{1/L}, λ = argmin_{λ ≥ 0}
///                                ‖θ̃ − Σ_{i∈S} λ_i ∇q_i(θ̃)‖ by NNLS over the near-minimal margins
///                                S = {i : q_i(θ̃) ≤ 1 + support_slack}; ε/‖θ̃‖ and δ/‖θ̃‖² ≤ kkt_tolerance
///  lyuli2020.normalized_margin   γ = q_min/‖θ‖^L > 0 and the smoothed margin γ̃ ≤ γ has caught up:
///                                (γ − γ̃)/γ ≤ margin_gap_tolerance (both tend to the same limit, Lyu & Li §4)
///  lyu2021.linear_max_margin     two_layer_leaky on symmetric data: γ within linear_margin_tolerance
///                                (relative) of (1+α)γ_lin/4, the global optimum (Lyu et al. 2021, Thm 3.2)
///  lyu2021.below_optimum         two_layer_leaky, data not symmetric (on request otherwise): the
///                                shortfall 1 − γ/γ_LB of γ = q_min/‖θ‖² below γ_LB, the margin of an explicit
///                                net on a dictionary of directions (a lower bound on the optimum), exceeds
///                                shortfall_tolerance + (γ − γ̃)/γ; PASS says "below the optimum" (Lyu et al.
///                                2021: the symmetric-data result is fragile)
///  lyu2021.svm_direction         two_layer_leaky: ∠(Σ_j a_j w_j, w*) ≤ direction_tolerance rad
///  lyu2021.conservation          two_layer_leaky: max_j |Δ(a_j² − ‖w_j‖²)| / ‖θ‖² ≤ invariant_tolerance
///                                over every snapshot and θ_T
///  le2022.trailing_rank1         deep: srank(W_l) − 1 ≤ rank_tolerance for every trailing linear layer
///                                with min(rows, cols) ≥ 2 (Le & Jegelka 2022, Thm 3.1)
///  le2022.relu_not_rank1         deep: some ReLU layer W_l keeps srank − 1 ≥ relu_rank_excess at θ_T, i.e.
///                                the theorem's rank-1 limit does not extend to the ReLU layers (Le & Jegelka
///                                2022: only stably active submatrices align); PASS says "not rank 1"
///  le2022.alignment              deep: 1 − |v_{l+1}ᵀu_l| ≤ rank_tolerance for adjacent trailing layers
///  le2022.invariant              deep: ‖Δ(W_{l+1}ᵀW_{l+1} − W_lW_lᵀ)‖_F / ‖θ‖² ≤ invariant_tolerance for
///                                linear ψ_l without skip; its diagonal (per-neuron balance) for ReLU ψ_l
///  soudry2018.svm_direction      linear: ∠(θ_T, w*) ≤ soudry_tolerance rad (O(1/log t), Soudry et al. 2018)
///  lyuli2020.smoothed_margin_monotone, lyuli2020.kkt_rate   as for the fixed-outer net (claims.hpp);
///                                kkt_rate not for linear, whose ε_KKT is zero up to rounding in the data span
#include "analysis/claims.hpp"
#include "analysis/verify_store.hpp"
#include "problems/model.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kktflow {

/// A finished run of a model other than leaky2_fixed_outer, with the model rebuilt from /model.
struct ModelRun {
  std::string kind;
  std::map<std::string, std::string> model_attrs;  ///< every /model attribute, as text
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  std::unique_ptr<Model> model;
  Eigen::VectorXd theta_final;                 ///< /final/theta
  std::vector<Eigen::VectorXd> snapshots;      ///< /snapshots/theta rows, θ(0) first
  std::vector<Record> trajectory;
  std::string loss;
  double rel_tol = 0;
};

/// Reads a run of two_layer_leaky, deep, linear or relu2. Throws h5::Error when the file is not a
/// finished kktflow run, std::invalid_argument for another model kind.
ModelRun read_model_run(const std::string& path);

/// Every constant is ours.
struct ModelVerifySettings {
  double support_slack = 1e-2;             ///< margins within this of q_min count as near-minimal
  double kkt_tolerance = 1e-2;             ///< as frei2023.kkt's for the flow's direction
  double margin_gap_tolerance = 1e-2;
  double linear_margin_tolerance = 1e-3;   ///< issue 6
  double direction_tolerance = 1e-3;       ///< issue 6, rad
  double shortfall_tolerance = 1e-3;       ///< a margin this far (relative) below the bound counts as below it
  double invariant_tolerance = 1e-8;       ///< issue 6
  double rank_tolerance = 1e-6;            ///< issue 6 (srank → 1 within 1e-6); the same for alignment
  double soudry_tolerance = 1e-2;          ///< rad: ≈ 2.8/log t measured at log t = 1000 (test_soudry_linear)
  double smoothed_margin_factor = 100;     ///< as for the fixed-outer net
  double relu_rank_excess = 1e-2;          ///< srank − 1 of a ReLU layer that is clearly not rank 1 (10⁴ × rank_tolerance)
};



/// The claims that apply to the run, in the order verify reports them.
std::vector<std::string> applicable_claims(const ModelRun& run);
/// Every claim name any of these models can have.
const std::vector<std::string>& model_claim_names();

/// Evaluates `names` (every applicable claim when empty). Throws std::invalid_argument for a name
/// that does not apply to the run's model, listing those that do.
std::vector<ClaimResult> verify_model_claims(const ModelRun& run, const std::vector<std::string>& names,
                                             const ModelVerifySettings& settings = {});

/// Every claim name verify knows, over all model kinds.
std::vector<std::string> all_claim_names();

/// Reads the run in `path` and evaluates `names` (every claim that applies to its model kind when
/// empty): claims.hpp for leaky2_fixed_outer, relu2_claims.hpp for relu2, the claims above for the others. Throws as the readers
/// do, and std::invalid_argument for a claim that does not apply to the model.
VerifyOutcome verify_run_file(const std::string& path, const std::vector<std::string>& names);

}  // namespace kktflow
