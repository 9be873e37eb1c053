#include "analysis/io/h5_context.hpp"

#include <algorithm>
#include <array>
#include <atomic>

namespace kktflow::h5 {
namespace {

using Buffer = std::array<char, 1024>;

// Per thread: the buffers are written by the thread that then may crash in HDF5.
thread_local Buffer t_file{};
thread_local Buffer t_object{};

char* g_mirror_file = nullptr;
char* g_mirror_object = nullptr;
std::size_t g_mirror_size = 0;

void copy_into(char* buffer, std::size_t size, std::string_view text) {
  const std::size_t length = std::min(text.size(), size - 1);
  std::copy_n(text.data(), length, buffer);
  buffer[length] = '\0';
}

}  // namespace

void note_context(std::string_view file, std::string_view object) {
  copy_into(t_file.data(), t_file.size(), file);
  copy_into(t_object.data(), t_object.size(), object);
  if (g_mirror_size > 0) {
    copy_into(g_mirror_file, g_mirror_size, file);
    copy_into(g_mirror_object, g_mirror_size, object);
  }
}

void mirror_context(char* file, char* object, std::size_t size) {
  g_mirror_file = file;
  g_mirror_object = object;
  g_mirror_size = size;
}

namespace {
std::atomic<bool> g_failed_file_close{false};
}  // namespace

void note_failed_file_close() { g_failed_file_close = true; }
bool failed_file_close() { return g_failed_file_close; }

const char* read_context_file() { return t_file.data(); }
const char* read_context_object() { return t_object.data(); }

}  // namespace kktflow::h5
