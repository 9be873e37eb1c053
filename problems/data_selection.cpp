#include "data_selection.hpp"

#include "sha256.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace kktflow {

namespace {

[[noreturn]] void fail(const std::string& why) { throw std::invalid_argument(why); }

std::string list_text(const std::set<std::string>& values, std::size_t max_shown = 12) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& v : values) {
    if (shown++ == max_shown) return out + ", …";
    out += (out.empty() ? "" : ", ") + v;
  }
  return out;
}

/// The two labels and which is +1: {positive, negative}.
std::pair<std::string, std::string> class_pair(const LabelledTable& t, const DatasetSpec& spec) {
  const std::set<std::string> present(t.labels.begin(), t.labels.end());
  const std::string file = " in " + t.files.front() + " (labels there: " + list_text(present) + ")";
  if (!spec.classes.empty()) {
    const std::string key = "data.classes = [" + spec.classes[0] + ", " + spec.classes[1] + "]";
    if (spec.classes[0] == spec.classes[1]) fail(key + ": the two classes must differ");
    for (const auto& c : spec.classes)
      if (!present.count(c)) fail(key + ": no sample has label " + c + file);
    if (!spec.positive.empty() && spec.positive != spec.classes[0] && spec.positive != spec.classes[1])
      fail("data.positive = " + spec.positive + ": must be one of data.classes = [" + spec.classes[0] + ", " +
           spec.classes[1] + "]");
    const bool second = spec.positive == spec.classes[1];
    return second ? std::pair{spec.classes[1], spec.classes[0]} : std::pair{spec.classes[0], spec.classes[1]};
  }
  if (present.size() == 1) fail("data: one class only: every sample has label " + *present.begin() + file);
  if (present.size() > 2)
    fail("data: " + std::to_string(present.size()) + " labels" + file + "; choose two with data.classes = [a, b]");
  const std::string a = *present.begin(), b = *present.rbegin();
  if (spec.positive.empty()) {
    if (present == std::set<std::string>{"-1", "1"}) return {"1", "-1"};
    fail("data.positive: the labels are " + a + " and " + b + file + "; name the one that is +1 (data.positive = " + b +
         ")");
  }
  if (!present.count(spec.positive)) fail("data.positive = " + spec.positive + ": no sample has that label" + file);
  return spec.positive == a ? std::pair{a, b} : std::pair{b, a};
}

/// The rows of one class that per_class and select choose, in file order.
std::vector<Eigen::Index> choose_rows(std::vector<Eigen::Index> rows, const std::string& label, const DatasetSpec& spec,
                                      std::mt19937_64& rng) {
  if (spec.per_class == 0) return rows;
  if (static_cast<std::size_t>(spec.per_class) > rows.size())
    fail("data.per_class = " + std::to_string(spec.per_class) + ": class " + label + " has only " +
         std::to_string(rows.size()) + " samples in the file; allowed range 1 to " + std::to_string(rows.size()) +
         ", or 0 for all");
  if (spec.select == "seeded") std::shuffle(rows.begin(), rows.end(), rng);
  rows.resize(static_cast<std::size_t>(spec.per_class));
  std::ranges::sort(rows);
  return rows;
}

/// The selected rows' values: those of the other rows never reach the run, and at 60 000 images
/// of which a thousand are selected, checking every value cost more than the selection.
void check_finite(const LabelledTable& t, const std::vector<Eigen::Index>& rows) {
  for (const Eigen::Index i : rows) {
    if (t.X.row(i).allFinite()) continue;
    for (Eigen::Index j = 0; j < t.X.cols(); ++j)
      if (!std::isfinite(t.X(i, j))) {
        std::ostringstream v;
        v << t.X(i, j);
        fail("data.path = \"" + t.files.front() + "\": sample " + std::to_string(i) + " (0-based file row), feature " +
             std::to_string(j) + " is " + v.str() + ": every value must be finite");
      }
  }
}

void normalize(Eigen::MatrixXd& X, const std::string& how) {
  if (how == "unit_norm") {
    X.rowwise().normalize();
  } else if (how == "standardize") {
    const Eigen::RowVectorXd mean = X.colwise().mean();
    X.rowwise() -= mean;
    const Eigen::RowVectorXd sd = (X.colwise().squaredNorm() / static_cast<double>(X.rows())).cwiseSqrt();
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      X.col(j) = sd[j] > 0 ? Eigen::VectorXd(X.col(j) / sd[j]) : Eigen::VectorXd::Zero(X.rows());
  }
}

