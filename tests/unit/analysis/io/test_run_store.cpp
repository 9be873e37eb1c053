#define BOOST_TEST_MODULE run_store
#include "analysis/io/run_store.hpp"
#include "analysis/io/writer_lock.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/io/h5.hpp"
#include "run_fixtures.hpp"
#include "scratch_dir.hpp"
#include "writer_process.hpp"

using kktflow::Record;
using kktflow::RunMetadata;
using kktflow::RunSummary;
using kktflow::RunWriter;
using kktflow::Status;
using kktflow::SwitchEvent;
using kktflow::testing::check_same;
using kktflow::testing::kNewSigns;
using kktflow::testing::kTop;
using kktflow::testing::make_event;
using kktflow::testing::make_meta;
using kktflow::testing::make_record;
using kktflow::testing::make_theta;
using kktflow::testing::ScratchDir;
using kktflow::testing::throws_error_with;
using kktflow::testing::WriterProcess;
namespace h5 = kktflow::h5;

namespace {

/// A finished run with `records` rows, 10 events and 3 snapshots.
void write_run(const std::string& path, std::int64_t records) {
  RunWriter writer(path, make_meta(), false);
  writer.on_snapshot(make_theta(1e-4), -1);
  for (std::int64_t i = 0; i < records; ++i) {
    if (i % 30 == 5) {
      writer.on_event(make_event(i / 30));
    }
    writer.on_record(make_record(i), make_theta(1.0));
    if (i == 100 || i == records - 1) {
      writer.on_snapshot(make_theta(static_cast<double>(i)), i);
    }
  }
  writer.on_finish(make_theta(2.0), Status::converged, "eps <= 1e-6 and 1 - beta <= 1e-6");
  writer.write_final("lambda", Eigen::Vector4d(0.25, 0.5, 0, 1.0 / 3));
  BOOST_TEST(writer.failure() == "");
}

void copy_prefix(const std::string& from, const std::string& to, std::uintmax_t bytes) {
  std::ifstream in(from, std::ios::binary);
  std::vector<char> buffer(bytes);
  in.read(buffer.data(), static_cast<std::streamsize>(bytes));
  std::ofstream(to, std::ios::binary).write(buffer.data(), static_cast<std::streamsize>(bytes));
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_is_exact) {
  const ScratchDir dir;
  const std::string path = dir.file("run.h5");
  write_run(path, 300);

  const RunSummary s = kktflow::read_run_summary(path);
  const RunMetadata meta = make_meta();
  BOOST_TEST(s.format == "kktflow-run");
  BOOST_TEST(s.format_version == 1);
  BOOST_TEST(s.kktflow_version == meta.kktflow_version);
  BOOST_TEST(s.git_commit == meta.git_commit);
  BOOST_TEST(s.created == meta.created);
  BOOST_TEST(s.config == meta.config_text);
  BOOST_TEST(s.seed == meta.seed);
  BOOST_TEST(s.status == "converged");
  BOOST_TEST(s.status_reason == "eps <= 1e-6 and 1 - beta <= 1e-6");
  BOOST_TEST(s.model_attrs.at("kind") == "leaky2_fixed_outer");
  BOOST_TEST(s.model_attrs.at("gamma") == "0.1");
  BOOST_TEST(s.model_attrs.at("m") == "2");
  BOOST_TEST(s.model_attrs.size() == 5U);
  BOOST_TEST(s.n == 4);
  BOOST_TEST(s.d == 3);
  BOOST_TEST(s.trajectory_rows == 300);
  BOOST_REQUIRE(s.last.has_value());
  check_same(*s.last, make_record(299));
  BOOST_TEST(s.events == 10);
  BOOST_TEST(s.sliding_entries == 3);
  BOOST_TEST(s.snapshots == 3);
  BOOST_TEST(s.file_bytes == std::filesystem::file_size(path));
  // point + 18 columns + k_top sigma; event + 5 columns; snapshot, point + 6 values of theta.
  BOOST_TEST(s.trajectory_size.row_bytes == 8U * (1 + 18 + kTop));
  BOOST_TEST(s.event_size.row_bytes == 8U * 6);
  BOOST_TEST(s.snapshot_size.row_bytes == 8U * (2 + 6));
  // One 1024-row chunk per trajectory dataset; one chunk per snapshot row, none compressed.
  BOOST_TEST(s.trajectory_size.bytes == 1024U * s.trajectory_size.row_bytes);
  BOOST_TEST(s.snapshot_size.bytes == 2U * 1024U * 8U + 3U * 6U * 8U);
  BOOST_TEST(s.trajectory_size.bytes + s.event_size.bytes + s.snapshot_size.bytes < s.file_bytes);

  const std::vector<Record> rows = kktflow::read_trajectory(path);
  BOOST_REQUIRE(rows.size() == 300U);
  for (std::int64_t i = 0; i < 300; ++i) {
    check_same(rows[static_cast<std::size_t>(i)], make_record(i));
  }
  BOOST_TEST((kktflow::read_final_theta(path) == make_theta(2.0)));

  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  BOOST_TEST((root.open_dataset("data/X").read_matrix() == meta.X));
  BOOST_TEST((root.open_dataset("data/y").read_vector() == meta.y));
  BOOST_TEST(root.open_group("data").read_attr<std::string>("source") == "gaussian");
  BOOST_TEST((root.open_dataset("model/a").read_vector() == meta.a));
  BOOST_TEST((root.open_dataset("final/lambda").read_vector() == Eigen::Vector4d(0.25, 0.5, 0, 1.0 / 3)));
  const h5::Dataset theta = root.open_dataset("snapshots/theta");
  BOOST_TEST(theta.read_attr<std::vector<std::string>>("layer_names") == meta.layer_names,
             boost::test_tools::per_element());
  BOOST_TEST(theta.read_attr<std::vector<std::int64_t>>("layer_shapes") == meta.layer_shapes,
             boost::test_tools::per_element());
  const Eigen::MatrixXd snapshots = theta.read_matrix();
  BOOST_TEST((snapshots.row(0).transpose() == make_theta(1e-4)));
  BOOST_TEST((snapshots.row(2).transpose() == make_theta(299.0)));
  BOOST_TEST(root.open_dataset("snapshots/point").read_int64s() == (std::vector<std::int64_t>{-1, 100, 299}),
             boost::test_tools::per_element());
  const std::vector<std::int64_t> signs = root.open_dataset("events/new_sign").read_int64s();
  BOOST_TEST(signs == std::vector<std::int64_t>(std::begin(kNewSigns), std::end(kNewSigns)),
             boost::test_tools::per_element());
  BOOST_TEST(root.open_dataset("trajectory/log_t").read_attr<std::string>("long_name") ==
             "log of gradient-flow time t");

  // Left behind for tests/interop/check_run_file.py.
  const std::filesystem::path keep = std::filesystem::path(KKTFLOW_TEST_OUTPUT_DIR) / "roundtrip.h5";
  std::filesystem::create_directories(keep.parent_path());
  std::filesystem::copy_file(path, keep, std::filesystem::copy_options::overwrite_existing);
  BOOST_TEST_MESSAGE("round-trip file kept at " << keep.string());
}

BOOST_AUTO_TEST_CASE(short_sigma_is_padded_and_long_sigma_is_a_failure) {
  const ScratchDir dir;
  const std::string path = dir.file("sigma.h5");
  {
    RunWriter writer(path, make_meta(), false);
    Record short_sigma = make_record(0);
    short_sigma.sigma = Eigen::Vector2d(2.0, 1.0);
    writer.on_record(short_sigma, make_theta(1.0));
    Record long_sigma = make_record(1);
    long_sigma.sigma = Eigen::Vector4d(4, 3, 2, 1);
    writer.on_record(long_sigma, make_theta(1.0));
    BOOST_TEST(writer.failure().find("k_top = 3") != std::string::npos);
    writer.on_record(make_record(2), make_theta(1.0));  // nothing more is written after a failure
    writer.on_finish(make_theta(1.0), Status::converged, "");
  }
  const std::vector<Record> rows = kktflow::read_trajectory(path);
  BOOST_REQUIRE(rows.size() == 1U);
  BOOST_TEST((rows[0].sigma == Eigen::Vector2d(2.0, 1.0)));
  const h5::File file = h5::File::open_read_only(path);
  const std::vector<double> stored = file.root().open_dataset("trajectory/sigma").read_rows<double>(0, 1);
  BOOST_TEST(std::isnan(stored[2]));
  BOOST_TEST(kktflow::read_run_summary(path).status == "running");
}

BOOST_AUTO_TEST_CASE(existing_file_needs_overwrite) {
  const ScratchDir dir;
  const std::string path = dir.file("run.h5");
  write_run(path, 3);
  BOOST_TEST(throws_error_with([&] { RunWriter(path, make_meta(), false); }, "already exists"));
  BOOST_TEST(kktflow::read_run_summary(path).trajectory_rows == 3);  // untouched
  { RunWriter writer(path, make_meta(), true); }
  const RunSummary s = kktflow::read_run_summary(path);
  BOOST_TEST(s.trajectory_rows == 0);
  BOOST_TEST(!s.last.has_value());
  BOOST_TEST(s.status == "running");
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_final_theta(path); }, "has not finished"));
}

