// The square-loss flow (solver/square_flow.hpp) on Timor, Vardi, Shamir (2023)'s two points:
// the closed-form limit of §3 (v(0) = 0, w_i(0) active on x_i only), the balancedness it conserves,
// each stop rule (loss reached, a stationary point of positive loss, bad option values), Filippov
// sliding on a kink that attracts from both sides, the hand-off to the stiff method at dopri5's
// stability bound, and a run resumed from a checkpoint.
#define BOOST_TEST_MODULE square_flow
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/loss.hpp"
#include "problems/relu2.hpp"
#include "solver/square_flow.hpp"

#include <cmath>
#include <optional>

using namespace kktflow;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

Dataset timor_data() {
  DatasetSpec spec;
  spec.kind = "timor2023";
  spec.n = 2;
  spec.d = 2;
  return make_dataset(spec);
}

struct Setup {
  Dataset data = timor_data();
  Relu2 model{data.X, Relu2Params{2, 2, 1e-4, 0}};
  SquareLoss loss{two_class_targets(data.y), 2};
};

}  // namespace

BOOST_AUTO_TEST_CASE(closed_form_limit_of_timor_section_3) {
  // s² − a² = s0² is conserved and a s = 1 at zero loss: s∞² = (s0² + √(s0⁴ + 4))/2, to 1e-8 (ours).
  for (double s0 : {1e-8, 0.5}) {
    Setup s;
    SquareFlowOptions o;
    o.stop.loss = 1e-28;
    o.stop.grad_norm = 0;  // near zero loss ‖∇L‖ ~ √L would stop the flow first
    o.abs_tol = 1e-15;
    o.rel_tol = 1e-13;
    o.stop.log_t_max = 20;
    SquareFlow flow(s.model, s.loss, o);
    Eigen::VectorXd theta = closed_form_start(s.data.X, s0);
    const Eigen::VectorXd b0 = relu2_balance(theta, s.model.params(), 2);
    const RunResult r = flow.run(theta);
    BOOST_TEST_CONTEXT("s0 = " << s0) {
      BOOST_TEST(to_string(r.status) == "converged");
      const Eigen::Map<const RowMajor> W(theta.data(), 2, 2);
      for (Eigen::Index i = 0; i < 2; ++i)
        BOOST_TEST(std::abs(W.row(i).dot(s.data.X.row(i)) - closed_form_limit(s0)) <= 1e-8);
      BOOST_TEST((relu2_balance(theta, s.model.params(), 2) - b0).cwiseAbs().maxCoeff() <= 1e-10);
      // srank of W ≈ [s∞ x1; s∞ x2]: 2/(1 + |cos∡|).
      const double c = s.data.X.row(0).dot(s.data.X.row(1));
      const Eigen::VectorXd sv = Eigen::JacobiSVD<Eigen::MatrixXd>(W).singularValues();
      BOOST_TEST(sv.squaredNorm() / (sv[0] * sv[0]) == 2 / (1 + std::abs(c)), boost::test_tools::tolerance(1e-6));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_dead_net_stops_as_stationary_at_positive_loss) {
  // Both rows of W inactive on both samples: σ'(0) = 0 gives ∇L = 0 and L = (1/2n)·2 = 1/2.
  Setup s;
  SquareFlow flow(s.model, s.loss, SquareFlowOptions{});
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(8);
  theta.head(4) << 0.0, -1.0, 0.0, -1.0;
  theta.tail(4).setConstant(0.3);
  const RunResult r = flow.run(theta);
  BOOST_TEST(to_string(r.status) == "stationary");
  BOOST_TEST(flow.loss_at(theta) == 0.5);
}

namespace {

/// The ensemble's options (analysis/verify/timor2023_claims.cpp).
SquareFlowOptions ensemble_options() {
  SquareFlowOptions o;
  o.stop.loss = 1e-12;
  o.abs_tol = 1e-14;
  o.rel_tol = 1e-10;
  o.stop.log_t_max = 20;
  o.stop.max_steps = 20'000;
  return o;
}

/// The ensemble's options for model seed 6 of Timor's §3.2 setup, whose
/// pair (w_0, x_2) is pushed onto its kink from both sides near t = 4.
RunResult run_model_seed_6(bool sliding, Eigen::VectorXd& theta, Eigen::VectorXd& balance_change) {
  Setup s;
  Relu2 model(s.data.X, Relu2Params{2, 2, 1e-4, 6});
  SquareFlowOptions o = ensemble_options();
  o.sliding = sliding;
  SquareFlow flow(model, s.loss, o);
  theta = model.initial_theta();
  const Eigen::VectorXd b0 = relu2_balance(theta, model.params(), 2);
  const RunResult r = flow.run(theta);
  balance_change = relu2_balance(theta, model.params(), 2) - b0;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_attracting_kink_is_held_instead_of_chattered_across) {
  Eigen::VectorXd theta, db;
  // Without sliding the error control chatters across the kink until the step budget, at t ≈ 4.
  const RunResult chatter = run_model_seed_6(false, theta, db);
  BOOST_TEST(to_string(chatter.status) == "step_budget");
  BOOST_TEST(chatter.last.tau < 10.0);
  // With it the pair is held, and the flow ends at a stationary point: one sample fitted, the other's
  // output 0, so L = (1/2n)‖e_k‖² = 1/4 exactly.
  const RunResult held = run_model_seed_6(true, theta, db);
  BOOST_TEST(to_string(held.status) == "stationary");
  BOOST_TEST(held.captures >= 1);
  BOOST_TEST(held.last.step < 2'000);
  BOOST_TEST(std::exp(held.last.log_loss) == 0.25, boost::test_tools::tolerance(1e-9));
  // Holding keeps each held row's norm, so ‖w_j‖² − ‖v_j‖² stays conserved (relu2.hpp).
  BOOST_TEST(db.cwiseAbs().maxCoeff() <= 1e-12);
}

BOOST_AUTO_TEST_CASE(a_stationary_point_at_the_stability_bound_is_reached_by_the_stiff_method) {
  // Model seed 13 of Timor's §3.2 setup, with the ensemble's options: one neuron ends active on
  // both samples, the other inactive on both. The live one is then the best rank-1 fit of the
  // targets [e1 e2] = I (Eckart–Young: the residual is I's second singular value, 1), so
  // L = (1/2n)·1 = 1/4 exactly, a stationary point whose ∇²L has nonzero eigenvalues ≈ 0.995 and
  // 1.005. dopri5's step settles at its stability bound h λ_max ≈ 3.3, where ‖∇L‖ stalls at
  // 2.2e-12 > stop.grad_norm = 1e-12 until the 20 000-step cap (t ≈ 6.4e4); after the hand-off
  // to the L-stable ROS34PW2 ‖∇L‖ keeps falling and the run ends stationary.
  const Dataset data = timor_data();
  Relu2 model(data.X, Relu2Params{2, 2, 1e-4, 13});
  SquareFlow flow(model, SquareLoss(two_class_targets(data.y), 2), ensemble_options());
  Eigen::VectorXd theta = model.initial_theta();
  const RunResult r = flow.run(theta);
  BOOST_TEST(to_string(r.status) == "stationary");
  BOOST_TEST(std::isfinite(r.late_phase_log_t));
  BOOST_TEST(r.last.step < 2'000);
  BOOST_TEST(r.last.tau < 1e3);
  BOOST_TEST(flow.loss_at(theta) == 0.25, boost::test_tools::tolerance(1e-9));
  const Eigen::Map<const RowMajor> W(theta.data(), 2, 2);
  const Eigen::Matrix2d Z = W * data.X.transpose();
  const bool live0 = Z(0, 0) > 0 && Z(0, 1) > 0, live1 = Z(1, 0) > 0 && Z(1, 1) > 0;
  BOOST_TEST((live0 != live1));
  BOOST_TEST((live0 ? Z.row(1) : Z.row(0)).maxCoeff() <= 0);
}

BOOST_AUTO_TEST_CASE(bad_stop_values_name_the_key) {
  Setup s;
  SquareFlowOptions o;
  o.stop.loss = -1;
  BOOST_CHECK_EXCEPTION(SquareFlow(s.model, s.loss, o), std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()).find("stop.loss = -1") != std::string::npos;
  });
  o = SquareFlowOptions{};
  o.stop.grad_norm = NAN;
  BOOST_CHECK_THROW(SquareFlow(s.model, s.loss, o), std::invalid_argument);
}

namespace {

/// Keeps the checkpoints a run hands its observers.
struct Checkpoints : Observer {
  std::vector<RunState> taken;
  void on_checkpoint(const RunState& c) override { taken.push_back(c); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_resumed_run_ends_where_the_uninterrupted_one_does) {
  // Through the margin flow's loop the square loss checkpoints too: a run resumed from a
  // checkpoint taken mid-run (every step: checkpoint_every_s = 0) continues bit for bit.
  Setup s;
  Relu2 model(s.data.X, Relu2Params{4, 2, 0.1, 3});
  SquareFlowOptions o;
  o.stop.loss = 1e-10;
  o.checkpoint_every_s = 0;
  Checkpoints whole;
  Eigen::VectorXd straight = model.initial_theta();
  SquareFlow first(model, s.loss, o);
  first.add_observer(whole);
  const RunResult done = first.run(straight);
  BOOST_TEST((done.status == Status::converged || done.status == Status::stationary));
  BOOST_REQUIRE(whole.taken.size() > 4);
  const RunState middle = whole.taken[whole.taken.size() / 2];
  BOOST_REQUIRE(middle.step > 0 && middle.step < done.last.step);

  SquareFlow second(model, s.loss, o);
  second.resume_from(middle, std::nullopt);
  Eigen::VectorXd resumed = model.initial_theta();
  const RunResult again = second.run(resumed);
  BOOST_TEST((again.status == done.status));
  BOOST_TEST(again.last.step == done.last.step);
  BOOST_TEST((resumed.array() == straight.array()).all());
}
