#include "analysis/io/read_probe.hpp"

#include "analysis/io/crash_guard.hpp"
#include "analysis/io/file_check_detail.hpp"
#include "analysis/io/h5_context.hpp"
#include "analysis/io/h5_error.hpp"
#include "analysis/io/writer_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

namespace kktflow {
namespace {

/// What the child leaves for its parent: a page shared across the fork.
struct ProbeReport {
  std::array<char, 1024> file;  ///< the file and object it was reading last (h5_context)
  std::array<char, 1024> object;
  std::array<char, 2048> message;  ///< the error it caught, if any
  int signal;                      ///< the signal that ended it, if any
};

constexpr int kChildPassed = 0;
constexpr int kChildRefused = 4;  ///< an h5::Error or other exception: message holds it
constexpr int kChildCrashed = 5;  ///< a crash signal: signal holds it
constexpr int kChildMarked = 6;   ///< a writer's mark keeps readers out: message holds it

ProbeReport* g_report = nullptr;  ///< in the child only
bool g_in_child = false;

void copy_text(std::array<char, 2048>& to, const char* text) {
  std::strncpy(to.data(), text, to.size() - 1);
  to[to.size() - 1] = '\0';
}

extern "C" void on_child_crash(int signal) {
  g_report->signal = signal;
  ::_exit(kChildCrashed);
}

/// The child: read the whole file, report, exit without unwinding the parent's state.
[[noreturn]] void run_child(const std::string& path, pid_t parent) {
  g_in_child = true;
  // The probe must not outlive its parent, nor keep the parent's writer lock if it did.
  release_writer_locks_in_child();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(kChildPassed);  // the parent died before the line above
  // Quiet: glibc's own report of a corrupt heap would precede the parent's message.
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) ::dup2(null, STDERR_FILENO);
  handle_fatal_signals(on_child_crash, false);
  try {
    check_whole_file(path);
  } catch (const h5::WriterMarkError& e) {
    copy_text(g_report->message, e.what());
    ::_exit(kChildMarked);
  } catch (const std::exception& e) {
    copy_text(g_report->message, e.what());
    ::_exit(kChildRefused);
  }
  ::_exit(kChildPassed);
}

/// The identity of one version of a file: probes are not repeated for it.
using Version = std::tuple<std::string, dev_t, ino_t, off_t, std::int64_t>;

std::optional<Version> version_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::nullopt;
  const std::int64_t modified = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  return Version{path, info.st_dev, info.st_ino, info.st_size, modified};
}

/// Waits for `child` at most `seconds`; kills it then. Its wait status, or nothing on timeout.
std::optional<int> wait_for(pid_t child, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    if (done < 0 && errno != EINTR) return 0;  // reaped elsewhere: nothing to report
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return std::nullopt;
}

std::string where(const ProbeReport& report, const std::string& path) {
  const std::string object = report.object[0] != '\0' ? report.object.data() : "/";
  return fmt::format("HDF5 file '{}', object '{}'", report.file[0] != '\0' ? report.file.data() : path.c_str(), object);
}

/// What a probe found wrong: the error every later read of that version throws at once.
struct ProbeFailure {
  std::string message;
  bool writer_mark = false;
};

/// The failure the child's end reports, if it failed.
std::optional<ProbeFailure> failure_of(const std::optional<int>& status, const ProbeReport& report,
                                       const std::string& path, double seconds) {
  if (!status)
    return ProbeFailure{
        fmt::format("{}: reading it did not end within {:.0f} s: the file is damaged (HDF5 loops on "
                    "a corrupt global heap or another block it does not checksum)",
                    where(report, path), seconds)};
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == kChildPassed) return std::nullopt;
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == kChildRefused) return ProbeFailure{report.message.data()};
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == kChildMarked) return ProbeFailure{report.message.data(), true};
  const int signal = WIFEXITED(*status) ? report.signal : WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
  return ProbeFailure{
      fmt::format("{}: reading it crashed the HDF5 library (signal {}): the file is damaged (a "
                  "corrupt global heap or another block HDF5 does not checksum)",
                  where(report, path), signal)};
}

void throw_failure(const std::optional<ProbeFailure>& failure) {
  if (!failure) return;
  if (failure->writer_mark) throw h5::WriterMarkError(failure->message);
  throw h5::Error(failure->message);
}

/// Reads `path` (of size `bytes`) in a child process; what it found wrong, if anything.
std::optional<ProbeFailure> probe_in_child(const std::string& path, double bytes) {
  void* page = ::mmap(nullptr, sizeof(ProbeReport), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return std::nullopt;  // no probe: the reads that follow are unprotected, not refused
  auto* report = new (page) ProbeReport{};
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) {
    g_report = report;
    h5::mirror_context(report->file.data(), report->object.data(), report->file.size());
    run_child(path, parent);
  }
  const double seconds = kProbeSeconds + bytes / 1e8;
  const std::optional<int> status = child > 0 ? wait_for(child, seconds) : std::optional<int>(0);
  const ProbeReport final_report = *report;
  ::munmap(page, sizeof(ProbeReport));
  return failure_of(status, final_report, path, seconds);
}

std::mutex g_mutex;
std::map<Version, std::optional<ProbeFailure>> g_results;  ///< what each version's probe found
std::set<std::string> g_paths;                             ///< paths probed, whatever the version

}  // namespace

void probe_file_once(const std::string& path) {
  {
    const std::lock_guard lock(g_mutex);
    if (g_paths.contains(path)) return;
  }
  probe_file(path);
}

void probe_file(const std::string& path) {
  if (g_in_child) return;
  const std::optional<Version> version = version_of(path);
  if (!version) return;  // the reader that follows says what is wrong with the path
  const std::lock_guard lock(g_mutex);
  auto found = g_results.find(*version);
  if (found == g_results.end())
    found = g_results.emplace(*version, probe_in_child(path, static_cast<double>(std::get<3>(*version)))).first;
  g_paths.insert(path);
  throw_failure(found->second);
}

}  // namespace kktflow
