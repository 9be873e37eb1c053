// The right-hand side allocates nothing (issue 5): with Eigen's runtime malloc check on
// (EIGEN_RUNTIME_NO_MALLOC, defined for Debug builds in cmake/KktflowTargets.cmake), any heap
// allocation by Eigen inside FlowSystem::operator() fails an assertion and aborts the test.
// Demo-size problem (n = 50, d = 2000, m = 100) in the span chart (the default), with and
// without pairs held on kinks. Not the θ chart: there Eigen's GEMM (m × d · d × n) packs its
// operands into a 175 KiB buffer that it takes from the heap on every call (above its 128 KiB
// stack limit, EIGEN_STACK_ALLOCATION_LIMIT) — measured, and left as it is.
#define BOOST_TEST_MODULE no_malloc
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/leaky2_span.hpp"
#include "solver/flow_system.hpp"

using namespace kktflow;

namespace {

struct DemoNet {
  Dataset data = make_dataset(gaussian_spec(50, 2000, 1));
  Leaky2FixedOuter model{data.X, {100, 0.5, true, 1e-3, 2}};
  Eigen::VectorXd theta0 = model.initial_theta();
};

/// Calls the right-hand side once to size everything, then three times with allocation banned.
void rhs_without_malloc(FlowSystem& sys, const Eigen::VectorXd& x) {
  Eigen::VectorXd dxdt(x.size());
  sys(x, dxdt, 0.0);
  Eigen::internal::set_is_malloc_allowed(false);
  for (int k = 0; k < 3; ++k) sys(x, dxdt, 0.0);
  Eigen::internal::set_is_malloc_allowed(true);
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
