#pragma once
/// \file config_toml.hpp
/// The TOML side of the run configuration (config.cpp reads the sections): the keys that exist,
/// `--set` overrides, and parsing a configuration file or text with the position of malformed
/// TOML. Internal to app/.
#include "config.hpp"

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace kktflow::config_detail {

/// Every key the configuration knows, by section ("" for the top level); docs/config.md lists
/// them with their defaults and ranges.
const std::map<std::string, std::set<std::string>>& known_keys();

/// "a, b, c".
std::string join(const std::set<std::string>& words);

/// Throws ConfigError for an unknown section or key, listing the allowed ones.
void check_known_keys(const toml::table& root);

/// Applies one `--set section.key=value` (value in TOML syntax, or a bare string) to `root`.
void apply_override(toml::table& root, const std::string& assignment);

/// A configuration is a few kilobytes; a larger file is not one (ours).
inline constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

/// Parses the configuration file `path`: a regular file of at most kMaxConfigBytes. Throws
/// ConfigError naming the file and what is wrong (a directory, a FIFO, malformed TOML at a
/// line and column, …).
toml::table parse_config_file(const std::string& path);

/// Parses configuration text; `origin` names it in messages ("origin:LINE:COLUMN: malformed
/// TOML: …"). Throws ConfigError.
toml::table parse_config_text(const std::string& text, const std::string& origin);

}  // namespace kktflow::config_detail
