// margin_ros2 and margin_ros3 (solver/margin_ros_stepper.hpp) and what they stand on:
//  - the Woodbury solve against a dense solve of W = I − c G P Gᵀ, up to c‖K‖ = 1e12;
//  - order 2 and 3 for a W that leaves out the curvature term (Verwer et al. 1999 for ROS2, Rang &
//    Angermann 2005 for ROS34PW2: W-methods keep their order for any W): halving a fixed step
//    divides the error at σ = 1 by 4 and 8, on a depth-3 linear net in normalized time, whose
//    field is smooth everywhere;
//  - margin_ros3 at tight tolerance against dopri5 at tighter, on the same smooth field;
//  - the late phase: σ from 1e2 to 1e8 in steps that grow ∝ σ (a count ∝ log σ), where the
//    stiffness s‖K‖ ~ ‖θ‖^(L−1) would hold an explicit method's step at O(1/‖θ‖²);
//  - slow_weights against the minimum-norm point of a segment, by hand;
//  - whole runs: Lyu et al. (NeurIPS 2021, Thm 3.2) — on symmetric data the normalized margin tends
//    to (1+α)γ_lin/4 — to 1e-8 at ε_KKT ≤ 1e-10; a depth-3 linear net to ε_KKT ≤ 1e-10 with its layers
//    rank 1 (Ji & Telgarsky, ICLR 2019, Thm 2.2).
#define BOOST_TEST_MODULE margin_ros_stepper
#include <boost/test/unit_test.hpp>

#include "analysis/verify/svm.hpp"
#include "problems/dataset.hpp"
#include "problems/deep.hpp"
#include "problems/two_layer_leaky.hpp"
#include "solver/driver.hpp"
#include "solver/margin_woodbury.hpp"
#include "solver/slow_manifold.hpp"
#include "stepper_run.hpp"

#include <cmath>
#include <random>

using namespace kktflow;
using kktflow::testing::run_stepper;
using kktflow::testing::StepperRun;
using kktflow::testing::tolerances;
namespace tt = boost::test_tools;

namespace {

DatasetSpec mixture() {
  DatasetSpec spec;
  spec.kind = "mixture";
  spec.n = 20;
  spec.d = 8;
  spec.mean_norm = 3;
  spec.seed = 4;
  return spec;
}

/// A depth-3 linear net (no kinks: its field is smooth everywhere) in normalized time.
struct LinearNet {
  Dataset data = make_dataset(mixture());
  DeepNet model{data.X, [] {
                  DeepParams p;
                  p.layers = {"linear", "linear", "linear"};
                  p.width = 5;
                  p.init_scale = 0.5;
                  p.seed = 5;
                  return p;
                }()};
  FullCoordinates margins{model, data.y};
  FlowSystem system{margins, MarginLoss(LossKind::exp), TimeMode::normalized};
  Eigen::VectorXd theta0 = model.initial_theta();
};

}  // namespace

BOOST_AUTO_TEST_CASE(woodbury_solve_inverts_w) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const Eigen::Index P = 30, n = 6;
  Eigen::MatrixXd G(P, n);
  for (double& v : G.reshaped()) v = normal(rng);
  const Eigen::MatrixXd K = G.transpose() * G;
  Eigen::VectorXd q(n), w(n);
  for (double& v : q) v = normal(rng);
  MarginLoss(LossKind::exp).weights(q, w);
  const Eigen::MatrixXd Pw = w * w.transpose() - Eigen::MatrixXd(w.asDiagonal());  // ∂w/∂q, exp loss
  Eigen::VectorXd b(P);
  for (double& v : b) v = normal(rng);
  for (const double c : {1e-2, 1.0, 1e4, 1e10}) {
    MarginWoodbury solver;
    solver.compute(G, K, w, w, c);
    Eigen::VectorXd x;
    solver.solve(b, x);
    const Eigen::MatrixXd W = Eigen::MatrixXd::Identity(P, P) - c * G * Pw * G.transpose();
    BOOST_TEST_CONTEXT("c = " << c) { BOOST_TEST((W * x - b).norm() <= 1e-12 * c * K.norm() * (x.norm() + b.norm())); }
    Eigen::VectorXd Jb;
    solver.jacobian_times(b, Jb);
    BOOST_TEST((Jb - G * Pw * G.transpose() * b).norm() <= 1e-13 * K.norm() * b.norm());
  }
}

