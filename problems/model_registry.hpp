#pragma once
/// \file model_registry.hpp
/// Every model kind kktflow knows, in one place: its config keys, how it is built on data with
/// its θ(0), and how it is described in a run file's /model attributes and rebuilt from them.
/// `kktflow run` builds models from a configuration and `kktflow verify` from a run file; both
/// go through make_model, so a kind cannot be known to one and not the other.
///
///   leaky2_fixed_outer  f(x; W) = Σ_j a_j φ(⟨w_j, x⟩), a fixed          (leaky2_fixed_outer.hpp)
///   two_layer_leaky     the same with a trained                          (two_layer_leaky.hpp)
///   deep                bias-free stack of ReLU/linear layers           (deep.hpp)
///   linear              f(x; θ) = ⟨θ, x⟩                                 (linear.hpp)
///   relu2               N(x) = V σ(W x), two outputs, square loss        (relu2.hpp)
#include "deep.hpp"
#include "leaky2_fixed_outer.hpp"
#include "model.hpp"
#include "relu2.hpp"
#include "two_layer_leaky.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kktflow {

/// The linear model's θ(0): entries N(0, ω²); ω = 0 starts at θ = 0.
struct LinearParams {
  double init_scale = 0;
  std::uint64_t seed = 0;
};

/// A model kind and its parameters; only the struct of `kind` is read.
struct ModelSpec {
  std::string kind = "leaky2_fixed_outer";
  Leaky2Params leaky2;
  TwoLayerLeakyParams two_layer;
  DeepParams deep;
  Relu2Params relu2;
  LinearParams linear;
};

/// The kinds, in the order messages list them.
const std::vector<std::string>& model_kinds();

/// The model.* keys `kind` reads besides kind, loss and seed. Throws std::invalid_argument
/// naming model.kind and the allowed kinds for an unknown kind.
const std::set<std::string>& model_keys(const std::string& kind);

/// Sets the seed of `kind`'s parameters (θ(0) and, for random outer signs, a).
void set_model_seed(ModelSpec& spec, std::uint64_t seed);

/// Throws std::invalid_argument naming the key (model.*), the value and the allowed range.
void validate(const ModelSpec& spec);

/// A model bound to its inputs, with the θ(0) its parameters define.
struct BuiltModel {
  std::unique_ptr<Model> model;
  Eigen::VectorXd theta0;
};

/// Builds spec.kind on the inputs X (n × d). Throws std::invalid_argument as validate does.
BuiltModel make_model(const ModelSpec& spec, const Eigen::MatrixXd& X);

/// The /model attributes that describe a model besides its kind: text (activation, …) and
/// numbers (width, gamma, …, stored as f64).
struct ModelDescription {
  std::map<std::string, std::string> text;
  std::map<std::string, double> numbers;
};

ModelDescription describe_model(const ModelSpec& spec);

/// The spec that describe_model described, from the attributes as text (numbers in any format
/// std::stod reads). Seeds are not stored: the rebuilt model's θ(0) is not the run's, nor, for
/// leaky2_fixed_outer with signs = "random", its outer layer (the run file keeps a in /model/a).
/// Throws std::invalid_argument naming a missing or malformed attribute.
ModelSpec spec_from_attributes(const std::map<std::string, std::string>& attrs);

}  // namespace kktflow
