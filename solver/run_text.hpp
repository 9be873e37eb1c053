#pragma once
/// \file run_text.hpp
/// What the integrators (driver.hpp, square_flow.hpp) share for their timing and their status
/// and error messages.
#include <string>

namespace kktflow {

/// Seconds on the steady clock; only differences mean anything.
double now_s();
/// v as printf's %.3g, the form figures take in status lines and errors.
std::string sci(double v);

}  // namespace kktflow
