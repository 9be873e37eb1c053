#pragma once
/// \file kl_ball.hpp
/// The loss weights inside one activation region, and the Lyapunov function that certifies
/// where they stay (limit_certificate.hpp applies it to each model).
///
/// Inside a region whose margins are linear in the weights, q_i(θ) = ⟨G_i, θ⟩, loss-time
/// gradient flow with the exp loss is dθ/dτ = Σ_i w_i G_i, w = softmax(−q), so θ(τ) =
/// θ(τ0) + Σ_i c_i(τ) G_i with dc/dτ = w, q(τ) = q(τ0) + K c(τ), K_ik = ⟨G_i, G_k⟩, and the
/// weights obey the replicator equation dw/dτ = −(diag w − w wᵀ) K w on the simplex Δ.
///
/// Let λ̂ minimise νᵀKν over Δ (support S, value μ) and g = Kλ̂ − μ1: g = 0 on S and g ≥ 0 off
/// S are the KKT conditions of this convex problem, sufficient for optimality. Then
///   D(w) = KL(λ̂‖w) = Σ_{i∈S} λ̂_i log(λ̂_i/w_i),   dD/dτ = (λ̂ − w)ᵀKw = −δᵀKδ − Σ_{k∉S} g_k w_k ≤ 0
/// (δ = w − λ̂, using Σδ = 0), exactly and for every w: each KL ball N_ρ = {ν ∈ Δ : KL(λ̂‖ν) ≤ ρ}
/// is forward invariant, and convex. This is the Lyapunov function of the replicator equation
/// at an evolutionarily stable state (Hofbauer & Sigmund, Evolutionary Games and Population
/// Dynamics, 1998, §7.2); the non-support weights need no bound of their own.
///
/// What a ball bounds, for ν ∈ N_ρ:
///  - each weight: KL(λ̂‖ν) ≥ kl(λ̂_i‖ν_i) (merge the other samples), so ν_i ∈ [lo_i, hi_i], the
///    roots of the binary kl(λ̂_i‖x) = ρ; off S, Σ_{k∉S} ν_k ≤ KL(λ̂‖ν) ≤ ρ;
///  - the weighted deviation: t − log(1 + t) ≥ t²/(2 max(1, 1 + t)) for t > −1 gives
///    KL(λ̂‖ν) ≥ Σ_{k∉S} ν_k + Σ_{i∈S} δ_i²/(2 hi_i), so Σ_{i∈S} δ_i²/hi_i ≤ 2ρ.
/// Hence for a linear functional ⟨ν, β⟩ and any index i (Cauchy–Schwarz on S∖i):
///   ⟨ν, β⟩ ≥ Σ_{k≠i} λ̂_k β_k + min(lo_i β_i, hi_i β_i) − √(2ρ Σ_{k∈S∖i} hi_k β_k²) − ρ max_{k∉S,k≠i} |β_k|,
/// sharp when i carries β's largest entry (a pre-activation's own sample). With
/// r = max_{k∈S} hi_k/λ̂_k, Σ_{k∈S∖i} hi_k β_k² ≤ r Σ_{k∈S∖i} λ̂_k β_k², whose sum does not depend
/// on ρ: it is formed once (for thousands of functionals) and the search over ρ only rescales it.
///
/// The decrease rate: D ≤ Σ_{k∉S} w_k + Σ_{i∈S} δ_i²/w_i (log x ≤ x − 1). If K_SS ⪰ κ' diag(1/lo_S),
/// then with K_NN ⪰ 0 and |δ_i| ≤ Δ on S,
///   −dD/dτ ≥ κ' Σ_{i∈S} δ_i²/lo_i + (g_min − 2Δ max_{k∉S} Σ_{i∈S} |K_ik|) Σ_{k∉S} w_k ≥ κ D,
/// κ = the smaller of the two coefficients (κ' alone when S holds every sample).
#include "analysis/verify/enclosure.hpp"

#include <Eigen/Dense>

#include <cstddef>
#include <string>
#include <vector>

