// The trained-layer models (two_layer_leaky, deep) against their definitions: VJPs against central
// differences away from kinks (Eigen's NumericalDiff habit), switch velocities against differences
// of the switch functions, homogeneity f(cθ) = c^L f(θ), the infinitesimal form of each model's
// conserved quantity (an exact identity of the VJP, so a wrong layer gradient breaks it), and an
// allocation-free forward/vjp.
#define BOOST_TEST_MODULE models
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/deep.hpp"
#include "problems/two_layer_leaky.hpp"

#include <cmath>
#include <memory>

using namespace kktflow;
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

const Dataset& data() {
  static const Dataset d = make_dataset(gaussian_spec(7, 5, 3));
  return d;
}

std::unique_ptr<TwoLayerLeaky> leaky() {
  return std::make_unique<TwoLayerLeaky>(data().X, TwoLayerLeakyParams{4, 0.3, 0.7, 11});
}

std::unique_ptr<DeepNet> deep(std::vector<std::string> layers, bool skip) {
  return std::make_unique<DeepNet>(data().X, DeepParams{std::move(layers), 4, skip, 0.8, 12});
}

double distance_to_kink(Model& model, const Eigen::VectorXd& theta) {
  if (model.num_switches() == 0) return INFINITY;
  Eigen::VectorXd s(model.num_switches());
  model.switch_functions(theta, s);
  return s.cwiseAbs().minCoeff();
}

void check_vjp(Model& model, const Eigen::VectorXd& theta) {
  const double h = 1e-6;
  BOOST_REQUIRE_GT(distance_to_kink(model, theta), 1e-3);
  const Eigen::Index n = model.num_samples();
  const Eigen::VectorXd G = Eigen::VectorXd::LinSpaced(n, -1.0, 2.0);
  Eigen::VectorXd F(n), grad(model.dim());
  model.forward(theta, F);
  model.vjp(G, grad);
  for (Eigen::Index k = 0; k < model.dim(); ++k) {
    Eigen::VectorXd tp = theta, tm = theta, Fp(n), Fm(n);
    tp[k] += h;
    tm[k] -= h;
    model.forward(tp, Fp);
    model.forward(tm, Fm);
    BOOST_TEST(grad[k] == G.dot(Fp - Fm) / (2 * h), boost::test_tools::tolerance(1e-6));
  }
}

void check_switch_velocity(Model& model, const Eigen::VectorXd& theta) {
  const double h = 1e-6;
  const Eigen::VectorXd dtheta = Eigen::VectorXd::LinSpaced(model.dim(), -0.4, 0.3);
  Eigen::VectorXd sp(model.num_switches()), sm(model.num_switches()), s(model.num_switches()), ds(model.num_switches());
  model.switch_functions(theta + h * dtheta, sp);
  model.switch_functions(theta - h * dtheta, sm);
  model.switch_functions(theta, s);
  model.switch_velocity(dtheta, ds);
  BOOST_TEST((ds - (sp - sm) / (2 * h)).norm() <= 1e-6 * ds.norm());
}

void check_homogeneity(Model& model, const Eigen::VectorXd& theta) {
  const Eigen::Index n = model.num_samples();
  Eigen::VectorXd F(n), Fc(n);
  model.forward(theta, F);
  model.forward(2.5 * theta, Fc);
  BOOST_TEST((Fc - std::pow(2.5, model.homogeneity()) * F).norm() <= 1e-12 * Fc.norm());
}

/// The VJP's gradient for an arbitrary G, i.e. a flow velocity up to the sign of the loss weights.
Eigen::VectorXd some_velocity(Model& model, const Eigen::VectorXd& theta) {
  Eigen::VectorXd F(model.num_samples()), grad(model.dim());
  model.forward(theta, F);
  model.vjp(Eigen::VectorXd::LinSpaced(model.num_samples(), 1.5, -0.5), grad);
  return grad;
}

Eigen::Map<const RowMajor> layer(const Eigen::VectorXd& theta, const LayerView& v) {
  return {theta.data() + v.offset, v.rows, v.cols};
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_layer_leaky_gradients_switches_and_homogeneity) {
  auto model = leaky();
  const Eigen::VectorXd theta = model->initial_theta();
  check_vjp(*model, theta);
  check_switch_velocity(*model, theta);
  check_homogeneity(*model, theta);
  BOOST_TEST(model->homogeneity() == 2);
}

BOOST_AUTO_TEST_CASE(two_layer_leaky_conserves_a_squared_minus_w_squared) {
  // d/dt (a_j² − ‖w_j‖²) = 2 (a_j ȧ_j − ⟨w_j, ẇ_j⟩) = 0 because φ'(z) z = φ(z) (Lyu et al. 2021).
  auto model = leaky();
  const Eigen::VectorXd theta = model->initial_theta();
  const Eigen::VectorXd v = some_velocity(*model, theta);
  const auto views = model->layers();
  const Eigen::VectorXd a = theta.tail(4), da = v.tail(4);
  const Eigen::VectorXd rate = (a.array() * da.array()).matrix() -
                               (layer(theta, views[0]).array() * layer(v, views[0]).array()).rowwise().sum().matrix();
  BOOST_TEST(rate.norm() <= 1e-13 * v.norm() * theta.norm());
  BOOST_TEST(v.norm() > 0.1);
}