BOOST_AUTO_TEST_CASE(orders_two_and_three_with_the_curvature_left_out) {
  LinearNet net;
  auto reference = make_stepper(tolerances(StepperKind::dopri5, 1e-13));
  const Eigen::VectorXd exact = run_stepper(*reference, net.system, net.theta0, 0.0, 1.0).x;
  for (const auto& [kind, order] : {std::pair{StepperKind::margin_ros2, 2}, std::pair{StepperKind::margin_ros3, 3}}) {
    // Loose tolerances: every fixed step is accepted (the estimate is not under test here).
    auto stepper = make_stepper(tolerances(kind, 0.5));
    const double e1 = (run_stepper(*stepper, net.system, net.theta0, 0.0, 1.0, 1.0 / 16).x - exact).norm();
    stepper->reset();
    const double e2 = (run_stepper(*stepper, net.system, net.theta0, 0.0, 1.0, 1.0 / 32).x - exact).norm();
    const double ratio = e1 / e2, expected = std::pow(2.0, order);
    BOOST_TEST_CONTEXT(to_string(kind) << ": errors " << e1 << ", " << e2 << ", ratio " << ratio) {
      BOOST_TEST(ratio > 0.8 * expected);
      BOOST_TEST(ratio < 1.25 * expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(margin_ros3_matches_dopri5_on_a_smooth_field) {
  LinearNet net;
  auto reference = make_stepper(tolerances(StepperKind::dopri5, 1e-13));
  auto stepper = make_stepper(tolerances(StepperKind::margin_ros3, 1e-11));
  const Eigen::VectorXd exact = run_stepper(*reference, net.system, net.theta0, 0.0, 20.0).x;
  const StepperRun ros = run_stepper(*stepper, net.system, net.theta0, 0.0, 20.0);
  BOOST_TEST((ros.x - exact).norm() <= 1e-8 * exact.norm());
}

BOOST_AUTO_TEST_CASE(late_steps_grow_in_proportion_to_sigma) {
  // From σ = 100 (the data separated, margins ~ 1e4) to σ = 1e8: a step ∝ σ makes the count grow
  // like log(1e6) (ours: ≤ 300); dopri5 is held to h ≲ 2/(s‖K P‖) ~ 1/‖θ‖² by stability.
  LinearNet net;
  auto early = make_stepper(tolerances(StepperKind::dopri5, 1e-10));
  const Eigen::VectorXd x100 = run_stepper(*early, net.system, net.theta0, 0.0, 100.0).x;
  auto stepper = make_stepper(tolerances(StepperKind::margin_ros3, 1e-10));
  const StepperRun late = run_stepper(*stepper, net.system, x100, 100.0, 1e8);
  BOOST_TEST(late.x.norm() > 1e6);
  BOOST_TEST(late.steps <= 300);
}

BOOST_AUTO_TEST_CASE(slow_weights_are_the_minimum_norm_point_of_the_tied_gradients) {
  // Gradients (2, 0) and (0, 1): ‖λ1 (2, 0) + λ2 (0, 1)‖² = 4λ1² + λ2² on λ1 + λ2 = 1 is least at
  // λ = (1/5, 4/5), by hand. A third sample 1000 units above the least margin is not tied, and a
  // fourth, tied, with gradient (2, 2) lies outside the segment's side of the origin: λ4 = 0.
  Eigen::MatrixXd G(2, 4);
  G << 2, 0, 5, 2, 0, 1, 5, 2;
  const Eigen::MatrixXd K = G.transpose() * G;
  const Eigen::VectorXd q = (Eigen::VectorXd(4) << 10.0, 10.5, 1010.0, 10.2).finished();
  const Eigen::VectorXd lambda = slow_weights(q, K, 1.0);
  BOOST_TEST(lambda[0] == 0.2, tt::tolerance(1e-14));
  BOOST_TEST(lambda[1] == 0.8, tt::tolerance(1e-14));
  BOOST_TEST(lambda[2] == 0.0);
  BOOST_TEST(lambda[3] == 0.0);
}

namespace {

/// Runs dopri5, handing off to margin_ros3, in normalized time (flow.stepper = "auto").
RunResult auto_run(MarginSystem& margins, LossKind loss_kind, LayerView first_layer, Eigen::VectorXd& theta,
                   double rel_tol, double abs_tol, double kkt_eps) {
  const MarginLoss loss(loss_kind);
  FlowSystem system(margins, loss, TimeMode::normalized);
  StepperOptions so;
  so.rel_tol = rel_tol;
  so.abs_tol = abs_tol;
  auto early = make_stepper(so);
  so.kind = StepperKind::margin_ros3;
  auto late = make_stepper(so);
  MetricsEvaluator metrics(margins, loss, first_layer, 4);
  DriverOptions o;
  o.stop.kkt_eps = kkt_eps;
  o.stop.log_t_max = 1e300;
  o.stop.max_steps = 50'000;
  Driver driver(system, *early, metrics, o);
  driver.hand_off_to(*late);
  return driver.run(theta, [] { return false; });
}

}  // namespace

BOOST_AUTO_TEST_CASE(lyu2021_symmetric_margin_reaches_the_global_optimum) {
  // data/configs/lyu2021_symmetric.toml: Lyu et al. 2021, Thm 3.2: q_min/‖θ‖² → (1+α)γ_lin/4.
  DatasetSpec spec;
  spec.kind = "symmetric";
  spec.n = 20;
  spec.d = 10;
  spec.seed = 3;
  spec.unit_norm = true;
  const Dataset data = make_dataset(spec);
  TwoLayerLeaky model(data.X, {10, 0.5, 1e-3, 4});
  FullCoordinates margins(model, data.y);
  Eigen::VectorXd theta = model.initial_theta();
  const RunResult r = auto_run(margins, LossKind::logistic, model.layers().front(), theta, 1e-10, 1e-14, 1e-10);
  BOOST_TEST_MESSAGE(r.reason);
  BOOST_TEST(to_string(r.status) == "converged");
  BOOST_TEST(r.last.kkt_eps <= 1e-10);
  const double optimum = (1 + 0.5) * hard_margin_svm(data.X, data.y).margin / 4;
  BOOST_TEST(r.last.normalized_margin / optimum - 1 == 0.0, tt::tolerance(1e-8));
  BOOST_TEST(r.last.step <= 20'000);
}

BOOST_AUTO_TEST_CASE(deep_linear_net_reaches_kkt_eps_1e_10_with_rank_one_layers) {
  // data/configs/le2022_deep_linear.toml (depth 3): ε_KKT falls like 1/‖θ‖, so 1e-10 needs
  // ‖θ‖ ≈ 1e8, log t ≈ 1e23, where the margins' rounding is ~1e9 and the slow manifold carries it.
  const Dataset data = make_dataset(mixture());
  DeepParams p;
  p.layers = {"linear", "linear", "linear"};
  p.width = 5;
  p.init_scale = 1e-3;
  p.seed = 5;
  DeepNet model(data.X, p);
  FullCoordinates margins(model, data.y);
  Eigen::VectorXd theta = model.initial_theta();
  const RunResult r = auto_run(margins, LossKind::exp, model.layers().front(), theta, 1e-10, 1e-14, 1e-10);
  BOOST_TEST(to_string(r.status) == "converged");
  BOOST_TEST(r.last.kkt_eps <= 1e-10);
  BOOST_TEST(r.last.stable_rank - 1 <= 1e-10);
  BOOST_TEST(r.last.log_t > 1e20);
  BOOST_TEST(r.last.step <= 20'000);
}
