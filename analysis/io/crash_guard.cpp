#include "analysis/io/crash_guard.hpp"

#include "analysis/io/h5_context.hpp"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kktflow {
namespace {

constexpr std::array<int, 5> kSignals{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kFrames = 64;

/// Whether a frame of the current stack lies in libhdf5 (backtrace and dladdr only read the
/// loaded images; backtrace was warmed up at installation, so it allocates nothing here).
bool hdf5_on_stack() {
  std::array<void*, kFrames> frames{};
  const int count = ::backtrace(frames.data(), kFrames);
  for (int k = 0; k < count; ++k) {
    Dl_info info{};
    if (::dladdr(frames[static_cast<std::size_t>(k)], &info) != 0 && info.dli_fname != nullptr &&
        std::strstr(info.dli_fname, "libhdf5") != nullptr)
      return true;
  }
  return false;
}

void say(const char* text) {
  const std::size_t length = std::strlen(text);
  const ssize_t ignored = ::write(STDERR_FILENO, text, length);
  static_cast<void>(ignored);
}

extern "C" void on_crash(int signal) {
  if (!hdf5_on_stack()) {
    ::signal(signal, SIG_DFL);
    ::raise(signal);
    return;
  }
  char number[16];
  std::size_t digits = 0;
  for (int v = signal; v > 0 && digits < sizeof number - 1; v /= 10) number[digits++] = static_cast<char>('0' + v % 10);
  char text[16] = {};
  for (std::size_t k = 0; k < digits; ++k) text[k] = number[digits - 1 - k];
  say("kktflow: I/O error: HDF5 file '");
  say(h5::read_context_file());
  say("', object '");
  say(h5::read_context_object());
  say("': the HDF5 library crashed (signal ");
  say(text);
  say(") reading it: the file is damaged (a corrupt global heap or metadata block HDF5 does not checksum)\n");
  ::_exit(kHdf5CrashExitCode);
}

}  // namespace

void install_hdf5_crash_guard() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  std::array<void*, 1> warm{};
  ::backtrace(warm.data(), 1);  // loads libgcc's unwinder now, not inside the handler
  handle_fatal_signals(on_crash, true);
}

void handle_fatal_signals(void (*handler)(int), bool once) {
  static std::array<char, 64 * 1024> alternate_stack{};
  stack_t stack{};
  stack.ss_sp = alternate_stack.data();
  stack.ss_size = alternate_stack.size();
  ::sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = handler;
  action.sa_flags = SA_ONSTACK | (once ? SA_RESETHAND : 0);
  sigemptyset(&action.sa_mask);
  for (const int signal : kSignals) ::sigaction(signal, &action, nullptr);
}

[[noreturn]] void exit_process(int code) {
  if (h5::failed_file_close()) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
  std::exit(code);
}

}  // namespace kktflow
