#pragma once
/// \file limit_certificate_claims.hpp
/// The certified limit (limit_certificate.hpp) as a claim of `kktflow verify`:
///
///  lyuli2020.limit_certified   the exact gradient flow from the run's last recorded state θ_T
///                              stays in θ_T's activation region forever, so its direction
///                              converges to that region's max-margin point: the KKT point of
///                              Lyu & Li (ICLR 2020) that this trajectory reaches, exactly, up to
///                              the integration error before θ_T. PASS (certified) with the
///                              certificate's figures; otherwise NOT CERTIFIED with the reason,
///                              never FAIL: the certificate may be out of reach (sliding pairs, a
///                              limit on its region's boundary, interval widths) without the
///                              theorem being in doubt. value = KL(λ̂‖w(θ_T))/ρ, below 1.
///
/// For gradient-flow runs of the fixed-outer net and of the linear model, exp or logistic loss.
#include "analysis/verify/claim_family.hpp"

namespace kktflow {

const ClaimFamily& limit_certificate_family();

}  // namespace kktflow
