#pragma once
/// \file toml_file.hpp
/// Reading a TOML file (run configurations, sweep files) with messages a user can act on: the
/// file, and for malformed TOML the line and column and what is wrong there.
#include <toml++/toml.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace kktflow {

/// `what` names the kind of file in messages ("config file", "sweep file"). Throws
/// std::runtime_error "WHAT PATH: cannot open: …" (also for a directory, a FIFO or a device,
/// which would read as empty or block), "WHAT PATH: N bytes, more than …" for a file larger
/// than `max_bytes`, or "WHAT PATH:LINE:COLUMN: malformed TOML: …".
toml::table read_toml_file(const std::string& path, const std::string& what, std::uint64_t max_bytes = 16u << 20);

}  // namespace kktflow
