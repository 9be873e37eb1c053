// region_ros2 and region_ros3 (solver/region_stepper.hpp) on the fixed-outer leaky-ReLU net with
// its pattern frozen, so the field is smooth and the methods integrate the same ODE:
//  - against dopri5 at tight tolerance: the same state at τ = 200;
//  - their orders for any J, 2 for ROS2 (Verwer et al. 1999) and 3 for ROS34PW2 (Rang &
//    Angermann 2005): halving a fixed step divides the error by 4 and by 8;
//  - the late phase: τ from 200 to 1e8 in a number of steps that grows like log τ, where an explicit
//    method's stability bound would need O(τ ‖K‖) steps.
#define BOOST_TEST_MODULE region_stepper
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "solver/region_stepper.hpp"
#include "stepper_run.hpp"

#include <cmath>
#include <utility>

using namespace kktflow;
using kktflow::testing::run_stepper;
using kktflow::testing::StepperRun;
using kktflow::testing::tolerances;

namespace {

struct FrozenNet {
  Dataset data = make_dataset(gaussian_spec(8, 30, 5));
  Leaky2FixedOuter model{data.X, {6, 0.3, true, 0.3, 9}};
  Leaky2Span span{model, data.y, model.initial_theta()};
  FlowSystem system{span, MarginLoss(LossKind::exp), TimeMode::loss};
  Eigen::VectorXd x0 = span.initial_state();

  FrozenNet() {
    Eigen::VectorXd s(span.num_switches());
    span.switch_functions(x0, s);
    std::vector<std::int64_t> side(static_cast<std::size_t>(s.size()));
    for (Eigen::Index k = 0; k < s.size(); ++k) side[static_cast<std::size_t>(k)] = s[k] > 0;
    span.freeze_pattern(side);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(region_methods_match_dopri5_on_the_frozen_field) {
  for (const StepperKind kind : {StepperKind::region_ros2, StepperKind::region_ros3}) {
    FrozenNet a, b;
    auto dopri = make_stepper(tolerances(StepperKind::dopri5, 1e-12));
    auto region = make_stepper(tolerances(kind, 1e-8));
    const StepperRun ref = run_stepper(*dopri, a.system, a.x0, 0.0, 200.0);
    const StepperRun got = run_stepper(*region, b.system, b.x0, 0.0, 200.0);
    BOOST_TEST_MESSAGE(to_string(kind) << ": relative difference " << (got.x - ref.x).norm() / ref.x.norm() << " after "
                                       << got.steps << " steps");
    BOOST_TEST(ref.x.norm() > 1.0);
    BOOST_TEST((got.x - ref.x).norm() <= 1e-9 * ref.x.norm());  // our agreement target
  }
}

BOOST_AUTO_TEST_CASE(region_methods_converge_with_their_orders) {
  FrozenNet reference_net;
  auto dopri = make_stepper(tolerances(StepperKind::dopri5, 1e-13));
  const Eigen::VectorXd ref = run_stepper(*dopri, reference_net.system, reference_net.x0, 0.0, 20.0).x;
  for (const auto& [kind, order] :
       {std::pair{StepperKind::region_ros2, 2.0}, std::pair{StepperKind::region_ros3, 3.0}}) {
    std::vector<double> errors;
    for (double h : {0.5, 0.25, 0.125}) {
      FrozenNet net;
      StepperOptions accept_every_step = tolerances(kind, 0.5);
      accept_every_step.abs_tol = 1e3;
      auto region = make_stepper(accept_every_step);
      errors.push_back((run_stepper(*region, net.system, net.x0, 0.0, 20.0, h).x - ref).norm());
    }
    for (std::size_t k = 1; k < errors.size(); ++k) {
      BOOST_TEST_MESSAGE(to_string(kind) << ": error " << errors[k] << ", ratio " << errors[k - 1] / errors[k]);
      BOOST_TEST(std::log2(errors[k - 1] / errors[k]) == order, boost::test_tools::tolerance(0.15));
    }
  }
}

BOOST_AUTO_TEST_CASE(region_ros2_goes_from_tau_200_to_1e8_in_under_100_steps) {
  // From τ = 200 (dopri5 before: early on, the absolute tolerance binds and an order-2 method
  // crawls, which is why `auto` hands off only late).
  FrozenNet net;
  auto dopri = make_stepper(tolerances(StepperKind::dopri5, 1e-10));
  const Eigen::VectorXd late = run_stepper(*dopri, net.system, net.x0, 0.0, 200.0).x;
  auto ros2 = make_stepper(tolerances(StepperKind::region_ros2, 1e-8));
  const StepperRun o = run_stepper(*ros2, net.system, late, 0.0, 1e8);
  BOOST_TEST_MESSAGE("steps to τ = 1e8: " << o.steps);
  BOOST_TEST(o.x.allFinite());
  BOOST_TEST(o.steps < 100);
}
