/// \file scale.cpp
/// Growth: wall time, RHS evaluations, steps and memory peak to reach ε_KKT ≤ 1e−6 with the
/// default stepper (`auto`: switch_radau, then region_ros2) on the demo's problem scaled up
/// (data/configs/frei2023.toml: Gaussian data, γ = 0.5, balanced a_j = ±1/√m, ω = 1e−3, exp
/// loss, loss time, span chart), for n ∈ {50, 200, 1000}, d ∈ {2000, 10000}, m ∈ {100, 1000};
/// then the least-squares exponent p of wall ∝ (n·m·d)^p over the cases that got there.
///
/// The run stops on ε_KKT alone (1−β and direction-change rules off), so "wall" is the driver's
/// time to the first record with ε_KKT ≤ 1e−6; building the data, X Xᵀ and W(0) is timed apart
/// ("setup"). Each case also splits the run at the hand-off to region_ros2 (early | late) and
/// reports the records taken and what one metrics evaluation costs there, since records are
/// O(m n d) while a span-chart RHS is O(m n²).
///
/// Memory: each case runs in a forked child; its peak resident set is getrusage's ru_maxrss of
/// that child (wait4), so no case inherits another's heap. It includes the data X (8 n d
/// bytes), W(0) and the few MiB the parent had when it forked ("base": the child's VmRSS from
/// /proc/self/status before the case starts).
///
/// KKTFLOW_BENCH_SCALE selects the cases: unset or "quick" (the default of `make bench`: three
/// that take seconds), "full" (all 12, ~9 minutes on 2 cores), "n,d,m" (one case), or "fashion"
/// (real data: Fashion-MNIST's sandals (5) against sneakers (7), the first n/2 training images of
/// each, unit norm, d = 784, m = 100, n ∈ {1000, 5000}; rel_tol 1e-6 and region_ros3 with its
/// margins in long double, as data/configs/fashion_mnist.toml has them; needs Debian's
/// dataset-fashion-mnist, `make fashion-mnist`), or "fashion:n" (one such case).
/// KKTFLOW_BENCH_SCALE_BUDGET sets the wall budget per case in seconds (default 120, our target
/// at the largest size); a case that runs out prints "—" and the ε it reached, or "not sep."
/// where the data were not yet separated.
#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "solver/driver.hpp"
#include "solver/product_threads.hpp"

#include <Eigen/Core>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace kktflow;

constexpr double kTargetEps = 1e-6;
constexpr double kDefaultBudgetSeconds = 120;

struct Size {
  Eigen::Index n, d, m;
  bool fashion = false;  ///< Fashion-MNIST 5 against 7 (d = 784) instead of Gaussian data
  double nmd() const { return static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(d); }
};

/// What a record said, kept to split the run at the hand-off afterwards.
struct Mark {
  double log_t, wall, eps;
  std::int64_t steps, rhs;
};

/// Every record's figures, the first one at or below the target, and the switch events.
class Trace final : public Observer {
 public:
  std::vector<Mark> marks;
  std::int64_t crossings = 0;  ///< activation switches (new_sign ±1) until the target, or in all
  const Mark* reached() const { return m_reached < 0 ? nullptr : &marks[static_cast<std::size_t>(m_reached)]; }
  void on_record(const Record& r, const Eigen::VectorXd&) override {
    marks.push_back({r.log_t, r.wall_s, r.kkt_eps, r.step, r.rhs_evals});
    if (m_reached < 0 && r.kkt_eps <= kTargetEps) m_reached = static_cast<long>(marks.size()) - 1;
  }
  void on_event(const SwitchEvent& e) override {
    if (m_reached < 0 && std::abs(e.new_sign) == 1) ++crossings;
  }

 private:
  long m_reached = -1;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// VmRSS from /proc/self/status in MiB; NaN where the file is unavailable.
double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  double kib = NAN;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> kib;
      break;
    }
    in.ignore(1 << 12, '\n');
  }
  return kib / 1024.0;
}

/// Plain data, so a child can hand it to the parent through a pipe.
struct CaseResult {
  Size size;
  double setup_s = NAN, base_mib = NAN, peak_mib = NAN, metrics_s = NAN, late_log_t = NAN;
  Mark end{}, handoff{};
  bool converged = false;
  std::size_t records = 0;
  std::int64_t crossings = 0;
};

