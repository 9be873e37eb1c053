#pragma once
/// \file log_clock.hpp
/// The gradient-flow clock kept as log t (never t: late in a run t ≫ 1e308).
///
/// In loss time t(τ) = ∫₀^τ e^{−log L(σ)} dσ. Over one accepted step [τ₀, τ₀+h] we fit log L by
/// the quadratic through its values at both ends and at the midpoint (the midpoint state from
/// the cubic Hermite interpolant, O(h⁴)), and integrate e^{−log L} with 8-point Gauss–Legendre
/// panels, each spanning at most 4 units of log L, summed in the log domain.
/// Then log t ← logaddexp(log t, log Δt) (flow_clock.hpp keeps log t).
#include <cmath>
#include <limits>

namespace kktflow {

/// log(e^a + e^b), exact for a or b = −∞.
double log_add_exp(double a, double b);

/// log ∫₀^h exp(−ℓ(s)) ds with ℓ the quadratic through (0, l0), (h/2, lm), (h, l1).
double log_integral_exp_neg_quadratic(double l0, double lm, double l1, double h);

}  // namespace kktflow
