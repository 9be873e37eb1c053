#pragma once
/// \file writer_process.hpp
/// A run writer in a forked child, for the tests that SIGKILL one mid-write and read back what
/// it left.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <csignal>

namespace kktflow::testing {

/// A forked writer process and a pipe each way for one-byte tokens. The child runs `body` and
/// exits with its return value (1 if it throws); the parent talks to it with send/receive.
class WriterProcess {
 public:
  template <class Body>
  explicit WriterProcess(Body&& body) {
    BOOST_REQUIRE(pipe(m_to_parent.data()) == 0);
    BOOST_REQUIRE(pipe(m_to_child.data()) == 0);
    m_pid = fork();
    BOOST_REQUIRE(m_pid >= 0);
    if (m_pid != 0) return;
    int code = 1;
    try {
      code = body(*this);
    } catch (...) {}
    _exit(code);
  }
  /// Child side: waits for the parent's token / sends one. False when the pipe failed.
  bool await_parent() const { return read_token(m_to_child[0]); }
  bool tell_parent() const { return write_token(m_to_parent[1]); }
  /// Parent side.
  bool tell_child() const { return write_token(m_to_child[1]); }
  bool await_child() const { return read_token(m_to_parent[0]); }
  /// SIGKILLs the child and reaps it.
  void kill() const {
    ::kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
  }
  /// Waits for the child; its exit code, or −1 if it did not exit normally.
  int exit_code() const {
    int wait_status = 0;
    if (waitpid(m_pid, &wait_status, 0) != m_pid || !WIFEXITED(wait_status)) return -1;
    return WEXITSTATUS(wait_status);
  }

 private:
  static bool read_token(int fd) {
    char token = 0;
    return read(fd, &token, 1) == 1;
  }
  static bool write_token(int fd) {
    const char token = 't';
    return write(fd, &token, 1) == 1;
  }
  std::array<int, 2> m_to_parent{};
  std::array<int, 2> m_to_child{};
  pid_t m_pid = -1;
};

}  // namespace kktflow::testing
