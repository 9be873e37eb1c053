#pragma once
/// \file directed_math.hpp
/// log, exp and log1p with directed rounding, and their interval extensions, for the limit
/// certificate. Each bound comes from GNU MPFR at 53 bits, correctly rounded in the direction
/// asked (MPFR_RNDD, MPFR_RNDU), then converted to double in the same direction: two roundings
/// in one direction still bound the exact value. The C library's log and exp promise no
/// rounding direction, so they cannot give a certified bound.
///
/// Every function sets round-to-nearest for MPFR's own use and restores the caller's mode, so
/// they may be called inside an interval::RoundingScope.
#include "analysis/verify/interval.hpp"

namespace kktflow::directed {

/// Bounds of log x (x > 0; log 0 = −∞).
double log_down(double x);
double log_up(double x);
/// Bounds of e^x.
double exp_down(double x);
double exp_up(double x);
/// Bounds of log(1 + x), x > −1.
double log1p_down(double x);
double log1p_up(double x);

/// [log lo, log hi] rounded outward; every point of x must be > 0.
interval::Fast log(const interval::Fast& x);
/// [e^lo, e^hi] rounded outward.
interval::Fast exp(const interval::Fast& x);
/// [log(1 + lo), log(1 + hi)] rounded outward; every point of x must be > −1.
interval::Fast log1p(const interval::Fast& x);

}  // namespace kktflow::directed
