// The right-hand side allocates nothing, checked twice:
//  - Eigen's runtime malloc check (EIGEN_RUNTIME_NO_MALLOC, defined for Debug builds in
//    cmake/KktflowTargets.cmake): any heap allocation by Eigen inside FlowSystem::operator()
//    fails an assertion and aborts the test;
//  - a count of every malloc-family call in the process, by this executable's own malloc,
//    calloc, realloc, posix_memalign, aligned_alloc and memalign, which the dynamic linker binds
//    ahead of glibc's for the libraries too (OpenBLAS included). They forward to glibc's
//    __libc_* entry points. Left out under AddressSanitizer, which brings its own allocator.
// Demo-size problem (n = 50, d = 2000, m = 100) in the span chart (the default), with and
// without pairs held on kinks, and in the θ chart when OpenBLAS does the products
// (KKTFLOW_BLAS = openblas, the default). On one thread, as a run below 1e7 multiply-adds an
// RHS has its products (solver/product_threads.hpp): on two, OpenBLAS 0.3.21 takes its job
// table from the heap once per product (2 calls an RHS here, measured). With Eigen's own kernels
// the θ chart's GEMM (m × d · d × n) packs its operands into a 175 KiB buffer that it takes from
// the heap on every call (above its 128 KiB stack limit, EIGEN_STACK_ALLOCATION_LIMIT):
// measured, and left as it is.
#define BOOST_TEST_MODULE no_malloc
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "solver/flow_system.hpp"
#include "solver/product_threads.hpp"

#include <atomic>
#include <cstddef>

using namespace kktflow;

namespace {
std::atomic<long> g_heap_calls{0};
}  // namespace

#ifndef __SANITIZE_ADDRESS__
extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);

void* malloc(std::size_t size) {
  ++g_heap_calls;
  return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
  ++g_heap_calls;
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, std::size_t size) {
  ++g_heap_calls;
  return __libc_realloc(ptr, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
  ++g_heap_calls;
  return __libc_memalign(alignment, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
  ++g_heap_calls;
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  ++g_heap_calls;
  *out = __libc_memalign(alignment, size);
  return *out ? 0 : 12;  // ENOMEM
}
}
#endif

namespace {

struct DemoNet {
  Dataset data = make_dataset(gaussian_spec(50, 2000, 1));
  Leaky2FixedOuter model{data.X, {100, 0.5, true, 1e-3, 2}};
  Eigen::VectorXd theta0 = model.initial_theta();
};

/// Calls the right-hand side once to size everything, then three times with allocation banned
/// (Eigen) and counted (everyone).
void rhs_without_malloc(FlowSystem& sys, const Eigen::VectorXd& x) {
  const ScopedProductThreads one_thread(0.0);
  Eigen::VectorXd dxdt(x.size());
  sys(x, dxdt, 0.0);
  const long calls_before = g_heap_calls.load();
  Eigen::internal::set_is_malloc_allowed(false);
  for (int k = 0; k < 3; ++k) sys(x, dxdt, 0.0);
  Eigen::internal::set_is_malloc_allowed(true);
  const long heap_calls = g_heap_calls.load() - calls_before;
  BOOST_TEST(heap_calls == 0);
  BOOST_TEST(dxdt.allFinite());
}

}  // namespace

BOOST_AUTO_TEST_CASE(span_chart_rhs_allocates_nothing_with_or_without_sliding) {
  DemoNet net;
  Leaky2Span span(net.model, net.data.y, net.theta0);
  FlowSystem sys(span, MarginLoss(LossKind::exp), TimeMode::loss);
  Eigen::VectorXd x = span.initial_state();
  rhs_without_malloc(sys, x);
  span.set_sliding({0, 1, 2, 57, 130, 4999});
  span.hold_on_sliding_surfaces(x);
  rhs_without_malloc(sys, x);
}

#ifdef EIGEN_USE_BLAS
BOOST_AUTO_TEST_CASE(theta_chart_rhs_allocates_nothing_with_openblas) {
  DemoNet net;
  FullCoordinates full(net.model, net.data.y);
  FlowSystem sys(full, MarginLoss(LossKind::exp), TimeMode::loss);
  rhs_without_malloc(sys, net.theta0);
}
#endif
