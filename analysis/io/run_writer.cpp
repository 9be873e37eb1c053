#include "analysis/io/run_store.hpp"

#include "analysis/io/checkpoint_store.hpp"
#include "analysis/io/run_layout.hpp"

#include <fmt/format.h>

#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace kktflow {

using namespace run_file;

namespace {

/// The datasets a live run appends to, in a file in SWMR-write mode.
struct LiveLayout {
  h5::File file;
  Trajectory trajectory;
  Events events;
  Snapshots snapshots;
  CheckpointSlots checkpoint;

  RowCounts rows() const {
    return {static_cast<std::int64_t>(trajectory.point.rows()), static_cast<std::int64_t>(events.event.rows()),
            static_cast<std::int64_t>(snapshots.snapshot.rows())};
  }
};

/// create_layout()'s work; the file is published only once complete.
LiveLayout create_published_layout(const std::string& path, const RunMetadata& meta, bool overwrite, hsize_t dim) {
  h5::File file = h5::File::create_unpublished(path);
  Group root = file.root();
  Trajectory trajectory = create_trajectory(root.create_group("trajectory"), static_cast<hsize_t>(meta.k_top));
  Events events = create_events(root.create_group("events"));
  Snapshots snapshots = create_snapshots(root.create_group("snapshots"), meta, dim);
  root.create_group("final");
  CheckpointSlots checkpoint = CheckpointSlots::create(root);
  write_root_attrs(root, meta);
  write_data(root.create_group("data"), meta);
  write_model(root.create_group("model"), meta);
  file.start_swmr_write();
  file.publish(overwrite);
  return {std::move(file), std::move(trajectory), std::move(events), std::move(snapshots), std::move(checkpoint)};
}

/// Creates the whole layout and writes the metadata in a file not yet at `path`, switches it to
/// SWMR writing (every group, dataset and attribute must exist before, as none can be created
/// under SWMR), then publishes it there. A process killed before the file is published leaves
/// nothing at `path` (only `path`.tmp, which the next run replaces), and one killed after leaves
/// a file in SWMR mode, which readers open; published first, a kill before the switch left a
/// file marked as open for writing outside SWMR, which no reader opens.
LiveLayout create_layout(const std::string& path, const RunMetadata& meta, bool overwrite, hsize_t dim) {
  try {
    return create_published_layout(path, meta, overwrite, dim);
  } catch (...) {
    h5::File::discard_unpublished(path);
    throw;
  }
}

/// Drops the rows of `names` in `group` past `rows`, the rows written after a checkpoint.
template <class Names>
void truncate_rows(const Group& group, const Names& names, std::int64_t rows) {
  if (static_cast<std::int64_t>(complete_rows(group, names)) < rows) {
    malformed(group, fmt::format("holds fewer rows than its checkpoint's {}: the file was damaged", rows));
  }
  for (const auto& name : names) {
    group.open_dataset(name).set_rows(static_cast<hsize_t>(rows));
  }
}

/// Reopens a run file to continue it from `from`: drops what was written after the checkpoint
/// and what only a finished run has (/final, /verify), marks it running under `config_text`,
/// and switches it to SWMR writing again.
LiveLayout continue_layout(const std::string& path, const RowCounts& from, const std::string& config_text,
                           const std::string& other_build) {
  h5::File file = h5::File::open_to_continue(path);
  Group root = open_run(file);
  truncate_rows(root.open_group("trajectory"), trajectory_names(), from.trajectory);
  truncate_rows(root.open_group("events"), kEventNames, from.events);
  truncate_rows(root.open_group("snapshots"), kSnapshotNames, from.snapshots);
  for (const char* finished_only : {"final", "verify"}) {
    if (root.contains(finished_only)) {
      root.remove(finished_only);
    }
  }
  root.create_group("final");
  root.write_attr("config", config_text);
  root.write_attr("status", "running");
  root.write_attr("status_reason", "");
  if (!other_build.empty()) {
    std::vector<std::string> builds;
    if (root.has_attr("resumed_builds")) builds = root.read_attr<std::vector<std::string>>("resumed_builds");
    builds.push_back(other_build);
    root.write_attr("resumed_builds", builds);
  }
  LiveLayout layout{std::move(file), open_trajectory(root.open_group("trajectory")),
                    open_events(root.open_group("events")), open_snapshots(root.open_group("snapshots")),
                    CheckpointSlots::open(root)};
  layout.file.start_swmr_write();
  return layout;
}

/// Columns of a 2-D dataset.
hsize_t width_of(const h5::Dataset& dataset) {
  const std::vector<hsize_t> shape = dataset.shape();
  if (shape.size() != 2) {
    malformed(dataset, fmt::format("has rank {}, expected 2", shape.size()));
  }
  return shape[1];
}

}  // namespace

struct RunWriter::Impl {
  Impl(const std::string& file_path, const RunMetadata& meta, bool overwrite)
      : dim(checked_theta_dim(meta)),
        k_top(static_cast<hsize_t>(meta.k_top)),
        path(file_path),
        live(create_layout(file_path, meta, overwrite, dim)) {}

