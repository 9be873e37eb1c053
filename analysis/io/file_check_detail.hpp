#pragma once
/// \file file_check_detail.hpp
/// The whole-file read behind file_check.hpp and read_probe.hpp, in this process. Internal to
/// analysis/io.
#include <string>

namespace kktflow {

/// Reads every object header, every attribute (variable-length data included, which HDF5 keeps
/// in its unchecksummed global heap), every dataset's chunk index and its first and last rows,
/// every string dataset; for a run file what read_run_summary() reads (the current checkpoint
/// included); for a sweep index the summary of every case it marks done. Throws h5::Error.
void check_whole_file(const std::string& path);

}  // namespace kktflow
