#pragma once
/// \file sweep_processes.hpp
/// Running the attempts of sweep cases as child processes (`kktflow run`, then `kktflow verify`),
/// a few at a time, without blocking: the sweep's event loop polls them. A case that crashes or
/// is killed takes only its own process down, and the sweep records it as a failed attempt.
#include <sys/types.h>
#include <string>
#include <vector>

namespace kktflow {

/// One program to run: its argv and the exit codes that let the next command of the task run.
struct TaskCommand {
  std::vector<std::string> argv;
  std::vector<int> ok_codes{0};

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive& argv& ok_codes;
  }
};

/// One attempt of a case: commands run in order until one ends with a code not in its ok_codes;
/// their stdout and stderr are appended to log_path.
struct CaseTask {
  int case_index = 0;
  std::vector<TaskCommand> commands;
  std::string log_path;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive& case_index& commands& log_path;
  }
};

/// How an attempt ended.
struct TaskOutcome {
  int case_index = 0;
  int exit_code = 0;    ///< of the command that stopped the task; 0 when every command succeeded
  std::string message;  ///< "" on success, else which command failed and how

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive& case_index& exit_code& message;
  }
};

/// Something that runs tasks and reports their outcomes when polled: local child processes, or
/// (sweep_mpi.hpp) the other MPI ranks.
class TaskExecutor {
 public:
  virtual ~TaskExecutor() = default;
  [[nodiscard]] virtual bool can_start() const = 0;
  [[nodiscard]] virtual int running() const = 0;
  virtual void start(const CaseTask& task) = 0;
  /// The tasks that have ended since the last poll; never blocks.
  virtual std::vector<TaskOutcome> poll() = 0;
  /// Asks every running task to stop (SIGTERM: `kktflow run` then ends cleanly, status interrupted).
  virtual void interrupt() = 0;
};

/// Up to `slots` tasks at a time, each command a child process. A child is sent SIGTERM when this
/// process dies (PR_SET_PDEATHSIG), so that a killed sweep leaves no run writing behind it.
/// The children share the cores: unless OMP_NUM_THREADS or OPENBLAS_NUM_THREADS is set, each
/// child's products get cores / slots threads (at least 1), not every core.
class ProcessSlots final : public TaskExecutor {
 public:
  explicit ProcessSlots(int slots);
  /// Interrupts the children still running and waits for them.
  ~ProcessSlots() override;
  ProcessSlots(const ProcessSlots&) = delete;
  ProcessSlots& operator=(const ProcessSlots&) = delete;

  [[nodiscard]] bool can_start() const override { return static_cast<int>(m_running.size()) < m_slots; }
  [[nodiscard]] int running() const override { return static_cast<int>(m_running.size()); }
  /// Throws std::runtime_error when the process cannot be started (fork fails).
  void start(const CaseTask& task) override;
  std::vector<TaskOutcome> poll() override;
  void interrupt() override;

 private:
  struct Running {
    CaseTask task;
    std::size_t command = 0;  ///< index of the command whose process runs now
    pid_t pid = -1;
  };
  void launch(Running& r);

  int m_slots;
  std::vector<Running> m_running;
};

/// Runs one task to its end in this process's children (an MPI worker rank's loop).
TaskOutcome run_task_to_end(const CaseTask& task, bool (*interrupted)());

}  // namespace kktflow
