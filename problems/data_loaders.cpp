#include "data_loaders.hpp"

#include "array_formats.hpp"
#include "file_bytes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kktflow {

namespace {

[[noreturn]] void fail(const std::string& why) { throw std::invalid_argument(why); }

std::string quoted_key(const std::string& key, const std::string& path) {
  return "data." + key + " = \"" + path + "\"";
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::ranges::transform(ext, ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\"'");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\"'");
  return s.substr(first, last - first + 1);
}

/// The number in `cell` if the whole cell is one (blanks aside).
bool parse_number(const std::string& cell, double& value) {
  const std::string t = trim(cell);
  if (t.empty()) return false;
  try {
    std::size_t used = 0;
    value = std::stod(t, &used);
    return used == t.size();
  } catch (const std::exception&) {
    return false;
  }
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

/// The label column: 0, or the header's column named `name`.
std::size_t label_column(const std::vector<std::string>& header, const DatasetSpec& spec) {
  if (spec.label_column.empty()) return 0;
  if (header.empty())
    fail("data.label_column = \"" + spec.label_column + "\": " + spec.path + " has no header line to name it");
  for (std::size_t k = 0; k < header.size(); ++k)
    if (trim(header[k]) == spec.label_column) return k;
  // A header of one cell is no CSV header but some other file's first line: not printed.
  if (header.size() < 2)
    fail("data.label_column = \"" + spec.label_column + "\": the first line of " + spec.path +
         " is not a header of comma-separated columns");
  std::string names;
  for (const auto& h : header) names += (names.empty() ? "" : ", ") + trim(h);
  fail("data.label_column = \"" + spec.label_column + "\": no such column in the header of " + spec.path +
       " (columns: " + names + ")");
}

LabelledTable read_csv_table(const DatasetSpec& spec) {
  std::ifstream in(spec.path);
  if (!in) fail(quoted_key("path", spec.path) + ": cannot open file");
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
  std::vector<std::string> labels;
  std::string line;
  std::size_t line_no = 0, label_col = 0, columns = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty() || line[0] == '#') continue;
    const auto cells = split_csv_line(line);
    const std::string where = spec.path + ":" + std::to_string(line_no) + ": ";
    if (columns == 0) {
      columns = cells.size();
      double unused = 0;
      if (std::ranges::any_of(cells, [&](const std::string& c) { return !parse_number(c, unused); })) {
        header = cells;
        label_col = label_column(header, spec);
        continue;
      }
      label_col = label_column(header, spec);
    }
    if (cells.size() != columns)
      fail(where + std::to_string(cells.size()) + " columns, expected " + std::to_string(columns) + " (a wrong shape)");
    if (columns < 2) fail(where + "need a label and at least one feature");
    std::vector<double> row;
    for (std::size_t k = 0; k < cells.size(); ++k) {
      if (k == label_col) continue;
      double v = 0;
      if (!parse_number(cells[k], v))
        // The position, not the text: a mistyped data.path (a key file, /etc/shadow) must not
        // have its contents printed.
        fail(where + "column " + std::to_string(k + 1) + " is not a number");
      row.push_back(v);
    }
    rows.push_back(std::move(row));
    labels.push_back(canonical_label(cells[label_col]));
  }
  if (rows.empty()) fail(quoted_key("path", spec.path) + ": no samples");
  LabelledTable t;
  t.X.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.front().size()));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j)
      t.X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
  t.labels = std::move(labels);
  t.files = {spec.path};
  t.format = "csv";
  return t;
}