BOOST_AUTO_TEST_CASE(inconsistent_metadata_creates_no_file) {
  const ScratchDir dir;
  const std::string path = dir.file("run.h5");
  RunMetadata meta = make_meta();
  meta.k_top = 0;
  BOOST_CHECK_THROW(RunWriter(path, meta, false), std::invalid_argument);
  meta = make_meta();
  meta.layer_shapes = {2};
  BOOST_CHECK_THROW(RunWriter(path, meta, false), std::invalid_argument);
  meta = make_meta();
  meta.y = Eigen::VectorXd::Ones(5);
  BOOST_CHECK_THROW(RunWriter(path, meta, false), std::invalid_argument);
  BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(other_files_are_refused) {
  const ScratchDir dir;
  const std::string plain = dir.file("plain.h5");
  {
    h5::File file = h5::File::create(plain, false);
    file.root().create_group("data").write_dataset("X", Eigen::MatrixXd::Ones(2, 2));
  }
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_run_summary(plain); }, "no 'format' attribute"));

  const std::string other = dir.file("other.h5");
  h5::File::create(other, false).root().write_attr("format", "netcdf");
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_trajectory(other); }, "its format is 'netcdf'"));

  const std::string newer = dir.file("newer.h5");
  {
    h5::Group root = h5::File::create(newer, false).root();
    root.write_attr("format", "kktflow-run");
    root.write_attr("format_version", std::int64_t{2});
  }
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_run_summary(newer); }, "format_version 2 is newer"));

  const std::string text = dir.file("text.h5");
  std::ofstream(text) << "step,tau\n0,0\n";
  BOOST_TEST(throws_error_with([&] { (void)kktflow::read_run_summary(text); }, "not an HDF5 file"));
}

