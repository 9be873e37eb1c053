#pragma once
/// \file read_probe.hpp
/// Reading a file once in a child process before this process reads it. HDF5 1.10 checksums
/// most metadata, and a damaged checksummed block is a clean error; but it trusts its global
/// heap (where variable-length strings live) and a few other structures, and a flipped bit
/// there can make it copy out of bounds (a crash, or a corrupt heap that crashes later, far
/// from HDF5) or loop without end. No check before the read can rule that out, so the first
/// reader of a file is a child process: it reads everything kktflow's readers read
/// (file_check.hpp) under a time limit, and its crash, hang or error becomes this process's
/// h5::Error (exit 3) naming the file and the object it was reading. Internal to analysis/io.
#include <string>

namespace kktflow {

/// Reads `path` in a child process (once per process for each version of the file: its size
/// and modification time) and throws h5::Error when that read failed, crashed, or did not end
/// within kProbeSeconds plus a second per 100 MB. A no-op inside the child itself.
void probe_file(const std::string& path);

/// probe_file() of the first version of `path` this process reads, and of no later one: for a
/// live run that a reader follows, whose every flush makes a new version.
void probe_file_once(const std::string& path);

/// Wall seconds a probe may take on a small file (ours: a whole read of a run file takes tens of
/// milliseconds; a damaged one that loops is given up well within the 10 s a user waits).
inline constexpr double kProbeSeconds = 5;

}  // namespace kktflow
