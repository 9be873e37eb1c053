#include "sweep_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kktflow {

namespace {

double figure(const IndexedCase& c, const char* name) {
  const auto it = c.final.find(name);
  return it == c.final.end() ? std::nan("") : it->second;
}

std::string verdicts(const IndexedCase& c) {
  const auto passed = std::ranges::count_if(c.claims, [](const ClaimResult& r) { return r.passed; });
  std::string failed;
  for (const ClaimResult& r : c.claims)
    if (!r.passed) failed += (failed.empty() ? " failed: " : ", ") + r.name;
  return c.claims.empty() ? "—" : fmt::format("{}/{} passed{}", passed, c.claims.size(), failed);
}

}  // namespace

void print_case_table(const SweepIndexContents& index) {
  std::size_t width = 5;
  for (const IndexedCase& c : index.cases) width = std::max(width, c.label.size());
  std::printf("%s\n", fmt::format("  {:>4}  {:<{}}  {:<7}  {:>12}  {:>9}  {:>9}  {}", "case", "label", width, "state",
                                  "margin", "srank", "ε_KKT", "claims")
                          .c_str());
  for (const IndexedCase& c : index.cases)
    std::printf("%s\n", fmt::format("  {:>4}  {:<{}}  {:<7}  {:>12.6g}  {:>9.5f}  {:>9.2e}  {}", c.index, c.label,
                                    width, c.state, figure(c, "normalized_margin"), figure(c, "stable_rank"),
                                    figure(c, "kkt_eps"), verdicts(c))
                            .c_str());
}

void print_sweep_index(const std::string& path, const SweepIndexContents& index) {
  const auto count = [&](const char* state) {
    return std::ranges::count(index.cases, std::string(state), &IndexedCase::state);
  };
  std::printf("%s: kktflow-sweep, created %s\n", path.c_str(), index.created.c_str());
  std::printf("sweep       %s (mode %s, base %s)\n", index.sweep.path.c_str(), index.sweep.mode.c_str(),
              index.sweep.base_config.c_str());
  std::printf("cases       %zu: %td done, %td failed, %td pending; %.1f s, %d at a time on %d rank%s\n",
              index.cases.size(), count("done"), count("failed"), count("pending"), index.totals.wall_s,
              index.totals.workers, index.totals.ranks, index.totals.ranks == 1 ? "" : "s");
  print_case_table(index);
}

}  // namespace kktflow