BOOST_AUTO_TEST_CASE(deep_gradients_switches_and_homogeneity) {
  for (bool skip : {false, true}) {
    auto model = deep({"relu", "relu", "linear", "linear"}, skip);
    const Eigen::VectorXd theta = model->initial_theta();
    BOOST_TEST_CONTEXT("skip " << skip) {
      check_vjp(*model, theta);
      check_switch_velocity(*model, theta);
      check_homogeneity(*model, theta);
      BOOST_TEST(model->homogeneity() == 4);
      BOOST_TEST(model->num_switches() == 2 * 4 * 7);
    }
  }
}

BOOST_AUTO_TEST_CASE(deep_linear_gradients_and_balancedness) {
  // Linear ψ_l: d/dt (W_{l+1}ᵀW_{l+1} − W_l W_lᵀ) = 0 (Arora, Cohen, Hazan 2018).
  auto model = deep({"linear", "linear", "linear"}, false);
  const Eigen::VectorXd theta = model->initial_theta();
  check_vjp(*model, theta);
  BOOST_TEST(model->num_switches() == 0);
  const Eigen::VectorXd v = some_velocity(*model, theta);
  const auto views = model->layers();
  for (std::size_t l = 0; l + 1 < views.size(); ++l) {
    const auto W = layer(theta, views[l]), dW = layer(v, views[l]);
    const auto U = layer(theta, views[l + 1]), dU = layer(v, views[l + 1]);
    const Eigen::MatrixXd rate = dU.transpose() * U + U.transpose() * dU - dW * W.transpose() - W * dW.transpose();
    BOOST_TEST(rate.norm() <= 1e-13 * v.norm() * theta.norm());
  }
}

BOOST_AUTO_TEST_CASE(deep_relu_conserves_each_neurons_balance) {
  // Homogeneous ψ_l: ‖row_j W_l‖² − ‖col_j W_{l+1}‖² is conserved (Du, Hu, Lee 2018), with or without the skip.
  for (bool skip : {false, true}) {
    auto model = deep({"relu", "relu", "linear"}, skip);
    const Eigen::VectorXd theta = model->initial_theta();
    const Eigen::VectorXd v = some_velocity(*model, theta);
    const auto views = model->layers();
    for (std::size_t l = 0; l + 1 < views.size(); ++l) {
      const auto W = layer(theta, views[l]), dW = layer(v, views[l]);
      const auto U = layer(theta, views[l + 1]), dU = layer(v, views[l + 1]);
      const Eigen::VectorXd rate = (W.array() * dW.array()).rowwise().sum().matrix() -
                                   (U.array() * dU.array()).colwise().sum().transpose().matrix();
      BOOST_TEST(rate.norm() <= 1e-13 * v.norm() * theta.norm());
    }
  }
}

BOOST_AUTO_TEST_CASE(deep_trailing_linear_layers_follow_the_last_relu) {
  using Layers = std::vector<std::size_t>;
  BOOST_TEST(deep({"relu", "relu", "linear", "linear"}, false)->trailing_linear_layers() == Layers({2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(deep({"linear", "relu", "linear"}, false)->trailing_linear_layers() == Layers({2}),
             boost::test_tools::per_element());
  BOOST_TEST(deep({"linear", "linear", "linear"}, false)->trailing_linear_layers() == Layers({0, 1, 2}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(deep_rejects_bad_layer_lists) {
  BOOST_CHECK_THROW(deep({"relu", "tanh", "linear"}, false), std::invalid_argument);
  BOOST_CHECK_THROW(deep({"linear", "relu"}, false), std::invalid_argument);
  BOOST_CHECK_THROW(deep({}, false), std::invalid_argument);
}

#ifdef EIGEN_RUNTIME_NO_MALLOC  // Debug builds (cmake/KktflowTargets.cmake)
BOOST_AUTO_TEST_CASE(forward_and_vjp_allocate_nothing) {
  std::vector<std::unique_ptr<Model>> models;
  models.push_back(leaky());
  models.push_back(deep({"relu", "relu", "linear", "linear"}, true));
  for (auto& model : models) {
    const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(model->dim(), -0.5, 0.6);
    Eigen::VectorXd F(model->num_samples()), grad(model->dim()), s(model->num_switches()), ds(model->num_switches());
    const Eigen::VectorXd G = Eigen::VectorXd::Ones(model->num_samples());
    Eigen::internal::set_is_malloc_allowed(false);
    model->forward(theta, F);
    model->vjp(G, grad);
    model->switch_functions(theta, s);
    model->switch_velocity(grad, ds);
    Eigen::internal::set_is_malloc_allowed(true);
    BOOST_TEST(grad.allFinite());
  }
}
#endif
