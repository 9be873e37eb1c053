#pragma once
/// \file commands.hpp
/// One options struct + setup_x + run_x per subcommand (CLI11's subcom_in_files habit).
#include "exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace kktflow {

struct RunOptions {
  std::string config;
  std::string output;
  std::vector<std::string> overrides;
  bool quiet = false;
  bool force = false;
  bool resume = false;         ///< continue the output file from its /checkpoint
  double progress_every = 30;  ///< off a terminal: seconds between progress lines (ours); 0: none
};
void setup_run(CLI::App& app, RunOptions& opt);
int run_run(const RunOptions& opt);

struct InfoOptions {
  std::string file;
  bool follow = false;  ///< poll a live run (SWMR) and print each new row until it ends
};
void setup_info(CLI::App& app, InfoOptions& opt);
int run_info(const InfoOptions& opt);

struct VerifyOptions {
  std::string file;
  std::vector<std::string> claims;  ///< empty: every known claim
  bool json = false;
  bool refine = false;           ///< rerun at flow.rel_tol/10, flow.abs_tol/10 to the same log t and compare
  std::string refine_precision;  ///< flow.precision of that rerun; empty: the run's own
  bool list = false;             ///< print every known claim instead
};
void setup_verify(CLI::App& app, VerifyOptions& opt);
/// 0 when every selected claim passes, 1 when one fails, 2 for an unknown claim name.
int run_verify(const VerifyOptions& opt);

struct PlotOptions {
  std::string file;
  std::string output;
  bool snapshots = false;  ///< the first layer's rows in the model's plane instead of the trajectory panels
};
void setup_plot(CLI::App& app, PlotOptions& opt);
/// `python -m kktflow.plot`'s exit code: 0, 2 usage, 3 unreadable run file or unwritable PNG, 4
/// Python or a module missing (the message says what to install).
int run_plot(const PlotOptions& opt);

struct ConfigCommandOptions {
  std::string config_file;  ///< the configuration to resolve; empty with --defaults
  bool defaults = false;
  std::vector<std::string> overrides;  ///< keys fixed first (model.kind selects the [model] keys)
};
void setup_config(CLI::App& app, ConfigCommandOptions& opt);
int run_config_command(const ConfigCommandOptions& opt);

struct SweepCommandOptions {
  std::string sweep_file;
  std::string output;  ///< the sweep directory
  int jobs = 0;        ///< cases at a time in this process; 0: the cores (1 under mpirun)
  bool quiet = false;
  double progress_every = 30;  ///< off a terminal: seconds between progress lines (ours); 0: none
};
void setup_sweep(CLI::App& app, SweepCommandOptions& opt);
/// 0 when every case is done, 2 for a bad sweep file or case configuration, 4 when a case failed
/// after its retry or was not started (budget), 130 when interrupted.
int run_sweep_command(const SweepCommandOptions& opt);

}  // namespace kktflow
