#pragma once
/// \file data_file.hpp
/// `data.kind = "hdf5"`, or "file" with an HDF5 path (.h5, .hdf5): X (n × d, one sample per row)
/// and y (n labels), at the root or under /data — so a kktflow run file can feed its data to a
/// new run. The labels become ±1 in problems/data_selection.hpp, as every format's do. (Other
/// formats are read by problems/data_loaders.hpp; HDF5 lives in analysis/io.)
#include "problems/data_loaders.hpp"

#include <string>

namespace kktflow {

/// Reads X and y. Throws h5::Error for an unreadable file and std::invalid_argument naming the
/// dataset when X or y is missing, X is not 2-D or the sizes disagree.
LabelledTable read_hdf5_table(const std::string& path);

}  // namespace kktflow
