#pragma once
/// \file config.hpp
/// The run configuration: TOML file + `--set key=value` overrides → validated structs.
/// Every error names the key, the bad value and the allowed range (LBFGSpp's validate habit),
/// and is a ConfigError so the CLI can exit with code 2.
#include "problems/dataset.hpp"
#include "problems/loss.hpp"
#include "problems/model_registry.hpp"
#include "solver/driver.hpp"
#include "solver/flow_system.hpp"
#include "solver/square_flow.hpp"
#include "solver/stepper.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace kktflow {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A warm start: θ(0) = c θ̂, θ̂ the final direction of another run's file, c such that
/// min_i y_i f(x_i; θ(0)) = margin on this run's data (problems/init.hpp: warm_start_theta).
struct WarmStart {
  std::string theta_file;  ///< a kktflow run file; "" starts from the model's own θ(0)
  double margin = 10;      ///< ours: loss ≈ e^(−10), well inside the late phase and far from rounding
};

struct RunConfig {
  std::uint64_t seed = 0;
  DatasetSpec data;
  ModelSpec model;                ///< [model]: the kind and its parameters (problems/model_registry.hpp)
  SquareFlowOptions square;       ///< relu2: the square-loss flow (its flow.*, stop.*, output.* keys)
  WarmStart init;                 ///< [init]; margin losses only
  LossKind loss = LossKind::exp;  ///< margin loss; relu2 has the square loss instead
  TimeMode time = TimeMode::loss;
  std::string coordinates = "span";  ///< "span" (data-span reduction) or "full" (θ itself)
  StepperOptions stepper;
  bool hand_off = false;                                ///< flow.stepper = "auto": hand off to late_stepper late
  StepperKind late_stepper = StepperKind::region_ros2;  ///< region_ros2 (span chart) or margin_ros3 (θ)
  std::string stepper_label;                            ///< the methods in use, for /model and the summary
  DriverOptions driver;
  double memory_limit_bytes = 0;  ///< limits.memory; 0: the machine's memory (memory_estimate.hpp)
  bool data_shape_given = false;  ///< data.n or data.d set explicitly (checked against a file)
  std::string resolved_toml;      ///< every key with its value in force, as TOML text
};

/// A key whose value differs between two configurations; "(absent)" where one lacks it.
struct KeyChange {
  std::string key;  ///< "section.key"
  std::string before;
  std::string after;
};

/// The keys whose values differ between two resolved configurations (RunConfig::resolved_toml),
/// values as TOML text. Throws ConfigError when either is not valid TOML.
std::vector<KeyChange> changed_keys(const std::string& before_toml, const std::string& after_toml);

/// Parses `path`, applies `overrides` ("section.key=value", value in TOML syntax or a bare
/// string), fills defaults and validates. Throws ConfigError.
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides);
/// The same from TOML text instead of a file (`kktflow config --defaults` reads ""); relative
/// data paths stay relative to the working directory.
RunConfig load_config_text(const std::string& text, const std::vector<std::string>& overrides);

}  // namespace kktflow
