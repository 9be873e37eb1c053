/// \file plot_command.cpp
/// `kktflow plot OUT.h5 -o FIG.png [--snapshots]`: runs scripts/plot_run.py (h5py + matplotlib)
/// of the source tree this binary was built from, with the Python the build recorded (or
/// $KKTFLOW_PYTHON). Thin: the figure is the script's; this passes its exit code on.
#include "commands.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#ifndef KKTFLOW_SCRIPTS_DIR
#error "KKTFLOW_SCRIPTS_DIR must name the scripts/ directory (app/CMakeLists.txt defines it)"
#endif
#ifndef KKTFLOW_PYTHON
#error "KKTFLOW_PYTHON must name the Python interpreter (app/CMakeLists.txt defines it)"
#endif

extern char** environ;

namespace kktflow {
namespace {

constexpr const char* kInstall = "install Python with h5py and matplotlib: apt-get install python3-matplotlib python3-h5py";

std::string python_interpreter() {
  const char* chosen = std::getenv("KKTFLOW_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : KKTFLOW_PYTHON;
}

/// Runs argv[0] (a path, or a name looked up in PATH) with argv; returns its wait status, or -errno when it could not start.
int spawn_and_wait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int failed = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (failed != 0) return -failed;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -errno;
  }
  return status;
}

/// The script's exit code when it is one of ours (0, 2, 3, 4: it has said what went wrong).
int exit_code_of(int status, const std::string& python) {
  if (status < 0) {
    std::fprintf(stderr, "kktflow plot: cannot run %s (%s); %s\n", python.c_str(), std::strerror(-status), kInstall);
    return exit_missing_dependency;
  }
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code == exit_ok || code == exit_usage || code == exit_io || code == exit_missing_dependency) return code;
    std::fprintf(stderr, "kktflow plot: plot_run.py failed with exit code %d (see its messages above)\n", code);
  } else {
    std::fprintf(stderr, "kktflow plot: plot_run.py was killed by signal %d\n", WTERMSIG(status));
  }
  return exit_io;
}

}  // namespace

void setup_plot(CLI::App& app, PlotOptions& opt) {
  auto* plot = app.add_subcommand("plot", "Plot a run file with scripts/plot_run.py (Debian's h5py and matplotlib)");
  plot->add_option("file", opt.file, "run file written by kktflow run (a live one too)")->required();
  plot->add_option("-o,--output", opt.output, "PNG to write")->required();
  plot->add_flag("--snapshots", opt.snapshots,
                 "rows of W in the last snapshot, projected onto the plane of the two families' mean rows");
  plot->callback([&opt] { throw CLI::RuntimeError(run_plot(opt)); });
}

int run_plot(const PlotOptions& opt) {
  const std::string script = std::string(KKTFLOW_SCRIPTS_DIR) + "/plot_run.py";
  if (!std::filesystem::is_regular_file(script)) {
    std::fprintf(stderr, "kktflow plot: %s is missing: this kktflow was built from a source tree that has moved or "
                 "lost scripts/; rebuild it from a complete checkout\n", script.c_str());
    return exit_missing_dependency;
  }
  const std::string python = python_interpreter();
  std::vector<std::string> args{python, script, opt.file, "-o", opt.output};
  if (opt.snapshots) args.emplace_back("--snapshots");
  return exit_code_of(spawn_and_wait(args), python);
}

}  // namespace kktflow
