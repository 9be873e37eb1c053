#pragma once
/// \file scratch_dir.hpp
/// A fresh directory per test, removed afterwards, so tests never see each other's files.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace kktflow::testing {

class ScratchDir {
 public:
  ScratchDir() : m_path(make_path()) { std::filesystem::create_directories(m_path); }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// Path of `name` inside the directory.
  [[nodiscard]] std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  static std::filesystem::path make_path() {
    static std::atomic<int> counter{0};
    return std::filesystem::temp_directory_path() /
           ("kktflow-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  }

  std::filesystem::path m_path;
};

}  // namespace kktflow::testing
