#pragma once
/// \file data_loaders.hpp
/// Labelled data read from files, before labels become ±1 (data_selection.hpp does that):
///  - csv:  one sample per line, comma-separated; an optional header line (a first line with a
///          cell that is not a number) names the columns; the label column is the first one, or
///          the one `data.label_column` names; labels may be any text; '#' starts a comment line.
///  - idx:  MNIST-format files (gzipped or not): `data.path` the images (n × r × c × …, each
///          sample flattened in row-major order to d = r·c·…), `data.labels` the labels (n).
///  - npy:  `data.path` an .npy of X (n × d, or n × … flattened) with `data.labels` an .npy of the
///          n labels; or an .npz archive holding both, as members `data.x_key`.npy and `data.y_key`.npy.
/// HDF5 is read by analysis/io/data_file.hpp (only analysis/io links HDF5).
#include "dataset.hpp"

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace kktflow {

/// Samples with their labels as text, and the files they came from.
struct LabelledTable {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>
      X;                            ///< n × d, one sample per row, in file order
  std::vector<std::string> labels;  ///< n labels, numbers in canonical text (label_text)
  std::vector<std::string> files;   ///< the files read: the data, then a separate labels file if any
  std::string format;               ///< csv, idx, npy, npz, hdf5
};

/// A numeric label as text: integers without a decimal point ("5", "-1"), others as %.17g, so
/// that a TOML `data.positive = 1` matches a CSV label "1.0" and an IDX byte 1.
std::string label_text(double value);

/// The canonical text of a label read as text: label_text of its value when it is a number,
/// else the text without surrounding blanks and quotes.
std::string canonical_label(const std::string& text);

/// Which reader data.kind and data.path select: "csv", "idx", "npy", "npz" or "hdf5". With
/// data.kind = "file" the extension decides (.h5/.hdf5/.he5, .npy, .npz, else csv).
std::string data_format(const DatasetSpec& spec);

/// Reads a csv, idx, npy or npz table (not hdf5). Throws std::invalid_argument naming the key,
/// the path and what is wrong (a missing file, a wrong shape, a malformed value).
LabelledTable read_labelled_table(const DatasetSpec& spec);

}  // namespace kktflow
