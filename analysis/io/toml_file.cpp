#include "analysis/io/toml_file.hpp"

#include <fstream>
#include <sstream>

namespace kktflow {

toml::table read_toml_file(const std::string& path, const std::string& what) {
  if (!std::ifstream(path)) throw std::runtime_error(what + " " + path + ": cannot open");
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
