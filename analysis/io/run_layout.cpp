#include "analysis/io/run_layout.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <set>
#include <span>
#include <stdexcept>

namespace kktflow::run_file {

std::vector<std::string> trajectory_names() {
  std::vector<std::string> names{"point", "sigma"};
  for (const Column& column : kColumns) {
    names.emplace_back(column.name);
  }
  return names;
}

void describe(h5::Object& object, const std::string& long_name, const std::string& units) {
  object.write_attr("long_name", long_name);
  object.write_attr("units", units);
}

/// An appendable index 0, 1, 2, … that is the dimension scale `name` of its group.
Appendable create_index(Group& group, const std::string& name, const std::string& long_name) {
  Appendable index = group.create_appendable(name, {Type::i64, 0, kChunkRows});
  index.make_scale(name);
  describe(index, long_name, "1");
  return index;
}

/// A fixed index 0, …, count − 1 that is the dimension scale `name` of its group.
h5::Dataset write_index(Group& group, const std::string& name, hsize_t count, const std::string& long_name) {
  std::vector<std::int64_t> values(count);
  std::iota(values.begin(), values.end(), std::int64_t{0});
  h5::Dataset index = group.write_dataset(name, values);
  index.make_scale(name);
  describe(index, long_name, "1");
  return index;
}

Appendable create_column(Group& group, const std::string& name, const AppendableSpec& spec,
                         const std::string& long_name, const std::string& units, const h5::Dataset& rows) {
  Appendable column = group.create_appendable(name, spec);
  describe(column, long_name, units);
  column.attach_scale(rows, 0);
  return column;
}

// No dataset is compressed: a compressed chunk that grows moves on every flush and its old space
// is reused, which could corrupt rows a killed run had already flushed.
Trajectory create_trajectory(Group group, hsize_t k_top) {
  Appendable point = create_index(group, "point", "trajectory row");
  std::vector<Appendable> columns;
  for (const Column& c : kColumns) {
    const AppendableSpec spec{c.f64 != nullptr ? Type::f64 : Type::i64, 0, kChunkRows};
    columns.push_back(create_column(group, c.name, spec, c.long_name, c.units, point));
  }
  Appendable sigma = create_column(group, "sigma", {Type::f64, k_top, kChunkRows},
                                   "top singular values of the first layer, descending (NaN: none)", "1", point);
  sigma.attach_scale(write_index(group, "singular", k_top, "rank of the singular value, from 0"), 1);
  return {std::move(point), std::move(columns), std::move(sigma)};
}

Trajectory open_trajectory(const Group& group) {
  std::vector<Appendable> columns;
  for (const Column& c : kColumns) {
    columns.push_back(group.open_appendable(c.name));
  }
  return {group.open_appendable("point"), std::move(columns), group.open_appendable("sigma")};
}

Events open_events(const Group& group) {
  return {group.open_appendable("event"),  group.open_appendable("point"),  group.open_appendable("log_t"),
          group.open_appendable("neuron"), group.open_appendable("sample"), group.open_appendable("new_sign")};
}

Events create_events(Group group) {
  Appendable event = create_index(group, "event", "activation switch event");
  const auto column = [&](const char* name, Type type, const char* long_name) {
    return create_column(group, name, {type, 0, kChunkRows}, long_name, "1", event);
  };
  Appendable point = column("point", Type::i64, "trajectory row the next record takes");
  Appendable log_t = column("log_t", Type::f64, "log of gradient-flow time t at the switch");
  Appendable neuron = column("neuron", Type::i64, "neuron whose pre-activation switched");
  Appendable sample = column("sample", Type::i64, "sample whose pre-activation switched");
  Appendable new_sign = column("new_sign", Type::i64,
                               "+1/-1 crossing to that sign, 0 starts sliding on the kink, "
                               "+2/-2 leaves the kink to that side");
  return {std::move(event),  std::move(point),  std::move(log_t),
          std::move(neuron), std::move(sample), std::move(new_sign)};
}

Snapshots open_snapshots(const Group& group) {
  return {group.open_appendable("snapshot"), group.open_appendable("point"), group.open_appendable("theta")};
}

Snapshots create_snapshots(Group group, const RunMetadata& meta, hsize_t dim) {
  Appendable snapshot = create_index(group, "snapshot", "snapshot of theta");
  Appendable point = create_column(group, "point", {Type::i64, 0, kChunkRows},
                                   "trajectory row of the snapshot (-1: theta(0) at t = 0)", "1", snapshot);
  // One row per chunk: a snapshot is written once and read alone. Uncompressed: θ's doubles are
  // nearly incompressible (shuffle + gzip 4 saves 28% of the demo's file and takes 1.3 s of its
  // 3.3 s run); `h5repack` compresses a finished file.
  Appendable theta = create_column(group, "theta", {Type::f64, dim, 1},
                                   "theta, layer after layer, each layer row-major", "1", snapshot);
  theta.write_attr("layer_names", meta.layer_names);
  theta.write_attr("layer_shapes", meta.layer_shapes, 2);  // layers × (rows, cols)
  theta.attach_scale(write_index(group, "param", dim, "index into theta"), 1);
  return {std::move(snapshot), std::move(point), std::move(theta)};
}

void write_root_attrs(Group& root, const RunMetadata& meta) {
  root.write_attr("format", kRunFormat);
  root.write_attr("format_version", kRunFormatVersion);
  root.write_attr("kktflow_version", meta.kktflow_version);
  root.write_attr("git_commit", meta.git_commit);
  root.write_attr("created", meta.created);
  root.write_attr("build", meta.build);
  root.write_attr("config", meta.config_text);
  root.write_attr("seed", meta.seed);
  root.write_attr("status", "running");
  root.write_attr("status_reason", "");
}

void write_data(Group group, const RunMetadata& meta) {
  for (const auto& [name, value] : meta.data_attrs) {
    group.write_attr(name, value);
  }
  h5::Dataset X = group.write_dataset("X", meta.X);
  h5::Dataset y = group.write_dataset("y", meta.y);
  describe(X, "inputs, one sample per row", "1");
  describe(y, "labels", "1");
  const h5::Dataset sample = write_index(group, "sample", static_cast<hsize_t>(meta.X.rows()), "sample");
  X.attach_scale(sample, 0);
  X.attach_scale(write_index(group, "feature", static_cast<hsize_t>(meta.X.cols()), "input feature"), 1);
  y.attach_scale(sample, 0);
}

void write_model(Group group, const RunMetadata& meta) {
  for (const auto& [name, value] : meta.model_attrs) {
    group.write_attr(name, value);
  }
  for (const auto& [name, value] : meta.model_numbers) {
    group.write_attr(name, value);
  }
  if (meta.a.size() > 0) {
    h5::Dataset a = group.write_dataset("a", meta.a);
    describe(a, "fixed outer-layer weights", "1");
    a.attach_scale(write_index(group, "unit", static_cast<hsize_t>(meta.a.size()), "neuron of the first layer"), 0);
  }
}

[[noreturn]] void invalid(const std::string& what) { throw std::invalid_argument("RunMetadata." + what); }

/// Checks the metadata before any file exists and returns dim θ = Σ rows·cols of the layers.
hsize_t checked_theta_dim(const RunMetadata& meta) {
  if (meta.k_top < 1) {
    invalid(fmt::format("k_top = {}: must be >= 1", meta.k_top));
  }
  if (meta.y.size() != meta.X.rows()) {
    invalid(fmt::format("y has {} labels but X has {} rows", meta.y.size(), meta.X.rows()));
  }
  if (meta.layer_names.empty() || meta.layer_shapes.size() != 2 * meta.layer_names.size()) {
    invalid(
        fmt::format("layer_shapes holds {} numbers: must be rows, cols for each of the {} layer_names "
                    "(at least one)",
                    meta.layer_shapes.size(), meta.layer_names.size()));
  }
  if (std::ranges::any_of(meta.layer_shapes, [](std::int64_t size) { return size < 1; })) {
    invalid("layer_shapes: every rows and cols must be >= 1");
  }
  for (const auto& [name, value] : meta.model_numbers) {
    if (meta.model_attrs.contains(name)) {
      invalid(fmt::format("model_numbers['{}']: also in model_attrs; an attribute has one value", name));
    }
  }
  hsize_t dim = 0;
  for (std::size_t i = 0; i < meta.layer_shapes.size(); i += 2) {
    dim += static_cast<hsize_t>(meta.layer_shapes[i] * meta.layer_shapes[i + 1]);
  }
  return dim;
}

/// Record.sigma padded with NaN to k_top values.
std::vector<double> sigma_row(const Eigen::VectorXd& sigma, hsize_t k_top) {
  const auto count = static_cast<hsize_t>(sigma.size());
  if (count > k_top) {
    throw std::length_error(fmt::format("Record.sigma holds {} values, more than k_top = {}", count, k_top));
  }
  std::vector<double> row(k_top, std::numeric_limits<double>::quiet_NaN());
  std::copy_n(sigma.data(), count, row.begin());
  return row;
}

void append_record(Trajectory& trajectory, const Record& row, hsize_t k_top) {
  trajectory.point.append(static_cast<std::int64_t>(trajectory.point.rows()));
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if (kColumns[i].f64 != nullptr) {
      trajectory.columns[i].append(row.*kColumns[i].f64);
    } else {
      trajectory.columns[i].append(row.*kColumns[i].i64);
    }
  }
  trajectory.sigma.append(std::span<const double>(sigma_row(row.sigma, k_top)));
}