BOOST_AUTO_TEST_CASE(truncated_file_is_an_error_not_a_crash) {
  const ScratchDir dir;
  const std::string path = dir.file("run.h5");
  write_run(path, 120);
  const std::uintmax_t size = std::filesystem::file_size(path);
  for (const double fraction : {0.5, 0.1, 0.9, 0.999}) {
    const std::string cut = dir.file("cut.h5");
    copy_prefix(path, cut, static_cast<std::uintmax_t>(fraction * static_cast<double>(size)));
    BOOST_TEST_CONTEXT("first " << fraction << " of " << size << " bytes") {
      BOOST_TEST(throws_error_with([&] { (void)kktflow::read_run_summary(cut); }, cut));
      BOOST_TEST(throws_error_with([&] { (void)kktflow::read_trajectory(cut); }, cut));
    }
  }
}

// A process the lock's holder forks without exec (the reader probe) closes its copies of the lock:
// once the holder dies, the lock is free although that child still runs.
BOOST_AUTO_TEST_CASE(a_forked_child_does_not_keep_its_parents_writer_lock) {
  const ScratchDir dir;
  const std::string path = dir.file("locked.h5");
  std::array<int, 2> pipe_fds{};  // the reader runs until the test closes its write end
  std::array<int, 2> released{};  // the reader says it has released the lock
  BOOST_REQUIRE(::pipe(pipe_fds.data()) == 0);
  BOOST_REQUIRE(::pipe(released.data()) == 0);
  const pid_t holder = fork();
  BOOST_REQUIRE(holder >= 0);
  if (holder == 0) {
    try {
      const kktflow::WriterLock lock(path);
      const pid_t reader = fork();
      if (reader == 0) {
        kktflow::release_writer_locks_in_child();
        ::close(pipe_fds[1]);
        (void)!::write(released[1], "r", 1);
        char byte = 0;
        (void)!::read(pipe_fds[0], &byte, 1);
        _exit(0);
      }
      char byte = 0;
      const bool told = reader > 0 && ::read(released[0], &byte, 1) == 1;
      _exit(told ? 0 : 1);  // dies holding the lock: no destructor runs, as under SIGKILL
    } catch (...) {
      _exit(2);
    }
  }
  ::close(pipe_fds[0]);
  ::close(released[0]);
  ::close(released[1]);
  int status = 0;
  BOOST_REQUIRE(waitpid(holder, &status, 0) == holder);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE(WEXITSTATUS(status) == 0);
  BOOST_CHECK_NO_THROW(kktflow::WriterLock{path});
  ::close(pipe_fds[1]);  // the reader ends
}