const char* const kFashionDir = "/usr/share/datasets/fashion-mnist";

/// Gaussian data of frei2023.toml's kind, or the Fashion-MNIST pair of fashion_mnist.toml.
Dataset case_data(const Size& s) {
  if (!s.fashion) return make_dataset(gaussian_spec(s.n, s.d, 1));
  DatasetSpec spec;
  spec.kind = "idx";
  spec.path = std::string(kFashionDir) + "/train-images-idx3-ubyte.gz";
  spec.labels = std::string(kFashionDir) + "/train-labels-idx1-ubyte.gz";
  spec.classes = {"5", "7"};
  spec.per_class = s.n / 2;
  spec.normalize = "unit_norm";
  return make_dataset(spec);
}

/// The problem of frei2023.toml at this size; stop on ε_KKT ≤ 1e−6 or the wall budget.
class ScaleCase {
 public:
  ScaleCase(const Size& s, double budget)
      : m_data(case_data(s)),
        m_model(m_data.X, {s.m, 0.5, true, 1e-3, 2}),
        m_span(m_model, m_data.y, m_model.initial_theta()),
        m_loss(LossKind::exp),
        m_flow(m_span, m_loss, TimeMode::loss),
        m_early(make_stepper(early_stepper(s.fashion))),
        m_late(make_stepper(late_stepper(s.fashion))),
        m_metrics(m_span, m_loss, m_model.layers().front(), 4, early_stepper(s.fashion).rel_tol),
        m_driver(m_flow, *m_early, m_metrics, options(budget)) {
    m_driver.hand_off_to(*m_late);
    m_driver.add_observer(m_trace);
  }

  RunResult run(Eigen::VectorXd& state) {
    return m_driver.run(state, [] { return false; });
  }
  Eigen::VectorXd initial_state() const { return m_span.initial_state(); }
  const Trace& trace() const { return m_trace; }

  /// Wall seconds of one metrics evaluation (one record) at `state`, on the threads a run uses.
  double time_metrics(const Eigen::VectorXd& state) {
    const ScopedProductThreads threads(rhs_work(m_span));
    Record r;
    Eigen::VectorXd theta;
    const auto start = std::chrono::steady_clock::now();
    m_metrics.evaluate(state, r, theta);
    return seconds_since(start);
  }

 private:
  /// Real data take data/configs/fashion_mnist.toml's [flow] (its comments say why): rel_tol
  /// 1e-6, the late margins in long double and region_ros3; Gaussian data the defaults.
  static StepperOptions stepper(StepperKind kind, bool fashion) {
    StepperOptions so;
    so.kind = kind;
    if (fashion) so.rel_tol = 1e-6;
    return so;
  }
  static StepperOptions early_stepper(bool fashion) { return stepper(StepperKind::switch_radau, fashion); }
  static StepperOptions late_stepper(bool fashion) {
    if (!fashion) return stepper(StepperKind::region_ros2, false);
    StepperOptions so = stepper(StepperKind::region_ros3, true);
    so.precision = parse_precision("long_double");
    return so;
  }
  static DriverOptions options(double budget) {
    DriverOptions o;
    o.stop.kkt_eps = kTargetEps;
    o.stop.one_minus_beta = 1.0;      // off: ε_KKT alone decides
    o.stop.direction_change = 1e300;  // off
    o.stop.log_t_max = 1e14;
    o.stop.wall_s = budget;
    return o;
  }

  Dataset m_data;
  Leaky2FixedOuter m_model;
  Leaky2Span m_span;
  MarginLoss m_loss;
  FlowSystem m_flow;
  std::unique_ptr<Stepper> m_early, m_late;
  MetricsEvaluator m_metrics;
  Driver m_driver;
  Trace m_trace;
};

/// The last record before log t passed the hand-off, i.e. the end of the early phase.
Mark handoff_mark(const std::vector<Mark>& marks, double late_log_t) {
  Mark out{};
  for (const Mark& m : marks)
    if (!(m.log_t >= late_log_t)) out = m;
  return out;
}

