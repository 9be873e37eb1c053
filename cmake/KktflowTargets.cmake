# Warnings, sanitizers and optimisation flags as INTERFACE targets (HighFive habit):
# every kktflow target links kktflow_flags instead of touching global flags.
add_library(kktflow_flags INTERFACE)
target_compile_options(kktflow_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wno-deprecated-copy     # Boost.odeint 1.74 headers
  -Wno-maybe-uninitialized -Wno-uninitialized  # GCC 12 false positives in its AVX-512 intrinsics under Eigen
  -Wno-array-bounds        # GCC 12 false positive: Eigen's AVX packet loads on fixed-size Vector2d
  $<$<BOOL:${KKTFLOW_WERROR}>:-Werror>
  $<$<BOOL:${KKTFLOW_NATIVE}>:-march=native>
  # GCC 12.2 (Debian 12) with AVX-512 stores an initializer list such as {1, 1, 0, 0} (int64,
  # int32 or double) as the broadcast {1, 1, 1, 1}: its SLP vectorizer builds the wrong constant
  # (tests/unit/toolchain/test_code_generation.cpp shows it). Native builds leave SLP vectorization
  # off; Eigen's kernels are explicit SIMD and do not need it.
  $<$<AND:$<BOOL:${KKTFLOW_NATIVE}>,$<CXX_COMPILER_ID:GNU>>:-fno-tree-slp-vectorize>
  # One contraction policy for every translation unit: a product fused into a sum changes results
  # with the CPU (FMA or not), and inline template code compiled under two policies is merged by
  # the linker, so one file's flag would reach the flow. The certificate's error-free
  # transformations need it off.
  -ffp-contract=off)

if(KKTFLOW_SANITIZER)
  target_compile_options(kktflow_flags INTERFACE
    -fsanitize=${KKTFLOW_SANITIZER} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(kktflow_flags INTERFACE -fsanitize=${KKTFLOW_SANITIZER})
endif()

# Debug builds keep assertions (CMake's Debug has no -DNDEBUG) and Eigen's range checks, and
# can ban Eigen's heap allocations at run time (tests/numeric/test_no_malloc.cpp).
target_compile_definitions(kktflow_flags INTERFACE
  $<$<CONFIG:Debug>:EIGEN_INITIALIZE_MATRICES_BY_NAN>
  $<$<CONFIG:Debug>:EIGEN_RUNTIME_NO_MALLOC>)

# KKTFLOW_BLAS (CMakeLists.txt) on every target alike: EIGEN_USE_BLAS changes which product
# kernels Eigen instantiates, so mixing it across translation units would break the ODR.
if(KKTFLOW_BLAS STREQUAL "openblas")
  target_compile_definitions(kktflow_flags INTERFACE EIGEN_USE_BLAS)
  target_link_libraries(kktflow_flags INTERFACE BLAS::BLAS)
endif()
# OpenMP on every target alike, for the same reason (EIGEN_HAS_OPENMP changes Eigen's inline
# functions): Eigen's products then use both cores where a run asks them to
# (solver/product_threads.hpp).
target_link_libraries(kktflow_flags INTERFACE OpenMP::OpenMP_CXX)
