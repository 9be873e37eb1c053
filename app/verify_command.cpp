#include "commands.hpp"

#include "config.hpp"

#include "analysis/io/h5_error.hpp"
#include "analysis/io/path_checks.hpp"
#include "analysis/io/run_data_reader.hpp"
#include "analysis/io/run_store.hpp"
#include "analysis/io/verify_store.hpp"
#include "analysis/io/writer_lock.hpp"
#include "analysis/verify/claim_registry.hpp"
#include "analysis/verify/kkt.hpp"
#include "analysis/verify/tolerance_source.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace kktflow {
namespace {

/// Keys in the order written (name, passed, value, …), not sorted.
using Json = nlohmann::ordered_json;

/// A number for JSON: null when not finite (JSON has no NaN or infinity).
Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

/// The same run repeated at a tenth of the tolerances, to the same log t (--refine).
struct Refinement {
  std::string file;
  double rel_tol = 0, abs_tol = 0;
  std::string precision;   ///< flow.precision of the rerun
  double final_angle = 0;  ///< ∠(θ_T, θ_T of the refined run), rad
  std::vector<ClaimResult> claims;
};

/// Reruns `file`'s resolved configuration at tol/10 (and in `precision`, when given) up to its
/// last log t, verifies the rerun and measures the angle between the two final θ. Writes
/// FILE.refine.toml and FILE.refine.h5.
Refinement refine(const std::string& file, const std::vector<std::string>& claims, const std::string& precision) {
  const RunSummary summary = read_run_summary(file);
  if (!summary.last) throw h5::Error(file + ": no trajectory row to refine up to");
  const std::filesystem::path stem = std::filesystem::path(file).replace_extension();
  const std::string config_path = stem.string() + ".refine.toml";
  std::ofstream(config_path) << summary.config;
  const RunConfig base = load_config(config_path, {});
  Refinement r;
  r.file = stem.string() + ".refine.h5";
  r.rel_tol = base.stepper.rel_tol / 10;
  r.abs_tol = base.stepper.abs_tol / 10;
  r.precision = precision.empty() ? to_string(base.stepper.precision) : precision;
  RunOptions rerun;
  rerun.config = config_path;
  rerun.output = r.file;
  rerun.quiet = true;
  rerun.force = true;
  // Same log t, not the same stop rule: the comparison is at one point of the flow.
  rerun.overrides = {fmt::format("flow.rel_tol={:.17g}", r.rel_tol), fmt::format("flow.abs_tol={:.17g}", r.abs_tol),
                     fmt::format("stop.log_t_max={:.17g}", summary.last->log_t), "stop.kkt_eps=1e-300",
                     "flow.precision=" + r.precision};
  if (const int code = run_run(rerun); code != exit_ok)
    throw std::runtime_error("the refined run " + r.file + " ended with exit status " + std::to_string(code));
  r.claims = verify_run(read_run_data(r.file), claims).claims;
  r.final_angle = angle_between(read_final_theta(file), read_final_theta(r.file));
  return r;
}

Json refine_json(const std::vector<ClaimResult>& claims, const Refinement& r) {
  Json rows = Json::array();
  for (std::size_t k = 0; k < claims.size() && k < r.claims.size(); ++k) {
    rows.push_back({{"name", claims[k].name},
                    {"value", number(claims[k].value)},
                    {"refined_value", number(r.claims[k].value)},
                    {"difference", number(std::abs(r.claims[k].value - claims[k].value))},
                    {"passed", claims[k].passed},
                    {"refined_passed", r.claims[k].passed}});
  }
  return {{"file", r.file},
          {"rel_tol", r.rel_tol},
          {"abs_tol", r.abs_tol},
          {"precision", r.precision},
          {"final_angle", number(r.final_angle)},
          {"claims", rows}};
}

void print_json(const std::string& file, const std::vector<ClaimResult>& claims, bool all_passed,
                const std::optional<Refinement>& refined) {
  Json rows = Json::array();
  for (const ClaimResult& c : claims) {
    rows.push_back({{"name", c.name},
                    {"passed", c.passed},
                    {"value", number(c.value)},
                    {"tolerance", number(c.tolerance)},
                    {"tolerance_source", tolerance_source(c.name)},
                    {"certified", c.certified},
                    {"detail", c.detail},
                    {"not_certified", c.not_certified}});
  }
  Json out{{"file", file}, {"passed", all_passed}, {"claims", rows}};
  if (refined) out["refine"] = refine_json(claims, *refined);
  std::printf("%s\n", out.dump(2).c_str());
}

void print_refinement(const std::vector<ClaimResult>& claims, const Refinement& r) {
  std::printf(
      "\nrefined: %s (flow.rel_tol %.3g, flow.abs_tol %.3g, flow.precision %s, same log t); "
      "∠(θ_T, refined θ_T) = %.3e rad\n",
      r.file.c_str(), r.rel_tol, r.abs_tol, r.precision.c_str(), r.final_angle);
  std::printf("%s\n",
              fmt::format("{:<36}{:>14}{:>14}{:>12}  {}", "claim", "value", "refined", "|Δ|", "verdict").c_str());
  for (std::size_t k = 0; k < claims.size() && k < r.claims.size(); ++k) {
    const bool same = claims[k].passed == r.claims[k].passed;
    std::printf("%s\n",
                fmt::format("{:<36}{:>14.6g}{:>14.6g}{:>12.3g}  {}", claims[k].name, claims[k].value, r.claims[k].value,
                            std::abs(r.claims[k].value - claims[k].value), same ? "same" : "CHANGED")
                    .c_str());
  }
}

/// A claim that is not certified has not failed: a missing proof is no evidence against the theorem.
bool failed(const ClaimResult& c) { return !c.passed && !c.not_certified; }

std::string verdict(const ClaimResult& c) { return c.passed ? "PASS" : c.not_certified ? "NOT CERTIFIED" : "FAIL"; }

/// Characters as a terminal shows them (UTF-8 continuation bytes take no column): "§" is one.
std::size_t text_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string padded(const std::string& text, std::size_t width, bool right = false) {
  const std::string fill(width > text_width(text) ? width - text_width(text) : 0, ' ');
  return right ? fill + text : text + fill;
}

void print_table(const std::string& file, const std::vector<ClaimResult>& claims, bool all_passed) {
  using Row = std::array<std::string, 7>;
  std::vector<Row> rows{{"claim", "verdict", "value", "tolerance", "source", "certified", "detail"}};
  for (const ClaimResult& c : claims) {
    rows.push_back({c.name, verdict(c), fmt::format("{:.4g}", c.value), fmt::format("{:.7g}", c.tolerance),
                    tolerance_source(c.name), c.certified ? "yes" : "no", c.detail});
  }
  std::array<std::size_t, 6> width{};
  for (const Row& row : rows) {
    for (std::size_t k = 0; k < width.size(); ++k) width[k] = std::max(width[k], text_width(row[k]));
  }
  for (const Row& row : rows) {
    std::printf("%s\n", fmt::format("{}  {}  {}  {}  {}  {}  {}", padded(row[0], width[0]), padded(row[1], width[1]),
                                    padded(row[2], width[2], true), padded(row[3], width[3], true),
                                    padded(row[4], width[4]), padded(row[5], width[5]), row[6])
                            .c_str());
  }
  const auto passed = std::ranges::count_if(claims, [](const ClaimResult& c) { return c.passed; });
  const auto open = std::ranges::count_if(claims, [](const ClaimResult& c) { return c.not_certified; });
  std::printf("%s: %td of %zu claims passed%s%s\n", file.c_str(), passed, claims.size(),
              open > 0 ? fmt::format(", {} not certified", open).c_str() : "", all_passed ? "" : " (exit status 1)");
}

}  // namespace