BOOST_AUTO_TEST_CASE(killed_writer_leaves_every_flushed_row) {
  const ScratchDir dir;
  const std::string path = dir.file("killed.h5");
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    // _exit skips every destructor: the file is never closed, as after SIGKILL.
    try {
      RunWriter writer(path, make_meta(), false);
      writer.on_snapshot(make_theta(1e-4), -1);
      for (std::int64_t i = 0; i < 50; ++i) {
        writer.on_event(make_event(i));
        writer.on_record(make_record(i), make_theta(1.0));
      }
      _exit(writer.failure().empty() ? 0 : 2);
    } catch (...) {
      _exit(1);
    }
  }
  int wait_status = 0;
  BOOST_REQUIRE(waitpid(child, &wait_status, 0) == child);
  BOOST_REQUIRE(WIFEXITED(wait_status));
  BOOST_REQUIRE(WEXITSTATUS(wait_status) == 0);

  const RunSummary s = kktflow::read_run_summary(path);
  BOOST_TEST(s.status == "running");
  BOOST_TEST(s.trajectory_rows == 50);
  BOOST_TEST(s.events == 50);
  BOOST_TEST(s.snapshots == 1);
  const std::vector<Record> rows = kktflow::read_trajectory(path);
  BOOST_REQUIRE(rows.size() == 50U);
  for (std::int64_t i = 0; i < 50; ++i) {
    check_same(rows[static_cast<std::size_t>(i)], make_record(i));
  }
}

BOOST_AUTO_TEST_CASE(live_run_can_be_read) {
  const ScratchDir dir;
  const std::string path = dir.file("live.h5");
  const WriterProcess writer_process([&](const WriterProcess& self) {
    RunWriter writer(path, make_meta(), false);
    for (std::int64_t i = 0; i < 20; ++i) writer.on_record(make_record(i), make_theta(1.0));
    // Tell the parent the rows are flushed, then keep the file open until it has read them.
    const bool talked = self.tell_parent() && self.await_parent();
    writer.on_record(make_record(20), make_theta(1.0));
    return talked ? 0 : 3;
  });
  BOOST_REQUIRE(writer_process.await_child());
  std::optional<RunSummary> live;
  std::string error;
  try {
    live = kktflow::read_run_summary(path);
  } catch (const std::exception& e) {
    error = e.what();
  }
  BOOST_REQUIRE(writer_process.tell_child());
  BOOST_TEST(writer_process.exit_code() == 0);
  BOOST_TEST(error == "");
  BOOST_REQUIRE(live.has_value());
  BOOST_TEST(live->trajectory_rows == 20);
  BOOST_TEST(live->status == "running");
  BOOST_TEST(kktflow::read_run_summary(path).trajectory_rows == 21);
}

BOOST_AUTO_TEST_CASE(live_run_is_followed_row_by_row) {
  const ScratchDir dir;
  const std::string path = dir.file("follow.h5");
  constexpr std::int64_t kBatches = 3;
  constexpr std::int64_t kBatchRows = 7;
  // One batch of rows per token from the parent, a token back once it is flushed; then the end,
  // signalled once the writer has closed the file (while it finishes the run outside SWMR mode,
  // readers cannot open it).
  const WriterProcess writer_process([&](const WriterProcess& self) {
    bool talked = true;
    bool written = true;
    {
      RunWriter writer(path, make_meta(), false);
      for (std::int64_t batch = 0; batch < kBatches; ++batch) {
        talked &= self.await_parent();
        for (std::int64_t i = 0; i < kBatchRows; ++i)
          writer.on_record(make_record(batch * kBatchRows + i), make_theta(1.0));
        talked &= self.tell_parent();
      }
      talked &= self.await_parent();
      writer.on_finish(make_theta(2.0), Status::log_t_max, "log t >= 9");
      written = writer.failure().empty();
    }
    talked &= self.tell_parent();
    return !written ? 2 : talked ? 0 : 3;
  });
  std::int64_t seen = 0;
  for (std::int64_t batch = 0; batch <= kBatches; ++batch) {
    BOOST_REQUIRE(writer_process.tell_child());
    BOOST_REQUIRE(writer_process.await_child());
    const kktflow::RunProgress progress = kktflow::read_run_progress(path, seen);
    BOOST_TEST_CONTEXT("batch " << batch) {
      BOOST_TEST(progress.rows.size() == static_cast<std::size_t>(batch < kBatches ? kBatchRows : 0));
      for (const Record& row : progress.rows) check_same(row, make_record(seen++));
      BOOST_TEST(progress.status == (batch < kBatches ? "running" : "log_t_max"));
    }
  }
  BOOST_TEST(writer_process.exit_code() == 0);
  const kktflow::RunProgress all = kktflow::read_run_progress(path, 0);
  BOOST_TEST(all.rows.size() == static_cast<std::size_t>(kBatches * kBatchRows));
  BOOST_TEST(all.status_reason == "log t >= 9");
}
