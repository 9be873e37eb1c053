#pragma once
/// \file stepper_run.hpp
/// One stepper driven alone over [T0, T] with its own step control, or with a fixed step: what
/// the stepper tests compare (against a reference method, between step sizes, step counts).
#include "solver/flow_system.hpp"
#include "solver/stepper.hpp"

#include <Eigen/Core>

#include <algorithm>

#include <boost/test/unit_test.hpp>

namespace kktflow::testing {

/// The state at T and the accepted steps it took.
struct StepperRun {
  Eigen::VectorXd x;
  int steps = 0;
};

/// Integrates `sys` from `x` at T0 to T with `stepper`; `fixed` > 0 takes that step throughout.
/// A rejected attempt is not a step of the flow (some steppers advance carried state only on
/// acceptance), so fixed steps need tolerances that accept them.
inline StepperRun run_stepper(Stepper& stepper, FlowSystem& sys, Eigen::VectorXd x, double T0, double T,
                              double fixed = 0) {
  Eigen::VectorXd f(x.size()), out(x.size()), f_out(x.size());
  sys(x, f, T0);
  double tau = T0, dt = fixed > 0 ? fixed : 1e-3 * std::max(1.0, T0);
  StepperRun o;
  while (T - tau > 1e-13 * T) {
    const double h = std::min(dt, T - tau);
    const StepAttempt a = stepper.attempt(sys, x, f, tau, h, out, f_out);
    BOOST_REQUIRE(a.accepted || fixed <= 0);
    if (!a.accepted) {
      dt = a.dt_next;
      continue;
    }
    if (!a.has_dxdt_out) sys(out, f_out, tau + h);
    x.swap(out);
    f.swap(f_out);
    tau += h;
    ++o.steps;
    if (fixed <= 0) dt = a.dt_next;
  }
  o.x = x;
  return o;
}

/// Options of `kind` with relative tolerance `rel` and absolute tolerance rel/100.
inline StepperOptions tolerances(StepperKind kind, double rel) {
  StepperOptions o;
  o.kind = kind;
  o.rel_tol = rel;
  o.abs_tol = rel * 1e-2;
  return o;
}

}  // namespace kktflow::testing
