#pragma once
/// \file precision.hpp
/// flow.precision: the floating-point type of the late-phase margins (region_margins.hpp).
///
/// Late in a run the margins are q_i ~ ‖θ‖ while the loss weights softmax(−q) depend on their
/// O(1) differences; in double those differences carry an absolute error ~ u‖θ‖. In a wider
/// type region_ros2 carries the margins in it (region_margins.hpp), so the weights keep the
/// type's relative accuracy at any ‖θ‖. Before the hand-off, where every quantity is O(1) and
/// errors are relative, the flow stays in double; the state θ and the recorded metrics are
/// double too. Measured (docs/benchmarks.md): float128 ends 5.9e-16 rad from double on the
/// demo and 1.1e-15 rad on frei2023_outside at log t = 1e13.
#include <string>

namespace kktflow {

struct Precision {
  enum class Kind { double_, long_double, float128, mpfr };
  Kind kind = Kind::double_;
  int mpfr_bits = 0;  ///< significand bits of "mpfr:BITS"

  /// Significand bits, implicit bit included: 53, 64, 113 or BITS.
  int significand_bits() const;
  bool operator==(const Precision&) const = default;
};

/// Allowed range of BITS in "mpfr:BITS" (ours: below 64 long_double is faster and as wide;
/// past 4096 bits an LU of the demo's 50 × 50 margins takes seconds a step).
inline constexpr int kMpfrMinBits = 64;
inline constexpr int kMpfrMaxBits = 4096;

/// Parses "double", "long_double", "float128" or "mpfr:BITS"; throws std::invalid_argument
/// naming `key`, the value and the allowed values.
Precision parse_precision(const std::string& text, const std::string& key = "flow.precision");
std::string to_string(const Precision& p);

}  // namespace kktflow
