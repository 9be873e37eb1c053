#define BOOST_TEST_MODULE run_ending
/// How a run file ends: what a finished run holds, in which order it is written, and that
/// nothing follows it.
#include "analysis/io/h5.hpp"
#include "analysis/io/run_store.hpp"

#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <string>

#include "run_fixtures.hpp"
#include "scratch_dir.hpp"

using kktflow::RunWriter;
using kktflow::Status;
using kktflow::testing::make_meta;
using kktflow::testing::make_record;
using kktflow::testing::make_theta;
using kktflow::testing::ScratchDir;

BOOST_AUTO_TEST_CASE(nothing_is_appended_after_the_end) {
  const ScratchDir dir;
  const std::string path = dir.file("ended.h5");
  {
    RunWriter writer(path, make_meta(), false);
    writer.on_record(make_record(0), make_theta(1.0));
    writer.write_final("lambda", Eigen::Vector4d::Ones());  // leaves SWMR mode: the layout is final
    BOOST_TEST(writer.failure() == "");
    writer.on_record(make_record(1), make_theta(1.0));
    BOOST_TEST(writer.failure().find("the run has finished") != std::string::npos);
  }
  BOOST_TEST(kktflow::read_run_summary(path).trajectory_rows == 1);
}

BOOST_AUTO_TEST_CASE(finals_are_written_before_the_status) {
  const ScratchDir dir;
  const std::string path = dir.file("finals.h5");
  {
    RunWriter writer(path, make_meta(), false);
    writer.finish_with("lambda", [] { return Eigen::Vector4d(0.25, 0.5, 0, 1.0 / 3); });
    writer.on_record(make_record(0), make_theta(1.0));
    writer.on_finish(make_theta(2.0), Status::converged, "done");
    BOOST_TEST(writer.failure() == "");
  }
  const kktflow::RunSummary written = kktflow::read_run_summary(path);
  BOOST_TEST(written.status == "converged");
  const kktflow::h5::File file = kktflow::h5::File::open_read_only(path);
  BOOST_TEST((file.root().open_dataset("final/lambda").read_vector() == Eigen::Vector4d(0.25, 0.5, 0, 1.0 / 3)));
}

// A final that cannot be computed stops the run file short of its status: it stays "running",
// as when the writer is killed between the two, and --resume finishes it from its checkpoint.
BOOST_AUTO_TEST_CASE(a_failed_final_leaves_the_run_unfinished) {
  const ScratchDir dir;
  const std::string path = dir.file("unfinished.h5");
  {
    RunWriter writer(path, make_meta(), false);
    writer.finish_with("lambda", []() -> Eigen::VectorXd { throw std::runtime_error("no multipliers"); });
    writer.on_record(make_record(0), make_theta(1.0));
    writer.on_finish(make_theta(2.0), Status::converged, "done");
    BOOST_TEST(writer.failure() == "no multipliers");
  }
  BOOST_TEST(kktflow::read_run_summary(path).status == "running");
}
