#include "dataset.hpp"

#include "data_loaders.hpp"
#include "data_selection.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace kktflow {

namespace {

std::string fmt_num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& range) {
  throw std::invalid_argument("data." + key + " = " + value + ": " + range);
}

Eigen::VectorXd balanced_labels(Eigen::Index n, std::mt19937_64& rng) {
  std::vector<double> labels(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = i < (n + 1) / 2 ? 1.0 : -1.0;
  std::shuffle(labels.begin(), labels.end(), rng);
  return Eigen::Map<Eigen::VectorXd>(labels.data(), n);
}

Eigen::MatrixXd gaussian_matrix(Eigen::Index rows, Eigen::Index cols, double sigma, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, sigma);
  Eigen::MatrixXd M(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) M(i, j) = normal(rng);
  return M;
}

Dataset gaussian(const DatasetSpec& s, std::mt19937_64& rng) {
  Dataset data;
  data.y = balanced_labels(s.n, rng);
  data.X = gaussian_matrix(s.n, s.d, s.scale, rng);
  return data;
}

Dataset mixture(const DatasetSpec& s, std::mt19937_64& rng) {
  Dataset data;
  data.y = balanced_labels(s.n, rng);
  Eigen::VectorXd mu = gaussian_matrix(s.d, 1, 1.0, rng).col(0);
  mu *= s.mean_norm / mu.norm();
  data.X = gaussian_matrix(s.n, s.d, s.noise, rng);
  data.X += data.y * mu.transpose();
  return data;
}

Dataset orthogonal(const DatasetSpec& s, std::mt19937_64& rng) {
  Dataset data;
  data.y = balanced_labels(s.n, rng);
  std::vector<Eigen::Index> axes(static_cast<std::size_t>(s.d));
  std::iota(axes.begin(), axes.end(), 0);
  std::shuffle(axes.begin(), axes.end(), rng);
  data.X = Eigen::MatrixXd::Zero(s.n, s.d);
  for (Eigen::Index i = 0; i < s.n; ++i) data.X(i, axes[static_cast<std::size_t>(i)]) = s.scale;
  return data;
}

Dataset symmetric(const DatasetSpec& s, std::mt19937_64& rng) {
  const Eigen::Index half = s.n / 2;
  Dataset data;
  const Eigen::VectorXd y_half = balanced_labels(half, rng);
  const Eigen::MatrixXd X_half = gaussian_matrix(half, s.d, s.scale, rng);
  data.X.resize(s.n, s.d);
  data.y.resize(s.n);
  data.X << X_half, -X_half;
  data.y << y_half, -y_half;
  return data;
}

/// Timor, Vardi, Shamir (2023) §3.2: x1 = (1, 0.99)/‖·‖ with label +1 (e1), x2 = (−1, 0.99)/‖·‖
/// with label −1 (e2); the angle between them is just above π/2.
Dataset timor2023() {
  Dataset data;
  data.X.resize(2, 2);
  data.X << 1.0, 0.99, -1.0, 0.99;
  data.X.rowwise().normalize();
  data.y.resize(2);
  data.y << 1.0, -1.0;
  return data;
}

/// dataset.hpp: the support set of the SVM changes at shift = 1.
Dataset shifted_triple(double shift) {
  Dataset data;
  data.X.resize(3, 2);
  data.X << 1.0, 0.0, -1.0, 0.0, shift, 1.0;
  data.y.resize(3);
  data.y << 1.0, -1.0, 1.0;
  return data;
}

/// dataset.hpp: symmetric at shift = 0, the fragile set at shift = 1.
Dataset lyu2021_fragile(double shift) {
  const Eigen::RowVector2d p1(1.0, 0.1), p2(-1.0, 0.1), n(0.0, -0.15), q(0.0, 4.0);
  Dataset data;
  data.X.resize(6, 2);
  data.X << p1, p2, (1 - shift) * -p1 + shift * n, (1 - shift) * -p2 + shift * n, q, -q;
  data.y.resize(6);
  data.y << 1.0, 1.0, -1.0, -1.0, 1.0, -1.0;
  return data;
}

void validate_read_keys(const DatasetSpec& s) {
  if (s.path.empty()) bad("path", "\"\"", "a data file is required when data.kind = \"" + s.kind + "\"");
  if (s.classes.size() != 0 && s.classes.size() != 2)
    bad("classes", std::to_string(s.classes.size()) + " labels",
        "must name exactly two labels, e.g. data.classes = [5, 7]");
  if (s.per_class < 0) bad("per_class", std::to_string(s.per_class), "must be an integer ≥ 0 (0: every sample)");
  if (s.select != "first" && s.select != "seeded")
    bad("select", "\"" + s.select + "\"", "allowed values are first, seeded");
  if (s.normalize != "none" && s.normalize != "unit_norm" && s.normalize != "standardize")
    bad("normalize", "\"" + s.normalize + "\"", "allowed values are none, unit_norm, standardize");
}

}  // namespace

