#pragma once
/// \file data_file.hpp
/// `data.kind = "file"` with an HDF5 path (.h5, .hdf5): X (n × d, one sample per row) and
/// y (n labels ±1), at the root or under /data — so a kktflow run file can feed its data to a
/// new run. (CSV files are read by problems/dataset.hpp; HDF5 lives in analysis/.)
#include "problems/dataset.hpp"

#include <string>

namespace kktflow {

/// Whether `path` names an HDF5 file by its extension (.h5, .hdf5, .he5).
bool is_hdf5_path(const std::string& path);

/// Reads X and y. Throws h5::Error for an unreadable file and std::invalid_argument naming the
/// dataset when X or y is missing, X is not 2-D, the sizes disagree or a label is not ±1.
Dataset read_hdf5_dataset(const std::string& path);

}  // namespace kktflow
