#pragma once
/// \file file_check.hpp
/// A whole-file check of a kktflow file, for commands that hand the file to another reader:
/// `kktflow plot` runs Python's h5py, which retries a damaged metadata block without end when
/// it reads in SWMR mode. Checking first, in this process and in bounded time, turns a damaged
/// file into exit 3 naming the broken object instead of a plot that never ends.
#include <string>

namespace kktflow {

/// Opens `path` read-only and reads every object header, every attribute and every dataset's
/// chunk index, and the first and last rows of each dataset; for a run file also what
/// read_run_summary() reads (the current checkpoint included); for a sweep index also the
/// summary of every case file it marks done. Returns the file's format ("kktflow-run",
/// "kktflow-sweep", or "" when it has none). Throws h5::Error naming the first broken object.
std::string check_file_readable(const std::string& path);

}  // namespace kktflow
