/// \file test_tolerance_source.cpp
/// The verdict table's source column: every claim kktflow knows names where its tolerance comes
/// from (a paper's section, or ours), so a claim added without one is caught here rather than
/// shown as "unstated".
#define BOOST_TEST_MODULE tolerance_source
#include "analysis/verify/claim_registry.hpp"
#include "analysis/verify/tolerance_source.hpp"

#include <boost/test/unit_test.hpp>

using namespace kktflow;

BOOST_AUTO_TEST_CASE(every_claim_states_its_tolerance_source) {
  const std::vector<std::string> names = all_claim_names();
  BOOST_TEST_REQUIRE(!names.empty());
  for (const std::string& name : names) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(tolerance_source(name) != "unstated"); }
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_claim_has_no_source) { BOOST_TEST(tolerance_source("frei2023.nope") == "unstated"); }
