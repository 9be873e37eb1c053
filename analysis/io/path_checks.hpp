#pragma once
/// \file path_checks.hpp
/// What a path names, checked before a file is opened: a FIFO blocks the reader forever, a
/// device such as /dev/zero never ends, and a directory reads as an empty file. kktflow reads
/// and writes regular files only, and says what else a path names.
#include <cstdint>
#include <optional>
#include <string>

namespace kktflow {

/// Why `path` is not a regular file kktflow may read ("no such file", "it is a directory",
/// "it is a FIFO (named pipe)", …), or nothing when it is one. Symbolic links are followed.
std::optional<std::string> not_a_regular_file(const std::string& path);

/// Whether `path` itself (not what it points to) is a symbolic link; its target in `target`.
bool is_symbolic_link(const std::string& path, std::string* target = nullptr);

/// The size of a regular file in bytes (0 when it cannot be examined).
std::uint64_t regular_file_bytes(const std::string& path);

}  // namespace kktflow
