#include "analysis/io/writer_lock.hpp"

#include "analysis/io/h5_error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

namespace kktflow {
namespace {

/// A holder that finishes removes its sidecar; a process that opened the old one before then
/// locks a file no longer at the path, sees so and tries again. A few rounds settle any race.
constexpr int kLockRounds = 8;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw h5::Error(fmt::format("HDF5 file '{}', object '/': {}", file, what));
}

/// The pid the holder wrote into the sidecar, or "" while it has not yet.
std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, got > 0 ? static_cast<std::size_t>(got) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

/// The descriptors of the locks this process holds, each stored as fd + 1 (0: a free slot, as
/// zero-initialized). A process holds one per run file it writes; 16 is ours, and a lock beyond
/// them only misses the child's release.
std::array<std::atomic<int>, 16> g_lock_slots{};

void remember_lock(int fd) {
  for (auto& slot : g_lock_slots) {
    int free = 0;
    if (slot.compare_exchange_strong(free, fd + 1)) return;
  }
}

void forget_lock(int fd) {
  for (auto& slot : g_lock_slots) {
    int held = fd + 1;
    if (slot.compare_exchange_strong(held, 0)) return;
  }
}

/// Whether `fd` is still the file at `path` (the holder before us may have removed it).
bool still_at(int fd, const std::string& path) {
  struct stat open_file {};
  struct stat at_path {};
  return ::fstat(fd, &open_file) == 0 && ::stat(path.c_str(), &at_path) == 0 && open_file.st_dev == at_path.st_dev &&
         open_file.st_ino == at_path.st_ino;
}

}  // namespace

WriterLock::WriterLock(const std::string& file) : m_file(file), m_path(file + ".lock") {
  for (int round = 0; round < kLockRounds && m_fd < 0; ++round) {
    const int fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) fail(file, fmt::format("cannot create its writer lock '{}' ({})", m_path, std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string pid = error == EWOULDBLOCK ? holder_pid(fd) : "";
      ::close(fd);
      if (error != EWOULDBLOCK)
        fail(file, fmt::format("cannot lock its writer lock '{}' ({})", m_path, std::strerror(error)));
      fail(file,
           fmt::format("another kktflow process{} is writing it (it holds '{}'); wait for it to end, or stop "
                       "it{}, then try again",
                       pid.empty() ? "" : " (pid " + pid + ")", m_path, pid.empty() ? "" : " (kill " + pid + ")"));
    }
    if (still_at(fd, m_path)) {
      m_fd = fd;
    } else {
      ::close(fd);
    }
  }
  if (m_fd < 0) fail(file, fmt::format("its writer lock '{}' keeps being replaced by other processes", m_path));
  remember_lock(m_fd);
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(m_fd, 0) != 0 || ::pwrite(m_fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds without the pid; a refused process then names no pid.
  }
}

WriterLock::~WriterLock() {
  // Unlinked before it is released: a process that meets the lock after this finds no file, or
  // a new one; one that opened this file before sees it has gone (still_at) and tries again.
  ::unlink(m_path.c_str());
  forget_lock(m_fd);
  ::close(m_fd);
}

void release_writer_locks_in_child() noexcept {
  for (auto& slot : g_lock_slots) {
    const int stored = slot.exchange(0);
    if (stored > 0) ::close(stored - 1);
  }
}

}  // namespace kktflow