void setup_verify(CLI::App& app, VerifyOptions& opt) {
  auto* verify =
      app.add_subcommand("verify", "Check the theorems' claims on a finished run file and record them in /verify");
  verify->add_option("file", opt.file, "run file written by kktflow run (it gains /verify and /final/polished_theta)");
  verify->add_flag("--list", opt.list, "print every claim verify knows, with what it checks, and exit");
  verify
      ->add_option("--claims", opt.claims,
                   "comma-separated claim names (default: every claim that applies to the model kind)")
      ->delimiter(',');
  verify->add_flag("--json", opt.json, "print JSON (schema: docs/verify-schema.json) instead of a table");
  verify->add_flag("--refine", opt.refine,
                   "rerun the run's config at flow.rel_tol/10 and flow.abs_tol/10 to the same log t (FILE.refine.h5) "
                   "and report each claim's change and the angle between the final directions");
  verify
      ->add_option("--refine-precision", opt.refine_precision,
                   "with --refine: flow.precision of the rerun (double, long_double, float128, mpfr:BITS); "
                   "default: the run's own")
      ->check([](const std::string& text) {
        try {
          parse_precision(text, "--refine-precision");
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      });
  verify->callback([&opt] { throw CLI::RuntimeError(run_verify(opt)); });
}

/// Every claim, one line each: its name and what it checks.
int print_claim_list() {
  std::size_t width = 0;
  for (const ClaimInfo& c : all_claims()) width = std::max(width, c.name.size());
  for (const ClaimInfo& c : all_claims())
    std::printf("%s\n", fmt::format("{:<{}}  {}", c.name, width, c.summary).c_str());
  return exit_ok;
}

int run_verify(const VerifyOptions& opt) {
  if (opt.list) return print_claim_list();
  if (opt.file.empty()) {
    std::fprintf(stderr, "kktflow verify: a run file is required (or --list)\n");
    return exit_usage;
  }
  if (!opt.refine && !opt.refine_precision.empty()) {
    std::fprintf(stderr, "kktflow verify: --refine-precision %s needs --refine\n", opt.refine_precision.c_str());
    return exit_usage;
  }
  const std::vector<std::string> known = all_claim_names();
  for (const std::string& name : opt.claims) {
    if (std::ranges::find(known, name) == known.end()) {
      std::fprintf(stderr, "kktflow verify: unknown claim '%s'; known claims: %s\n", name.c_str(),
                   fmt::format("{}", fmt::join(known, ", ")).c_str());
      return exit_usage;
    }
  }
  if (const auto problem = not_a_regular_file(opt.file))
    throw h5::Error(fmt::format("HDF5 file '{}', object '/': cannot open file: {}", opt.file, *problem));
  // verify writes /verify and /final: no run may be writing the file meanwhile, nor another verify.
  const WriterLock lock(opt.file);
  const VerifyOutcome outcome = verify_run(read_run_data(opt.file), opt.claims);
  write_verify(opt.file, outcome.claims, outcome.finals);
  const bool none_failed = std::ranges::none_of(outcome.claims, failed);
  const std::optional<Refinement> refined =
      opt.refine ? std::optional<Refinement>(refine(opt.file, opt.claims, opt.refine_precision)) : std::nullopt;
  if (opt.json) {
    print_json(opt.file, outcome.claims, none_failed, refined);
  } else {
    print_table(opt.file, outcome.claims, none_failed);
    if (refined) print_refinement(outcome.claims, *refined);
  }
  return none_failed ? exit_ok : exit_claim_failed;
}

}  // namespace kktflow
