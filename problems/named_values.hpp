#pragma once
/// \file named_values.hpp
/// An enumeration's values by their configuration names: parsing a name (refused with a message
/// that names the key, the value and every allowed name) and naming a value.
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kktflow {

template <class E>
class NamedValues {
 public:
  /// `quoted`: the allowed names are listed in quotes, as TOML strings are written.
  NamedValues(std::initializer_list<std::pair<const char*, E>> names, bool quoted = true)
      : m_names(names), m_quoted(quoted) {}

  /// Throws std::invalid_argument "KEY = "TEXT": allowed values are …" for an unknown name.
  E parse(const std::string& text, const std::string& key) const {
    for (const auto& [name, value] : m_names)
      if (text == name) return value;
    std::string allowed;
    for (const auto& [name, value] : m_names)
      allowed += (allowed.empty() ? "" : ", ") + (m_quoted ? "\"" + std::string(name) + "\"" : std::string(name));
    throw std::invalid_argument(key + " = \"" + text + "\": allowed values are " + allowed);
  }

  std::string name(E value) const {
    for (const auto& [name, v] : m_names)
      if (v == value) return name;
    return "unknown";
  }

 private:
  std::vector<std::pair<const char*, E>> m_names;
  bool m_quoted;
};

}  // namespace kktflow
