// flow.precision (solver/precision.hpp) and the late-phase margins carried in it
// (solver/region_margins.hpp).
#define BOOST_TEST_MODULE region_margins
#include <boost/test/unit_test.hpp>

#include "solver/precision.hpp"
#include "solver/region_margins.hpp"

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

using namespace kktflow;
using Wide = boost::multiprecision::cpp_bin_float_100;

namespace {

const std::vector<std::string> kPrecisions{"double", "long_double", "float128", "mpfr:200"};

/// A late-phase region: margins ~ 1e12 whose O(1) differences set the softmax weights.
struct LateRegion {
  Eigen::MatrixXd K{{2.0, 1.0, 0.0}, {1.0, 2.0, 1.0}, {0.0, 1.0, 2.0}};
  Eigen::VectorXd q{{1e12, 1e12 + 0.5, 1e12 + 1.0}};
};

/// Margins carried in `precision` after `steps` accepted steps of length h.
std::unique_ptr<RegionMargins> stepped(const std::string& precision, int steps, double h) {
  const LateRegion region;
  auto margins = make_region_margins(parse_precision(precision));
  margins->set_gram(region.K);
  margins->set_margins(region.q);
  const MarginLoss loss(LossKind::exp);
  Eigen::VectorXd c, c_err;
  for (int k = 0; k < steps; ++k) {
    margins->step(loss, h, c, c_err);
    margins->accept();
  }
  return margins;
}

/// The carried margins from memory(): per value its exponent, then 53-bit integer chunks.
std::vector<Wide> decode(const Eigen::VectorXd& memory) {
  const auto n = static_cast<Eigen::Index>(memory[0]);
  const Eigen::Index per_value = (memory.size() - 1) / n;
  std::vector<Wide> q;
  for (Eigen::Index i = 0; i < n; ++i) {
    Wide m = 0;
    for (Eigen::Index k = per_value - 1; k >= 1; --k) m = ldexp(m + Wide(memory[1 + i * per_value + k]), -53);
    q.push_back(ldexp(m, static_cast<int>(memory[1 + i * per_value])));
  }
  return q;
}

/// max_i |(q_i − q_0) − (r_i − r_0)|: the error in the margins' differences.
double difference_error(const std::vector<Wide>& q, const std::vector<Wide>& reference) {
  double worst = 0;
  for (std::size_t i = 1; i < q.size(); ++i)
    worst = std::max(worst, static_cast<double>(abs((q[i] - q[0]) - (reference[i] - reference[0]))));
  return worst;
}

}  // namespace

BOOST_AUTO_TEST_CASE(parses_every_precision_and_names_bad_values) {
  BOOST_TEST(parse_precision("double").significand_bits() == 53);
  BOOST_TEST(parse_precision("long_double").significand_bits() == 64);
  BOOST_TEST(parse_precision("float128").significand_bits() == 113);
  BOOST_TEST(parse_precision("mpfr:256").significand_bits() == 256);
  for (const std::string& p : kPrecisions) BOOST_TEST(to_string(parse_precision(p)) == p);
  for (const std::string bad : {"float64", "mpfr:", "mpfr:32", "mpfr:5000", "mpfr:12x", "Double"}) {
    try {
      parse_precision(bad);
      BOOST_ERROR("parse_precision accepted " << bad);
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      BOOST_TEST(what.find("flow.precision = \"" + bad + "\"") != std::string::npos, what);
      BOOST_TEST(what.find("[64, 4096]") != std::string::npos, what);
    }
  }
}

// Margins of 1e12 resolve their differences to u·1e12 in the carried type: ~1e-4 in double,
// ~1e-22 in float128. Against mpfr:200 after 40 steps, float128 keeps the differences to 1e-18
// (ours: 1e4 × its u·1e12, for the rounding of 40 steps), and double does not (it must err by
// more than that, or this setup would not tell the precisions apart).
BOOST_AUTO_TEST_CASE(wider_types_keep_the_margin_differences_at_large_margins) {
  const auto reference = decode(stepped("mpfr:200", 40, 0.5)->memory());
  const double quad = difference_error(decode(stepped("float128", 40, 0.5)->memory()), reference);
  const double dbl = difference_error(decode(stepped("double", 40, 0.5)->memory()), reference);
  BOOST_TEST_MESSAGE("error of the margin differences: double " << dbl << ", float128 " << quad);
  BOOST_TEST(quad <= 1e-18);
  BOOST_TEST(dbl > 1e-18);
}

BOOST_AUTO_TEST_CASE(memory_restores_the_carried_margins_bit_for_bit) {
  const LateRegion region;
  const MarginLoss loss(LossKind::exp);
  for (const std::string& p : kPrecisions) {
    auto original = stepped(p, 7, 0.3);
    auto restored = make_region_margins(parse_precision(p));
    restored->set_gram(region.K);
    restored->restore(original->memory());
    BOOST_TEST(restored->has_margins());
    Eigen::VectorXd c1, e1, c2, e2;
    original->step(loss, 0.7, c1, e1);
    restored->step(loss, 0.7, c2, e2);
    original->accept();
    restored->accept();
    BOOST_TEST((c1.array() == c2.array()).all(), p);
    BOOST_TEST((original->memory().array() == restored->memory().array()).all(), p);
  }
}

BOOST_AUTO_TEST_CASE(memory_of_another_precision_is_refused) {
  const auto wide = stepped("float128", 1, 0.3)->memory();
  auto narrow = make_region_margins(parse_precision("double"));
  BOOST_CHECK_THROW(narrow->restore(wide), std::invalid_argument);
  narrow->restore(Eigen::VectorXd());
  BOOST_TEST(!narrow->has_margins());
}
