#pragma once
/// \file writer_lock.hpp
/// One writer per run file. HDF5's own file lock cannot serve: HDF5 1.10 holds it for as long as
/// the file is open, so readers (kktflow info --follow, h5py, xarray) could not open a live run,
/// and the run writer turns it off. Instead a writer holds an exclusive flock on the sidecar
/// `<file>.lock`, which names its pid: a second `kktflow run`, `run --resume` or `verify` on the
/// same file is refused at once, naming the holder, while readers never look at the sidecar.
///
/// The kernel drops the lock when the holder dies, however it dies (SIGKILL included), so a
/// stale sidecar never blocks anyone; a holder that ends normally removes it.
#include <string>

namespace kktflow {

/// The writer lock of one run file, held from construction to destruction.
class WriterLock {
 public:
  /// Takes the lock on `file` (the sidecar `<file>.lock`). Throws h5::Error naming the holder's
  /// pid when another process holds it, or naming the sidecar when it cannot be created.
  explicit WriterLock(const std::string& file);
  ~WriterLock();
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  /// The sidecar's path, `<file>.lock`.
  [[nodiscard]] const std::string& path() const noexcept { return m_path; }

 private:
  std::string m_file;
  std::string m_path;
  int m_fd = -1;
};

/// In a process just forked (and not exec'ed), closes its copies of the writer locks its parent
/// holds: a flock lasts until every copy of its descriptor is closed, so a child that kept them
/// would hold the parent's lock after the parent died (a reader probe outliving a SIGKILLed
/// `run --resume` refused the next resume). Async-signal-safe.
void release_writer_locks_in_child() noexcept;

}  // namespace kktflow
