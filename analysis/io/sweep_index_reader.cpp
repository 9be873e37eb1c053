/// \file sweep_index_reader.cpp
/// Reading a sweep index back (sweep_index.hpp): for `kktflow info` and the sweep's summary.
#include "analysis/io/h5.hpp"
#include "analysis/io/read_probe.hpp"
#include "analysis/io/sweep_index.hpp"

#include <fmt/format.h>

#include <set>

namespace kktflow {

namespace {

/// Format version 1 kept the case numbers in /cases/case.
std::string case_scale(const h5::Group& root) { return root.contains("case") ? "case" : "cases/case"; }

void read_case_columns(const h5::Group& root, std::vector<IndexedCase>& cases) {
  const h5::Group group = root.open_group("cases");
  const auto text = [&](const char* name) { return group.open_dataset(name).read_strings(); };
  const auto labels = text("label"), files = text("file"), states = text("state"), messages = text("message"),
             statuses = text("status"), reasons = text("status_reason");
  const auto attempts = group.open_dataset("attempts").read_int64s();
  for (std::size_t k = 0; k < cases.size(); ++k) {
    IndexedCase& c = cases[k];
    c.label = labels.at(k), c.file = files.at(k), c.state = states.at(k), c.message = messages.at(k);
    c.status = statuses.at(k), c.status_reason = reasons.at(k), c.attempts = static_cast<int>(attempts.at(k));
  }
}

void read_final_figures(const h5::Group& root, std::vector<IndexedCase>& cases) {
  const h5::Group group = root.open_group("final");
  for (const std::string& name : group.member_names()) {
    const Eigen::VectorXd values = group.open_dataset(name).read_vector();
    for (std::size_t k = 0; k < cases.size(); ++k) cases[k].final[name] = values(static_cast<Eigen::Index>(k));
  }
}

void read_verdicts(const h5::Group& root, std::vector<IndexedCase>& cases) {
  if (!root.contains("verify")) return;
  const h5::Group verify = root.open_group("verify");
  for (const std::string& name : verify.member_names()) {
    const h5::Group claim = verify.open_group(name);
    const auto passed = claim.open_dataset("passed").read_int64s();
    const Eigen::VectorXd value = claim.open_dataset("value").read_vector(),
                          tolerance = claim.open_dataset("tolerance").read_vector();
    for (std::size_t k = 0; k < cases.size(); ++k) {
      if (passed.at(k) < 0) continue;  // not evaluated for this case
      const auto i = static_cast<Eigen::Index>(k);
      cases[k].claims.push_back({name, passed[k] == 1, value(i), tolerance(i), false, ""});
    }
  }
}

[[noreturn]] void damaged(const std::string& path, const std::string& object, const std::string& what) {
  throw h5::Error(
      fmt::format("HDF5 file '{}', object '{}': {}: the file is damaged (HDF5 does not checksum the "
                  "global heap where its strings live); `kktflow sweep` run again rebuilds the index "
                  "from the case files",
                  path, object, what));
}

/// Refuses strings no sweep writes: a damaged global heap reads back as empty or shifted text
/// without any error from HDF5.
void check_strings(const std::string& path, const SweepIndexContents& c) {
  const std::set<std::string> modes{"grid", "list", "continuation"};
  if (!modes.contains(c.sweep.mode))
    damaged(path, "/", fmt::format("attribute mode = \"{}\" is no sweep mode", c.sweep.mode));
  if (c.created.empty()) damaged(path, "/", "attribute created is empty");
  const std::set<std::string> states{"done", "failed", "pending"};
  for (std::size_t k = 0; k < c.cases.size(); ++k) {
    if (!states.contains(c.cases[k].state))
      damaged(path, "/cases/state", fmt::format("entry {} = \"{}\" is no case state", k, c.cases[k].state));
    if (c.cases[k].file.empty()) damaged(path, "/cases/file", fmt::format("entry {} is empty", k));
  }
}

}  // namespace

bool is_sweep_index(const std::string& path) {
  try {
    probe_file(path);  // a damaged file is reported by the reader that follows, from the probe's result
    const h5::File file = h5::File::open_read_only(path);
    const h5::Group root = file.root();
    return root.has_attr("format") && root.read_attr_text("format") == kSweepFormat;
  } catch (const h5::Error&) {
    return false;
  }
}

SweepIndexContents read_sweep_index(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  if (!root.has_attr("format") || root.read_attr_text("format") != kSweepFormat)
    throw h5::Error(fmt::format("HDF5 file '{}', object '/': not a kktflow sweep index", path));
  const auto version = root.read_attr<std::int64_t>("format_version");
  if (version > kSweepFormatVersion)
    throw h5::Error(fmt::format("HDF5 file '{}', object '/': format_version {} is newer than this kktflow reads ({})",
                                path, version, kSweepFormatVersion));
  SweepIndexContents out;
  out.sweep = {root.read_attr<std::string>("sweep_file"),        root.read_attr<std::string>("sweep"),
               root.read_attr<std::string>("base_config"),       root.read_attr<std::string>("mode"),
               root.read_attr<std::vector<std::string>>("keys"), root.read_attr<double>("budget_s")};
  out.totals = {root.read_attr<double>("wall_s"), static_cast<int>(root.read_attr<std::int64_t>("workers")),
                static_cast<int>(root.read_attr<std::int64_t>("ranks"))};
  out.created = root.read_attr<std::string>("created");
  const auto index = root.open_dataset(case_scale(root)).read_int64s();
  out.cases.resize(index.size());
  for (std::size_t k = 0; k < index.size(); ++k) out.cases[k].index = static_cast<int>(index[k]);
  read_case_columns(root, out.cases);
  read_final_figures(root, out.cases);
  read_verdicts(root, out.cases);
  check_strings(path, out);
  return out;
}

}  // namespace kktflow
