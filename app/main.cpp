/// kktflow: gradient flow of homogeneous networks to the KKT limit, and checks of the theorems
/// about it. Thin: parses argv, maps exceptions to exit codes; the work is in the libraries.
#include "commands.hpp"
#include "config.hpp"

#include "analysis/io/crash_guard.hpp"
#include "analysis/io/h5_error.hpp"
#include "analysis/sweep/sweep_spec.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

/// Parses argv and runs the subcommand; the exit code, with every exception mapped to one.
int run_cli(int argc, char** argv) {
  using namespace kktflow;
  CLI::App app{"kktflow: gradient flow to the max-margin KKT limit, with verified claims"};
  app.set_version_flag("--version", std::string("kktflow ") + KKTFLOW_VERSION + " (git " + KKTFLOW_GIT_COMMIT + ")");
  app.require_subcommand(1);
  RunOptions run;
  InfoOptions info;
  VerifyOptions verify;
  PlotOptions plot;
  SweepCommandOptions sweep;
  ConfigCommandOptions config;
  setup_run(app, run);
  setup_info(app, info);
  setup_verify(app, verify);
  setup_plot(app, plot);
  setup_sweep(app, sweep);
  setup_config(app, config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& done) {
    return done.get_exit_code();
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "kktflow: config error: %s\n", e.what());
    return exit_usage;
  } catch (const SweepError& e) {
    std::fprintf(stderr, "kktflow: sweep file error: %s\n", e.what());
    return exit_usage;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "kktflow: invalid input: %s\n", e.what());
    return exit_usage;
  } catch (const h5::Error& e) {
    std::fprintf(stderr, "kktflow: I/O error: %s\n", e.what());
    return exit_io;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kktflow: error: %s\n", e.what());
    return exit_io;
  }
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  kktflow::install_hdf5_crash_guard();
  kktflow::exit_process(run_cli(argc, argv));
}