namespace kktflow {

/// λ̂, enclosed: the exact minimiser of νᵀKν over Δ for the exact K in the enclosure.
struct Equilibrium {
  std::vector<char> in_support;  ///< S as a mask
  Eigen::Index support_size = 0;
  Eigen::VectorXd lambda;     ///< float λ̂
  Eigen::VectorXd lambda_lo;  ///< lambda_lo ≤ λ̂ ≤ lambda_hi, certified (0 off S)
  Eigen::VectorXd lambda_hi;
  double radius = 0;  ///< max_i (lambda_hi − lambda_lo)_i / 2
  double mu_lo = 0;   ///< μ = λ̂ᵀKλ̂ = ‖Σ λ̂_i G_i‖², bounds
  double mu_hi = 0;
  double gap_lo = 0;  ///< min_{k∉S} g_k ≥ gap_lo (+∞ when S holds every sample)
  bool verified = false;
  std::string failure;  ///< why not, when not verified
};

/// Finds λ̂ in floating point (NNLS on K's midpoint), then encloses the solution of
/// K_SS λ_S = μ1, 1ᵀλ_S = 1 and checks λ̂_S > 0, μ > 0 and g ≥ 0 off S, all certified.
Equilibrium enclose_equilibrium(const MidRad& K);

/// Bounds on every weight in the ball N_ρ (see the file comment).
struct KlBall {
  double rho = 0;
  Eigen::VectorXd lo;      ///< ν_i ≥ lo_i
  Eigen::VectorXd hi;      ///< ν_i ≤ hi_i
  bool certified = false;  ///< the bounds hold for the exact λ̂ (else they are float estimates)
};

/// The bounds in floating point, for choosing ρ.
KlBall estimate_ball(const Equilibrium& eq, double rho);
/// The bounds certified: kl(λ̂_i‖lo_i) ≥ ρ and kl(λ̂_i‖hi_i) ≥ ρ in interval arithmetic for
/// every λ̂_i in its enclosure (kl is monotone on either side of λ̂_i).
KlBall certify_ball(const Equilibrium& eq, double rho);

/// Linear functionals ν ↦ ⟨ν, β_p⟩ that must stay positive on the ball, each with its index
/// i = own[p] singled out (see the file comment): rest_lo ≤ Σ_{k≠i} λ̂_k β_k, own_lo ≤ β_i,
/// spread ≥ Σ_{k∈S∖i} λ̂_k β_k², outside ≥ max_{k∉S,k≠i} |β_k|, and ⟨λ̂, β_p⟩ ≤ limit_hi.
/// With r = max_{k∈S} hi_k/λ̂_k, Σ_{k∈S∖i} hi_k β_k² ≤ r spread.
struct Functionals {
  std::vector<Eigen::Index> own;
  std::vector<double> rest_lo, own_lo, spread, outside, limit_hi;

  void add(Eigen::Index i, double rest, double own_coefficient, double spread_bound, double outside_bound,
           double limit) {
    own.push_back(i);
    rest_lo.push_back(rest);
    own_lo.push_back(own_coefficient);
    spread.push_back(spread_bound);
    outside.push_back(outside_bound);
    limit_hi.push_back(limit);
  }
  [[nodiscard]] std::size_t size() const { return own.size(); }
};

/// min_p of ⟨ν, β_p⟩'s lower bound over the ball divided by ⟨λ̂, β_p⟩'s upper bound: the
/// fraction of its value at the rest point each functional keeps (> 0: every one stays
/// positive; +∞ when there are none). Floating point for estimate balls, a certified lower
/// bound (interval arithmetic) for certified ones.
double relative_margin(const Functionals& f, const Equilibrium& eq, const KlBall& ball);

/// KL(λ̂‖softmax(−r)) ≤ the value returned, for every r with r_lo ≤ r ≤ r_hi (r = margins less a
/// common shift, which softmax ignores) and the exact λ̂.
double kl_upper(const Equilibrium& eq, const Eigen::VectorXd& r_lo, const Eigen::VectorXd& r_hi);

/// κ with dD/dτ ≤ −κ D on the ball (exp loss), certified on a certified ball; NaN when
/// K_SS − κ' diag(1/lo_S) cannot be certified positive definite for κ' = 0.9 × its
/// floating-point limit (ours), or the non-support weights' term is not positive. On an
/// estimate ball, the same in floating point (to choose ρ).
double decay_rate(const MidRad& K, const Equilibrium& eq, const KlBall& ball);

}  // namespace kktflow
