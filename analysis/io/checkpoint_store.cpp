#include "analysis/io/checkpoint_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kktflow {
namespace {

struct ScalarField {
  const char* name;
  double RunState::*member;
};
struct CounterField {
  const char* name;
  std::int64_t RunState::*member;
};
struct RealVectorField {
  const char* name;
  Eigen::VectorXd RunState::*member;
};
struct IntVectorField {
  const char* name;
  std::vector<std::int64_t> RunState::*member;
};

// The fields of a RunState as the slots store them, by name (packed: they are tables).
// clang-format off
constexpr std::array<ScalarField, 12> kScalars{{
    {"log_t", &RunState::log_t}, {"tau", &RunState::tau}, {"dt", &RunState::dt},
    {"last_error", &RunState::last_error}, {"log_loss", &RunState::log_loss},
    {"prev_record_log_t", &RunState::prev_record_log_t}, {"last_event_log_t", &RunState::last_event_log_t},
    {"record_dt_cap", &RunState::record_dt_cap}, {"next_record_log_t", &RunState::next_record_log_t},
    {"next_snapshot_log_t", &RunState::next_snapshot_log_t}, {"late_phase_log_t", &RunState::late_phase_log_t},
    {"wall_s", &RunState::wall_s}}};

constexpr std::array<CounterField, 14> kCounters{{
    {"step", &RunState::step}, {"points", &RunState::points}, {"switches", &RunState::switch_count},
    {"rejected", &RunState::rejected}, {"event_restarts", &RunState::event_restarts},
    {"captures", &RunState::captures}, {"releases", &RunState::releases}, {"rhs_evals", &RunState::rhs_evals},
    {"event_target", &RunState::event_target}, {"short_of", &RunState::short_of},
    {"switch_velocity_stale", &RunState::switch_velocity_stale}, {"recorded_now", &RunState::recorded_now},
    {"late_stepper_active", &RunState::late_stepper_active}, {"stopped_status", &RunState::stopped_status}}};

constexpr std::array<RealVectorField, 6> kRealVectors{{
    {"state", &RunState::state}, {"dxdt", &RunState::dxdt}, {"switch_functions", &RunState::switches},
    {"switch_velocity", &RunState::switch_velocity}, {"prev_direction", &RunState::prev_direction},
    {"stepper_memory", &RunState::stepper_memory}}};

constexpr std::array<IntVectorField, 4> kIntVectors{{
    {"side", &RunState::side}, {"sliding", &RunState::sliding}, {"unlocated_until", &RunState::unlocated_until},
    {"flip_history", &RunState::flip_history}}};
// clang-format on

// read_checkpoint_position reads these first entries.
static_assert(std::string_view(kScalars[0].name) == "log_t" && std::string_view(kCounters[0].name) == "step");

constexpr std::array<const char*, 3> kRowNames{"trajectory", "events", "snapshots"};
constexpr hsize_t kVectorChunk = 4096;

template <class Fields>
std::vector<std::string> names_of(const Fields& fields) {
  std::vector<std::string> names;
  for (const auto& field : fields) names.emplace_back(field.name);
  return names;
}

std::vector<std::string> vector_names() {
  std::vector<std::string> names = names_of(kRealVectors);
  const std::vector<std::string> ints = names_of(kIntVectors);
  names.insert(names.end(), ints.begin(), ints.end());
  return names;
}

/// A fixed 1-D dataset of `count` values whose `names` attribute names each entry.
template <class T>
void create_named(h5::Group& slot, const std::string& name, const std::vector<std::string>& names) {
  h5::Dataset dataset = [&] {
    if constexpr (std::is_same_v<T, double>) {
      return slot.write_dataset(name, Eigen::VectorXd::Zero(static_cast<Eigen::Index>(names.size())));
    } else {
      return slot.write_dataset(name, std::vector<std::int64_t>(names.size(), 0));
    }
  }();
  dataset.write_attr("names", names);
  dataset.make_scale(name);
}

void create_slot(h5::Group slot) {
  create_named<double>(slot, "scalars", names_of(kScalars));
  create_named<std::int64_t>(slot, "counters", names_of(kCounters));
  create_named<std::int64_t>(slot, "lengths", vector_names());
  create_named<std::int64_t>(slot, "rows", {kRowNames.begin(), kRowNames.end()});
  // Each vector is the coordinate of its own dimension, so netCDF tools read the slot as it is.
  for (const auto& field : kRealVectors)
    slot.create_appendable(field.name, {h5::Type::f64, 0, kVectorChunk}).make_scale(field.name);
  for (const auto& field : kIntVectors)
    slot.create_appendable(field.name, {h5::Type::i64, 0, kVectorChunk}).make_scale(field.name);
}

void write_slot(const h5::Group& slot, const RunState& c, const RowCounts& rows) {
  std::vector<double> scalars;
  for (const auto& field : kScalars) scalars.push_back(c.*field.member);
  std::vector<std::int64_t> counters;
  for (const auto& field : kCounters) counters.push_back(c.*field.member);
  std::vector<std::int64_t> lengths;
  for (const auto& field : kRealVectors) {
    const Eigen::VectorXd& v = c.*field.member;
    slot.open_dataset(field.name)
        .write_rows<double>(0, std::span<const double>(v.data(), static_cast<std::size_t>(v.size())));
    lengths.push_back(v.size());
  }
  for (const auto& field : kIntVectors) {
    const std::vector<std::int64_t>& v = c.*field.member;
    slot.open_dataset(field.name).write_rows<std::int64_t>(0, v);
    lengths.push_back(static_cast<std::int64_t>(v.size()));
  }
  const std::array<std::int64_t, 3> row_counts{rows.trajectory, rows.events, rows.snapshots};
  slot.open_dataset("scalars").write_rows<double>(0, scalars);
  slot.open_dataset("counters").write_rows<std::int64_t>(0, counters);
  slot.open_dataset("lengths").write_rows<std::int64_t>(0, lengths);
  slot.open_dataset("rows").write_rows<std::int64_t>(0, row_counts);
}

/// Reads a fixed named dataset, checking that its entries are the ones this code knows.
template <class T>
std::vector<T> read_named(const h5::Group& slot, const std::string& name, const std::vector<std::string>& names) {
  const h5::Dataset dataset = slot.open_dataset(name);
  if (dataset.read_attr<std::vector<std::string>>("names") != names)
    throw h5::Error(fmt::format("HDF5 file '{}', object '{}': its entries are not the {} this kktflow knows",
                                dataset.file_path(), dataset.path(), fmt::join(names, ", ")));
  return dataset.read_rows<T>(0, names.size());
}

[[noreturn]] void damaged(const h5::Group& slot, const std::string& object, const std::string& what) {
  throw h5::Error(
      fmt::format("HDF5 file '{}', object '{}/{}': {}; the file is damaged: start the run again with --force",
                  slot.file_path(), slot.path(), object, what));
}

/// Which non-finite values a scalar may legitimately hold: log t is −∞ before the first step,
/// the last event's log t −∞ before the first event, the step cap +∞ while uncapped, and the
/// hand-off's log t NaN before it; every other scalar is finite.
bool scalar_allowed(std::string_view name, double value) {
  if (std::isfinite(value)) return true;
  if (name == "late_phase_log_t") return true;
  if (std::isnan(value)) return false;
  if (name == "log_t" || name == "last_event_log_t" || name == "prev_record_log_t") return value < 0;
  if (name == "record_dt_cap" || name == "next_record_log_t" || name == "next_snapshot_log_t") return true;
  return false;
}

/// Refuses a slot whose numbers a run could not have written: a NaN state or step size would
/// make the resumed run spin on rejected steps until its wall budget.
void check_finite(const h5::Group& slot, const RunState& c) {
  for (const auto& field : kScalars) {
    if (!scalar_allowed(field.name, c.*field.member))
      damaged(slot, "scalars", fmt::format("{} = {}", field.name, c.*field.member));
  }
  if (!(c.dt > 0)) damaged(slot, "scalars", fmt::format("dt = {}: the step must be > 0", c.dt));
  for (const auto& field : kRealVectors) {
    const Eigen::VectorXd& v = c.*field.member;
    for (Eigen::Index k = 0; k < v.size(); ++k) {
      if (!std::isfinite(v[k])) damaged(slot, field.name, fmt::format("entry {} is {}", k, v[k]));
    }
  }
}

/// Refuses a negative length or row count, which no run writes.
void require_counts(const h5::Group& slot, const std::string& object, const std::vector<std::string>& names,
                    const std::vector<std::int64_t>& counts) {
  for (std::size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] < 0) damaged(slot, object, fmt::format("{} = {} is negative", names[k], counts[k]));
  }
}

