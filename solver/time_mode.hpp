#pragma once
/// \file time_mode.hpp
/// The integration variable of the flow (flow.time): t itself, loss time τ with dt/dτ = 1/L, or
/// normalized time σ with dt/dσ = 1/(L ‖θ‖^{L−1}) (flow_system.hpp).
#include <string>

namespace kktflow {

enum class TimeMode { t, loss, normalized };
/// Throws std::invalid_argument naming `key`, the text and the allowed values.
TimeMode parse_time_mode(const std::string& text, const std::string& key = "flow.time");
std::string to_string(TimeMode mode);

}  // namespace kktflow
