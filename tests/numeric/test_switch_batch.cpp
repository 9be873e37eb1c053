// switch_batch (solver/switch_batch_stepper.hpp) against the event-driven driver with bs3, which
// ends a step at every switch, on small fixed-outer leaky-ReLU nets in the span chart:
//  - through an early phase of many switches: the same switches (pair and direction), and the
//    same state at the same log t to the tolerances' size;
//  - through sliding onsets (γ = 0.1, frei2023_outside's regime): the same pairs held on their
//    kinks, and the same state;
//  - inside one region (no switch in the step): order 4, Lobatto IIIA's (Hairer & Wanner II,
//    §IV.5): halving the step divides the local error by about 2⁵.
#define BOOST_TEST_MODULE switch_batch
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "solver/driver.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

using namespace kktflow;

namespace {

struct Events final : Observer {
  std::vector<std::tuple<std::int64_t, std::int64_t, int>> seen;  ///< (neuron, sample, new sign)
  void on_event(const SwitchEvent& e) override { seen.emplace_back(e.neuron, e.sample, e.new_sign); }
};

struct Net {
  Dataset data;
  Leaky2FixedOuter model;
  Leaky2Span span;
  Net(double gamma, double init_scale)
      : data(make_dataset(gaussian_spec(12, 60, 3))), model(data.X, {16, gamma, true, init_scale, 4}),
        span(model, data.y, model.initial_theta()) {}
};

struct Run {
  Eigen::VectorXd state;
  RunResult result;
  std::vector<std::tuple<std::int64_t, std::int64_t, int>> events;
};

/// Runs the net's flow (exp loss, loss time, pattern frozen between events) to log t = log_t_end.
Run run_to(double gamma, double init_scale, StepperKind kind, double log_t_end) {
  Net net(gamma, init_scale);
  const MarginLoss loss(LossKind::exp);
  FlowSystem system(net.span, loss, TimeMode::loss);
  StepperOptions so;
  so.kind = kind;
  so.rel_tol = 1e-11;
  so.abs_tol = 1e-14;
  auto stepper = make_stepper(so);
  MetricsEvaluator metrics(net.span, loss, net.model.layers().front(), 2);
  DriverOptions o;
  o.stop.kkt_eps = 1e-300;  // never converged: run to log_t_max
  o.stop.log_t_max = log_t_end;
  Driver driver(system, *stepper, metrics, o);
  Events events;
  driver.add_observer(events);
  Run r;
  r.state = net.span.initial_state();
  r.result = driver.run(r.state, [] { return false; });
  r.events = events.seen;
  std::sort(r.events.begin(), r.events.end());
  return r;
}

double relative_gap(const Eigen::VectorXd& a, const Eigen::VectorXd& b) { return (a - b).norm() / b.norm(); }

}  // namespace

BOOST_AUTO_TEST_CASE(switch_batch_crosses_the_same_switches_as_the_event_driven_run) {
  const Run reference = run_to(0.5, 1e-2, StepperKind::bs3, 3.0);
  const Run batch = run_to(0.5, 1e-2, StepperKind::switch_batch, 3.0);
  BOOST_TEST(to_string(reference.result.status) == "log_t_max");
  BOOST_TEST(to_string(batch.result.status) == "log_t_max");
  BOOST_REQUIRE_GE(reference.events.size(), 40u);  // an early phase with many switches
  BOOST_TEST(batch.events == reference.events);
  BOOST_TEST(relative_gap(batch.state, reference.state) <= 1e-7);
}

BOOST_AUTO_TEST_CASE(switch_batch_holds_the_same_pairs_on_their_kinks) {
  const Run reference = run_to(0.1, 1e-2, StepperKind::bs3, 3.0);
  const Run batch = run_to(0.1, 1e-2, StepperKind::switch_batch, 3.0);
  BOOST_REQUIRE_GE(reference.result.captures, 3);
  BOOST_TEST(batch.result.captures == reference.result.captures);
  BOOST_TEST(batch.result.sliding_pairs == reference.result.sliding_pairs);
  BOOST_TEST(batch.events == reference.events);
  // bs3 ends a captured pair's step 1e-6 of a step past its kink (kLocatedOvershoot), with the
  // field of the side it left, where switch_batch holds the pair from its onset: each capture
  // moves the two states apart by about that much of a step.
  BOOST_TEST(relative_gap(batch.state, reference.state) <= 1e-6);
}

BOOST_AUTO_TEST_CASE(switch_batch_has_order_four_inside_a_region) {
  Net net(0.5, 1.0);
  FlowSystem system(net.span, MarginLoss(LossKind::exp), TimeMode::loss);
  const Eigen::VectorXd x0 = net.span.initial_state();
  Eigen::VectorXd s0(net.span.num_switches()), s1(net.span.num_switches());
  net.span.switch_functions(x0, s0);
  std::vector<char> side(static_cast<std::size_t>(s0.size()));
  for (Eigen::Index k = 0; k < s0.size(); ++k) side[static_cast<std::size_t>(k)] = s0[k] > 0;
  net.span.freeze_pattern(side);

  StepperOptions tight;
  tight.kind = StepperKind::dopri5;
  tight.rel_tol = 1e-14;
  tight.abs_tol = 1e-16;
  auto dopri5 = make_stepper(tight);
  StepperOptions fine;  // the Picard sweeps run to 3e-2 of this; the step's error is measured, not controlled
  fine.kind = StepperKind::switch_batch;
  fine.rel_tol = 1e-9;
  fine.abs_tol = 1e-12;
  auto batch = make_stepper(fine);

  auto exact = [&](double h) {
    Eigen::VectorXd x = x0, f(x0.size()), out(x0.size()), f_out(x0.size());
    system(x, f, 0.0);
    double tau = 0, dt = h / 64;
    while (h - tau > 1e-15 * h) {
      const double step = std::min(dt, h - tau);
      const StepAttempt a = dopri5->attempt(system, x, f, tau, step, out, f_out);
      dt = a.dt_next;
      if (!a.accepted) continue;
      x.swap(out);
      f.swap(f_out);
      tau += step;
    }
    return x;
  };
  auto one_step = [&](double h) {
    Eigen::VectorXd f(x0.size()), out(x0.size()), f_out(x0.size());
    system(x0, f, 0.0);
    out.setConstant(NAN);
    batch->attempt(system, x0, f, 0.0, h, out, f_out);  // accepted or not, out is the step's end
    BOOST_REQUIRE(out.allFinite());  // the sweeps converged
    return out;
  };
  auto crosses = [&](const Eigen::VectorXd& end) {  // sides are monotone over so short a step
    net.span.switch_functions(end, s1);
    return ((s1.array() > 0) != (s0.array() > 0)).any();
  };
  double h = 0.2;
  Eigen::VectorXd end = exact(h);
  for (; crosses(end); end = exact(h)) h /= 2;  // the longest step from x0 inside its region
  BOOST_TEST_MESSAGE("region step h = " << h);

  const double e1 = (one_step(h) - end).norm(), e2 = (one_step(h / 2) - exact(h / 2)).norm();
  BOOST_TEST_MESSAGE("local errors " << e1 << ", " << e2);
  BOOST_TEST(e1 > 1e-12);  // far above rounding, so the ratio measures the method
  BOOST_TEST(e1 / e2 >= 20.0);  // 2^5 = 32 for a local error O(h^5)
  BOOST_TEST(e1 / e2 <= 50.0);
}