StoredCheckpoint read_slot(const h5::Group& slot) {
  StoredCheckpoint stored;
  RunState& c = stored.driver;
  const auto scalars = read_named<double>(slot, "scalars", names_of(kScalars));
  for (std::size_t i = 0; i < kScalars.size(); ++i) c.*kScalars[i].member = scalars[i];
  const auto counters = read_named<std::int64_t>(slot, "counters", names_of(kCounters));
  for (std::size_t i = 0; i < kCounters.size(); ++i) c.*kCounters[i].member = counters[i];
  const auto lengths = read_named<std::int64_t>(slot, "lengths", vector_names());
  require_counts(slot, "lengths", vector_names(), lengths);
  for (std::size_t i = 0; i < kRealVectors.size(); ++i) {
    const auto values = slot.open_dataset(kRealVectors[i].name).read_rows<double>(0, static_cast<hsize_t>(lengths[i]));
    c.*kRealVectors[i].member =
        Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()));
  }
  for (std::size_t i = 0; i < kIntVectors.size(); ++i)
    c.*kIntVectors[i].member = slot.open_dataset(kIntVectors[i].name)
                                   .read_rows<std::int64_t>(0, static_cast<hsize_t>(lengths[kRealVectors.size() + i]));
  const auto rows = read_named<std::int64_t>(slot, "rows", {kRowNames.begin(), kRowNames.end()});
  require_counts(slot, "rows", {kRowNames.begin(), kRowNames.end()}, rows);
  stored.rows = {rows[0], rows[1], rows[2]};
  check_finite(slot, c);
  return stored;
}

