#pragma once
/// \file sweep_table.hpp
/// A sweep's cases as one table, for people: each case's parameters, state, final figures and how
/// many of its claims passed. `kktflow sweep` prints it at the end and `kktflow info` of an index.
#include "analysis/io/sweep_index.hpp"

#include <string>

namespace kktflow {

/// The index's header (the sweep file, mode, counts) and one line per case.
void print_sweep_index(const std::string& path, const SweepIndexContents& index);

/// One line per case.
void print_case_table(const SweepIndexContents& index);

}  // namespace kktflow
