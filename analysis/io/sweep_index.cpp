/// \file sweep_index.cpp
/// Reading a case's run file and writing DIR/index.h5 (sweep_index.hpp).
#include "analysis/io/sweep_index.hpp"

#include "analysis/io/h5.hpp"
#include "analysis/io/run_store.hpp"
#include "analysis/io/verify_store.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

namespace kktflow {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool has_ended(const std::string& status) { return status != "running" && status != to_string(Status::interrupted); }

/// A run that failed numerically has no limit for verify to check.
bool failed_numerically(const std::string& status) {
  return status == to_string(Status::non_finite) || status == to_string(Status::no_progress);
}

std::string iso_now() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

/// Writes 1-D columns of one group along the dimension of `scale` ("case", "change"), each attached to it.
class CaseColumns {
 public:
  CaseColumns(h5::Group group, const h5::Dataset& scale) : m_group(std::move(group)), m_scale(scale) {}

  void add(const std::string& name, const std::vector<std::string>& values) {
    attach(m_group.write_dataset(name, values));
  }
  void add(const std::string& name, const std::vector<std::int64_t>& values) {
    attach(m_group.write_dataset(name, values));
  }
  void add(const std::string& name, const std::vector<double>& values) {
    attach(m_group.write_dataset(
        name, Eigen::Map<const Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(values.size()))));
  }
  /// The column field(r) over `rows`.
  template <class Row, class Field>
  void add_field(const std::string& name, const std::vector<Row>& rows, Field field) {
    std::vector<std::decay_t<decltype(field(rows.front()))>> values;
    for (const Row& r : rows) values.push_back(field(r));
    add(name, values);
  }

 private:
  void attach(h5::Dataset dataset) { dataset.attach_scale(m_scale, 0); }

  h5::Group m_group;
  const h5::Dataset& m_scale;
};

