#pragma once
/// \file interval.hpp
/// Interval arithmetic with directed rounding for the limit certificate (limit_certificate.hpp),
/// on Boost.Interval: an interval [lo, hi] of doubles holds the exact real result of every
/// operation on the reals it holds, because each bound is rounded outward.
///
/// `Fast` intervals switch no rounding mode per operation; they are correct only while a
/// `RoundingScope` lives, which sets upward rounding and restores the caller's mode when it
/// ends (rounded_arith_opp computes a lower bound as −((−x) ∘ y) in upward mode). Code that
/// must run in round-to-nearest (BLAS products, error-free transformations, MPFR) runs outside
/// every scope. Translation units that use these types are compiled with -frounding-math and
/// -ffp-contract=off, so the compiler neither moves operations across a mode switch nor fuses
/// a product into a sum behind an error-free transformation's back.
#include <boost/numeric/interval.hpp>

#include <algorithm>
#include <cmath>

namespace kktflow::interval {

namespace bi = boost::numeric::interval_lib;
using Checked =
    boost::numeric::interval<double,
                             bi::policies<bi::save_state<bi::rounded_arith_opp<double>>, bi::checking_base<double>>>;
/// An interval whose operations assume upward rounding is in effect (see RoundingScope).
using Fast = bi::unprotect<Checked>::type;
/// Sets upward rounding for its lifetime and restores the caller's mode afterwards.
using RoundingScope = Checked::traits_type::rounding;

/// Smallest |x| over the interval.
inline double mig(const Fast& x) { return x.lower() > 0 ? x.lower() : x.upper() < 0 ? -x.upper() : 0.0; }
/// Largest |x| over the interval.
inline double mag(const Fast& x) { return std::max(std::abs(x.lower()), std::abs(x.upper())); }
/// The interval [mid − rad, mid + rad], rounded outward (rad ≥ 0).
inline Fast around(double mid, double rad) { return Fast(mid) + Fast(-rad, rad); }

}  // namespace kktflow::interval