void append_events(Events& events, std::span<const SwitchEvent> batch) {
  if (batch.empty()) return;
  const auto column = [&](auto field) {
    std::vector<std::int64_t> values;
    values.reserve(batch.size());
    for (const SwitchEvent& e : batch) values.push_back(field(e));
    return values;
  };
  std::vector<std::int64_t> index(batch.size());
  std::iota(index.begin(), index.end(), static_cast<std::int64_t>(events.event.rows()));
  std::vector<double> log_t;
  log_t.reserve(batch.size());
  for (const SwitchEvent& e : batch) log_t.push_back(e.log_t);
  events.event.append_rows(std::span<const std::int64_t>(index));
  events.point.append_rows(std::span<const std::int64_t>(column([](const SwitchEvent& e) { return e.point; })));
  events.log_t.append_rows(std::span<const double>(log_t));
  events.neuron.append_rows(std::span<const std::int64_t>(column([](const SwitchEvent& e) { return e.neuron; })));
  events.sample.append_rows(std::span<const std::int64_t>(column([](const SwitchEvent& e) { return e.sample; })));
  events.new_sign.append_rows(std::span<const std::int64_t>(column([](const SwitchEvent& e) { return e.new_sign; })));
}

[[noreturn]] void not_a_run(const std::string& path, const std::string& why) {
  throw h5::Error(fmt::format("HDF5 file '{}', object '/': not a kktflow run file: {}", path, why));
}

