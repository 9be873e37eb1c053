#pragma once
/// \file tolerance_source.hpp
/// Where each claim's tolerance comes from, for the verdict table: the paper's section when the
/// paper states the bound, "ours" when the project chose it (docs/claims.md gives the reasons).
#include <string>

namespace kktflow {

/// The source of `claim`'s tolerance, e.g. "ours" or "Timor et al. §3.2"; "unstated" for a
/// claim the table does not list.
std::string tolerance_source(const std::string& claim);

}  // namespace kktflow
