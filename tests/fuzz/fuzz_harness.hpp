#pragma once
/// \file fuzz_harness.hpp
/// What the fuzz harnesses share. Each harness is one libFuzzer entry point,
/// LLVMFuzzerTestOneInput, that returns for an input kktflow handles cleanly (accepted, or
/// refused with the error the CLI turns into exit 2 or 3) and calls fuzz_finding() for one it
/// handles wrongly; a crash or a hang is a finding too. Built with clang's -fsanitize=fuzzer it
/// is a libFuzzer target; built with fuzz_loop.cpp it is a seeded mutation loop that CTest runs.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace kktflow::fuzz {

/// How the last input ended when it passed, for the loop's tally: kktflow accepted it, or
/// refused it with the proper error.
enum class Verdict { accepted = 1, refused = 2 };
inline Verdict g_last_verdict = Verdict::accepted;

/// Reports an input handled wrongly and aborts, so that libFuzzer and the loop both keep it.
[[noreturn]] inline void fuzz_finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

}  // namespace kktflow::fuzz
