/// \file late_phase_models.cpp
/// The late phase of every θ-coordinate model: wall time, steps and RHS evaluations until ε_KKT
/// first falls below 1e−6, 1e−8 and 1e−10, for each way of integrating the flow, on
///   lyu2021      data/configs/lyu2021_symmetric.toml (two_layer_leaky, symmetric data, logistic)
///   gaussian     data/configs/two_layer_gaussian.toml (two_layer_leaky, Gaussian data, logistic),
///                and with `auto` alone at seeds 1–5
///   linear3/4    data/configs/le2022_deep_linear.toml at depth 3 and 4 (deep, all layers linear)
///   relu         data/configs/le2022_relu_trailing.toml (deep, two ReLU then two linear layers)
///   linear       data/configs/soudry2018_linear.toml (θ stays in the data's span from θ(0) = 0,
///                so ε_KKT is rounding from the first row on: a check, not a race)
/// with the configs' sizes, seeds and tolerances. Methods:
///   auto         dopri5 in loss time, handing off to margin_ros3 (ROS34PW2 W-method,
///                margin_ros_stepper.hpp) in normalized time once the late phase begins
///                (flow.stepper = "auto")
///   normalized   the same with dopri5 in normalized time too (flow.time = "normalized")
///   ros2         auto's hand-off to margin_ros2 (ROS2, order 2, first-order error estimate)
///   dopri5       dopri5 alone, in loss time (auto without its hand-off)
///   gd c/L       Lyu & Li's loss-based step η = c/L (c = 0.5, as bench/late_phase), loss time
/// RHS counts n margin gradients (n VJPs) as n evaluations. Each method gets the same wall budget
/// (20 s, or KKTFLOW_BENCH_BUDGET seconds); "—" means it never got there within it, and the row
/// "end" gives the ε_KKT, wall seconds and steps of its last record.
#include "problems/dataset.hpp"
#include "problems/deep.hpp"
#include "problems/linear.hpp"
#include "problems/two_layer_leaky.hpp"
#include "solver/driver.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace kktflow;

double budget_seconds() {
  const char* text = std::getenv("KKTFLOW_BENCH_BUDGET");
  return text ? std::atof(text) : 20.0;
}
const std::vector<double> kTargets{1e-6, 1e-8, 1e-10};

struct Reached {
  double wall = NAN;
  std::int64_t steps = 0, rhs = 0;
};

/// The first record at or below each target; the last entry is the run's last record, whatever its ε.
class TargetWatch final : public Observer {
 public:
  std::vector<Reached> reached = std::vector<Reached>(kTargets.size() + 1);
  double last_eps = NAN;
  void on_record(const Record& r, const Eigen::VectorXd&) override {
    for (std::size_t k = 0; k < kTargets.size(); ++k)
      if (std::isnan(reached[k].wall) && r.kkt_eps <= kTargets[k]) reached[k] = {r.wall_s, r.step, r.rhs_evals};
    reached.back() = {r.wall_s, r.step, r.rhs_evals};
    last_eps = r.kkt_eps;
  }
};

struct Outcome {
  std::vector<Reached> reached;
  double last_eps = NAN;
};

/// One of the configs above: data, model and θ(0), built as `kktflow run` builds them (seed s:
/// data.seed = s, model.seed = s + 1).
struct Problem {
  std::string name;
  Dataset data;
  std::unique_ptr<Model> model;
  Eigen::VectorXd theta0;
  LossKind loss = LossKind::exp;
  double rel_tol = 1e-8, abs_tol = 1e-10;
  bool capture_on_arrival = true;
};

DatasetSpec mixture_spec() {
  DatasetSpec spec;
  spec.kind = "mixture";
  spec.n = 20;
  spec.d = 8;
  spec.mean_norm = 3;
  spec.seed = 4;
  return spec;
}

Problem two_layer(const std::string& name, const DatasetSpec& spec, std::uint64_t seed) {
  Problem p{name, make_dataset(spec), nullptr, {}, LossKind::logistic, 1e-10, 1e-10};
  auto model = std::make_unique<TwoLayerLeaky>(p.data.X, TwoLayerLeakyParams{10, 0.5, 1e-3, seed + 1});
  p.theta0 = model->initial_theta();
  p.model = std::move(model);
  return p;
}

Problem deep(const std::string& name, std::vector<std::string> layers, double init_scale) {
  Problem p{name, make_dataset(mixture_spec()), nullptr, {}, LossKind::exp, 1e-10, 1e-14};
  DeepParams params;
  params.layers = std::move(layers);
  params.width = 5;
  params.init_scale = init_scale;
  params.seed = 5;
  auto model = std::make_unique<DeepNet>(p.data.X, params);
  p.theta0 = model->initial_theta();
  p.model = std::move(model);
  return p;
}