  Impl(const std::string& file_path, const RowCounts& from, const std::string& config_text,
       const std::string& other_build)
      : path(file_path), live(continue_layout(file_path, from, config_text, other_build)) {
    dim = width_of(live->snapshots.theta);
    k_top = width_of(live->trajectory.sigma);
  }

  ~Impl() {
    try {
      write_pending_events();  // as an unflushed write would be: on disk once the file closes
    } catch (const std::exception&) {
      // A destructor must not throw; the events after the last flush are lost, as after a kill.
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  /// The live layout; throws once the run has left SWMR mode (rows after the end would be lost
  /// to readers that trust status).
  LiveLayout& layout() {
    if (!live) {
      throw std::logic_error(fmt::format("{}: the run has finished; no more rows can be written", path));
    }
    return *live;
  }

  /// Writes the events held back since the last batch.
  void write_pending_events() {
    if (live && !pending_events.empty()) {
      append_events(live->events, pending_events);
      pending_events.clear();
    }
  }

  void flush() {
    write_pending_events();
    (live ? live->file : *finished).flush();
  }

  /// Leaves SWMR mode: flushes, closes every dataset and the file, and reopens it for ordinary
  /// writing, where /final and the status attributes can be created.
  void end_swmr() {
    if (live) {
      flush();
      live.reset();
      finished.emplace(h5::File::open_read_write(path));
    }
  }

  void write_final(const std::string& name, const Eigen::VectorXd& value) {
    end_swmr();
    Group final_group = finished->root().open_group("final");
    write_final_vector(final_group, name, value);
  }

  hsize_t dim = 0;
  hsize_t k_top = 0;
  std::string path;
  std::optional<LiveLayout> live;    ///< while the run is written (SWMR mode)
  std::optional<h5::File> finished;  ///< after end_swmr()
  std::vector<std::pair<std::string, std::function<Eigen::VectorXd()>>> finals;  ///< finish_with
  /// Events not yet in the file: written in batches of kEventFlushInterval and before every
  /// flush, so what a reader or a resumed run sees is the same as with a write per event.
  std::vector<SwitchEvent> pending_events;
  std::string failure;
};

RunWriter::RunWriter(const std::string& path, const RunMetadata& meta, bool overwrite)
    : m_impl(std::make_unique<Impl>(path, meta, overwrite)) {}

RunWriter::RunWriter(const std::string& path, const RowCounts& from, const std::string& config_text,
                     const std::string& other_build)
    : m_impl(std::make_unique<Impl>(path, from, config_text, other_build)) {}

RunWriter::~RunWriter() = default;

template <class Write>
void RunWriter::guarded(Write&& write) noexcept {
  if (!m_impl->failure.empty()) {
    return;
  }
  try {
    write(*m_impl);
  } catch (const std::exception& error) {
    m_impl->failure = error.what();
  }
}

void RunWriter::on_record(const Record& row, const Eigen::VectorXd& /*theta_c*/) {
  guarded([&](Impl& w) {
    append_record(w.layout().trajectory, row, w.k_top);
    w.flush();
  });
}

void RunWriter::on_event(const SwitchEvent& event) {
  guarded([&](Impl& w) {
    w.layout();  // throws once the run has finished
    w.pending_events.push_back(event);
    if (static_cast<int>(w.pending_events.size()) >= kEventFlushInterval) w.flush();
  });
}

void RunWriter::on_snapshot(const Eigen::VectorXd& theta, std::int64_t point) {
  guarded([&](Impl& w) {
    if (static_cast<hsize_t>(theta.size()) != w.dim) {
      throw std::length_error(
          fmt::format("{}: snapshot theta has {} values, the layers of the run hold {}", w.path, theta.size(), w.dim));
    }
    Snapshots& snapshots = w.layout().snapshots;
    snapshots.snapshot.append(static_cast<std::int64_t>(snapshots.snapshot.rows()));
    snapshots.point.append(point);
    snapshots.theta.append(std::span<const double>(theta.data(), w.dim));
    w.flush();
  });
}

void RunWriter::on_checkpoint(const RunState& checkpoint) {
  guarded([&](Impl& w) {
    LiveLayout& live = w.layout();
    w.write_pending_events();
    live.checkpoint.write(live.file, checkpoint, live.rows());
  });
}

void RunWriter::on_finish(const Eigen::VectorXd& theta, Status status, const std::string& reason) {
  guarded([&](Impl& w) {
    w.write_final("theta", theta);
    for (const auto& [name, value] : w.finals) {
      if (const Eigen::VectorXd v = value(); v.size() > 0) w.write_final(name, v);
    }
    w.flush();  // every final is on disk before the status says the run has finished
    Group root = w.finished->root();
    root.write_attr("status", to_string(status));
    root.write_attr("status_reason", reason);
    w.flush();
  });
}

void RunWriter::finish_with(const std::string& name, std::function<Eigen::VectorXd()> value) {
  m_impl->finals.emplace_back(name, std::move(value));
}

void RunWriter::write_final(const std::string& name, const Eigen::VectorXd& value) {
  m_impl->write_final(name, value);
  m_impl->flush();
}

const std::string& RunWriter::failure() const noexcept { return m_impl->failure; }

const std::string& RunWriter::path() const noexcept { return m_impl->path; }

}  // namespace kktflow
