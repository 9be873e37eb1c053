/// \file fuzz_config.cpp
/// Fuzz harness of the run configuration: the TOML text and the `--set` overrides, through
/// load_config_text and check_input_paths (what `kktflow run` calls) and the memory estimate
/// that follows them.
///
/// Input: the TOML text; each line "#set KEY=VALUE" (a TOML comment, so the text still parses)
/// is also given as `--set KEY=VALUE`. An input passes when it loads, its resolved configuration
/// loads again to the same text, and its memory estimate is a positive number; or when it is
/// refused with a ConfigError (exit 2) whose message names a key, an override, or the line and
/// column of malformed TOML. Any other exception, a crash or a hang is a finding.
#include "fuzz_harness.hpp"

#include "app/config.hpp"
#include "app/config_checks.hpp"
#include "app/memory_estimate.hpp"

#include <cmath>
#include <regex>
#include <sstream>
#include <vector>

namespace {

using kktflow::fuzz::fuzz_finding;

/// The overrides of "#set " lines.
std::vector<std::string> overrides_in(const std::string& text) {
  std::vector<std::string> overrides;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#set ")) overrides.push_back(line.substr(5));
  }
  return overrides;
}

/// Whether a refusal says what to fix: a key ("model.width", "seed", an unknown section), an
/// override, or the position of malformed TOML.
bool names_what_to_fix(const std::string& message) {
  static const std::regex key(R"((^|[^A-Za-z_])(seed|(data|model|flow|stop|output|store|init|limits)\.[A-Za-z_0-9]*))");
  static const std::regex position(R"(:[0-9]+:[0-9]+: malformed TOML)");
  return std::regex_search(message, key) || std::regex_search(message, position) ||
         message.find("unknown section [") != std::string::npos || message.find("--set ") != std::string::npos;
}

void check_accepted(const kktflow::RunConfig& c) {
  const double n = static_cast<double>(c.data.n);
  const double d = static_cast<double>(c.data.d);
  const double bytes = kktflow::estimate_run_memory(c, n, d).total();
  if (!(bytes > 0) || std::isnan(bytes)) fuzz_finding("memory estimate " + std::to_string(bytes));
  const kktflow::RunConfig again = kktflow::load_config_text(c.resolved_toml, {});
  if (again.resolved_toml != c.resolved_toml)
    fuzz_finding("the resolved configuration does not load to itself:\n" + c.resolved_toml + "\n--- became ---\n" +
                 again.resolved_toml);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const kktflow::RunConfig c = kktflow::load_config_text(text, overrides_in(text));
    kktflow::check_input_paths(c);  // as `kktflow run` does next
    check_accepted(c);
    kktflow::fuzz::g_last_verdict = kktflow::fuzz::Verdict::accepted;
  } catch (const kktflow::ConfigError& e) {
    if (!names_what_to_fix(e.what())) fuzz_finding(std::string("a refusal that names no key: ") + e.what());
    kktflow::fuzz::g_last_verdict = kktflow::fuzz::Verdict::refused;
  } catch (const std::exception& e) {
    fuzz_finding(std::string("an error other than ConfigError (exit 2): ") + e.what());
  }
  return 0;
}
