#pragma once
/// \file product_threads.hpp
/// How many threads the matrix products of a run use (the RHS on both cores where it pays).
///
/// Eigen 3.4 splits every product above ~50 000 flops per thread over all OpenMP threads, and
/// OpenBLAS (KKTFLOW_BLAS = openblas) its dgemm over its own threads. On the small products of a
/// demo-size run the fork and join cost more than they save: with Eigen's GEMM the demo ran
/// 2.85 s wall on 2 threads against 2.52 s on 1, at twice the CPU time. Where the products
/// dominate, two threads halve the RHS time (bench/rhs at (1000, 1000, 10000), Eigen's GEMM:
/// RHS/GEMM 0.49 on one thread, 0.97 on two). So a run uses every thread when one right-hand
/// side does at least kParallelWork multiply-adds, estimated as state dimension × samples
/// (θ chart m d · n, span chart m n · n), and one thread below. kParallelWork = 1e7 is ours, set
/// between those two measurements. OMP_NUM_THREADS caps "every thread"; a resumed run
/// reproduces its original bit for bit only under the same caps.
///
/// OpenBLAS's own threads are another matter: they wait for their partner by spinning, and on a
/// machine whose other core is busy that wait costs the core the partner needs. 80 steps of
/// data/configs/fashion_mnist.toml took 11.1 s wall on OpenBLAS's two threads against 11.5 s on
/// one on the idle machine (20.0 s CPU against 13.8 s), and 624 s against 28 s beside a build;
/// 30 steps beside a build at nice 19 (load average 6), 8.6 and 14.8 s against 3.5 and 4.0 s.
/// So OpenBLAS runs on one thread unless OPENBLAS_NUM_THREADS is set, which then decides, and the
/// OpenMP threads share the work instead: the per-neuron sweeps, the rows of the span chart's
/// products with Γ (leaky2_span.cpp) and the block columns of switch_radau's factorizations
/// (margin_newton.cpp), each split so that its result is the same bits on any number of threads.
#include "problems/margin_system.hpp"

#include <Eigen/Core>

#include <cstdlib>

#ifdef EIGEN_USE_BLAS
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace kktflow {

inline constexpr double kParallelWork = 1e7;

/// Multiply-adds of one right-hand side, estimated as state dimension × samples.
inline double rhs_work(const MarginSystem& ms) {
  return static_cast<double>(ms.state_dim()) * static_cast<double>(ms.num_samples());
}
/// The same for a flow on the model's own parameters (θ chart).
inline double rhs_work(const Model& model) {
  return static_cast<double>(model.dim()) * static_cast<double>(model.num_samples());
}

/// 0 (every thread, the libraries' default) for work ≥ kParallelWork, else 1.
inline int product_threads_for(double work_per_rhs) { return work_per_rhs >= kParallelWork ? 0 : 1; }

/// Sets the product threads for a scope and restores the defaults on exit.
class ScopedProductThreads {
 public:
  explicit ScopedProductThreads(double work_per_rhs) {
    const int threads = product_threads_for(work_per_rhs);
    Eigen::setNbThreads(threads);
#ifdef EIGEN_USE_BLAS
    m_blas_default = openblas_get_num_threads();
    if (threads == 1 || std::getenv("OPENBLAS_NUM_THREADS") == nullptr) openblas_set_num_threads(1);
#endif
  }
  ~ScopedProductThreads() {
    Eigen::setNbThreads(0);
#ifdef EIGEN_USE_BLAS
    openblas_set_num_threads(m_blas_default);
#endif
  }
  ScopedProductThreads(const ScopedProductThreads&) = delete;
  ScopedProductThreads& operator=(const ScopedProductThreads&) = delete;

 private:
#ifdef EIGEN_USE_BLAS
  int m_blas_default = 1;
#endif
};

}  // namespace kktflow
