#pragma once
/// \file stability_bound.hpp
/// Hairer & Wanner's stiffness test for an explicit method (Solving ODEs II, §IV.2, as in their
/// DOPRI5 code): a step h is limited by stability, not accuracy, when h ρ reaches the method's
/// real-axis stability bound, ρ an estimate of the field's Jacobian along the step. DOPRI5 tests
/// h ρ > 3.25 (its bound is ≈ 3.31) with ρ = ‖k7 − k6‖/‖g7 − g6‖ from two stages at c = 1; the
/// step's end points give the same secant, ρ = ‖f(x1) − f(x0)‖/‖x1 − x0‖. A flow that settles
/// at an equilibrium ends up there whatever its rates (the error estimate vanishes with the
/// motion): the step grows until the fastest mode sits at the bound, where dopri5's amplification
/// is 1 in modulus, so that mode stops decaying and ‖f‖ stalls (square_ros_stepper.hpp).
#include <Eigen/Core>

namespace kktflow {

/// DOPRI5's threshold on h ρ (Hairer & Wanner II, §IV.2; their code's stiffness detection).
inline constexpr double kDopri5StabilityBound = 3.25;

/// True when the accepted step of size dt from x0 (field f0) to x1 (field f1) sat at dopri5's
/// stability bound.
inline bool at_stability_bound(double dt, const Eigen::VectorXd& x0, const Eigen::VectorXd& f0,
                               const Eigen::VectorXd& x1, const Eigen::VectorXd& f1) {
  const double dx = (x1 - x0).norm();
  return dx > 0 && dt * (f1 - f0).norm() >= kDopri5StabilityBound * dx;
}

}  // namespace kktflow
