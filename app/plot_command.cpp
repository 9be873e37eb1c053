/// \file plot_command.cpp
/// `kktflow plot FILE -o FIG.png [--snapshots]`: runs `python -m kktflow.plot` (the package in
/// python/kktflow: h5py, xarray, matplotlib) with the Python the build recorded (or
/// $KKTFLOW_PYTHON). Thin: the figure is the package's; this finds the package, puts it on
/// PYTHONPATH and passes the exit code on.
#include "commands.hpp"

#include "analysis/io/file_check.hpp"
#include "analysis/io/h5_error.hpp"
#include "analysis/io/sweep_index.hpp"

#include <fmt/format.h>

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#ifndef KKTFLOW_PYTHON_SOURCE_DIR
#error "KKTFLOW_PYTHON_SOURCE_DIR must name the source tree's python/ directory (app/CMakeLists.txt defines it)"
#endif
#ifndef KKTFLOW_PYTHON_INSTALL_DIR
#error "KKTFLOW_PYTHON_INSTALL_DIR must name where cmake --install puts the package, relative to the prefix"
#endif
#ifndef KKTFLOW_PYTHON
#error "KKTFLOW_PYTHON must name the Python interpreter (app/CMakeLists.txt defines it)"
#endif

extern char** environ;

namespace kktflow {
namespace {

constexpr const char* kInstall =
    "install Python with h5py and matplotlib: apt-get install python3-matplotlib python3-h5py";

std::string python_interpreter() {
  const char* chosen = std::getenv("KKTFLOW_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : KKTFLOW_PYTHON;
}

/// The directory that holds the kktflow package: the installed one next to this executable
/// (PREFIX/bin/kktflow and PREFIX/KKTFLOW_PYTHON_INSTALL_DIR/kktflow), else the source tree's.
std::filesystem::path package_parent() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::filesystem::path installed = self.parent_path().parent_path() / KKTFLOW_PYTHON_INSTALL_DIR;
    if (std::filesystem::is_regular_file(installed / "kktflow" / "plot" / "__main__.py")) return installed;
  }
  return KKTFLOW_PYTHON_SOURCE_DIR;
}

/// This process's environment with `parent` in front of PYTHONPATH.
std::vector<std::string> environment_with_pythonpath(const std::filesystem::path& parent) {
  std::vector<std::string> env;
  std::string pythonpath = "PYTHONPATH=" + parent.string();
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    if (text.starts_with("PYTHONPATH=")) {
      if (text.size() > std::strlen("PYTHONPATH=")) pythonpath += ":" + text.substr(std::strlen("PYTHONPATH="));
    } else {
      env.push_back(text);
    }
  }
  env.push_back(pythonpath);
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// Runs args[0] (a path, or a name looked up in PATH) with args and env; returns its wait status, or -errno when it
/// could not start.
int spawn_and_wait(std::vector<std::string> args, std::vector<std::string> env) {
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  pid_t pid = 0;
  const int failed = posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (failed != 0) return -failed;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -errno;
  }
  return status;
}

/// The package's exit code when it is one of ours (0, 2, 3, 4: it has said what went wrong).
int exit_code_of(int status, const std::string& python) {
  if (status < 0) {
    std::fprintf(stderr, "kktflow plot: cannot run %s (%s); %s\n", python.c_str(), std::strerror(-status), kInstall);
    return exit_missing_dependency;
  }
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code == exit_ok || code == exit_usage || code == exit_io || code == exit_missing_dependency) return code;
    std::fprintf(stderr, "kktflow plot: python -m kktflow.plot failed with exit code %d (see its messages above)\n",
                 code);
  } else {
    std::fprintf(stderr, "kktflow plot: python -m kktflow.plot was killed by signal %d\n", WTERMSIG(status));
  }
  return exit_io;
}

}  // namespace

void setup_plot(CLI::App& app, PlotOptions& opt) {
  auto* plot =
      app.add_subcommand("plot", "Plot a run file or a sweep with the kktflow Python package (h5py, matplotlib)");
  plot->add_option("file", opt.file,
                   "run file written by kktflow run (a live one too), or a sweep's index.h5 or directory")
      ->required();
  plot->add_option("-o,--output", opt.output, "PNG to write")->required();
  plot->add_flag("--snapshots", opt.snapshots,
                 "the first layer's rows in the last snapshot, in the plane the model's theory singles out");
  plot->callback([&opt] { throw CLI::RuntimeError(run_plot(opt)); });
}

int run_plot(const PlotOptions& opt) {
  // Python reads the file in SWMR mode, where HDF5 retries a damaged block without end: check it
  // here first, in bounded time (a damaged file is exit 3 naming the broken object).
  const std::filesystem::path file = opt.file;
  const std::string checked = std::filesystem::is_directory(file) ? (file / "index.h5").string() : opt.file;
  const std::string format = check_file_readable(checked);
  if (format != "kktflow-run" && format != "kktflow-sweep")
    throw h5::Error(
        fmt::format("HDF5 file '{}', object '/': neither a kktflow run file nor a sweep index (format "
                    "'{}', expected 'kktflow-run' or 'kktflow-sweep')",
                    checked, format));
  // A sweep index whose tables are damaged (a column deleted, cut short) is refused here, naming
  // the object, as the run file's readers refuse theirs; Python would only say "KeyError".
  if (format == kSweepFormat) static_cast<void>(read_sweep_index(checked));
  const std::filesystem::path parent = package_parent();
  if (!std::filesystem::is_regular_file(parent / "kktflow" / "plot" / "__main__.py")) {
    std::fprintf(
        stderr,
        "kktflow plot: the kktflow Python package is missing from %s: this kktflow was built from a "
        "source tree that has moved or lost python/; rebuild it from a complete checkout or run cmake --install\n",
        parent.c_str());
    return exit_missing_dependency;
  }
  const std::string python = python_interpreter();
  std::vector<std::string> args{python, "-m", "kktflow.plot", opt.file, "-o", opt.output};
  if (opt.snapshots) args.emplace_back("--snapshots");
  return exit_code_of(spawn_and_wait(args, environment_with_pythonpath(parent)), python);
}

}  // namespace kktflow
