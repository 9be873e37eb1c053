#include "config_reader.hpp"

namespace kktflow::config_detail {

void require_no_nul(const std::string& value, const std::string& name) {
  const auto nul = value.find('\0');
  if (nul != std::string::npos)
    throw ConfigError(name + ": holds a NUL character (\\u0000) at position " + std::to_string(nul) +
                      "; names and paths cannot contain one");
}

std::string Reader::convert_string(const toml::node& node, const std::string& name) {
  const auto v = node.value_exact<std::string>();
  if (!v) throw ConfigError(name + " = " + toml_text(node) + ": expected a string");
  require_no_nul(*v, name);
  return *v;
}

toml::table& Reader::section_table(const std::string& section) {
  if (section.empty()) return m_resolved;
  if (!m_resolved.contains(section)) m_resolved.insert(section, toml::table{});
  return *m_resolved.get_as<toml::table>(section);
}

}  // namespace kktflow::config_detail