const char* slot_name(std::size_t slot) { return slot == 0 ? "slot0" : "slot1"; }

}  // namespace

CheckpointSlots::CheckpointSlots(h5::Dataset sequence, std::array<h5::Group, 2> slots)
    : m_sequence(std::move(sequence)), m_slots(std::move(slots)) {
  const std::vector<std::int64_t> values = m_sequence.read_rows<std::int64_t>(0, 2);
  m_sequences = {values[0], values[1]};
}

CheckpointSlots CheckpointSlots::create(h5::Group& root) {
  h5::Group group = root.create_group("checkpoint");
  group.write_attr("long_name", "state to resume the run from, bit for bit (kktflow run --resume)");
  h5::Dataset sequence = group.write_dataset("sequence", std::vector<std::int64_t>{0, 0});
  sequence.write_attr("long_name", "per slot: the checkpoint's number, 0 if never written; the larger is current");
  sequence.make_scale("sequence");
  for (std::size_t k = 0; k < 2; ++k) create_slot(group.create_group(slot_name(k)));
  return CheckpointSlots(std::move(sequence), {group.open_group(slot_name(0)), group.open_group(slot_name(1))});
}

CheckpointSlots CheckpointSlots::open(const h5::Group& root) {
  const h5::Group group = root.open_group("checkpoint");
  return CheckpointSlots(group.open_dataset("sequence"),
                         {group.open_group(slot_name(0)), group.open_group(slot_name(1))});
}

void CheckpointSlots::write(h5::File& file, const RunState& checkpoint, const RowCounts& rows) {
  const std::size_t target = m_sequences[0] <= m_sequences[1] ? 0 : 1;
  write_slot(m_slots[target], checkpoint, rows);
  file.flush();  // the new slot is complete on disk before it counts
  const std::int64_t sequence = std::max(m_sequences[0], m_sequences[1]) + 1;
  m_sequence.write_rows<std::int64_t>(target, std::span<const std::int64_t>(&sequence, 1));
  file.flush();
  m_sequences[target] = sequence;
}

namespace {

/// The current slot of /checkpoint and its sequence; nothing when no slot has been written.
std::optional<std::pair<std::size_t, std::int64_t>> current_slot(const h5::Group& checkpoint) {
  const std::vector<std::int64_t> sequences = checkpoint.open_dataset("sequence").read_rows<std::int64_t>(0, 2);
  const std::size_t current = sequences[0] >= sequences[1] ? 0 : 1;
  if (sequences[current] <= 0) return std::nullopt;
  return std::pair{current, sequences[current]};
}

}  // namespace

std::optional<CheckpointPosition> read_checkpoint_position(const h5::Group& root) {
  if (!root.contains("checkpoint/sequence")) return std::nullopt;
  const h5::Group group = root.open_group("checkpoint");
  const auto current = current_slot(group);
  if (!current) return std::nullopt;
  // The whole slot is read, so that a damaged checkpoint is reported where it is advertised.
  const StoredCheckpoint stored = read_slot(group.open_group(slot_name(current->first)));
  return CheckpointPosition{stored.driver.step, stored.driver.log_t, current->second};
}

StoredCheckpoint read_checkpoint(const h5::Group& root) {
  if (!root.contains("checkpoint/sequence"))
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/checkpoint': absent; the file was written by a kktflow "
                    "without checkpoints and cannot be resumed",
                    root.file_path()));
  const h5::Group group = root.open_group("checkpoint");
  const auto current = current_slot(group);
  if (!current)
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/checkpoint': no checkpoint was written before the run "
                    "stopped; start it again with --force",
                    root.file_path()));
  StoredCheckpoint stored = read_slot(group.open_group(slot_name(current->first)));
  stored.sequence = current->second;
  return stored;
}

}  // namespace kktflow
