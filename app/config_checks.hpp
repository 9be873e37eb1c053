#pragma once
/// \file config_checks.hpp
/// Checks of a run configuration that span keys or reach outside it: the `[limits]` section,
/// the log-t stop keys (whose NaN or infinite values would silently disable a rule), the cap on
/// output.k_top, and the paths a run will read. Internal to app/: config.cpp calls the checks of
/// values, run_session calls check_input_paths when it is about to read the files.
#include "config.hpp"
#include "config_reader.hpp"

#include <cstdint>
#include <string>

namespace kktflow {

/// Largest output.k_top (ours): a trajectory row holds 8·(19 + k_top) bytes and its column is
/// written in chunks of 1024 rows, so k_top = 1024 already makes 8 MB chunks, and a first layer
/// has far fewer singular values worth recording.
inline constexpr int kMaxKTop = 1024;

/// Reads `[limits]` (limits.memory: a byte count, or a string such as "8 GiB" or "500 MB").
void read_limits(config_detail::Reader& r, RunConfig& c);

/// Parses a memory size: a non-negative number of bytes, or text "<number> <unit>" with unit B,
/// kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024). Throws ConfigError
/// naming `key`.
double parse_memory_size(const toml::node& node, const std::string& key);

/// Refuses values that would disable a rule without saying so: stop.log_t_max NaN or ±∞ (the run
/// would stop at once, or never by log t), stop.log_t_min NaN or +∞ (the run could never count
/// as converged), and output.k_top above kMaxKTop.
void check_stop_and_output(const RunConfig& c);

/// Refuses flow.stepper = "margin_ros2" or "margin_ros3" outside θ coordinates (their matrix takes
/// the margin gradients of FullCoordinates; the span chart's late-phase method is region_ros2) and
/// with flow.time = "t" (they integrate in normalized time).
void check_margin_stepper(const RunConfig& c);

/// Refuses data.path and data.labels (data read from a file) and init.theta_file unless each
/// names a regular file:
/// a FIFO would block the run forever and a device such as /dev/zero would fill the memory. Not
/// part of load_config: a sweep resolves the configuration of every case before its files need
/// exist, and a case whose file is missing fails (and is retried) like any other failed run.
void check_input_paths(const RunConfig& c);

}  // namespace kktflow
