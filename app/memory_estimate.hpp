#pragma once
/// \file memory_estimate.hpp
/// What a run will allocate, estimated from its configuration before anything is allocated, and
/// the budget it must fit: limits.memory, or else the memory of the machine (physical memory,
/// capped by a cgroup limit and by RLIMIT_AS and RLIMIT_DATA). A configuration beyond its budget
/// is refused (exit 2) in a fraction of a second, with the estimate and the key that sets the
/// budget, instead of failing with std::bad_alloc, or being killed by the kernel, minutes later.
///
/// The estimate is a sum of parts, each a count of doubles of one shape (the data, θ, the
/// integrated state, the switch functions, the n × n Gram and Newton matrices of the span chart)
/// times how many such arrays the code holds. The counts were measured as the peak resident size
/// of runs at several sizes (docs/config.md, [limits]); they round up.
#include "config.hpp"

#include <string>
#include <vector>

namespace kktflow {

/// One part of an estimate.
struct MemoryPart {
  std::string what;  ///< e.g. "per-switch arrays (m·n = 5000 each, ×24)"
  double bytes = 0;
};

/// The estimated peak memory of a run, in parts.
struct MemoryEstimate {
  std::vector<MemoryPart> parts;

  [[nodiscard]] double total() const;
  /// "3.2 GB: data X … 1.6 GB, …", parts largest first.
  [[nodiscard]] std::string describe() const;
};

/// The estimate for configuration `c` on data of n samples and d features (data.n and data.d, or
/// the shape of data.path's file).
MemoryEstimate estimate_run_memory(const RunConfig& c, double n, double d);

/// The memory this process may use: physical memory, capped by the cgroup's limit (v1 or v2),
/// RLIMIT_AS and RLIMIT_DATA.
double machine_memory_bytes();

/// The run's memory budget: limits.memory when set, else machine_memory_bytes().
double memory_budget_bytes(const RunConfig& c);

/// Throws ConfigError when `estimate` exceeds the budget (limits.memory if set, else
/// machine_memory_bytes()), naming the estimate, its largest parts, the budget and its key.
void check_memory_budget(const RunConfig& c, const MemoryEstimate& estimate);

/// "1.50 GB" (powers of 1000).
std::string bytes_text(double bytes);

}  // namespace kktflow