/// X from an array of n samples of any trailing shape (flattened row-major), and its labels.
LabelledTable table_from_arrays(NumericArray&& x, const NumericArray& y, const std::string& x_what,
                                const std::string& y_what) {
  if (x.shape.size() < 2)
    fail(x_what + ": the samples must have shape (n, d) or (n, …); found " + std::to_string(x.shape.size()) + "-D");
  const bool column = y.shape.size() == 2 && y.shape[1] == 1;
  if (y.shape.size() != 1 && !column) fail(y_what + ": the labels must have shape (n) or (n, 1)");
  if (y.shape[0] != x.shape[0])
    fail(y_what + " holds " + std::to_string(y.shape[0]) + " labels for the " + std::to_string(x.shape[0]) +
         " samples of " + x_what + " (a wrong shape)");
  const Eigen::Index n = x.shape[0];
  const Eigen::Index d = x.values.cols();
  if (n < 2 || d < 1) fail(x_what + ": need at least 2 samples of at least 1 feature");
  LabelledTable t;
  t.X = std::move(x.values);
  for (Eigen::Index i = 0; i < y.values.size(); ++i) t.labels.push_back(label_text(y.values.data()[i]));
  return t;
}

std::string required_labels_path(const DatasetSpec& spec) {
  if (spec.labels.empty())
    fail("data.labels = \"\": data.kind = \"" + spec.kind + "\" with " + spec.path + " needs the labels file");
  return spec.labels;
}

/// A table from two files of one array format, the samples in data.path and the labels in
/// data.labels: `read` gives a file's bytes, `parse` its array.
template <class Read, class Parse>
LabelledTable read_two_file_table(const DatasetSpec& spec, const std::string& format, Read read, Parse parse) {
  const std::string labels = required_labels_path(spec);
  const std::string x_what = quoted_key("path", spec.path), y_what = quoted_key("labels", labels);
  NumericArray x = parse(read(spec.path, "data.path"), x_what);
  const NumericArray y = parse(read(labels, "data.labels"), y_what);
  LabelledTable t = table_from_arrays(std::move(x), y, x_what, y_what);
  t.files = {spec.path, labels};
  t.format = format;
  return t;
}

LabelledTable read_idx_table(const DatasetSpec& spec) {
  const auto read = [&spec](const std::string& path, const std::string& key) {
    return read_maybe_gzipped(path, key, spec.max_decoded_bytes);
  };
  return read_two_file_table(spec, "idx", read, parse_idx);
}

LabelledTable read_npz_table(const DatasetSpec& spec) {
  const std::string what = quoted_key("path", spec.path);
  const Bytes archive = read_file_bytes(spec.path, "data.path");
  NumericArray x = parse_npy(npz_member(archive, spec.x_key + ".npy", spec.max_decoded_bytes, what),
                             what + " member " + spec.x_key + ".npy");
  const NumericArray y = parse_npy(npz_member(archive, spec.y_key + ".npy", spec.max_decoded_bytes, what),
                                   what + " member " + spec.y_key + ".npy");
  LabelledTable t = table_from_arrays(std::move(x), y, what + " member " + spec.x_key, what + " member " + spec.y_key);
  t.files = {spec.path};
  t.format = "npz";
  return t;
}

LabelledTable read_npy_table(const DatasetSpec& spec) {
  return read_two_file_table(spec, "npy", read_file_bytes, parse_npy);
}

}  // namespace

std::string label_text(double value) {
  char buf[32];
  if (value == std::floor(value) && std::abs(value) < 1e15)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
  else
    std::snprintf(buf, sizeof buf, "%.17g", value);
  return buf;
}

std::string canonical_label(const std::string& text) {
  double v = 0;
  return parse_number(text, v) ? label_text(v) : trim(text);
}

std::string data_format(const DatasetSpec& spec) {
  const std::string ext = lower_extension(spec.path);
  if (spec.kind == "csv" || spec.kind == "idx" || spec.kind == "hdf5") return spec.kind;
  if (ext == ".npz") return "npz";
  if (spec.kind == "npy" || ext == ".npy") return "npy";
  if (ext == ".h5" || ext == ".hdf5" || ext == ".he5") return "hdf5";
  return "csv";
}

LabelledTable read_labelled_table(const DatasetSpec& spec) {
  const std::string format = data_format(spec);
  if (format == "csv") return read_csv_table(spec);
  if (format == "idx") return read_idx_table(spec);
  if (format == "npz") return read_npz_table(spec);
  if (format == "npy") return read_npy_table(spec);
  fail(quoted_key("path", spec.path) + ": HDF5 data are read by analysis/io (read_hdf5_table)");
}

}  // namespace kktflow
