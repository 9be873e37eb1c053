#pragma once
/// \file run_output.hpp
/// The output file of `kktflow run`, claimed before any work is done: its path must be a file of
/// its own (not a symbolic link or a directory), an existing one is replaced only with --force
/// or continued with --resume, and the writer lock (analysis/io/writer_lock.hpp) keeps a second
/// writer away for as long as this run holds it. Each refusal is an h5::Error (exit 3) that
/// says what to do.
///
/// Symbolic links: `run` never writes through one. `-o LINK` is refused, with --force and with
/// --resume too, naming the link's target: replacing the target would overwrite a file the user
/// did not name, and replacing the link would silently break whatever else points at the
/// target. Readers (`info`, `verify`, `plot`) follow links as usual.
#include "analysis/io/writer_lock.hpp"

#include <string>

namespace kktflow {

class RunOutput {
 public:
  /// Checks `path` for a run with `force` or `resume`, creates its directory and takes the
  /// writer lock. Throws h5::Error (naming the lock's holder when another process has it).
  RunOutput(const std::string& path, bool force, bool resume);

  [[nodiscard]] const std::string& path() const noexcept { return m_path; }

 private:
  /// `path`, once it is known not to be a link and its directory exists (for the lock).
  static std::string claimable_path(const std::string& path);

  std::string m_path;
  WriterLock m_lock;
};

}  // namespace kktflow
