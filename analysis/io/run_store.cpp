#include "analysis/io/run_store.hpp"

#include "analysis/io/checkpoint_store.hpp"
#include "analysis/io/read_probe.hpp"
#include "analysis/io/run_layout.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace kktflow {

using namespace run_file;

RunSummary read_run_summary(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const Group root = open_run(file);
  RunSummary summary;
  read_root(root, summary);
  const Group model = root.open_group("model");
  for (const std::string& name : model.attr_names()) {
    summary.model_attrs[name] = model.read_attr_text(name);
  }
  read_sizes(root, summary);
  summary.checkpoint = read_checkpoint_position(root);
  summary.file_bytes = std::filesystem::file_size(path);
  return summary;
}

RunProgress read_run_progress(const std::string& path, std::int64_t first_row) {
  probe_file_once(path);
  const h5::File file = h5::File::open_read_only(path);
  const Group root = open_run(file);
  const Group trajectory = root.open_group("trajectory");
  const hsize_t rows = complete_rows(trajectory, trajectory_names());
  const auto first = static_cast<hsize_t>(std::max<std::int64_t>(first_row, 0));
  RunProgress progress;
  if (first < rows) {
    progress.rows = read_records(trajectory, first, rows - first);
  }
  progress.status = root.read_attr<std::string>("status");
  progress.status_reason = root.read_attr<std::string>("status_reason");
  return progress;
}

std::vector<Record> read_trajectory(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const Group trajectory = open_run(file).open_group("trajectory");
  return read_records(trajectory, 0, complete_rows(trajectory, trajectory_names()));
}

StoredCheckpoint read_checkpoint(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  return read_checkpoint(open_run(file));
}

Eigen::VectorXd read_final_theta(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const Group root = open_run(file);
  if (!root.contains("final/theta")) {
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/final/theta': absent; the run has not finished "
                    "(status '{}')",
                    path, root.read_attr<std::string>("status")));
  }
  return root.open_dataset("final/theta").read_vector();
}

void clear_writer_marks(const std::string& path) { h5::File::clear_writer_marks(path); }

}  // namespace kktflow
