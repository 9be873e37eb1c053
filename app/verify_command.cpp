#include "commands.hpp"

#include "analysis/claims.hpp"
#include "analysis/verify_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace kktflow {
namespace {

/// Keys in the order written (name, passed, value, …), not sorted.
using Json = nlohmann::ordered_json;

/// A number for JSON: null when not finite (JSON has no NaN or infinity).
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

void print_json(const std::string& file, const std::vector<ClaimResult>& claims, bool all_passed) {
  Json rows = Json::array();
  for (const ClaimResult& c : claims) {
    rows.push_back({{"name", c.name}, {"passed", c.passed}, {"value", number(c.value)}, {"tolerance", number(c.tolerance)},
                    {"certified", c.certified}, {"detail", c.detail}});
  }
  const Json out{{"file", file}, {"passed", all_passed}, {"claims", rows}};
  std::printf("%s\n", out.dump(2).c_str());
}

void print_table(const std::string& file, const std::vector<ClaimResult>& claims, bool all_passed) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows{{"claim", "verdict", "value", "tolerance", "certified", "detail"}};
  for (const ClaimResult& c : claims) {
    rows.push_back({c.name, c.passed ? "PASS" : "FAIL", fmt::format("{:.4g}", c.value), fmt::format("{:.7g}", c.tolerance),
                    c.certified ? "yes" : "no", c.detail});
  }
  std::array<std::size_t, 5> width{};
  for (const Row& row : rows) {
    for (std::size_t k = 0; k < width.size(); ++k) width[k] = std::max(width[k], row[k].size());
  }
  for (const Row& row : rows) {
    std::printf("%s\n", fmt::format("{:<{}}  {:<{}}  {:>{}}  {:>{}}  {:<{}}  {}", row[0], width[0], row[1], width[1], row[2],
                                    width[2], row[3], width[3], row[4], width[4], row[5])
                            .c_str());
  }
  const auto passed = std::ranges::count_if(claims, [](const ClaimResult& c) { return c.passed; });
  std::printf("%s: %td of %zu claims passed%s\n", file.c_str(), passed, claims.size(),
              all_passed ? "" : " (exit status 1)");
}

}  // namespace

void setup_verify(CLI::App& app, VerifyOptions& opt) {
  auto* verify = app.add_subcommand("verify", "Check the theorems' claims on a finished run file and record them in /verify");
  verify->add_option("file", opt.file, "run file written by kktflow run (it gains /verify and /final/polished_theta)")
      ->required();
  verify->add_option("--claims", opt.claims, "comma-separated claim names (default: all)")->delimiter(',');
  verify->add_flag("--json", opt.json, "print JSON (schema: docs/verify-schema.json) instead of a table");
  verify->callback([&opt] { throw CLI::RuntimeError(run_verify(opt)); });
}

int run_verify(const VerifyOptions& opt) {
  const std::vector<std::string>& known = known_claims();
  for (const std::string& name : opt.claims) {
    if (std::ranges::find(known, name) == known.end()) {
      std::fprintf(stderr, "kktflow verify: unknown claim '%s'; known claims: %s\n", name.c_str(),
                   fmt::format("{}", fmt::join(known, ", ")).c_str());
      return exit_usage;
    }
  }
  const RunInput run = read_run_input(opt.file);
  const VerifyOutcome outcome = verify_claims(run, opt.claims);
  write_verify(opt.file, outcome.claims, outcome.finals);
  const bool all_passed = std::ranges::all_of(outcome.claims, [](const ClaimResult& c) { return c.passed; });
  if (opt.json) {
    print_json(opt.file, outcome.claims, all_passed);
  } else {
    print_table(opt.file, outcome.claims, all_passed);
  }
  return all_passed ? exit_ok : exit_claim_failed;
}

}  // namespace kktflow
