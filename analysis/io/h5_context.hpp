#pragma once
/// \file h5_context.hpp
/// Which file and object the HDF5 layer is working on, kept where a signal handler can read it
/// (crash_guard.hpp): fixed buffers, no allocation. Internal to analysis/io.
#include <cstddef>
#include <string_view>

namespace kktflow::h5 {

/// Records `file` and `object` as the ones being read or written now (truncated to fit).
void note_context(std::string_view file, std::string_view object);
/// Also copies every context noted from now on into `file` and `object` (each `size` bytes):
/// the read probe's child shares them with its parent, which reports where it stopped.
void mirror_context(char* file, char* object, std::size_t size);
/// The file and object noted last ("" before any); safe to call from a signal handler.
const char* read_context_file();
const char* read_context_object();

/// Records that H5Fclose failed (a write failed, e.g. on a full disk): HDF5 keeps such a file
/// open and its exit handler, trying to flush it again, crashes (crash_guard.hpp).
void note_failed_file_close();
/// Whether note_failed_file_close() was called.
bool failed_file_close();

}  // namespace kktflow::h5
