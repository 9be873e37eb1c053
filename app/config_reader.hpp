#pragma once
/// \file config_reader.hpp
/// Typed reads of a configuration's keys (config.cpp): each key checked for its TOML type, its
/// range in the C++ type that holds it and, for strings, that it holds no NUL; the error names
/// the key and the value, and every value in force is recorded in the resolved configuration
/// that the run file stores.
#include "config.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace kktflow::config_detail {

/// A value as TOML text (strings quoted).
inline std::string toml_text(const toml::node& node) {
  std::ostringstream os;
  node.visit([&](const auto& v) { os << v; });
  return os.str();
}

/// A string with no NUL: a NUL would end the path or name at the C calls that use it, so that
/// "a.csv\0.h5" would open a.csv. Throws ConfigError naming the key.
void require_no_nul(const std::string& value, const std::string& name);

/// Reads section.key into `out` if present, checking its TOML type and range; records it in
/// `resolved`.
class Reader {
 public:
  Reader(const toml::table& root, toml::table& resolved) : m_root(root), m_resolved(resolved) {}

  template <class T>
  void get(const std::string& section, const std::string& key, T& out) {
    const toml::node* node = find(section, key);
    if (node) out = convert<T>(*node, section.empty() ? key : section + "." + key);
    store(section, key, out);
  }

  /// The node of section.key, or nullptr.
  [[nodiscard]] const toml::node* find(const std::string& section, const std::string& key) const {
    if (section.empty()) return m_root.get(key);
    const auto* table = m_root.get_as<toml::table>(section);
    return table ? table->get(key) : nullptr;
  }

  /// Records `value` (a bool, string, integer, floating-point number or array of strings) as
  /// section.key in the resolved configuration.
  template <class T>
  void store(const std::string& section, const std::string& key, const T& value) {
    toml::table& target = section_table(section);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
      target.insert_or_assign(key, value);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      toml::array array;
      for (const auto& v : value) array.push_back(v);
      target.insert_or_assign(key, std::move(array));
    } else if constexpr (std::is_integral_v<T>) {
      target.insert_or_assign(key, static_cast<std::int64_t>(value));
    } else {
      target.insert_or_assign(key, static_cast<double>(value));
    }
  }

 private:
  template <class T>
  static T convert(const toml::node& node, const std::string& name);
  template <class T>
  static T convert_integer(const toml::node& node, const std::string& name);
  static std::string convert_string(const toml::node& node, const std::string& name);
  /// The resolved table of `section` ("" for the top level), created when missing.
  toml::table& section_table(const std::string& section);

  const toml::table& m_root;
  toml::table& m_resolved;
};

template <class T>
T Reader::convert_integer(const toml::node& node, const std::string& name) {
  auto v = node.value_exact<std::int64_t>();
  if (!v) {
    // Accept integral floats such as 1e8 for counts.
    auto f = node.value_exact<double>();
    if (f && *f == std::floor(*f) && std::abs(*f) < 9e18) v = static_cast<std::int64_t>(*f);
  }
  if (!v) throw ConfigError(name + " = " + toml_text(node) + ": expected an integer");
  if (std::is_unsigned_v<T> && *v < 0) throw ConfigError(name + " = " + toml_text(node) + ": must be ≥ 0");
  using Limits = std::numeric_limits<T>;
  const bool below = !std::is_unsigned_v<T> && *v < static_cast<std::int64_t>(Limits::min());
  const bool above = *v > 0 && static_cast<std::uint64_t>(*v) > static_cast<std::uint64_t>(Limits::max());
  if (below || above)
    throw ConfigError(name + " = " + toml_text(node) + ": must be an integer in [" + std::to_string(Limits::min()) +
                      ", " + std::to_string(Limits::max()) + "]");
  return static_cast<T>(*v);
}

template <class T>
T Reader::convert(const toml::node& node, const std::string& name) {
  if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node.value_exact<bool>()) return *v;
    throw ConfigError(name + " = " + toml_text(node) + ": expected true or false");
  } else if constexpr (std::is_integral_v<T>) {
    return convert_integer<T>(node, name);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (auto v = node.value<double>()) return *v;
    throw ConfigError(name + " = " + toml_text(node) + ": expected a number");
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    const auto* array = node.as_array();
    T out;
    for (std::size_t k = 0; array && k < array->size(); ++k) {
      const auto v = array->at(k).value_exact<std::string>();
      if (!v) break;
      require_no_nul(*v, name);
      out.push_back(*v);
    }
    if (!array || out.size() != array->size())
      throw ConfigError(name + " = " + toml_text(node) + ": expected an array of strings");
    return out;
  } else {
    return convert_string(node, name);
  }
}

}  // namespace kktflow::config_detail
