#define BOOST_TEST_MODULE sweep_spec
/// Sweep files (analysis/sweep_spec.hpp): expansion order and overrides of grid and list sweeps,
/// and errors that name the key, the value and what is allowed.
#include "analysis/sweep/sweep_spec.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scratch_dir.hpp"

using kktflow::read_sweep_file;
using kktflow::SweepError;
using kktflow::testing::ScratchDir;

namespace {

/// Writes a base config and the sweep file `text` next to it; returns the sweep file's path.
std::string sweep_file(const ScratchDir& dir, const std::string& text) {
  std::ofstream(dir.file("base.toml")) << "seed = 1\n";
  std::ofstream(dir.file("sweep.toml")) << "base = \"base.toml\"\n" << text;
  return dir.file("sweep.toml");
}

/// Whether reading `text` throws SweepError whose message contains `part`.
bool refused_with(const std::string& text, const std::string& part) {
  ScratchDir dir;
  try {
    read_sweep_file(sweep_file(dir, text));
  } catch (const SweepError& e) {
    BOOST_TEST_MESSAGE("SweepError: " << e.what());
    return std::string(e.what()).find(part) != std::string::npos;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(grid_varies_the_last_key_fastest_after_the_shared_overrides) {
  ScratchDir dir;
  const auto spec = read_sweep_file(sweep_file(dir,
                                               "[set]\nstop.kkt_eps = 1e-4\n[grid]\n\"data.d\" = [10, 20]\n"
                                               "model.gamma = [0.3, 0.5, 1.0]\n"));
  BOOST_TEST(spec.cases.size() == 6u);
  BOOST_TEST(spec.keys == (std::vector<std::string>{"data.d", "model.gamma"}), boost::test_tools::per_element());
  BOOST_TEST(
      spec.cases[1].overrides == (std::vector<std::string>{"stop.kkt_eps=0.0001", "data.d=10", "model.gamma=0.5"}),
      boost::test_tools::per_element());
  BOOST_TEST(spec.cases[5].label() == "data.d=20 model.gamma=1.0");
  BOOST_TEST(spec.base_config == std::filesystem::absolute(dir.file("base.toml")).lexically_normal().string());
}

// TOML tables are unordered: the keys of a case come in name order (toml++ keeps tables sorted).
BOOST_AUTO_TEST_CASE(list_keeps_the_cases_in_order) {
  ScratchDir dir;
  const auto spec = read_sweep_file(sweep_file(dir,
                                               "mode = \"list\"\n[[case]]\nseed = 4\ndata.kind = \"mixture\"\n"
                                               "[[case]]\nseed = 5\ndata.kind = \"gaussian\"\n"));
  BOOST_TEST(spec.cases.size() == 2u);
  BOOST_TEST(spec.cases[1].label() == "data.kind='gaussian' seed=5");
}

BOOST_AUTO_TEST_CASE(errors_name_the_key_and_what_is_allowed) {
  BOOST_TEST(refused_with("[grid]\n\"data.d\" = 10\n", "grid.data.d = 10: expected a non-empty array"));
  BOOST_TEST(refused_with("mode = \"list\"\n[[case]]\nseed = 1\n[[case]]\ndata.d = 3\n",
                          "case[1] sets other keys than case[0]"));
  BOOST_TEST(refused_with("mode = \"list\"\n[grid]\nseed = [1]\n", "[grid] given with mode = \"list\""));
  BOOST_TEST(refused_with("budget_s = \"long\"\n[grid]\nseed = [1]\n", "budget_s = 'long': must be a finite number"));
  BOOST_TEST(
      refused_with("claims = \"frei2023.kkt\"\n[grid]\nseed = [1]\n", "claims = 'frei2023.kkt': expected an array"));
}
