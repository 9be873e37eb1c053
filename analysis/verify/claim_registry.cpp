#include "analysis/verify/claim_registry.hpp"

#include "analysis/verify/frei2023_claims.hpp"
#include "analysis/verify/frei2023_gd_claims.hpp"
#include "analysis/verify/le2022_claims.hpp"
#include "analysis/verify/limit_certificate_claims.hpp"
#include "analysis/verify/lyu2021_claims.hpp"
#include "analysis/verify/lyuli2020_claims.hpp"
#include "analysis/verify/soudry2018_claims.hpp"
#include "analysis/verify/timor2023_claims.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace kktflow {
namespace {

using Names = ClaimNames;

/// The families in report order.
const std::vector<const ClaimFamily*>& families() {
  static const std::vector<const ClaimFamily*> table{
      &frei2023_family(), &frei2023_gd_family(), &timor2023_family(), &lyu2021_family(),
      &le2022_family(),   &soudry2018_family(),  &lyuli2020_family(), &limit_certificate_family()};
  return table;
}

Names names_of(const std::vector<ClaimInfo>& claims) {
  Names out;
  for (const ClaimInfo& c : claims) out.push_back(c.name);
  return out;
}

const ClaimFamily* family_of(const std::string& name) {
  for (const ClaimFamily* f : families())
    for (const ClaimInfo& c : f->claims)
      if (c.name == name) return f;
  return nullptr;
}

/// Every claim that may be asked for on `run`, in report order.
Names requestable_claims(const RunData& run) {
  Names out;
  for (const ClaimFamily* f : families())
    for (const std::string& name : f->requestable(run)) out.push_back(name);
  return out;
}

}  // namespace

const std::vector<ClaimInfo>& all_claims() {
  static const std::vector<ClaimInfo> claims = [] {
    std::vector<ClaimInfo> out;
    for (const ClaimFamily* f : families()) out.insert(out.end(), f->claims.begin(), f->claims.end());
    return out;
  }();
  return claims;
}

Names all_claim_names() { return names_of(all_claims()); }

Names applicable_claims(const RunData& run) {
  Names out;
  for (const ClaimFamily* f : families())
    for (const std::string& name : f->applicable(run)) out.push_back(name);
  return out;
}

VerifyOutcome verify_run(const RunData& run, const Names& names) {
  const Names requestable = requestable_claims(run);
  for (const std::string& name : names) {
    if (!family_of(name))
      throw std::invalid_argument(
          fmt::format("unknown claim '{}'; known claims: {}", name, fmt::join(all_claim_names(), ", ")));
    if (std::ranges::find(requestable, name) == requestable.end())
      throw std::invalid_argument(fmt::format("claim '{}' does not apply to model kind {}; claims that do: {}", name,
                                              run.kind, fmt::join(requestable, ", ")));
  }
  VerifyOutcome outcome;
  std::map<std::string, ClaimResult> by_name;
  for (const ClaimFamily* f : families()) {
    Names wanted;
    for (const std::string& name : names.empty() ? f->applicable(run) : names)
      if (family_of(name) == f) wanted.push_back(name);
    if (wanted.empty()) continue;
    VerifyOutcome part = f->check(run, wanted);
    if (part.finals.polished_theta.size() > 0) outcome.finals = std::move(part.finals);
    for (ClaimResult& r : part.claims) {
      if (names.empty()) outcome.claims.push_back(r);
      by_name[r.name] = std::move(r);
    }
  }
  for (const std::string& name : names) outcome.claims.push_back(by_name.at(name));
  return outcome;
}

}  // namespace kktflow
