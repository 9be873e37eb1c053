#include "analysis/io/verify_store.hpp"

#include "analysis/io/h5.hpp"
#include "analysis/io/read_probe.hpp"
#include "analysis/io/run_layout.hpp"
#include "analysis/io/run_store.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>

namespace kktflow {
namespace {

void describe(h5::Object& object, const std::string& long_name) {
  object.write_attr("long_name", long_name);
  object.write_attr("units", "1");
}

}  // namespace

std::vector<ClaimResult> read_verify(const std::string& path) {
  probe_file(path);
  const h5::File file = h5::File::open_read_only(path);
  const h5::Group root = file.root();
  std::vector<ClaimResult> rows;
  if (!root.contains("verify")) return rows;
  const h5::Group group = root.open_group("verify");
  const std::vector<std::string> names = group.open_dataset("name").read_strings();
  const std::vector<std::string> details = group.open_dataset("detail").read_strings();
  const std::vector<std::int64_t> passed = group.open_dataset("passed").read_int64s();
  const std::vector<std::int64_t> certified = group.open_dataset("certified").read_int64s();
  const Eigen::VectorXd value = group.open_dataset("value").read_vector();
  const Eigen::VectorXd tolerance = group.open_dataset("tolerance").read_vector();
  for (std::size_t r = 0; r < names.size(); ++r) {
    const auto k = static_cast<Eigen::Index>(r);
    rows.push_back({names[r], passed.at(r) != 0, value(k), tolerance(k), certified.at(r) != 0, details.at(r)});
  }
  return rows;
}

void write_verify(const std::string& path, const std::vector<ClaimResult>& rows, const VerifyFinals& finals) {
  h5::File file = h5::File::open_read_write(path);
  h5::Group root = file.root();
  if (root.contains("verify")) root.remove("verify");
  h5::Group group = root.create_group("verify");
  group.write_attr("long_name", "claims checked by kktflow verify, one row per claim");
  std::vector<std::int64_t> index(rows.size());
  std::iota(index.begin(), index.end(), std::int64_t{0});
  h5::Dataset claim = group.write_dataset("claim", index);
  claim.make_scale("claim");
  describe(claim, "claim row");
  std::vector<std::string> names, details;
  std::vector<std::int64_t> passed, certified;
  Eigen::VectorXd value(static_cast<Eigen::Index>(rows.size())), tolerance(value.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    names.push_back(rows[r].name);
    details.push_back(rows[r].detail);
    passed.push_back(rows[r].passed ? 1 : 0);
    certified.push_back(rows[r].certified ? 1 : 0);
    value[static_cast<Eigen::Index>(r)] = rows[r].value;
    tolerance[static_cast<Eigen::Index>(r)] = rows[r].tolerance;
  }
  std::vector<h5::Dataset> columns;
  columns.push_back(group.write_dataset("name", names));
  columns.push_back(group.write_dataset("passed", passed));
  columns.push_back(group.write_dataset("value", value));
  columns.push_back(group.write_dataset("tolerance", tolerance));
  columns.push_back(group.write_dataset("certified", certified));
  columns.push_back(group.write_dataset("detail", details));
  const std::array<const char*, 6> long_names{"claim name",
                                              "1 if the claim passed, 0 if it failed",
                                              "the figure the verdict rests on",
                                              "the bound the value is compared with",
                                              "1 if value is a rigorous bound (interval arithmetic)",
                                              "figures behind the verdict"};
  for (std::size_t c = 0; c < columns.size(); ++c) {
    describe(columns[c], long_names[c]);
    columns[c].attach_scale(claim, 0);
  }
  h5::Group final_group = root.open_group("final");
  if (finals.polished_theta.size() > 0)
    run_file::write_final_vector(final_group, "polished_theta", finals.polished_theta);
  if (finals.lambda.size() > 0) run_file::write_final_vector(final_group, "lambda", finals.lambda);
  file.flush();
}

}  // namespace kktflow
