#pragma once
/// \file time_mode.hpp
/// The integration variable of the flow (flow.time): t itself, or loss time τ with dt/dτ = 1/L.
#include <string>

namespace kktflow {

enum class TimeMode { t, loss };
/// Throws std::invalid_argument naming `key`, the text and the allowed values.
TimeMode parse_time_mode(const std::string& text, const std::string& key = "flow.time");
std::string to_string(TimeMode mode);

}  // namespace kktflow