void validate(const DatasetSpec& s) {
  static const std::vector<std::string> kinds{
      "gaussian",        "mixture", "orthogonal", "symmetric", "timor2023", "shifted_triple",
      "lyu2021_fragile", "file",    "csv",        "idx",       "npy",       "hdf5"};
  if (std::find(kinds.begin(), kinds.end(), s.kind) == kinds.end())
    bad("kind", "\"" + s.kind + "\"",
        "allowed values are gaussian, mixture, orthogonal, symmetric, timor2023, shifted_triple, lyu2021_fragile, "
        "file, csv, idx, npy, hdf5");
  if (s.from_file()) {
    validate_read_keys(s);
    return;
  }
  if (s.n < 2) bad("n", std::to_string(s.n), "must be an integer ≥ 2");
  if (s.kind == "timor2023" && s.n != 2) bad("n", std::to_string(s.n), "timor2023 data have n = 2");
  if (s.kind == "timor2023" && s.d != 2) bad("d", std::to_string(s.d), "timor2023 data have d = 2");
  if (s.kind == "shifted_triple" && s.n != 3) bad("n", std::to_string(s.n), "shifted_triple data have n = 3");
  if (s.kind == "shifted_triple" && s.d != 2) bad("d", std::to_string(s.d), "shifted_triple data have d = 2");
  if (s.kind == "lyu2021_fragile" && s.n != 6) bad("n", std::to_string(s.n), "lyu2021_fragile data have n = 6");
  if (s.kind == "lyu2021_fragile" && s.d != 2) bad("d", std::to_string(s.d), "lyu2021_fragile data have d = 2");
  if (s.kind == "lyu2021_fragile" && !(s.shift >= 0 && s.shift <= 1))
    bad("shift", fmt_num(s.shift), "must lie in [0, 1] for lyu2021_fragile data");
  if (!std::isfinite(s.shift)) bad("shift", fmt_num(s.shift), "must be a finite number");
  if (s.d < 1) bad("d", std::to_string(s.d), "must be an integer ≥ 1");
  if (s.kind == "orthogonal" && s.d < s.n)
    bad("d", std::to_string(s.d), "orthogonal data need d ≥ n = " + std::to_string(s.n));
  if (s.kind == "symmetric" && s.n % 2 != 0) bad("n", std::to_string(s.n), "symmetric data need an even n");
  if (!(s.scale > 0 && std::isfinite(s.scale))) bad("scale", fmt_num(s.scale), "must be a finite number > 0");
  if (!(s.noise >= 0 && std::isfinite(s.noise))) bad("noise", fmt_num(s.noise), "must be a finite number ≥ 0");
  if (!(s.mean_norm >= 0 && std::isfinite(s.mean_norm)))
    bad("mean_norm", fmt_num(s.mean_norm), "must be a finite number ≥ 0");
}

Dataset make_dataset(const DatasetSpec& spec) {
  validate(spec);
  if (spec.from_file()) return prepare_dataset(read_labelled_table(spec), spec);
  std::mt19937_64 rng(spec.seed);
  Dataset data = spec.kind == "gaussian"          ? gaussian(spec, rng)
                 : spec.kind == "mixture"         ? mixture(spec, rng)
                 : spec.kind == "orthogonal"      ? orthogonal(spec, rng)
                 : spec.kind == "timor2023"       ? timor2023()
                 : spec.kind == "shifted_triple"  ? shifted_triple(spec.shift)
                 : spec.kind == "lyu2021_fragile" ? lyu2021_fragile(spec.shift)
                                                  : symmetric(spec, rng);
  if (spec.unit_norm) data.X.rowwise().normalize();
  data.source = spec.kind;
  data.params = {{"n", std::to_string(spec.n)},
                 {"d", std::to_string(spec.d)},
                 {"seed", std::to_string(spec.seed)},
                 {"scale", fmt_num(spec.scale)}};
  if (spec.unit_norm) data.params["unit_norm"] = "true";
  if (spec.kind == "shifted_triple" || spec.kind == "lyu2021_fragile") data.params["shift"] = fmt_num(spec.shift);
  if (spec.kind == "mixture") {
    data.params["mean_norm"] = fmt_num(spec.mean_norm);
    data.params["noise"] = fmt_num(spec.noise);
  }
  return data;
}

}  // namespace kktflow
