#pragma once
/// \file linear.hpp
/// Linear predictor f(x; θ) = ⟨θ, x⟩, 1-homogeneous (Soudry, Hoffer, Nacson, Gunasekar, Srebro,
/// "The implicit bias of gradient descent on separable data", JMLR 2018).
/// Known answers: on separable data with exp/logistic loss θ/‖θ‖ → w*/‖w*‖, the hard-margin SVM
/// direction, at rate O(1/log t). One sample x, label y, exp loss, plain time: q = y⟨θ, x⟩ obeys
/// dq/dt = ‖x‖² e^{−q}, so q(t) = log(e^{q(0)} + ‖x‖² t) (used to check stepper orders).
#include "model.hpp"

namespace kktflow {

class LinearModel final : public Model {
 public:
  explicit LinearModel(const Eigen::MatrixXd& X) : m_X(X) {}

  std::string kind() const override { return "linear"; }
  Eigen::Index dim() const override { return m_X.cols(); }
  Eigen::Index num_samples() const override { return m_X.rows(); }
  int homogeneity() const override { return 1; }
  std::vector<LayerView> layers() const override { return {{"w", 1, m_X.cols(), 0}}; }

  void forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) override {
    F.noalias() = m_X * theta;
  }
  void vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) override {
    grad.noalias() = m_X.transpose() * G;
  }
  /// No activation: nothing ever switches.
  Eigen::Index num_switches() const override { return 0; }
  void switch_functions(const Eigen::Ref<const Eigen::VectorXd>&, Eigen::Ref<Eigen::VectorXd>) override {}
  void switch_velocity(const Eigen::Ref<const Eigen::VectorXd>&, Eigen::Ref<Eigen::VectorXd>) override {}

 private:
  Eigen::MatrixXd m_X;
};

}  // namespace kktflow
