// The trained-layer models (two_layer_leaky, deep, relu2) against their definitions: VJPs against central
// differences away from kinks (Eigen's NumericalDiff habit), switch velocities against differences
// of the switch functions, homogeneity f(cθ) = c^L f(θ), the infinitesimal form of each model's
// conserved quantity (an exact identity of the VJP, so a wrong layer gradient breaks it), and an
// allocation-free forward/vjp.
#define BOOST_TEST_MODULE models
#include <boost/test/unit_test.hpp>

#include "problems/dataset.hpp"
#include "problems/deep.hpp"
#include "problems/loss.hpp"
#include "problems/relu2.hpp"
#include "problems/two_layer_leaky.hpp"

#include <cmath>
#include <initializer_list>
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

std::unique_ptr<Relu2> relu2() { return std::make_unique<Relu2>(data().X, Relu2Params{4, 3, 0.9, 13}); }

/// Entries of F: n·k.
Eigen::Index outputs(const Model& model) { return model.num_samples() * model.num_outputs(); }

double distance_to_kink(Model& model, const Eigen::VectorXd& theta) {
  if (model.num_switches() == 0) return INFINITY;
  Eigen::VectorXd s(model.num_switches());
  model.switch_functions(theta, s);
  return s.cwiseAbs().minCoeff();
}

