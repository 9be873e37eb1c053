/// \file sweep_processes.cpp
/// Child processes of a sweep (sweep_processes.hpp).
#include "analysis/sweep/sweep_processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

namespace kktflow {
namespace {

/// Our choice: how often a blocking wait looks at its children and at the interrupt flag.
constexpr auto kPollInterval = std::chrono::milliseconds(20);

/// Exit code of a wait status: the program's code, or 128 + signal as a shell reports it.
int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string describe(const TaskCommand& command, int code) {
  const std::string what = command.argv.size() > 1 ? "kktflow " + command.argv[1] : command.argv.front();
  return code > 128 ? what + " was killed by signal " + std::to_string(code - 128)
                    : what + " exited with code " + std::to_string(code);
}

/// Forks and execs `argv` with stdout and stderr appended to `log`. Everything the child does
/// between fork and exec is async-signal-safe.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot start ") + argv.front() + ": " + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(128 + SIGTERM);  // the sweep died before prctl took effect
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

ProcessSlots::ProcessSlots(int slots) : m_slots(slots) {
  // Read by OpenMP and OpenBLAS when a child starts; overwrite = 0 keeps what the user set.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(std::max(1, slots))));
  setenv("OMP_NUM_THREADS", threads.c_str(), 0);
  setenv("OPENBLAS_NUM_THREADS", threads.c_str(), 0);
}

ProcessSlots::~ProcessSlots() {
  interrupt();
  for (const Running& r : m_running) {
    int status = 0;
    while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {}
  }
}

void ProcessSlots::launch(Running& r) { r.pid = spawn(r.task.commands.at(r.command).argv, r.task.log_path); }

void ProcessSlots::start(const CaseTask& task) {
  Running r{task, 0, -1};
  launch(r);
  m_running.push_back(std::move(r));
}

std::vector<TaskOutcome> ProcessSlots::poll() {
  std::vector<TaskOutcome> ended;
  for (auto it = m_running.begin(); it != m_running.end();) {
    int status = 0;
    if (waitpid(it->pid, &status, WNOHANG) != it->pid) {
      ++it;
      continue;
    }
    const int code = exit_code_of(status);
    const TaskCommand& command = it->task.commands[it->command];
    const bool ok = std::ranges::find(command.ok_codes, code) != command.ok_codes.end();
    if (ok && it->command + 1 < it->task.commands.size()) {
      ++it->command;
      launch(*it);
      ++it;
      continue;
    }
    ended.push_back({it->task.case_index, ok ? 0 : code, ok ? "" : describe(command, code)});
    it = m_running.erase(it);
  }
  return ended;
}

void ProcessSlots::interrupt() {
  for (const Running& r : m_running) kill(r.pid, SIGTERM);
}

TaskOutcome run_task_to_end(const CaseTask& task, bool (*interrupted)()) {
  ProcessSlots slots(1);
  slots.start(task);
  bool interrupt_sent = false;
  for (;;) {
    std::vector<TaskOutcome> ended = slots.poll();
    if (!ended.empty()) return ended.front();
    if (!interrupt_sent && interrupted != nullptr && interrupted()) {
      slots.interrupt();
      interrupt_sent = true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace kktflow
