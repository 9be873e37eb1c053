#include "build_info.hpp"

#include <fmt/format.h>

#ifdef EIGEN_USE_BLAS
extern "C" char* openblas_get_corename();
#endif

namespace kktflow {
namespace {

std::string compiler() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "an unknown compiler";
#endif
}

/// The vector extensions the compiler was allowed to use (they change rounding through FMA
/// contraction and the order of vectorized sums).
std::string instruction_set() {
  std::string isa;
#if defined(__x86_64__)
  isa = "x86_64";
#elif defined(__aarch64__)
  isa = "aarch64";
#else
  isa = "unknown architecture";
#endif
#ifdef __AVX512F__
  isa += " AVX-512";
#endif
#ifdef __AVX2__
  isa += " AVX2";
#endif
#ifdef __FMA__
  isa += " FMA";
#endif
#ifdef KKTFLOW_BUILT_NATIVE
  isa += " (-march=native)";
#endif
  return isa;
}

std::string products() {
#ifdef EIGEN_USE_BLAS
  const char* core = openblas_get_corename();
  return fmt::format("OpenBLAS {} kernels", core != nullptr ? core : "(unknown)");
#else
  return "Eigen's kernels";
#endif
}

}  // namespace

std::string build_fingerprint() { return fmt::format("{}, {}, {}", compiler(), instruction_set(), products()); }

}  // namespace kktflow
