#pragma once
/// \file run_data_reader.hpp
/// Reads a finished run file into the in-memory run the claims check (analysis/verify).
#include "analysis/verify/run_data.hpp"

#include <string>

namespace kktflow {

/// Every part of the run file `path` that the claims read: /data, the /model attributes and
/// /model/a, /final/theta, every complete snapshot (θ(0) first), every complete trajectory row,
/// and the configuration. Throws h5::Error when the file is not a finished kktflow run, is
/// damaged, or holds no snapshot.
RunData read_run_data(const std::string& path);

}  // namespace kktflow
