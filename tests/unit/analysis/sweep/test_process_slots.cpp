// A local sweep's children share the cores (analysis/sweep_processes.hpp): unless the user set
// OMP_NUM_THREADS or OPENBLAS_NUM_THREADS, each child gets cores / slots threads, at least one.
#define BOOST_TEST_MODULE process_slots
#include <boost/test/unit_test.hpp>

#include "analysis/sweep/sweep_processes.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

using namespace kktflow;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "(unset)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(children_get_their_share_of_the_cores) {
  unsetenv("OMP_NUM_THREADS");
  unsetenv("OPENBLAS_NUM_THREADS");
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const ProcessSlots slots(static_cast<int>(2 * cores));  // more slots than cores: one thread each
  BOOST_TEST(env("OMP_NUM_THREADS") == "1");
  BOOST_TEST(env("OPENBLAS_NUM_THREADS") == "1");
}

BOOST_AUTO_TEST_CASE(a_count_the_user_set_is_kept) {
  setenv("OMP_NUM_THREADS", "7", 1);
  setenv("OPENBLAS_NUM_THREADS", "5", 1);
  const ProcessSlots slots(64);
  BOOST_TEST(env("OMP_NUM_THREADS") == "7");
  BOOST_TEST(env("OPENBLAS_NUM_THREADS") == "5");
}
