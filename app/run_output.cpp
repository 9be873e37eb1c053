#include "run_output.hpp"

#include "analysis/io/h5_error.hpp"
#include "analysis/io/path_checks.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

namespace kktflow {
namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw h5::Error(fmt::format("HDF5 file '{}', object '/': {}", path, what));
}

void create_parent(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) refuse(path, fmt::format("cannot create its directory '{}' ({})", parent.string(), error.message()));
}

}  // namespace

std::string RunOutput::claimable_path(const std::string& path) {
  if (path.empty()) refuse(path, "the output path is empty");
  std::string target;
  if (is_symbolic_link(path, &target))
    refuse(path, fmt::format("it is a symbolic link to '{}'; kktflow run writes only a file of its own: give the "
                             "target's path with -o, or remove the link",
                             target));
  create_parent(path);
  return path;
}

RunOutput::RunOutput(const std::string& path, bool force, bool resume) : m_path(claimable_path(path)), m_lock(m_path) {
  // Checked once the lock is held, so that a file another run is writing names that run.
  std::error_code ignored;
  const bool exists = std::filesystem::exists(m_path, ignored);
  if (exists) {
    if (const auto problem = not_a_regular_file(m_path)) refuse(m_path, "cannot write the run there: " + *problem);
  }
  if (resume && !exists) refuse(m_path, "cannot open file: no such file to resume (run without --resume to start it)");
  if (!resume && !force && exists)
    refuse(m_path, "the file already exists; give --force to replace it, or --resume to continue its run");
}

}  // namespace kktflow
