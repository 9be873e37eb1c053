#pragma once
/// \file log_clock.hpp
/// The gradient-flow clock kept as log t (never t: late in a run t ≫ 1e308).
///
/// In loss time t(τ) = ∫₀^τ e^{−log L(σ)} dσ. Over one accepted step [τ₀, τ₀+h] we fit log L by
/// the quadratic through its values at both ends and at the midpoint (the midpoint state from
/// the cubic Hermite interpolant, O(h⁴)), and integrate e^{−log L} with 8-point Gauss–Legendre
/// panels, each spanning at most 4 units of log L, summed in the log domain.
/// Then log t ← logaddexp(log t, log Δt).
#include <cmath>
#include <limits>

namespace kktflow {

/// log(e^a + e^b), exact for a or b = −∞.
double log_add_exp(double a, double b);

/// log ∫₀^h exp(−ℓ(s)) ds with ℓ the quadratic through (0, l0), (h/2, lm), (h, l1).
double log_integral_exp_neg_quadratic(double l0, double lm, double l1, double h);

class LogClock {
 public:
  double log_t() const { return m_log_t; }
  void set(double log_t) { m_log_t = log_t; }
  /// Loss time: adds ∫ e^{−log L} over a step of length h.
  void advance_loss_time(double l0, double lm, double l1, double h) {
    m_log_t = log_add_exp(m_log_t, log_integral_exp_neg_quadratic(l0, lm, l1, h));
  }
  /// Plain time: the integration variable is t itself.
  void set_plain_time(double t) { m_log_t = std::log(t); }

 private:
  double m_log_t = -std::numeric_limits<double>::infinity();
};

}  // namespace kktflow
