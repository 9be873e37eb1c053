/// \file fuzz_run_file.cpp
/// Fuzz harness of the run-file readers: the bytes of a (damaged) run file, read as `kktflow
/// info` (read_run_summary), `verify` (read_run_data, read_verify) and `run --resume`
/// (read_checkpoint) read it. An input passes when every reader either reads it or throws
/// h5::Error (exit 3, naming the file and the object); any other exception, a crash or a hang
/// is a finding.
#include "fuzz_harness.hpp"

#include "analysis/io/h5_error.hpp"
#include "analysis/io/run_data_reader.hpp"
#include "analysis/io/run_store.hpp"
#include "analysis/io/verify_store.hpp"

#include <unistd.h>

#include <fstream>

namespace {

using kktflow::fuzz::fuzz_finding;

/// Runs one reader; a refusal must be an h5::Error that names the file.
template <class Read>
void read_cleanly(const char* reader, const std::string& path, Read&& read) {
  try {
    read();
  } catch (const kktflow::h5::Error& e) {
    kktflow::fuzz::g_last_verdict = kktflow::fuzz::Verdict::refused;
    if (std::string(e.what()).find(path) == std::string::npos)
      fuzz_finding(std::string(reader) + ": an I/O error that does not name the file: " + e.what());
  } catch (const std::exception& e) {
    fuzz_finding(std::string(reader) + ": an error other than h5::Error (exit 3): " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = "/tmp/kktflow-fuzz-run-" + std::to_string(::getpid()) + ".h5";
  kktflow::fuzz::g_last_verdict = kktflow::fuzz::Verdict::accepted;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  read_cleanly("read_run_summary", path, [&] { static_cast<void>(kktflow::read_run_summary(path)); });
  read_cleanly("read_checkpoint", path, [&] { static_cast<void>(kktflow::read_checkpoint(path)); });
  read_cleanly("read_run_data", path, [&] { static_cast<void>(kktflow::read_run_data(path)); });
  read_cleanly("read_verify", path, [&] { static_cast<void>(kktflow::read_verify(path)); });
  ::unlink(path.c_str());
  return 0;
}
