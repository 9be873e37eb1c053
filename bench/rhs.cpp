/// \file rhs.cpp
/// Throughput of the loss-time flow's right-hand side against the GEMMs it is made of.
///
/// In θ coordinates (FlowSystem over FullCoordinates over Leaky2FixedOuter) one call is
///   forward  Z = W Xᵀ      (m×d · d×n, 2mnd flops)
///   backward dW = M X      (m×n · n×d, 2mnd flops)
/// plus O(mn) elementwise work, so 4mnd flops, and its speed should track Eigen's GEMM on the
/// same shapes. The ratio RHS/GEMM is machine-independent; absolute times are not.
/// The span chart (Leaky2Span) integrates the same flow in O(mn²) per call; its speed-up over
/// the θ chart is what choosing flow.coordinates = "span" buys at each size.
#include "problems/dataset.hpp"
#include "problems/leaky2_fixed_outer.hpp"
#include "problems/leaky2_span.hpp"
#include "problems/loss.hpp"
#include "problems/margin_system.hpp"
#include "solver/flow_system.hpp"
#include "solver/product_threads.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

namespace {

using namespace kktflow;

struct Size {
  Eigen::Index n, m, d;
};

// Long enough to swamp timer resolution and frequency ramps, short enough for a quick run.
constexpr double kTargetSeconds = 0.6;
constexpr int kTrials = 3;

/// A call to time, the repetitions that make one trial last about kTargetSeconds, and the best
/// seconds per call seen so far.
struct Timed {
  std::function<void()> call;
  long reps = 1;
  double best = std::numeric_limits<double>::infinity();
};

double seconds_for(const Timed& t, long reps) {
  const auto start = std::chrono::steady_clock::now();
  for (long r = 0; r < reps; ++r) t.call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The first call is the warm-up: it page-faults the buffers, fills the caches and starts the
/// OpenMP threads, so it also serves as a (pessimistic) estimate of the time per call.
void calibrate(Timed& t) {
  const double once = seconds_for(t, 1);
  t.reps = std::max(1L, std::lround(kTargetSeconds / std::max(once, 1e-9)));
}

/// Trials of all measurements are interleaved, so load from other processes hits the RHS and
/// its GEMM reference alike and their ratio stays meaningful on a shared machine.
void measure_best(std::array<Timed, 3>& timed) {
  for (Timed& t : timed) calibrate(t);
  for (int trial = 0; trial < kTrials; ++trial)
    for (Timed& t : timed) t.best = std::min(t.best, seconds_for(t, t.reps) / static_cast<double>(t.reps));
}

/// One size's problem in both charts at the same point θ(0) (span state C = 0 lifts to θ(0)),
/// and the GEMM reference on matrices of the same shapes. Holds references into itself: not movable.
class RhsBench {
 public:
  explicit RhsBench(const Size& s)
      : m_data(make_dataset(spec(s))),
        m_model(m_data.X, params(s)),
        m_theta0(m_model.initial_theta()),
        m_full(m_model, m_data.y),
        m_full_flow(m_full, MarginLoss(LossKind::exp), TimeMode::loss),
        m_dtheta(m_theta0.size()),
        m_span(m_model, m_data.y, m_theta0),
        m_span_flow(m_span, MarginLoss(LossKind::exp), TimeMode::loss),
        m_c0(m_span.initial_state()),
        m_dc(m_c0.size()),
        m_A(Eigen::MatrixXd::Random(s.m, s.d)),
        m_B(Eigen::MatrixXd::Random(s.d, s.n)),
        m_C(Eigen::MatrixXd::Random(s.m, s.n)),
        m_D(Eigen::MatrixXd::Random(s.n, s.d)),
        m_AB(s.m, s.n),
        m_CD(s.m, s.d) {}
  RhsBench(const RhsBench&) = delete;
  RhsBench& operator=(const RhsBench&) = delete;

  void full_rhs() { m_full_flow(m_theta0, m_dtheta, 0.0); }
  void span_rhs() { m_span_flow(m_c0, m_dc, 0.0); }
  /// Plain column-major products: the speed the θ-chart RHS is measured against.
  void gemms() {
    m_AB.noalias() = m_A * m_B;
    m_CD.noalias() = m_C * m_D;
  }

 private:
  static DatasetSpec spec(const Size& s) {
    DatasetSpec out;
    out.n = s.n;
    out.d = s.d;
    return out;
  }
  static Leaky2Params params(const Size& s) {
    Leaky2Params out;
    out.width = s.m;
    return out;
  }

  Dataset m_data;
  Leaky2FixedOuter m_model;
  Eigen::VectorXd m_theta0;
  FullCoordinates m_full;
  FlowSystem m_full_flow;
  Eigen::VectorXd m_dtheta;
  Leaky2Span m_span;
  FlowSystem m_span_flow;
  Eigen::VectorXd m_c0, m_dc;
  Eigen::MatrixXd m_A, m_B, m_C, m_D, m_AB, m_CD;
};

double gflops(const Size& s, double seconds) {
  const double flops = 4.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.d);
  return flops / seconds * 1e-9;
}

void print_header() {
  std::printf(
      "bench_rhs: loss-time flow RHS of the fixed-outer leaky-ReLU net on gaussian data\n"
      "  theta chart (FullCoordinates): one call = Z = W X^T and dW = M X, counted as 4mnd flops\n"
      "  GEMM: Eigen m x d * d x n plus m x n * n x d, the two products one RHS is made of\n"
      "  RHS/GEMM = RHS GFLOP/s over GEMM GFLOP/s: the share of GEMM speed the RHS reaches;\n"
      "    1 means no overhead beyond the products. Ratios, not absolute times, are the target\n"
      "    (our target: RHS/GEMM >= 0.7 at (1000, 1000, 10000)).\n"
      "  span chart (Leaky2Span): the same flow in C in R^{m x n}, O(mn^2) per call;\n"
      "    speed-up = theta-chart time / span-chart time at the same point theta(0)\n"
      "  best of %d interleaved trials of ~%.1f s each after a warm-up call\n"
      "  Eigen::nbThreads() = %d here, for the RHS and the GEMM alike; a run itself uses them all\n"
      "    only from m n d >= %.0e multiply-adds a theta-chart RHS (solver/product_threads.hpp)\n\n",
      kTrials, kTargetSeconds, Eigen::nbThreads(), kParallelWork);
  std::printf("%6s %6s %6s | %12s %12s %12s %9s | %13s %9s\n", "n", "m", "d", "RHS ms/call", "RHS GFLOP/s",
              "GEMM GFLOP/s", "RHS/GEMM", "span ms/call", "speed-up");
}

void print_row(const Size& s, double full_s, double gemm_s, double span_s) {
  std::printf("%6ld %6ld %6ld | %12.3f %12.2f %12.2f %9.2f | %13.4f %9.1f\n", static_cast<long>(s.n),
              static_cast<long>(s.m), static_cast<long>(s.d), full_s * 1e3, gflops(s, full_s), gflops(s, gemm_s),
              gemm_s / full_s, span_s * 1e3, full_s / span_s);
  std::fflush(stdout);
}

}  // namespace

int main() {
  constexpr std::array<Size, 3> sizes{{{50, 100, 2000}, {200, 500, 5000}, {1000, 1000, 10000}}};
  print_header();
  for (const Size& s : sizes) {
    RhsBench bench(s);
    std::array<Timed, 3> timed{{{[&] { bench.full_rhs(); }}, {[&] { bench.gemms(); }}, {[&] { bench.span_rhs(); }}}};
    measure_best(timed);
    print_row(s, timed[0].best, timed[1].best, timed[2].best);
  }
  return 0;
}
