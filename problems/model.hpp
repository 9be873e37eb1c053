#pragma once
/// \file model.hpp
/// The network interface the flow integrates. A model is bound to its inputs X at
/// construction, so every buffer is sized once and forward/vjp allocate nothing.
#include <Eigen/Dense>

#include <string>
#include <vector>

namespace kktflow {

/// A named block of the flat parameter vector θ: rows × cols, row-major, at `offset`.
struct LayerView {
  std::string name;
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  Eigen::Index offset = 0;
};

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string kind() const = 0;
  /// Number of parameters, dim θ.
  virtual Eigen::Index dim() const = 0;
  /// Number of samples the model is bound to.
  virtual Eigen::Index num_samples() const = 0;
  /// Outputs per sample, k: forward fills F as n × k, row-major (sample after sample), and vjp
  /// takes G of the same shape. 1 for every scalar-output model.
  virtual Eigen::Index num_outputs() const { return 1; }
  /// L such that f(x; cθ) = c^L f(x; θ) for c > 0.
  virtual int homogeneity() const = 0;
  /// Layers of θ, in order, each row-major.
  virtual std::vector<LayerView> layers() const = 0;

  /// F_i = f(x_i; θ) ∈ R^k for the bound inputs (F has n·k entries). Caches what vjp needs.
  virtual void forward(const Eigen::Ref<const Eigen::VectorXd>& theta,
                       Eigen::Ref<Eigen::VectorXd> F) = 0;
  /// grad = Σ_i G_i ∂F_i/∂θ at the θ of the last forward call.
  virtual void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) = 0;

  /// Number of switch functions: the pre-activations whose signs define the activation pattern.
  virtual Eigen::Index num_switches() const = 0;
  /// s_k(θ); the vector field is smooth while no s_k changes sign.
  virtual void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                Eigen::Ref<Eigen::VectorXd> s) = 0;
  /// ds = (∂s/∂θ) dθ at the θ of the last switch_functions call.
  virtual void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) = 0;
};

}  // namespace kktflow
