#include "memory_estimate.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

namespace kktflow {
namespace {

constexpr double kDouble = 8;

/// How many arrays of each shape a run holds at its peak (ours: fitted to the peak resident size
/// of runs at (n, d, m) = (50, 20000, 100), (1000, 1000, 10), (200, 200, 2000), (400, 400, 400)
/// in both charts, then rounded up so that the estimate exceeds every measurement).
/// The data: the generated or loaded X, the model's copy, the run file's metadata copy.
constexpr double kDataCopies = 3;
/// θ-sized: θ(0), the model's first layer, the driver's lift of θ, the snapshot being written,
/// the final θ and the singular values' copy of the first layer.
constexpr double kThetaCopies = 6;
/// State-sized, besides the stepper's stages: x, its velocity, the next x and velocity, the
/// located x, the checkpoint's copy.
constexpr double kStateCopies = 8;
/// Per switch (m·n of the first layer): the switch functions and their velocity (the driver's,
/// the checkpoint's), the model's pre-activations and slopes, the span chart's slopes and
/// frozen pattern, and the int64 side and unlocated-until vectors.
constexpr double kSwitchCopies = 24;
/// n × n: the span chart's Gram matrix and region Gram and the metrics' multiplier system; the
/// late steppers (switch_radau, region_ros2) add their Jacobians and LU factors.
constexpr double kGramCopies = 6;
constexpr double kLateGramCopies = 10;
/// m × n, the batched steppers' (switch_radau, switch_batch) products of the three stage paths
/// with Γ.
constexpr double kPathProducts = 3;
/// Rows of a trajectory chunk (run_layout.hpp) whose sigma column holds k_top doubles a row.
constexpr double kTrajectoryChunkRows = 1024;
/// Shared libraries, HDF5's caches, OpenBLAS's buffers: 27 MB measured on the smallest runs.
constexpr double kBaseBytes = 32e6;

/// The sizes the parts are made of.
struct RunShape {
  double theta = 0;      ///< dim θ
  double state = 0;      ///< the integrated state: θ, or the span coefficients m·n
  double switches = 0;   ///< switch functions: (neuron, sample) pairs of every ReLU-like layer
  double gram = 0;       ///< n², when the span chart is used; else 0
  double chart = 0;      ///< the span chart's m × rank(X) and n × rank(X) bases; else 0
  double gradients = 0;  ///< θ's own chart: per-sample margin gradients (the metrics', margin_ros's), n × dim θ
  double stages = 0;     ///< state-sized vectors the stepper keeps
  /// The span chart's sliding blocks at their largest: each neuron j keeps Γ_{S_j,:} (|S_j| × n)
  /// and the Cholesky factor of Γ_{S_j S_j} for its sliding samples S_j, and Γ_SS must be
  /// positive definite, so |S_j| ≤ r = rank X ≤ min(n, d): m·r·(n + r). They grow as pairs
  /// start to slide (a run at n = 400, m = 200 gained 60 MB over 90 s), so the bound is used.
  double sliding = 0;
};

/// State-sized vectors each stepper keeps (its stages, error and interpolation buffers).
double stepper_stages(StepperKind kind) {
  switch (kind) {
    case StepperKind::gd:
      return 2;
    case StepperKind::bs3:
      return 6;
    case StepperKind::dopri5:
      return 10;
    case StepperKind::cash_karp54:
      return 9;
    case StepperKind::fehlberg78:
      return 16;
    case StepperKind::bulirsch_stoer:
      return 24;
    case StepperKind::region_ros2:
    case StepperKind::region_ros3:
    case StepperKind::switch_batch:
    case StepperKind::switch_radau:
      return 6;
    case StepperKind::margin_ros2:  // its stages, the stage point, right-hand side, velocity, error, x and f at G
      return 8;
    case StepperKind::margin_ros3:
      return 10;
  }
  return 24;
}

RunShape leaky_shape(double m, double n, double d, bool span, double extra_theta) {
  RunShape s;
  s.theta = m * d + extra_theta;
  s.switches = m * n;
  s.state = span ? m * n : s.theta;
  if (span) {
    s.gram = n * n;
    s.chart = (m + n) * std::min(n, d);
  } else {
    s.gradients = n * s.theta;
  }
  return s;
}

RunShape deep_shape(const DeepParams& p, double n, double d) {
  const auto w = static_cast<double>(p.width);
  const auto layers = static_cast<double>(p.layers.size());
  const double relu_layers = static_cast<double>(std::count(p.layers.begin(), p.layers.end(), "relu"));
  RunShape s;
  s.theta = w * d + std::max(layers - 2, 0.0) * w * w + w;
  s.state = s.theta;
  s.switches = n * w * std::max(relu_layers, 1.0) + n * w * layers;  // switch functions, and each layer's activations
  s.gradients = n * s.theta;
  return s;
}

RunShape run_shape(const RunConfig& c, double n, double d) {
  const ModelSpec& m = c.model;
  RunShape s;
  if (m.kind == "leaky2_fixed_outer") {
    const bool span = c.coordinates == "span";
    s = leaky_shape(static_cast<double>(m.leaky2.width), n, d, span, 0);
    const double r = std::min(n, d);
    if (span && c.driver.sliding.enabled) s.sliding = static_cast<double>(m.leaky2.width) * r * (n + r);
  } else if (m.kind == "two_layer_leaky") {
    s = leaky_shape(static_cast<double>(m.two_layer.width), n, d, false, static_cast<double>(m.two_layer.width));
  } else if (m.kind == "relu2") {
    s = leaky_shape(static_cast<double>(m.relu2.width), n, d, false, 2.0 * static_cast<double>(m.relu2.width));
  } else if (m.kind == "deep") {
    s = deep_shape(m.deep, n, d);
  } else {
    s.theta = d;
    s.state = d;
    s.switches = n;
    s.gradients = n * d;
  }
  s.stages = m.kind == "relu2" ? stepper_stages(StepperKind::dopri5) : stepper_stages(c.stepper.kind);
  // margin_ros2 and margin_ros3 keep their own margin gradients G (n × dim θ) besides the metrics'.
  const bool margin_late = c.hand_off && c.coordinates == "full" && m.kind != "relu2";
  if (margin_late) s.stages += stepper_stages(c.late_stepper);
  if (margin_late || c.stepper.kind == StepperKind::margin_ros2 || c.stepper.kind == StepperKind::margin_ros3)
    s.gradients *= 2;
  return s;
}

std::string count_text(double v) { return v < 1e6 ? fmt::format("{:.0f}", v) : fmt::format("{:.3g}", v); }

/// A cgroup's memory limit in `path`, or +∞ when there is none ("max", or v1's 2^63 rounded).
double cgroup_limit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::numeric_limits<double>::infinity();
  try {
    const double bytes = std::stod(text);
    return bytes > 0 && bytes < 1e18 ? bytes : std::numeric_limits<double>::infinity();
  } catch (const std::exception&) {
    return std::numeric_limits<double>::infinity();
  }
}

double rlimit_bytes(int resource) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

double MemoryEstimate::total() const {
  double sum = 0;
  for (const MemoryPart& part : parts) sum += part.bytes;
  return sum;
}

std::string MemoryEstimate::describe() const {
  std::vector<MemoryPart> sorted = parts;
  std::ranges::sort(sorted, [](const MemoryPart& a, const MemoryPart& b) { return a.bytes > b.bytes; });
  std::string text = bytes_text(total()) + ":";
  for (std::size_t k = 0; k < sorted.size() && k < 3; ++k)
    text += fmt::format("{} {} {}", k == 0 ? "" : ";", sorted[k].what, bytes_text(sorted[k].bytes));
  return text;
}

MemoryEstimate estimate_run_memory(const RunConfig& c, double n, double d) {
  const RunShape s = run_shape(c, n, d);
  const double k_top = c.model.kind == "relu2" ? c.square.k_top : c.driver.output.k_top;
  MemoryEstimate e;
  e.parts.push_back(
      {fmt::format("data X (n × d = {}, ×{:.0f})", count_text(n * d), kDataCopies), kDataCopies * n * d * kDouble});
  e.parts.push_back({fmt::format("θ-sized vectors (dim θ = {}, ×{:.0f})", count_text(s.theta), kThetaCopies),
                     kThetaCopies * s.theta * kDouble});
  const double state_copies = kStateCopies + s.stages;
  e.parts.push_back(
      {fmt::format("state vectors and stepper stages ({} each, ×{:.0f})", count_text(s.state), state_copies),
       state_copies * s.state * kDouble});
  e.parts.push_back({fmt::format("per-switch arrays (m·n = {} each, ×{:.0f})", count_text(s.switches), kSwitchCopies),
                     kSwitchCopies * s.switches * kDouble});
  const bool late = c.hand_off || c.stepper.kind == StepperKind::switch_radau ||
                    c.stepper.kind == StepperKind::region_ros2 || c.stepper.kind == StepperKind::region_ros3;
  const double gram_copies = late ? kLateGramCopies : kGramCopies;
  if (s.gram > 0)
    e.parts.push_back(
        {fmt::format("n × n Gram and Newton matrices ({} each, ×{:.0f})", count_text(s.gram), gram_copies),
         gram_copies * s.gram * kDouble});
  if (s.gradients > 0)
    e.parts.push_back(
        {fmt::format("per-sample margin gradients (n × dim θ = {})", count_text(s.gradients)), s.gradients * kDouble});
  if (s.chart > 0) e.parts.push_back({"the span chart's bases", 2 * s.chart * kDouble});
  if (s.sliding > 0)
    e.parts.push_back(
        {fmt::format("sliding blocks, every neuron's at its largest (m·r·(n + r) = {})", count_text(s.sliding)),
         s.sliding * kDouble});
  const bool batched =
      c.hand_off || c.stepper.kind == StepperKind::switch_radau || c.stepper.kind == StepperKind::switch_batch;
  if (batched && s.gram > 0)
    e.parts.push_back(
        {fmt::format("stage path products (m·n = {} each, ×{:.0f})", count_text(s.switches), kPathProducts),
         kPathProducts * s.switches * kDouble});
  e.parts.push_back({"trajectory chunks", kTrajectoryChunkRows * (19 + k_top) * kDouble});
  e.parts.push_back({"libraries and caches", kBaseBytes});
  return e;
}

double machine_memory_bytes() {
  const double pages = static_cast<double>(sysconf(_SC_PHYS_PAGES));
  const double page = static_cast<double>(sysconf(_SC_PAGE_SIZE));
  double bytes = pages > 0 && page > 0 ? pages * page : std::numeric_limits<double>::infinity();
  bytes = std::min(bytes, cgroup_limit("/sys/fs/cgroup/memory.max"));
  bytes = std::min(bytes, cgroup_limit("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
  bytes = std::min(bytes, rlimit_bytes(RLIMIT_AS));
  return std::min(bytes, rlimit_bytes(RLIMIT_DATA));
}

double memory_budget_bytes(const RunConfig& c) {
  return c.memory_limit_bytes > 0 ? c.memory_limit_bytes : machine_memory_bytes();
}

void check_memory_budget(const RunConfig& c, const MemoryEstimate& estimate) {
  const bool configured = c.memory_limit_bytes > 0;
  const double budget = memory_budget_bytes(c);
  if (estimate.total() <= budget) return;
  const std::string source =
      configured
          ? fmt::format("limits.memory = {}", bytes_text(budget))
          : fmt::format("this machine's memory, {} (set limits.memory to change the budget)", bytes_text(budget));
  throw ConfigError(fmt::format("the run needs an estimated {}; that exceeds {}. Reduce data.n, data.d or model.width",
                                estimate.describe(), source));
}

std::string bytes_text(double bytes) {
  constexpr std::array<const char*, 6> kUnits{"B", "kB", "MB", "GB", "TB", "PB"};
  std::size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < kUnits.size()) {
    bytes /= 1000;
    ++unit;
  }
  return fmt::format("{:.3g} {}", bytes, kUnits[unit]);
}

}  // namespace kktflow