/// Zero samples and points that carry both labels, in the data as trained.
void check_separable_points(const Dataset& data, const std::vector<Eigen::Index>& rows, const std::string& file) {
  const auto where = [&](Eigen::Index i) {
    return "sample " + std::to_string(i) + " (file row " + std::to_string(rows[static_cast<std::size_t>(i)]) + ")";
  };
  std::unordered_map<std::string, Eigen::Index> seen;
  for (Eigen::Index i = 0; i < data.n(); ++i) {
    if (data.X.row(i).isZero(0))
      fail("data.path = \"" + file + "\": " + where(i) +
           " is the zero vector after data.normalize; a homogeneous net gives it "
           "output 0, so it is never classified; remove it");
    const Eigen::RowVectorXd row = data.X.row(i);
    std::string key(reinterpret_cast<const char*>(row.data()), sizeof(double) * static_cast<std::size_t>(row.size()));
    const auto [it, inserted] = seen.emplace(std::move(key), i);
    if (!inserted && data.y[it->second] != data.y[i])
      fail("data.path = \"" + file + "\": " + where(it->second) + " and " + where(i) +
           " are the same point (after data.normalize) with labels +1 and −1; no classifier separates them");
  }
}

std::map<std::string, std::string> provenance(const LabelledTable& t, const DatasetSpec& spec,
                                              const std::pair<std::string, std::string>& cls,
                                              const std::vector<Eigen::Index>& rows) {
  std::map<std::string, std::string> p{
      {"path", t.files.front()},     {"format", t.format},         {"sha256", sha256_file_hex(t.files.front())},
      {"positive", cls.first},       {"negative", cls.second},     {"per_class", std::to_string(spec.per_class)},
      {"normalize", spec.normalize}, {"rows", index_ranges(rows)}, {"file_samples", std::to_string(t.X.rows())}};
  if (t.files.size() > 1) {
    p["labels_path"] = t.files[1];
    p["labels_sha256"] = sha256_file_hex(t.files[1]);
  }
  if (!spec.classes.empty()) p["classes"] = spec.classes[0] + "," + spec.classes[1];
  if (spec.per_class > 0) p["select"] = spec.select;
  if (spec.per_class > 0 && spec.select == "seeded") p["seed"] = std::to_string(spec.seed);
  return p;
}

}  // namespace

std::string index_ranges(const std::vector<Eigen::Index>& indices) {
  std::string out;
  for (std::size_t k = 0; k < indices.size();) {
    std::size_t end = k;
    while (end + 1 < indices.size() && indices[end + 1] == indices[end] + 1) ++end;
    out += (out.empty() ? "" : ",") + std::to_string(indices[k]);
    if (end > k) out += "-" + std::to_string(indices[end]);
    k = end + 1;
  }
  return out;
}

Dataset prepare_dataset(const LabelledTable& table, const DatasetSpec& spec) {
  const auto cls = class_pair(table, spec);
  std::vector<Eigen::Index> positive, negative;
  for (Eigen::Index i = 0; i < table.X.rows(); ++i) {
    const std::string& label = table.labels[static_cast<std::size_t>(i)];
    if (label == cls.first) positive.push_back(i);
    if (label == cls.second) negative.push_back(i);
  }
  std::mt19937_64 rng(spec.seed);
  positive = choose_rows(std::move(positive), cls.first, spec, rng);
  negative = choose_rows(std::move(negative), cls.second, spec, rng);
  std::vector<Eigen::Index> rows(positive);
  rows.insert(rows.end(), negative.begin(), negative.end());
  std::ranges::sort(rows);
  check_finite(table, rows);
  Dataset data;
  data.X.resize(static_cast<Eigen::Index>(rows.size()), table.X.cols());
  data.y.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto i = static_cast<Eigen::Index>(k);
    data.X.row(i) = table.X.row(rows[k]);
    data.y[i] = table.labels[static_cast<std::size_t>(rows[k])] == cls.first ? 1.0 : -1.0;
  }
  normalize(data.X, spec.normalize);
  check_separable_points(data, rows, table.files.front());
  data.source = table.files.front();
  data.params = provenance(table, spec, cls, rows);
  return data;
}

}  // namespace kktflow