/// The root group of a kktflow run file this code can read.
Group open_run(const h5::File& file) {
  Group root = file.root();
  if (!root.has_attr("format")) {
    not_a_run(file.path(), "it has no 'format' attribute");
  }
  const std::string format = root.read_attr_text("format");
  if (format != kRunFormat) {
    not_a_run(file.path(), fmt::format("its format is '{}', expected '{}'", format, kRunFormat));
  }
  const auto version = root.read_attr<std::int64_t>("format_version");
  if (version > kRunFormatVersion) {
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/': format_version {} is newer than this kktflow reads ({}); "
                    "upgrade kktflow",
                    file.path(), version, kRunFormatVersion));
  }
  if (version < 1) {
    not_a_run(file.path(), fmt::format("format_version {} is not a valid version", version));
  }
  return root;
}

[[noreturn]] void malformed(const h5::Object& object, const std::string& what) {
  throw h5::Error(fmt::format("HDF5 file '{}', object '{}': {}", object.file_path(), object.path(), what));
}

/// Length of the first axis of a dataset that should have rows.
hsize_t leading_dim(const h5::Dataset& dataset) {
  const std::vector<hsize_t> shape = dataset.shape();
  if (shape.empty()) {
    malformed(dataset, "is a scalar, expected rows");
  }
  return shape[0];
}

/// Sigma without the NaN padding that sigma_row added.
Eigen::VectorXd unpadded(const double* values, hsize_t k_top) {
  auto count = static_cast<Eigen::Index>(k_top);
  while (count > 0 && std::isnan(values[count - 1])) {
    --count;
  }
  return Eigen::Map<const Eigen::VectorXd>(values, count);
}

std::vector<Record> read_records(const Group& trajectory, hsize_t first, hsize_t count) {
  std::vector<Record> records(count);
  for (const Column& c : kColumns) {
    const h5::Dataset column = trajectory.open_dataset(c.name);
    if (c.f64 != nullptr) {
      const std::vector<double> values = column.read_rows<double>(first, count);
      for (hsize_t i = 0; i < count; ++i) {
        records[i].*c.f64 = values[i];
      }
    } else {
      const std::vector<std::int64_t> values = column.read_rows<std::int64_t>(first, count);
      for (hsize_t i = 0; i < count; ++i) {
        records[i].*c.i64 = values[i];
      }
    }
  }
  const h5::Dataset sigma = trajectory.open_dataset("sigma");
  const std::vector<hsize_t> shape = sigma.shape();
  if (shape.size() != 2) {
    malformed(sigma, fmt::format("has rank {}, expected 2", shape.size()));
  }
  const std::vector<double> values = sigma.read_rows<double>(first, count);
  for (hsize_t i = 0; i < count; ++i) {
    records[i].sigma = unpadded(values.data() + i * shape[1], shape[1]);
  }
  return records;
}

