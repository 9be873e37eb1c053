#pragma once
/// \file build_info.hpp
/// What decides the last bits of a run's floating-point results besides its configuration: the
/// compiler, the instruction set the code was compiled for (AVX-512, AVX2, FMA contract a·b + c
/// differently), and which BLAS kernels multiply the matrices (OpenBLAS picks them by CPU at run
/// time). Two runs agree bit for bit only when these agree; the run file stores them (root
/// attribute `build`) so that `run --resume` can say when they do not.
#include <string>

namespace kktflow {

/// E.g. "gcc 12.2.0, x86_64 AVX-512 AVX2 FMA (-march=native), OpenBLAS SkylakeX kernels".
std::string build_fingerprint();

}  // namespace kktflow
