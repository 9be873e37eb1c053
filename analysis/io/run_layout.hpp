#pragma once
/// \file run_layout.hpp
/// The layout of a run file, shared by its writer (run_writer.cpp) and its readers
/// (run_store.cpp): the trajectory columns, the event and snapshot groups, and the checks a file
/// must pass to be read. Internal to analysis/io.
#include "analysis/io/h5.hpp"
#include "analysis/io/run_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace kktflow::run_file {

using h5::Appendable;
using h5::AppendableSpec;
using h5::Group;
using h5::Type;

inline constexpr hsize_t kChunkRows = 1024;
/// Events come in bursts (hundreds of pairs may start sliding within one step, a thousand
/// switches in one early step at n = 1000); a write and a flush per event would cost more than
/// the integration, so they are written and flushed this many at a time.
inline constexpr int kEventFlushInterval = 64;

/// One scalar column of /trajectory: the Record field it stores and its description.
struct Column {
  const char* name;
  const char* long_name;
  const char* units;
  double Record::*f64;
  std::int64_t Record::*i64;
};

inline constexpr std::array<Column, 18> kColumns{{
    {"step", "accepted integration steps so far", "1", nullptr, &Record::step},
    {"tau", "integration variable (t, or loss time tau)", "1", &Record::tau, nullptr},
    {"log_t", "log of gradient-flow time t", "1", &Record::log_t, nullptr},
    {"log_loss", "log of the training loss L", "1", &Record::log_loss, nullptr},
    {"norm", "Euclidean norm of theta", "1", &Record::norm, nullptr},
    {"normalized_margin", "normalized margin min_i q_i / |theta|^L", "1", &Record::normalized_margin, nullptr},
    {"smoothed_margin", "smoothed margin l^-1(nL) / |theta|^L (Lyu & Li 2020)", "1", &Record::smoothed_margin, nullptr},
    {"stable_rank", "stable rank |W|_F^2 / |W|_2^2 of the first layer", "1", &Record::stable_rank, nullptr},
    {"kkt_eps", "epsilon of the (epsilon, delta)-KKT conditions at theta / q_min^(1/L)", "1", &Record::kkt_eps,
     nullptr},
    {"kkt_delta", "delta of the (epsilon, delta)-KKT conditions at theta / q_min^(1/L)", "1", &Record::kkt_delta,
     nullptr},
    {"alignment_beta", "cosine of the angle between theta and -grad L", "1", &Record::alignment_beta, nullptr},
    {"direction_change", "change of theta/|theta| per unit log t", "1", &Record::direction_change, nullptr},
    {"switches", "activation switches so far", "1", nullptr, &Record::switches},
    {"sliding", "(neuron, sample) pairs sliding on a kink", "1", nullptr, &Record::sliding},
    {"rhs_evals", "right-hand-side evaluations so far", "1", nullptr, &Record::rhs_evals},
    {"dt", "the step-size control's next step in the integration variable", "1", &Record::dt, nullptr},
    {"err_estimate", "normalized local error estimate of the last step (-1: none)", "1", &Record::err_estimate,
     nullptr},
    // "s", not "seconds": xarray decodes variables whose units are "seconds" into timedeltas.
    {"wall_s", "wall-clock time since the run started", "s", &Record::wall_s, nullptr},
}};

inline constexpr std::array<const char*, 6> kEventNames{"event", "point", "log_t", "neuron", "sample", "new_sign"};
inline constexpr std::array<const char*, 3> kSnapshotNames{"snapshot", "point", "theta"};

struct Trajectory {
  Appendable point;
  std::vector<Appendable> columns;  ///< in kColumns order
  Appendable sigma;
};

struct Events {
  Appendable event, point, log_t, neuron, sample, new_sign;
};

struct Snapshots {
  Appendable snapshot, point, theta;
};

/// Length of the first axis of a dataset that should have rows.
hsize_t leading_dim(const h5::Dataset& dataset);

/// Rows held by every one of `names` in `group`: a row the writer did not finish is not a row.
template <class Names>
hsize_t complete_rows(const Group& group, const Names& names) {
  hsize_t rows = std::numeric_limits<hsize_t>::max();
  for (const auto& name : names) {
    rows = std::min(rows, leading_dim(group.open_dataset(name)));
  }
  return rows;
}

std::vector<std::string> trajectory_names();
/// Writes /final/<name> (replacing it) along its dimension, the scale "param" (θ, polished θ) or
/// "sample" (the multipliers λ) of /final, made on first use.
void write_final_vector(Group& final_group, const std::string& name, const Eigen::VectorXd& value);
void describe(h5::Object& object, const std::string& long_name, const std::string& units);
Appendable create_index(Group& group, const std::string& name, const std::string& long_name);
h5::Dataset write_index(Group& group, const std::string& name, hsize_t count, const std::string& long_name);
Appendable create_column(Group& group, const std::string& name, const AppendableSpec& spec,
                         const std::string& long_name, const std::string& units, const h5::Dataset& rows);
Trajectory create_trajectory(Group group, hsize_t k_top);
Trajectory open_trajectory(const Group& group);
Events open_events(const Group& group);
Events create_events(Group group);
Snapshots open_snapshots(const Group& group);
Snapshots create_snapshots(Group group, const RunMetadata& meta, hsize_t dim);
void write_root_attrs(Group& root, const RunMetadata& meta);
void write_data(Group group, const RunMetadata& meta);
void write_model(Group group, const RunMetadata& meta);
[[noreturn]] void invalid(const std::string& what);
hsize_t checked_theta_dim(const RunMetadata& meta);
std::vector<double> sigma_row(const Eigen::VectorXd& sigma, hsize_t k_top);
void append_record(Trajectory& trajectory, const Record& row, hsize_t k_top);
/// Appends `events` in one write per column.
void append_events(Events& events, std::span<const SwitchEvent> batch);
[[noreturn]] void not_a_run(const std::string& path, const std::string& why);
Group open_run(const h5::File& file);
[[noreturn]] void malformed(const h5::Object& object, const std::string& what);
Eigen::VectorXd unpadded(const double* values, hsize_t k_top);
std::vector<Record> read_records(const Group& trajectory, hsize_t first, hsize_t count);
void read_root(const Group& root, RunSummary& summary);
void read_sizes(const Group& root, RunSummary& summary);

}  // namespace kktflow::run_file