/// Refuses root strings no run writes: a damaged global heap (HDF5 does not checksum it, and
/// keeps the variable-length strings there) reads back as empty or shifted text without an error.
void check_root_strings(const Group& root, const RunSummary& summary) {
  static const std::set<std::string> statuses = [] {
    std::set<std::string> out{"running"};
    for (Status s : {Status::converged, Status::log_t_max, Status::wall_budget, Status::step_budget, Status::non_finite,
                     Status::no_progress, Status::interrupted, Status::stationary, Status::not_separated})
      out.insert(to_string(s));
    return out;
  }();
  const auto refuse = [&](const std::string& what) {
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/': {}: the file is damaged (HDF5 does not checksum the "
                    "global heap where its strings live)",
                    root.file_path(), what));
  };
  if (!statuses.contains(summary.status))
    refuse(fmt::format("attribute status = \"{}\" is no run status", summary.status));
  if (summary.created.empty()) refuse("attribute created is empty");
  if (summary.config.empty()) refuse("attribute config is empty");
}

void read_root(const Group& root, RunSummary& summary) {
  summary.format = root.read_attr<std::string>("format");
  summary.format_version = root.read_attr<std::int64_t>("format_version");
  summary.kktflow_version = root.read_attr<std::string>("kktflow_version");
  summary.git_commit = root.read_attr<std::string>("git_commit");
  summary.created = root.read_attr<std::string>("created");
  if (root.has_attr("build")) summary.build = root.read_attr<std::string>("build");
  if (root.has_attr("resumed_builds"))
    summary.resumed_builds = root.read_attr<std::vector<std::string>>("resumed_builds");
  summary.config = root.read_attr<std::string>("config");
  summary.seed = root.read_attr<std::uint64_t>("seed");
  summary.status = root.read_attr<std::string>("status");
  summary.status_reason = root.read_attr<std::string>("status_reason");
  check_root_strings(root, summary);
}

/// Storage of the row datasets `names` of `group`, and the bytes one row of them holds.
template <class Names>
StorageSize storage_size(const Group& group, const Names& names) {
  StorageSize size;
  for (const auto& name : names) {
    const h5::Dataset dataset = group.open_dataset(name);
    const std::vector<hsize_t> shape = dataset.shape();
    const hsize_t width = shape.size() == 2 ? shape[1] : 1;
    size.bytes += dataset.storage_bytes();
    size.row_bytes += width * dataset.element_bytes();
  }
  return size;
}

void read_sizes(const Group& root, RunSummary& summary) {
  const h5::Dataset X = root.open_dataset("data/X");
  const std::vector<hsize_t> shape = X.shape();
  if (shape.size() != 2) {
    malformed(X, fmt::format("has rank {}, expected n × d", shape.size()));
  }
  summary.n = static_cast<std::int64_t>(shape[0]);
  summary.d = static_cast<std::int64_t>(shape[1]);

  const Group trajectory = root.open_group("trajectory");
  const hsize_t rows = complete_rows(trajectory, trajectory_names());
  summary.trajectory_rows = static_cast<std::int64_t>(rows);
  if (rows > 0) {
    summary.last = read_records(trajectory, rows - 1, 1).front();
  }

  const Group events = root.open_group("events");
  const hsize_t event_rows = complete_rows(events, kEventNames);
  const std::vector<std::int64_t> signs = events.open_dataset("new_sign").read_rows<std::int64_t>(0, event_rows);
  summary.events = static_cast<std::int64_t>(event_rows);
  summary.sliding_entries = std::ranges::count(signs, std::int64_t{0});

  const Group snapshots = root.open_group("snapshots");
  summary.snapshots = static_cast<std::int64_t>(complete_rows(snapshots, kSnapshotNames));

  summary.trajectory_size = storage_size(trajectory, trajectory_names());
  summary.event_size = storage_size(events, kEventNames);
  summary.snapshot_size = storage_size(snapshots, kSnapshotNames);
}

void write_final_vector(Group& final_group, const std::string& name, const Eigen::VectorXd& value) {
  if (final_group.contains(name)) final_group.remove(name);
  h5::Dataset dataset = final_group.write_dataset(name, value);
  // θ and the polished θ run along θ's parameters, the multipliers along the samples.
  const bool per_sample = name == "lambda";
  const std::string dimension = per_sample ? "sample" : "param";
  const h5::Dataset scale = final_group.contains(dimension)
                                ? final_group.open_dataset(dimension)
                                : write_index(final_group, dimension, static_cast<hsize_t>(value.size()),
                                              per_sample ? "sample" : "index into theta");
  if (scale.shape().at(0) != static_cast<hsize_t>(value.size()))
    malformed(dataset,
              fmt::format("holds {} values, its dimension '{}' {}", value.size(), dimension, scale.shape().at(0)));
  dataset.attach_scale(scale, 0);
}

}  // namespace kktflow::run_file
