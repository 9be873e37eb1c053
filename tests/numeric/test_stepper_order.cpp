// Convergence order of every stepper on a smooth flow with a closed form (odeint's
// test/numeric/runge_kutta.cpp habit): one sample, linear model, exp loss, plain time t:
//   q = y⟨θ, x⟩,  dq/dt = ‖x‖² e^{−q}  ⇒  q(t) = log(e^{q(0)} + ‖x‖² t)   (linear.hpp).
// Halving a fixed step must divide the error at t = T by at least 2^p, p the method's order
// (Dormand–Prince's tiny fifth-order error constants let a sixth-order term dominate at these
// steps, so the observed order may exceed p; it must not exceed p + 1.5, which a method that
// returned its embedded solution or a wrong tableau could not meet either way).
#define BOOST_TEST_MODULE stepper_order
#include <boost/test/unit_test.hpp>

#include "problems/linear.hpp"
#include "solver/stepper.hpp"

#include <cmath>

using namespace kktflow;

namespace {

struct SmoothFlow {
  Eigen::MatrixXd X = (Eigen::MatrixXd(1, 3) << 0.6, -0.8, 0.5).finished();
  Eigen::VectorXd y = Eigen::VectorXd::Ones(1);
  LinearModel model{X};
  FullCoordinates margins{model, y};
  FlowSystem system{margins, MarginLoss(LossKind::exp), TimeMode::t};
  Eigen::VectorXd theta0 = (Eigen::VectorXd(3) << 0.1, 0.2, -0.3).finished();

  double exact_q(double t) const {
    const double q0 = X.row(0).dot(theta0);
    return std::log(std::exp(q0) + X.row(0).squaredNorm() * t);
  }

  /// |q(T) − exact| after T/h fixed steps of size h (the error control is ignored).
  double error(Stepper& stepper, double T, int steps) {
    Eigen::VectorXd x = theta0, out(3), dxdt(3), dxdt_out(3);
    const double h = T / steps;
    for (int k = 0; k < steps; ++k) {
      system(x, dxdt, k * h);
      stepper.attempt(system, x, dxdt, k * h, h, out, dxdt_out);
      x = out;
    }
    return std::abs(X.row(0).dot(x) - exact_q(T));
  }
};

double observed_order(StepperKind kind, int coarse_steps) {
  SmoothFlow flow;
  StepperOptions o;
  o.kind = kind;
  auto stepper = make_stepper(o);
  const double T = 1.0;
  const double e1 = flow.error(*stepper, T, coarse_steps);
  const double e2 = flow.error(*stepper, T, 2 * coarse_steps);
  BOOST_TEST_MESSAGE(to_string(kind) << ": errors " << e1 << ", " << e2);
  return std::log2(e1 / e2);
}

}  // namespace

BOOST_AUTO_TEST_CASE(gd_is_first_order) { BOOST_TEST(std::abs(observed_order(StepperKind::gd, 200) - 1) < 0.1); }

BOOST_AUTO_TEST_CASE(dopri5_is_fifth_order) {
  const double p = observed_order(StepperKind::dopri5, 16);
  BOOST_TEST(p > 4.7);
  BOOST_TEST(p < 6.5);
}

BOOST_AUTO_TEST_CASE(bs3_is_third_order_with_a_second_order_estimate) {
  const double p = observed_order(StepperKind::bs3, 32);
  BOOST_TEST(p > 2.8);
  BOOST_TEST(p < 3.6);
  // The embedded estimate is the local error of the 2nd-order solution, O(h³): halving h
  // divides the normalized error by 2³ (a wrong b̂ row would leave an O(h) or O(h²) term).
  SmoothFlow flow;
  StepperOptions o;
  o.kind = StepperKind::bs3;
  auto stepper = make_stepper(o);
  Eigen::VectorXd dxdt(3), out(3), dxdt_out(3);
  flow.system(flow.theta0, dxdt, 0.0);
  const double e1 = stepper->attempt(flow.system, flow.theta0, dxdt, 0.0, 0.02, out, dxdt_out).error;
  const double e2 = stepper->attempt(flow.system, flow.theta0, dxdt, 0.0, 0.01, out, dxdt_out).error;
  BOOST_TEST(std::log2(e1 / e2) == 3.0, boost::test_tools::tolerance(0.1));
}

BOOST_AUTO_TEST_CASE(cash_karp54_is_fifth_order) {
  const double p = observed_order(StepperKind::cash_karp54, 8);
  BOOST_TEST(p > 4.7);
  BOOST_TEST(p < 6.5);
}

BOOST_AUTO_TEST_CASE(fehlberg78_is_eighth_order) {
  // Coarse steps: the error must stay well above rounding (1e-16) for the ratio to mean anything.
  const double p = observed_order(StepperKind::fehlberg78, 4);
  BOOST_TEST(p > 7.3);
  BOOST_TEST(p < 9.5);
}

BOOST_AUTO_TEST_CASE(bulirsch_stoer_reaches_its_tolerance) {
  // Variable order: check accuracy against the closed form instead of an order.
  SmoothFlow flow;
  StepperOptions o;
  o.kind = StepperKind::bulirsch_stoer;
  o.abs_tol = o.rel_tol = 1e-12;
  auto stepper = make_stepper(o);
  Eigen::VectorXd x = flow.theta0, out(3), dxdt(3), dxdt_out(3);
  double t = 0, dt = 0.1;
  while (t < 4.0) {
    const double h = std::min(dt, 4.0 - t);
    flow.system(x, dxdt, t);
    const auto a = stepper->attempt(flow.system, x, dxdt, t, h, out, dxdt_out);
    if (a.accepted) x = out, t += h;
    dt = a.dt_next;
  }
  BOOST_TEST(std::abs(flow.X.row(0).dot(x) - flow.exact_q(4.0)) < 1e-10);
}
