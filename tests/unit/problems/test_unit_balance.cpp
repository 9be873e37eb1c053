// Per-unit rescaling back to given balances (problems/unit_balance.hpp), and its use by DeepNet's
// captures. Known answers: the balance B_u = ‖row_u W_l‖² − ‖col_u W_{l+1}‖² is what gradient flow
// conserves (Du, Hu, Lee 2018, Thm 2.1), and scaling unit u by e^{s_u} (W_l[j,k] → e^{s_j − s_k}
// W_l[j,k]) leaves a ReLU network's function unchanged (σ(e^s z) = e^s σ(z)).
#define BOOST_TEST_MODULE unit_balance
#include <boost/test/unit_test.hpp>

#include "problems/deep.hpp"
#include "problems/unit_balance.hpp"

using namespace kktflow;

namespace {

struct Chain {
  explicit Chain(unsigned seed) {
    std::srand(seed);
    W1 = RowMajorMatrix::Random(4, 3);
    W2 = RowMajorMatrix::Random(5, 4);
    W3 = RowMajorMatrix::Random(2, 5);
  }
  LayerChain maps() { return {{W1.data(), 4, 3}, {W2.data(), 5, 4}, {W3.data(), 2, 5}}; }
  RowMajorMatrix W1, W2, W3;
};

Eigen::MatrixXd relu(const Eigen::MatrixXd& Z) { return Z.cwiseMax(0.0); }

}  // namespace

BOOST_AUTO_TEST_CASE(restores_balances_broken_by_moving_columns) {
  Chain chain(3);
  LayerChain maps = chain.maps();
  const Eigen::VectorXd targets = unit_balances(maps);
  // A capture-like move: columns of W2 (layer 1's outgoing weights) and of W3 change by 1e-3.
  chain.W2.col(1) *= 1.001;
  chain.W3.col(2) *= 0.999;
  chain.W3(0, 4) += 1e-3;
  BOOST_TEST_REQUIRE((unit_balances(maps) - targets).lpNorm<Eigen::Infinity>() > 1e-4);
  BOOST_TEST_REQUIRE(rescale_to_balance(maps, targets));
  BOOST_TEST((unit_balances(maps) - targets).lpNorm<Eigen::Infinity>() <=
             1e-13 * targets.cwiseAbs().maxCoeff() + 1e-14);
}

BOOST_AUTO_TEST_CASE(keeps_the_function_below_the_top_and_the_top_rows_norms) {
  Chain chain(7);
  LayerChain maps = chain.maps();
  const Eigen::VectorXd targets = unit_balances(maps) + Eigen::VectorXd::Constant(9, 1e-3);
  const Eigen::MatrixXd X = Eigen::MatrixXd::Random(3, 6);
  const Eigen::MatrixXd Z3 = chain.W3 * relu(chain.W2 * relu(chain.W1 * X));
  const Eigen::VectorXd top_norms = chain.W3.rowwise().norm();
  BOOST_TEST_REQUIRE(rescale_to_balance(maps, targets));
  const Eigen::MatrixXd Z3_after = chain.W3 * relu(chain.W2 * relu(chain.W1 * X));
  // Each top pre-activation row is multiplied by one positive factor (its row's renormalization),
  // so zeros stay zeros; the top rows keep their norms.
  for (Eigen::Index j = 0; j < 2; ++j) {
    const Eigen::ArrayXd ratio = Z3_after.row(j).array() / Z3.row(j).array();
    BOOST_TEST(ratio.minCoeff() > 0.0);
    BOOST_TEST(ratio.maxCoeff() - ratio.minCoeff() <= 1e-13);
    BOOST_TEST(chain.W3.row(j).norm() == top_norms[j], boost::test_tools::tolerance(1e-14));
  }
}

BOOST_AUTO_TEST_CASE(refuses_an_unreachable_balance_and_leaves_the_chain) {
  // Unit 0 of layer 1 has no outgoing weight, so B_0 = ‖row_0 W1‖² e^{2 s_0} > 0 for every s.
  Chain chain(11);
  chain.W2.col(0).setZero();
  LayerChain maps = chain.maps();
  Eigen::VectorXd targets = unit_balances(maps);
  targets[0] = -0.5;
  const Chain before = chain;
  BOOST_TEST(!rescale_to_balance(maps, targets));
  BOOST_TEST((chain.W1 - before.W1).norm() == 0.0);
  BOOST_TEST((chain.W2 - before.W2).norm() == 0.0);
  BOOST_TEST((chain.W3 - before.W3).norm() == 0.0);
}

BOOST_AUTO_TEST_CASE(deep_capture_in_the_second_layer_keeps_the_first_layers_balances) {
  // Held pairs of layer 2: the row projection moves W2's columns; hold_on_kinks must put layer 1's
  // balances back while the held pre-activations sit on their kinks.
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(6, 4);
  DeepNet net(X, DeepParams{{"relu", "relu", "linear"}, 3, false, 1.0, 5});
  Eigen::VectorXd theta = net.initial_theta();
  auto layer1 = [&] {
    LayerChain c{{theta.data(), 3, 4}, {theta.data() + 12, 3, 3}};
    return unit_balances(c);
  };
  const Eigen::VectorXd before = layer1();
  const std::vector<Eigen::Index> held{18 + 1, 18 + 8, 18 + 9};  // layer 2: row 0 sample 1, row 1 samples 2, 3
  Eigen::VectorXd s(net.num_switches());
  net.switch_functions(theta, s);
  net.set_held(held);
  net.hold_on_kinks(theta);
  const Eigen::VectorXd after = layer1();
  BOOST_TEST((after - before).lpNorm<Eigen::Infinity>() <= 1e-13 * before.cwiseAbs().maxCoeff());
  net.switch_functions(theta, s);
  for (Eigen::Index k : held) BOOST_TEST(std::abs(s[k]) <= 1e-14);
}
