#include "analysis/io/run_data_reader.hpp"

#include "analysis/io/h5.hpp"
#include "analysis/io/run_store.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <limits>

namespace kktflow {
namespace {

/// Snapshot rows that every /snapshots column holds (a killed writer may leave one short).
hsize_t complete_snapshots(const h5::Group& snapshots) {
  hsize_t rows = std::numeric_limits<hsize_t>::max();
  for (const char* name : {"snapshot", "point", "theta"})
    rows = std::min(rows, snapshots.open_dataset(name).shape().at(0));
  return rows;
}

std::vector<Eigen::VectorXd> read_snapshot_thetas(const h5::Group& root) {
  const h5::Group group = root.open_group("snapshots");
  const h5::Dataset theta = group.open_dataset("theta");
  std::vector<Eigen::VectorXd> out;
  const hsize_t rows = complete_snapshots(group);
  for (hsize_t r = 0; r < rows; ++r) {
    const std::vector<double> row = theta.read_rows<double>(r, 1);
    out.emplace_back(Eigen::Map<const Eigen::VectorXd>(row.data(), static_cast<Eigen::Index>(row.size())));
  }
  return out;
}

/// flow.rel_tol of the resolved TOML configuration `config` (the root attribute) of the file `path`.
double config_rel_tol(const std::string& path, const std::string& config) {
  try {
    const toml::table table = toml::parse(config);
    if (const auto value = table["flow"]["rel_tol"].value<double>()) return *value;
  } catch (const toml::parse_error&) {}
  throw h5::Error(fmt::format("HDF5 file '{}', object '/': attribute 'config' holds no flow.rel_tol", path));
}

}  // namespace

RunData read_run_data(const std::string& path) {
  const RunSummary summary = read_run_summary(path);
  RunData run;
  run.model_attrs = summary.model_attrs;
  const auto kind = summary.model_attrs.find("kind");
  run.kind = kind == summary.model_attrs.end() ? "" : kind->second;
  run.config = summary.config;
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  run.X = root.open_dataset("data/X").read_matrix();
  run.y = root.open_dataset("data/y").read_vector();
  if (root.contains("model/a")) run.outer = root.open_dataset("model/a").read_vector();
  run.theta_final = read_final_theta(path);
  run.snapshots = read_snapshot_thetas(root);
  if (run.snapshots.empty()) throw h5::Error(path + ": /snapshots/theta holds no row (θ(0) is needed)");
  run.trajectory = read_trajectory(path);
  const auto loss = summary.model_attrs.find("loss");
  run.loss = loss == summary.model_attrs.end() ? "" : loss->second;
  run.rel_tol = config_rel_tol(path, summary.config);
  return run;
}

}  // namespace kktflow
