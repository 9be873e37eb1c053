/// \file config_command.cpp
/// `kktflow config CONFIG.toml [--set key=value]...`: the configuration a run would use, every
/// default filled in and every check passed, as the TOML a run records in its file.
/// `kktflow config --defaults [--set key=value]...`: every key with the value it takes when the
/// file does not give it. The keys of [model] depend on model.kind (`--set model.kind=deep`),
/// and the flow's keys on whether the loss is a margin loss or relu2's square loss.
#include "commands.hpp"
#include "config.hpp"

#include <cstdio>

namespace kktflow {

void setup_config(CLI::App& app, ConfigCommandOptions& opt) {
  auto* config = app.add_subcommand("config", "Print run configuration keys");
  auto* file = config->add_option("config", opt.config_file, "run configuration (TOML) to resolve");
  auto* defaults = config->add_flag("--defaults", opt.defaults, "every key with its default value, as TOML");
  file->excludes(defaults);
  config->add_option("--set", opt.overrides, "a key to fix first, e.g. --set model.kind=deep (repeatable)");
  config->callback([&opt] { throw CLI::RuntimeError(run_config_command(opt)); });
}

int run_config_command(const ConfigCommandOptions& opt) {
  if (!opt.defaults && opt.config_file.empty()) {
    std::fprintf(stderr, "kktflow config: give a configuration file or --defaults\n");
    return exit_usage;
  }
  if (!opt.defaults) {
    const RunConfig c = load_config(opt.config_file, opt.overrides);
    std::printf("# %s resolved: every key a run would use\n%s\n", opt.config_file.c_str(), c.resolved_toml.c_str());
    return exit_ok;
  }
  const RunConfig c = load_config_text("", opt.overrides);
  std::printf(
      "# every key of a run configuration with model.kind = \"%s\" and its default; docs/config.md\n"
      "# gives each key's meaning and range\n%s\n",
      c.model.kind.c_str(), c.resolved_toml.c_str());
  return exit_ok;
}

}  // namespace kktflow