std::vector<std::function<Problem()>> problems() {
  return {
      [] {
        DatasetSpec spec;
        spec.kind = "symmetric";
        spec.n = 20;
        spec.d = 10;
        spec.seed = 3;
        spec.unit_norm = true;
        Problem p = two_layer("lyu2021", spec, 3);
        p.abs_tol = 1e-14;
        return p;
      },
      [] { return two_layer("gaussian", gaussian_spec(10, 10, 3), 3); },
      [] {
        return deep("linear3", {"linear", "linear", "linear"}, 1e-3);
      },
      [] {
        return deep("linear4", {"linear", "linear", "linear", "linear"}, 1e-3);
      },
      [] {
        Problem p = deep("relu", {"relu", "relu", "linear", "linear"}, 1e-2);
        p.capture_on_arrival = false;
        return p;
      },
      [] {
        Problem p{"linear", make_dataset(mixture_spec()), nullptr, {}, LossKind::exp};
        p.model = std::make_unique<LinearModel>(p.data.X);
        p.theta0 = Eigen::VectorXd::Zero(p.data.d());
        return p;
      },
  };
}

struct Method {
  std::string name;
  StepperKind kind;
  TimeMode time;
  StepperKind late;  ///< handed off to when != kind
};

Outcome run(const std::function<Problem()>& make, const Method& method) {
  Problem p = make();
  FullCoordinates margins(*p.model, p.data.y);
  const MarginLoss loss(p.loss);
  FlowSystem system(margins, loss, method.time);
  StepperOptions so;
  so.kind = method.kind;
  so.rel_tol = p.rel_tol;
  so.abs_tol = p.abs_tol;
  so.gd_step = 0.5;
  auto stepper = make_stepper(so);
  so.kind = method.late;
  auto late = make_stepper(so);
  MetricsEvaluator metrics(margins, loss, p.model->layers().front(), 4);
  DriverOptions o;
  o.stop.kkt_eps = kTargets.back();
  o.stop.log_t_max = 1e300;
  o.stop.wall_s = budget_seconds();
  o.sliding.capture_on_arrival = p.capture_on_arrival;
  Driver driver(system, *stepper, metrics, o);
  if (method.late != method.kind) driver.hand_off_to(*late);
  TargetWatch watch;
  driver.add_observer(watch);
  Eigen::VectorXd state = p.theta0;
  driver.run(state, [] { return false; });
  return {watch.reached, watch.last_eps};
}

void print_problem(const std::function<Problem()>& make, const std::vector<Method>& methods) {
  std::vector<Outcome> results;
  for (const Method& m : methods) results.push_back(run(make, m));
  std::printf("\n%s: wall s / steps / RHS to reach ε_KKT ≤ target (budget %.0f s per method)\n", make().name.c_str(),
              budget_seconds());
  std::printf("%-8s", "target");
  for (const Method& m : methods) std::printf(" | %-26s", m.name.c_str());
  std::printf("\n");
  for (std::size_t k = 0; k < kTargets.size(); ++k) {
    std::printf("%-8.0e", kTargets[k]);
    for (std::size_t i = 0; i < methods.size(); ++i) {
      const Reached& r = results[i].reached[k];
      char cell[64] = "—";
      if (!std::isnan(r.wall))
        std::snprintf(cell, sizeof cell, "%.2f/%lld/%lld", r.wall, static_cast<long long>(r.steps),
                      static_cast<long long>(r.rhs));
      std::printf(" | %-26s", cell);
    }
    std::printf("\n");
  }
  std::printf("%-8s", "end");
  for (const Outcome& o : results) {
    char cell[64];
    const Reached& r = o.reached.back();
    std::snprintf(cell, sizeof cell, "ε %.1e: %.0f/%lld", o.last_eps, r.wall, static_cast<long long>(r.steps));
    std::printf(" | %-26s", cell);
  }
  std::printf("\n");
}

}  // namespace

int main() {
  const std::vector<Method> methods{
      {"auto", StepperKind::dopri5, TimeMode::loss, StepperKind::margin_ros3},
      {"normalized", StepperKind::dopri5, TimeMode::normalized, StepperKind::margin_ros3},
      {"ros2", StepperKind::dopri5, TimeMode::loss, StepperKind::margin_ros2},
      {"dopri5", StepperKind::dopri5, TimeMode::loss, StepperKind::dopri5},
      {"gd c/L", StepperKind::gd, TimeMode::loss, StepperKind::gd},
  };
  std::printf("bench/late_phase_models: the late phase of the θ-coordinate models\n");
  for (const auto& make : problems()) print_problem(make, methods);
  // The Gaussian case at seeds 1–5 (the config ships seed 3), auto alone.
  for (std::uint64_t seed = 1; seed <= 5; ++seed)
    print_problem(
        [seed] { return two_layer("gaussian seed " + std::to_string(seed), gaussian_spec(10, 10, seed), seed); },
        {methods.front()});
  return 0;
}
