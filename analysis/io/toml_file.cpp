#include "analysis/io/toml_file.hpp"

#include "analysis/io/path_checks.hpp"

#include <fstream>
#include <sstream>

namespace kktflow {

toml::table read_toml_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  // A directory would read as an empty file (a run of every default), a FIFO would block.
  if (const auto problem = not_a_regular_file(path))
    throw std::runtime_error(what + " " + path + ": cannot open: " + *problem);
  const std::uint64_t bytes = regular_file_bytes(path);
  if (bytes > max_bytes)
    throw std::runtime_error(what + " " + path + ": " + std::to_string(bytes) + " bytes, more than the " +
                             std::to_string(max_bytes) + " a TOML " + what + " may have");
  if (!std::ifstream(path)) throw std::runtime_error(what + " " + path + ": cannot open (not readable)");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << what << " " << path << ":" << e.source().begin.line << ":" << e.source().begin.column
       << ": malformed TOML: " << e.description();
    throw std::runtime_error(os.str());
  }
}

}  // namespace kktflow
