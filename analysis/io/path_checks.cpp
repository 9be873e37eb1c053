#include "analysis/io/path_checks.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kktflow {

std::optional<std::string> not_a_regular_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return "no such file";
    return std::string("it cannot be examined (") + std::strerror(errno) + ")";
  }
  if (S_ISREG(info.st_mode)) return std::nullopt;
  if (S_ISDIR(info.st_mode)) return "it is a directory, not a file";
  if (S_ISFIFO(info.st_mode)) return "it is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(info.st_mode)) return "it is a character device, not a regular file";
  if (S_ISBLK(info.st_mode)) return "it is a block device, not a regular file";
  if (S_ISSOCK(info.st_mode)) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

bool is_symbolic_link(const std::string& path, std::string* target) {
  std::error_code error;
  if (!std::filesystem::is_symlink(std::filesystem::symlink_status(path, error))) return false;
  if (target != nullptr) *target = std::filesystem::read_symlink(path, error).string();
  return true;
}

std::uint64_t regular_file_bytes(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return 0;
  return static_cast<std::uint64_t>(info.st_size);
}

}  // namespace kktflow
