// The compiler's code for constants whose upper half is zero. GCC 12.2 (Debian 12) with AVX-512
// and SLP vectorization stores the initializer list {1, 1, 0, 0} as the broadcast {1, 1, 1, 1}
// (int64, int32 and double alike); in a -march=native build that turned a test's committed
// sides {+, +, −, −} into {+, +, +, +}. cmake/KktflowTargets.cmake turns SLP vectorization off
// there; this test fails in a build that lacks it on such a machine, and passes in every build
// that compiles these values as written.
#define BOOST_TEST_MODULE code_generation
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(initializer_lists_keep_their_zero_half) {
  const std::vector<std::int64_t> i64 = {1, 1, 0, 0};
  BOOST_TEST(i64 == (std::vector<std::int64_t>{1, 1, 0, 0}), tt::per_element());
  const std::vector<std::int32_t> i32 = {1, 1, 1, 1, 0, 0, 0, 0};
  BOOST_TEST(i32[4] == 0);
  BOOST_TEST(i32[7] == 0);
  const std::vector<double> f64 = {1, 1, 0, 0};
  BOOST_TEST(f64[2] == 0.0);
  BOOST_TEST(f64[3] == 0.0);
}
