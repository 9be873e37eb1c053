// The clock against a flow whose t(τ) is known in closed form: the linear model on one sample
// with the exp loss. In loss time dθ/dτ = w y x with w = 1 (one sample), so the margin grows as
// q(τ) = q0 + ‖x‖² τ, log L = −q, and t(τ) = ∫₀^τ e^{q(σ)} dσ = e^{q0} (e^{‖x‖²τ} − 1)/‖x‖².
// log L is linear in τ, so the clock's quadratic fit is exact and only its quadrature errs.
#define BOOST_TEST_MODULE flow_clock
#include <boost/test/unit_test.hpp>

#include "problems/deep.hpp"
#include "problems/linear.hpp"
#include "solver/flow_clock.hpp"

#include <cmath>
#include <limits>

using namespace kktflow;
namespace tt = boost::test_tools;

namespace {

struct OneSample {
  Eigen::MatrixXd X = (Eigen::MatrixXd(1, 2) << 0.6, 0.8).finished();  // ‖x‖ = 1
  Eigen::VectorXd y = Eigen::VectorXd::Ones(1);
  LinearModel model{X};
  FullCoordinates margins{model, y};
  FlowSystem system;
  explicit OneSample(TimeMode mode) : system(margins, MarginLoss(LossKind::exp), mode) {}
};

}  // namespace

BOOST_AUTO_TEST_CASE(loss_time_clock_matches_the_closed_form_over_many_steps) {
  OneSample flow(TimeMode::loss);
  double log_t = -std::numeric_limits<double>::infinity();
  FlowClock clock(flow.system, log_t);
  clock.attach(nullptr);
  const double q0 = 0.3;
  Eigen::VectorXd x = q0 * flow.X.row(0).transpose(), f(2), x1(2), f1(2);
  double tau = 0;
  for (const double dt : {0.01, 0.5, 2.0, 7.0, 20.0}) {
    flow.system(x, f, tau);
    const double l0 = flow.system.last_log_loss();
    x1 = x + dt * f;
    flow.system(x1, f1, tau + dt);
    clock.advance(x, x1, f, f1, l0, flow.system.last_log_loss(), dt, tau, std::numeric_limits<double>::quiet_NaN());
    tau += dt;
    x = x1;
    const double exact = q0 + std::log(std::expm1(tau));  // log t(τ) with ‖x‖ = 1
    BOOST_TEST(log_t == exact, tt::tolerance(1e-13));
  }
}

BOOST_AUTO_TEST_CASE(a_midpoint_the_stepper_knows_is_used_as_given) {
  // With log L constant (l0 = lm = l1 = −5) one step adds dt e^5 whatever the states are; a
  // wrong midpoint changes the result, so the given one must be the one used.
  OneSample flow(TimeMode::loss);
  double log_t = -std::numeric_limits<double>::infinity();
  FlowClock clock(flow.system, log_t);
  clock.attach(nullptr);
  const Eigen::VectorXd x = Eigen::VectorXd::Zero(2);
  clock.advance(x, x, x, x, -5.0, -5.0, 2.0, 0.0, -5.0);
  BOOST_TEST(log_t == std::log(2.0) + 5.0, tt::tolerance(1e-14));
  BOOST_TEST(clock.log_rate(-5.0, x, x) == 5.0 - log_t, tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(plain_time_clock_is_the_log_of_the_integration_variable) {
  OneSample flow(TimeMode::t);
  double log_t = -std::numeric_limits<double>::infinity();
  FlowClock clock(flow.system, log_t);
  clock.attach(nullptr);
  const Eigen::VectorXd x = Eigen::VectorXd::Zero(2);
  clock.advance(x, x, x, x, 0, 0, 0.25, 3.0, std::numeric_limits<double>::quiet_NaN());
  BOOST_TEST(log_t == std::log(3.25), tt::tolerance(1e-15));
  BOOST_TEST(clock.log_rate(-100.0, x, x) == -std::log(3.25), tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(normalized_time_rescales_the_field_and_the_clock_by_the_norm) {
  // A depth-2 linear net (L = 2): the normalized field is the loss-time field over ‖θ‖, so a change
  // of variable from loss time returns the ratio 1/‖θ‖, and the clock's exponent and rate take
  // log ‖θ‖ on top of log L (dt/dσ = e^{−log L}/‖θ‖).
  OneSample data(TimeMode::loss);
  DeepParams p;
  p.layers = {"linear", "linear"};
  p.width = 3;
  p.seed = 2;
  DeepNet net(data.X, p);
  FullCoordinates margins(net, data.y);
  FlowSystem system(margins, MarginLoss(LossKind::exp), TimeMode::loss);
  const Eigen::VectorXd theta = net.initial_theta();
  Eigen::VectorXd f_loss(theta.size()), f_norm(theta.size());
  system(theta, f_loss, 0.0);
  double log_t = 2.0;
  FlowClock clock(system, log_t);
  const double rate_loss = clock.log_rate(-1.0, theta, f_loss);
  BOOST_TEST(clock.change_variable(TimeMode::normalized, theta) == 1 / theta.norm(), tt::tolerance(1e-14));
  BOOST_TEST(to_string(system.mode()) == "normalized");
  system(theta, f_norm, 0.0);
  BOOST_TEST((f_norm - f_loss / theta.norm()).norm() <= 1e-15 * f_loss.norm());
  BOOST_TEST(clock.log_rate(-1.0, theta, f_norm) == rate_loss - std::log(theta.norm()), tt::tolerance(1e-14));
}
