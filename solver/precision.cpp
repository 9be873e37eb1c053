#include "precision.hpp"

#include <charconv>
#include <stdexcept>

namespace kktflow {

int Precision::significand_bits() const {
  switch (kind) {
    case Kind::double_:
      return 53;
    case Kind::long_double:
      return 64;
    case Kind::float128:
      return 113;
    case Kind::mpfr:
      return mpfr_bits;
  }
  return 53;
}

Precision parse_precision(const std::string& text, const std::string& key) {
  if (text == "double") return {};
  if (text == "long_double") return {Precision::Kind::long_double, 0};
  if (text == "float128") return {Precision::Kind::float128, 0};
  const std::string prefix = "mpfr:";
  const std::string allowed =
      "\": allowed values are \"double\", \"long_double\", \"float128\", \"mpfr:BITS\" with BITS in [" +
      std::to_string(kMpfrMinBits) + ", " + std::to_string(kMpfrMaxBits) + "]";
  if (text.rfind(prefix, 0) == 0) {
    int bits = 0;
    const char* first = text.data() + prefix.size();
    const char* last = text.data() + text.size();
    const auto [end, error] = std::from_chars(first, last, bits);
    if (error == std::errc() && end == last && first != last && bits >= kMpfrMinBits && bits <= kMpfrMaxBits)
      return {Precision::Kind::mpfr, bits};
  }
  throw std::invalid_argument(key + " = \"" + text + allowed);
}

std::string to_string(const Precision& p) {
  switch (p.kind) {
    case Precision::Kind::double_:
      return "double";
    case Precision::Kind::long_double:
      return "long_double";
    case Precision::Kind::float128:
      return "float128";
    case Precision::Kind::mpfr:
      return "mpfr:" + std::to_string(p.mpfr_bits);
  }
  return "double";
}

}  // namespace kktflow