void check_vjp(Model& model, const Eigen::VectorXd& theta) {
  const double h = 1e-6;
  BOOST_REQUIRE_GT(distance_to_kink(model, theta), 1e-3);
  const Eigen::Index n = outputs(model);
  const Eigen::VectorXd G = Eigen::VectorXd::LinSpaced(n, -1.0, 2.0);
  Eigen::VectorXd F(n), grad(model.dim());
  model.forward(theta, F);
  model.vjp(G, grad);
  // The central difference carries rounding of order ε‖F‖/h ≈ 1e-10 ‖F‖ in every entry, so entries
  // are compared against the gradient's scale, not their own (one entry of 4e-4 missed by 2e-6 relative).
  const double scale = grad.cwiseAbs().maxCoeff();
  for (Eigen::Index k = 0; k < model.dim(); ++k) {
    Eigen::VectorXd tp = theta, tm = theta, Fp(n), Fm(n);
    tp[k] += h;
    tm[k] -= h;
    model.forward(tp, Fp);
    model.forward(tm, Fm);
    BOOST_TEST_CONTEXT("entry " << k) BOOST_TEST(std::abs(grad[k] - G.dot(Fp - Fm) / (2 * h)) <= 1e-7 * scale);
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
  const Eigen::Index n = outputs(model);
  Eigen::VectorXd F(n), Fc(n);
  model.forward(theta, F);
  model.forward(2.5 * theta, Fc);
  BOOST_TEST((Fc - std::pow(2.5, model.homogeneity()) * F).norm() <= 1e-12 * Fc.norm());
}

/// The VJP's gradient for an arbitrary G, i.e. a flow velocity up to the sign of the loss weights.
Eigen::VectorXd some_velocity(Model& model, const Eigen::VectorXd& theta) {
  Eigen::VectorXd F(outputs(model)), grad(model.dim());
  model.forward(theta, F);
  model.vjp(Eigen::VectorXd::LinSpaced(outputs(model), 1.5, -0.5), grad);
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

BOOST_AUTO_TEST_CASE(relu2_gradients_switches_and_homogeneity) {
  auto model = relu2();
  const Eigen::VectorXd theta = model->initial_theta();
  check_vjp(*model, theta);
  check_switch_velocity(*model, theta);
  check_homogeneity(*model, theta);
  BOOST_TEST(model->homogeneity() == 2);
  BOOST_TEST(model->num_outputs() == 3);
  BOOST_TEST(model->dim() == 4 * 5 + 3 * 4);
}

BOOST_AUTO_TEST_CASE(relu2_init_puts_rows_of_W_and_columns_of_V_on_the_sphere) {
  // Timor et al. §3.2: every row of W and column of V uniform on the sphere of radius r.
  auto model = relu2();
  const Eigen::VectorXd theta = model->initial_theta();
  const auto views = model->layers();
  const Eigen::VectorXd row_norms = layer(theta, views[0]).rowwise().norm();
  const Eigen::VectorXd col_norms = layer(theta, views[1]).colwise().norm().transpose();
  BOOST_TEST((row_norms.array() - 0.9).abs().maxCoeff() <= 1e-15);
  BOOST_TEST((col_norms.array() - 0.9).abs().maxCoeff() <= 1e-15);
}

BOOST_AUTO_TEST_CASE(relu2_conserves_each_neurons_balance) {
  // σ'(z) z = σ(z): d/dt (‖w_j‖² − ‖v_j‖²) = 2(⟨w_j, ẇ_j⟩ − ⟨v_j, v̇_j⟩) = 0 along any VJP direction.
  auto model = relu2();
  const Eigen::VectorXd theta = model->initial_theta();
  const Eigen::VectorXd v = some_velocity(*model, theta);
  const auto views = model->layers();
  const auto W = layer(theta, views[0]), dW = layer(v, views[0]);
  const auto V = layer(theta, views[1]), dV = layer(v, views[1]);
  const Eigen::VectorXd rate =
      (W.array() * dW.array()).rowwise().sum().matrix() - (V.array() * dV.array()).colwise().sum().transpose().matrix();
  BOOST_TEST(rate.norm() <= 1e-13 * v.norm() * theta.norm());
  BOOST_TEST(v.norm() > 0.1);
  const Eigen::VectorXd b = relu2_balance(theta, model->params(), 5);
  BOOST_TEST(b.cwiseAbs().maxCoeff() <= 1e-15);  // both norms are the init radius
}

BOOST_AUTO_TEST_CASE(relu2_thm1_rank1_net_fits_timor_data_exactly) {
  // Timor et al. Thm 1: w1 = x1/‖x1‖ − x2/‖x2‖, w2 = −w1 with v_i = e_i/⟨w_i, x_i⟩ has zero loss, rank 1.
  DatasetSpec spec;
  spec.kind = "timor2023";
  spec.n = 2;
  spec.d = 2;
  const Dataset timor = make_dataset(spec);
  const Eigen::VectorXd theta = rank1_zero_loss_theta(timor.X);
  Relu2 model(timor.X, Relu2Params{2, 2, 1e-4, 0});
  Eigen::VectorXd F(4);
  model.forward(theta, F);
  BOOST_TEST(SquareLoss(two_class_targets(timor.y), 2).value(F) <= 1e-30);
  const Eigen::Map<const RowMajor> W(theta.data(), 2, 2);
  BOOST_TEST((W.row(0) + W.row(1)).norm() == 0.0);
  // The closed form's fixed point: s² − 1/s² = s0², i.e. a·s = 1 with a² = s² − s0².
  for (double s0 : {1e-8, 0.5, 3.0}) {
    const double s = closed_form_limit(s0);
    BOOST_TEST(s * s - 1.0 / (s * s) == s0 * s0, boost::test_tools::tolerance(1e-12));
  }
}

// switch_scales is Cauchy–Schwarz's bound ‖row‖‖input‖ ≥ |z_k|, attained where the row lies along
// its input: what verify judges "on its kink" against.
BOOST_AUTO_TEST_CASE(switch_scales_bound_the_switches_and_are_attained_along_the_input) {
  auto two_layer = leaky();
  auto net = deep({"relu", "relu", "linear"}, false);
  for (Model* model : std::initializer_list<Model*>{two_layer.get(), net.get()}) {
    BOOST_TEST_CONTEXT(model->kind()) {
      Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(model->dim(), -1.0, 1.3).array().sin().matrix();
      const Eigen::Index n = model->num_samples();
      // Unit 0's row of the first layer along sample 2's input, times −3.
      theta.head(data().X.cols()) = -3.0 * data().X.row(2).transpose();
      Eigen::VectorXd s(model->num_switches()), scale(model->num_switches());
      model->switch_functions(theta, s);
      model->switch_scales(theta, scale);
      for (Eigen::Index k = 0; k < s.size(); ++k) BOOST_TEST(std::abs(s[k]) <= scale[k] * (1 + 1e-15));
      BOOST_TEST(scale[2] == 3.0 * data().X.row(2).squaredNorm(), boost::test_tools::tolerance(1e-15));
      BOOST_TEST(-s[2] == scale[2], boost::test_tools::tolerance(1e-15));
      BOOST_TEST(scale.size() == (model == net.get() ? 2 * 4 * n : 4 * n));
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
  models.push_back(relu2());
  for (auto& model : models) {
    const Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(model->dim(), -0.5, 0.6);
    Eigen::VectorXd F(outputs(*model)), grad(model->dim()), s(model->num_switches()), ds(model->num_switches());
    const Eigen::VectorXd G = Eigen::VectorXd::Ones(outputs(*model));
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
