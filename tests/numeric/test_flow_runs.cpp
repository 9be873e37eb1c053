// Whole runs of the driver on flows with exactly known components.
//  - Observer contract (odeint test/integrate.cpp habit): one sample, linear model, exp loss,
//    loss time: w = 1, so θ(τ) = θ0 + τ y x exactly, and t(τ) = ∫ e^{q(σ)} dσ with
//    q(τ) = q0 + ‖x‖² τ gives log t = q0 + log(expm1(‖x‖² τ)/‖x‖²). Every row the observer sees
//    must match both, and the calls must come in the documented order.
//  - Leaky-ReLU net in θ coordinates: W(t) − W(0) ∈ span{x_i} (Frei et al. 2023, the gradient of
//    f lies in the data span) to 1e-10 relative, and log L non-increasing along the run.
#define BOOST_TEST_MODULE flow_runs
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/linear.hpp"
#include "solver/driver.hpp"

#include <cmath>

using namespace kktflow;

namespace {

struct Recorder final : Observer {
  std::vector<Record> rows;
  std::vector<Eigen::VectorXd> thetas;
  std::vector<std::int64_t> snapshot_points;
  Eigen::VectorXd first_snapshot;
  int finishes = 0;
  bool call_after_finish = false;

  void on_record(const Record& r, const Eigen::VectorXd& theta) override {
    call_after_finish |= finishes > 0;
    rows.push_back(r);
    thetas.push_back(theta);
  }
  void on_snapshot(const Eigen::VectorXd& theta, std::int64_t point) override {
    call_after_finish |= finishes > 0;
    if (snapshot_points.empty()) first_snapshot = theta;
    snapshot_points.push_back(point);
  }
  void on_finish(const Eigen::VectorXd&, Status, const std::string&) override { ++finishes; }
};

DriverOptions short_run(double log_t_max) {
  DriverOptions o;
  o.stop.log_t_max = log_t_max;
  o.stop.kkt_eps = 1e-300;  // never converge: run to log_t_max
  o.output.record_every_log_t = 0.25;
  o.output.record_relative = 0;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(observer_sees_the_exact_linear_trajectory_and_clock) {
  const Eigen::MatrixXd X = (Eigen::MatrixXd(1, 2) << 0.8, 0.6).finished();  // ‖x‖ = 1
  const Eigen::VectorXd y = Eigen::VectorXd::Ones(1);
  const Eigen::VectorXd theta0 = (Eigen::VectorXd(2) << -0.3, 0.1).finished();
  LinearModel model(X);
  FullCoordinates margins(model, y);
  const MarginLoss loss(LossKind::exp);
  FlowSystem system(margins, loss, TimeMode::loss);
  auto stepper = make_stepper({});
  MetricsEvaluator metrics(margins, loss, model.layers()[0], 1);
  DriverOptions options = short_run(20.0);
  options.dt_max = 0.1;  // the field is constant, so without a cap the steps grow 5× each time
  Driver driver(system, *stepper, metrics, options);
  Recorder rec;
  driver.add_observer(rec);
  Eigen::VectorXd state = theta0;
  const RunResult result = driver.run(state, [] { return false; });

  BOOST_TEST(to_string(result.status) == "log_t_max");
  BOOST_TEST(rec.finishes == 1);
  BOOST_TEST(!rec.call_after_finish);
  BOOST_REQUIRE(!rec.snapshot_points.empty());
  BOOST_TEST(rec.snapshot_points.front() == -1);
  BOOST_TEST((rec.first_snapshot - theta0).norm() == 0.0);
  BOOST_REQUIRE_GE(rec.rows.size(), 40u);
  const double q0 = X.row(0).dot(theta0);
  for (std::size_t k = 0; k < rec.rows.size(); ++k) {
    const Record& r = rec.rows[k];
    const Eigen::VectorXd exact = theta0 + r.tau * X.row(0).transpose();
    BOOST_TEST((rec.thetas[k] - exact).norm() <= 1e-12 * (1 + exact.norm()));
    const double exact_log_t = q0 + std::log(std::expm1(r.tau));
    BOOST_TEST(std::abs(r.log_t - exact_log_t) <= 1e-9 * (1 + std::abs(exact_log_t)));
    BOOST_TEST(r.norm == rec.thetas[k].norm(), boost::test_tools::tolerance(1e-14));
    if (k > 0) {
      BOOST_TEST(r.step > rec.rows[k - 1].step);
      BOOST_TEST(r.log_t > rec.rows[k - 1].log_t);
    }
  }
}

BOOST_AUTO_TEST_CASE(leaky_net_in_theta_coordinates_stays_in_data_span_and_loss_decreases) {
  const Dataset data = make_dataset(gaussian_spec(8, 40, 11));
  Leaky2FixedOuter model(data.X, {6, 0.5, true, 1e-2, 12});
  const Eigen::VectorXd theta0 = model.initial_theta();
  FullCoordinates margins(model, data.y);
  const MarginLoss loss(LossKind::logistic);
  FlowSystem system(margins, loss, TimeMode::loss);
  auto stepper = make_stepper({});
  MetricsEvaluator metrics(margins, loss, model.layers()[0], 3);
  Driver driver(system, *stepper, metrics, short_run(30.0));
  Recorder rec;
  driver.add_observer(rec);
  Eigen::VectorXd theta = theta0;
  driver.run(theta, [] { return false; });

  // Residual of W − W0 after projecting its rows onto span{x_i}.
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd dW =
      Eigen::Map<const RowMajor>(theta.data(), 6, 40) - Eigen::Map<const RowMajor>(theta0.data(), 6, 40);
  const Eigen::MatrixXd Q =
      Eigen::HouseholderQR<Eigen::MatrixXd>(data.X.transpose()).householderQ() * Eigen::MatrixXd::Identity(40, 8);
  const Eigen::MatrixXd outside = dW - (dW * Q) * Q.transpose();
  BOOST_TEST(dW.norm() > 1.0);
  BOOST_TEST(outside.norm() <= 1e-10 * dW.norm());

  BOOST_REQUIRE_GE(rec.rows.size(), 20u);
  for (std::size_t k = 1; k < rec.rows.size(); ++k) BOOST_TEST(rec.rows[k].log_loss <= rec.rows[k - 1].log_loss);
  BOOST_TEST(rec.rows.back().log_loss < -25.0);
}