CaseResult run_case(const Size& s, double budget) {
  CaseResult out;
  out.size = s;
  out.base_mib = rss_mib();
  const auto start = std::chrono::steady_clock::now();
  ScaleCase c(s, budget);
  Eigen::VectorXd state = c.initial_state();
  out.setup_s = seconds_since(start);
  const RunResult r = c.run(state);
  const Trace& t = c.trace();
  out.converged = t.reached() != nullptr;
  out.end = out.converged ? *t.reached() : t.marks.back();
  out.crossings = t.crossings;
  out.records = out.converged ? static_cast<std::size_t>(t.reached() - t.marks.data()) + 1 : t.marks.size();
  out.late_log_t = r.late_phase_log_t;
  out.handoff = std::isnan(r.late_phase_log_t) ? out.end : handoff_mark(t.marks, r.late_phase_log_t);
  out.metrics_s = c.time_metrics(state);
  return out;
}

/// run_case in a forked child; the parent adds the child's peak resident set (ru_maxrss).
CaseResult run_case_in_child(const Size& s, double budget) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("bench/scale: pipe failed");
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("bench/scale: fork failed");
  if (pid == 0) {
    close(fds[0]);
    const CaseResult r = run_case(s, budget);
    const bool sent = write(fds[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
    _exit(sent ? 0 : 1);
  }
  close(fds[1]);
  CaseResult out;
  const bool received = read(fds[0], &out, sizeof out) == static_cast<ssize_t>(sizeof out);
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!received || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("bench/scale: the case's child process failed");
  out.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux: KiB
  return out;
}

std::vector<Size> all_sizes() {
  std::vector<Size> out;
  for (Eigen::Index n : {50, 200, 1000})
    for (Eigen::Index d : {2000, 10000})
      for (Eigen::Index m : {100, 1000}) out.push_back({n, d, m});
  return out;
}

/// KKTFLOW_BENCH_SCALE: quick (default), full, or one case "n,d,m".
std::vector<Size> selected_sizes() {
  const char* env = std::getenv("KKTFLOW_BENCH_SCALE");
  const std::string mode = env ? env : "quick";
  if (mode == "full") return all_sizes();
  long n = 0, d = 0, m = 0;
  if (mode == "fashion") return {{1000, 784, 100, true}, {5000, 784, 100, true}};
  if (std::sscanf(mode.c_str(), "fashion:%ld", &n) == 1) return {{n, 784, 100, true}};
  if (std::sscanf(mode.c_str(), "%ld,%ld,%ld", &n, &d, &m) == 3) return {{n, d, m}};
  if (mode != "quick")
    std::fprintf(stderr,
                 "KKTFLOW_BENCH_SCALE = \"%s\": expected quick, full, n,d,m, fashion or fashion:n; running quick\n",
                 mode.c_str());
  // Three that take seconds (docs/benchmarks.md's growth table: with m = 1000 a case takes 18-125 s, much of
  // it the late phase's trajectory rows; n = 1000, d = 2000 does not converge within 120 s).
  return {{50, 2000, 100}, {50, 10000, 100}, {200, 2000, 100}};
}

double budget_seconds() {
  const char* env = std::getenv("KKTFLOW_BENCH_SCALE_BUDGET");
  const double b = env ? std::atof(env) : kDefaultBudgetSeconds;
  return b > 0 ? b : kDefaultBudgetSeconds;
}

void print_header(double budget) {
  std::printf(
      "bench/scale: time to ε_KKT ≤ %.0e, stepper auto (switch_radau → region_ros2), span chart, frei2023.toml's "
      "problem\n"
      "  (fashion: fashion_mnist.toml's flow, rel_tol 1e-6 and switch_radau → region_ros3 in long double)\n"
      "  Gaussian data seed 1 (fashion: Fashion-MNIST 5 against 7, the first n/2 of each, unit norm), γ = 0.5,\n"
      "  m balanced ±1/√m, ω = 1e-3, exp loss; budget %.0f s per case (— : not reached, ε shown is the last "
      "record's,\n"
      "  \"not sep.\" where some margin was ≤ 0 there, so that no KKT residual exists yet);\n"
      "  wall = driver time to the first record at the target, setup = data, XXᵀ, W(0);\n"
      "  switches = activation switches located (switch_radau takes many a step); log t where the row's figures were "
      "taken;\n"
      "  early | late = wall s / steps / RHS evaluations before and after the hand-off to region_ros2;\n"
      "  rec = records taken, 1 rec = wall s of one metrics evaluation at the end state;\n"
      "  peak = ru_maxrss of the child process that ran the case, base = its VmRSS before the case (MiB).\n"
      "  Eigen::nbThreads() = %d\n\n",
      kTargetEps, budget, Eigen::nbThreads());
  std::printf("%5s %6s %5s %9s | %8s %7s %8s %9s %8s %8s %8s | %-22s %-22s | %4s %7s | %8s %8s\n", "n", "d", "m",
              "n·m·d", "wall s", "setup s", "steps", "RHS", "switches", "log t", "ε", "early s/steps/RHS",
              "late s/steps/RHS", "rec", "1 rec s", "peak MiB", "base MiB");
}

std::string phase_cell(double wall, std::int64_t steps, std::int64_t rhs) {
  char cell[64];
  std::snprintf(cell, sizeof cell, "%.1f/%lld/%lld", wall, static_cast<long long>(steps), static_cast<long long>(rhs));
  return cell;
}

void print_row(const CaseResult& c) {
  const Size& s = c.size;
  char wall[16];
  if (c.converged)
    std::snprintf(wall, sizeof wall, "%.2f", c.end.wall);
  else
    std::snprintf(wall, sizeof wall, "—");
  const std::string early = phase_cell(c.handoff.wall, c.handoff.steps, c.handoff.rhs);
  const std::string late =
      std::isnan(c.late_log_t)
          ? std::string("(no hand-off)")
          : phase_cell(c.end.wall - c.handoff.wall, c.end.steps - c.handoff.steps, c.end.rhs - c.handoff.rhs);
  char eps[16];
  if (std::isfinite(c.end.eps))
    std::snprintf(eps, sizeof eps, "%.1e", c.end.eps);
  else
    std::snprintf(eps, sizeof eps, "not sep.");
  std::printf("%5ld %6ld %5ld %9.2e | %8s %7.2f %8lld %9lld %8lld %8.2g %8s | %-22s %-22s | %4zu %7.3f | %8.0f %8.0f\n",
              static_cast<long>(s.n), static_cast<long>(s.d), static_cast<long>(s.m), s.nmd(), wall, c.setup_s,
              static_cast<long long>(c.end.steps), static_cast<long long>(c.end.rhs),
              static_cast<long long>(c.crossings), c.end.log_t, eps, early.c_str(), late.c_str(), c.records,
              c.metrics_s, c.peak_mib, c.base_mib);
  std::fflush(stdout);
}

/// Least-squares slope of log wall against log(n·m·d) over the cases that reached the target.
void print_exponent(const std::vector<CaseResult>& results) {
  std::vector<double> x, y;
  for (const CaseResult& c : results)
    if (c.converged) {
      x.push_back(std::log(c.size.nmd()));
      y.push_back(std::log(c.end.wall));
    }
  const auto k = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / k, my += y[i] / k;
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  if (x.size() < 2 || sxx == 0) {
    std::printf("\nfitted exponent: needs ≥ 2 converged cases of different n·m·d\n");
    return;
  }
  std::printf("\nfitted exponent: wall ∝ (n·m·d)^%.2f over %zu converged cases (least squares on logs)\n", sxy / sxx,
              x.size());
}

}  // namespace

int main() {
  const double budget = budget_seconds();
  print_header(budget);
  std::vector<CaseResult> results;
  for (const Size& s : selected_sizes()) {
    if (s.fashion && access(kFashionDir, R_OK) != 0) {
      std::printf("%5ld  Fashion-MNIST: %s is missing; make fashion-mnist installs it\n", static_cast<long>(s.n),
                  kFashionDir);
      continue;
    }
    results.push_back(run_case_in_child(s, budget));
    print_row(results.back());
  }
  print_exponent(results);
  return 0;
}