/// The number a TOML value text stands for, if it is a number.
std::optional<double> as_number(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

/// /params/<key>: f64 when every case's value is a number, the TOML text otherwise.
void write_params(h5::Group& root, const h5::Dataset& scale, const SweepDescription& spec,
                  const std::vector<CaseRow>& rows) {
  CaseColumns params(root.create_group("params"), scale);
  for (std::size_t k = 0; k < spec.keys.size(); ++k) {
    std::vector<std::string> texts;
    std::vector<double> numbers;
    for (const CaseRow& row : rows) {
      texts.push_back(row.params.at(k).second);
      numbers.push_back(as_number(texts.back()).value_or(kNaN));
    }
    const bool numeric = std::ranges::none_of(texts, [](const std::string& t) { return !as_number(t); });
    if (numeric) {
      params.add(spec.keys[k], numbers);
    } else {
      params.add(spec.keys[k], texts);
    }
  }
}

/// /final/<figure>: the last trajectory row of each case, NaN where a case has none.
void write_final(h5::Group& root, const h5::Dataset& scale, const std::vector<CaseRow>& rows) {
  using Figure = std::function<double(const Record&)>;
  const std::vector<std::pair<std::string, Figure>> figures{
      {"log_t", [](const Record& r) { return r.log_t; }},
      {"log_loss", [](const Record& r) { return r.log_loss; }},
      {"norm", [](const Record& r) { return r.norm; }},
      {"normalized_margin", [](const Record& r) { return r.normalized_margin; }},
      {"kkt_eps", [](const Record& r) { return r.kkt_eps; }},
      {"one_minus_beta", [](const Record& r) { return 1.0 - r.alignment_beta; }},
      {"stable_rank", [](const Record& r) { return r.stable_rank; }},
      {"sigma3_over_sigma1",
       [](const Record& r) { return r.sigma.size() >= 3 && r.sigma[0] > 0 ? r.sigma[2] / r.sigma[0] : kNaN; }},
      {"switches", [](const Record& r) { return static_cast<double>(r.switches); }},
      {"steps", [](const Record& r) { return static_cast<double>(r.step); }},
      {"wall_s", [](const Record& r) { return r.wall_s; }},
  };
  CaseColumns final_figures(root.create_group("final"), scale);
  for (const auto& [name, figure] : figures) {
    std::vector<double> values;
    for (const CaseRow& row : rows) values.push_back(row.contents.last ? figure(*row.contents.last) : kNaN);
    final_figures.add(name, values);
  }
}

/// /verify/<claim>/passed (1 passed, 0 failed, −1 not evaluated), value and tolerance (NaN when not evaluated),
/// for every claim any case reports, in the order they first appear.
void write_verdicts(h5::Group& root, const h5::Dataset& scale, const std::vector<CaseRow>& rows) {
  std::vector<std::string> names;
  for (const CaseRow& row : rows) {
    for (const ClaimResult& claim : row.contents.claims)
      if (std::ranges::find(names, claim.name) == names.end()) names.push_back(claim.name);
  }
  h5::Group verify = root.create_group("verify");
  for (const std::string& name : names) {
    std::vector<std::int64_t> passed;
    std::vector<double> value, tolerance;
    for (const CaseRow& row : rows) {
      const auto it = std::ranges::find(row.contents.claims, name, &ClaimResult::name);
      const bool evaluated = it != row.contents.claims.end();
      passed.push_back(!evaluated ? -1 : it->passed ? 1 : 0);
      value.push_back(evaluated ? it->value : kNaN);
      tolerance.push_back(evaluated ? it->tolerance : kNaN);
    }
    CaseColumns claim(verify.create_group(name), scale);
    claim.add("passed", passed);
    claim.add("value", value);
    claim.add("tolerance", tolerance);
  }
}

void write_cases(h5::Group& root, const h5::Dataset& scale, const std::vector<CaseRow>& rows) {
  CaseColumns cases(root.open_group("cases"), scale);
  cases.add_field("label", rows, [](const CaseRow& r) { return r.label; });
  cases.add_field("file", rows, [](const CaseRow& r) { return r.file; });
  cases.add_field("state", rows, [](const CaseRow& r) { return r.state; });
  cases.add_field("message", rows, [](const CaseRow& r) { return r.message; });
  cases.add_field("status", rows, [](const CaseRow& r) { return r.contents.status; });
  cases.add_field("status_reason", rows, [](const CaseRow& r) { return r.contents.status_reason; });
  cases.add_field("attempts", rows, [](const CaseRow& r) { return static_cast<std::int64_t>(r.attempts); });
  h5::Group links = root.create_group("runs");
  for (const CaseRow& row : rows) links.link_external(std::filesystem::path(row.file).stem().string(), row.file, "/");
}

/// /continuation/changes: one row per located change, along the dimension "change".
void write_changes(h5::Group changes, const std::vector<BranchChange>& list) {
  std::vector<std::int64_t> index(list.size());
  std::iota(index.begin(), index.end(), std::int64_t{0});
  h5::Dataset scale = changes.write_dataset("change", index);
  scale.make_scale("change");
  CaseColumns columns(std::move(changes), scale);
  using C = BranchChange;
  columns.add_field("before_case", list, [](const C& c) { return static_cast<std::int64_t>(c.before_case); });
  columns.add_field("after_case", list, [](const C& c) { return static_cast<std::int64_t>(c.after_case); });
  columns.add_field("before_value", list, [](const C& c) { return c.before_value; });
  columns.add_field("after_value", list, [](const C& c) { return c.after_value; });
  columns.add_field("before_support", list, [](const C& c) { return c.before_support; });
  columns.add_field("after_support", list, [](const C& c) { return c.after_support; });
  columns.add_field("pattern_changed", list, [](const C& c) { return std::int64_t{c.pattern_changed ? 1 : 0}; });
}

/// /continuation: the parameter, warm start, support set and pattern of every case (dimension
/// "case"), the located changes (dimension "change"), and the [continuation] settings.
void write_continuation(h5::Group& root, const h5::Dataset& scale, const ContinuationRecord& c) {
  h5::Group group = root.create_group("continuation");
  group.write_attr("key", c.key);
  for (const auto& [name, value] : c.settings) group.write_attr(name, value);
  write_changes(group.create_group("changes"), c.changes);
  CaseColumns per_case(std::move(group), scale);
  per_case.add("value", c.value);
  per_case.add("warm_start", c.warm_start);
  per_case.add("support", c.support);
  per_case.add("pattern", c.pattern);
}

void write_attributes(h5::Group& root, const SweepDescription& spec, const std::vector<CaseRow>& rows,
                      const SweepTotals& totals) {
  const auto count = [&](const char* state) {
    return static_cast<std::int64_t>(std::ranges::count(rows, std::string(state), &CaseRow::state));
  };
  root.write_attr("format", kSweepFormat);
  root.write_attr("format_version", kSweepFormatVersion);
  root.write_attr("created", iso_now());
  root.write_attr("sweep_file", spec.path);
  root.write_attr("sweep", spec.text);
  root.write_attr("base_config", spec.base_config);
  root.write_attr("mode", spec.mode);
  root.write_attr("keys", spec.keys);
  root.write_attr("budget_s", spec.budget_s);
  root.write_attr("cases", static_cast<std::int64_t>(rows.size()));
  root.write_attr("done", count("done"));
  root.write_attr("failed", count("failed"));
  root.write_attr("pending", count("pending"));
  root.write_attr("wall_s", totals.wall_s);
  root.write_attr("workers", static_cast<std::int64_t>(totals.workers));
  root.write_attr("ranks", static_cast<std::int64_t>(totals.ranks));
}

}  // namespace

CaseFile inspect_case_file(const std::string& path) {
  CaseFile out;
  if (!std::filesystem::exists(path)) return out;
  try {
    const RunSummary summary = read_run_summary(path);
    out.config = summary.config;
    out.status = summary.status;
    out.status_reason = summary.status_reason;
    out.last = summary.last;
    out.claims = read_verify(path);
  } catch (const std::exception& e) {
    out.progress = CaseProgress::damaged;
    out.status_reason = e.what();
    return out;
  }
  if (!has_ended(out.status)) {
    out.progress = CaseProgress::partial;
  } else if (out.claims.empty() && !failed_numerically(out.status)) {
    out.progress = CaseProgress::unverified;
  } else {
    out.progress = CaseProgress::complete;
  }
  return out;
}

void write_sweep_index(const std::string& path, const SweepDescription& spec, const std::vector<CaseRow>& rows,
                       const SweepTotals& totals, const ContinuationRecord* continuation) {
  const std::string temporary = path + ".tmp";
  {
    h5::File file = h5::File::create(temporary, true);
    h5::Group root = file.root();
    write_attributes(root, spec, rows, totals);
    std::vector<std::int64_t> index;
    for (const CaseRow& row : rows) index.push_back(row.index);
    // At the root, so that every group's columns (/cases, /params, /final, /verify/<claim>,
    // /continuation) find their dimension among their ancestors, as netCDF readers look for it.
    root.create_group("cases");
    h5::Dataset scale = root.write_dataset("case", index);
    scale.make_scale("case");
    write_cases(root, scale, rows);
    write_params(root, scale, spec, rows);
    write_final(root, scale, rows);
    write_verdicts(root, scale, rows);
    if (continuation) write_continuation(root, scale, *continuation);
    file.flush();
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace kktflow
