#pragma once
/// \file first_layer.hpp
/// The first layer z = W x shared by the two-layer models (two_layer_leaky.hpp, relu2.hpp), bound
/// to its inputs X (n × d). W ∈ R^{m×d} is the first m·d entries of θ, row-major. It owns what
/// the layer means for the flow:
///   - the pre-activations Z = W Xᵀ (m × n), which are the switch functions s_{j·n+i} = Z_ji;
///   - the weight gradient dW = D X from backward coefficients D (m × n);
///   - the held pairs (unit j, sample i) of Filippov sliding, sitting on their kinks Z_ji = 0,
///     and the projection of W back onto those kinks (model.hpp: project_rows_off_inputs).
#include "model.hpp"

#include <vector>

namespace kktflow {

class FirstLayer {
 public:
  FirstLayer(const Eigen::MatrixXd& X, Eigen::Index width) : m_X(X), m_m(width) {}

  Eigen::Index width() const { return m_m; }
  Eigen::Index features() const { return m_X.cols(); }
  Eigen::Index samples() const { return m_X.rows(); }
  /// Entries of W in θ: m·d.
  Eigen::Index size() const { return m_m * m_X.cols(); }
  LayerView view() const { return {"W", m_m, m_X.cols(), 0}; }
  /// W as a row-major view of θ's first m·d entries.
  Eigen::Map<const RowMajorMatrix> weights(const Eigen::Ref<const Eigen::VectorXd>& theta) const {
    return {theta.data(), m_m, m_X.cols()};
  }

  /// Z = W Xᵀ.
  void pre_activations(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::MatrixXd& Z) const {
    Z.noalias() = weights(theta) * m_X.transpose();
  }
  /// s_{j·n+i} = ⟨w_j, x_i⟩; linear in W, so also the switch velocity of dθ.
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) const {
    Eigen::Map<RowMajorMatrix> S(s.data(), m_m, m_X.rows());
    S.noalias() = weights(theta) * m_X.transpose();
  }
  /// dW = D X into grad's first m·d entries.
  void weight_gradient(const Eigen::MatrixXd& D, Eigen::Ref<Eigen::VectorXd> grad) const {
    Eigen::Map<RowMajorMatrix> dW(grad.data(), m_m, m_X.cols());
    dW.noalias() = D * m_X;
  }

  /// ‖w_j‖‖x_i‖ at k = j·n + i (Model::switch_scales).
  void switch_scales(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> scales) const {
    Eigen::Map<RowMajorMatrix> S(scales.data(), m_m, m_X.rows());
    S.noalias() = weights(theta).rowwise().norm() * m_X.rowwise().norm().transpose();
  }

  /// The held switches (sorted, k = j·n + i), as (unit, sample) pairs.
  void set_held(const std::vector<Eigen::Index>& switches) { m_held = held_units(switches, m_X.rows()); }
  const std::vector<HeldUnit>& held() const { return m_held; }
  /// Moves W so every held pair sits on its kink (rows keep their norms).
  void hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta) const {
    project_rows_off_inputs(Eigen::Map<RowMajorMatrix>(theta.data(), m_m, m_X.cols()), m_X.transpose(), m_held);
  }

 private:
  Eigen::MatrixXd m_X;
  Eigen::Index m_m;
  std::vector<HeldUnit> m_held;
};

/// A model whose switches are the pre-activations of its first layer, s_{j·n+i} = ⟨w_j, x_i⟩,
/// and whose held pairs sit on those kinks: what such models share of the Model interface.
class FirstLayerModel : public Model {
 public:
  FirstLayerModel(const Eigen::MatrixXd& X, Eigen::Index width) : m_first(X, width) {}

  Eigen::Index num_samples() const override { return m_first.samples(); }
  Eigen::Index num_switches() const override { return m_first.width() * m_first.samples(); }
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) override {
    m_first.switch_functions(theta, s);
  }
  /// The pre-activations are linear in W and do not depend on the other layers: ds = s(dθ).
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) override {
    m_first.switch_functions(dtheta, ds);
  }
  bool supports_held_kinks() const override { return true; }
  void set_held(const std::vector<Eigen::Index>& switches) override { m_first.set_held(switches); }
  void hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta) override { m_first.hold_on_kinks(theta); }
  void switch_scales(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> scales) override {
    m_first.switch_scales(theta, scales);
  }

 protected:
  FirstLayer m_first;
};

}  // namespace kktflow
