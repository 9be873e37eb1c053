#define BOOST_TEST_MODULE svm_libsvm
/// Cross-check of our hard-margin SVM against libsvm's svm-train (Debian libsvm-tools). libsvm
/// fits a bias; on symmetric data ((x, y) and (−x, −y) both present) the optimal bias is 0 (if
/// (w, b) is optimal so is (w, −b), and the optimum is unique), and the constraints for −x repeat
/// those for x, so libsvm with a large C solves our bias-free problem.
#include "analysis/verify/svm.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "scratch_dir.hpp"

using namespace kktflow;

namespace {

void write_libsvm(const std::string& path, const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  std::ofstream out(path);
  out.precision(17);
  for (int sign : {1, -1}) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      out << (sign * y[i] > 0 ? "+1" : "-1");
      for (Eigen::Index k = 0; k < X.cols(); ++k) out << ' ' << k + 1 << ':' << sign * X(i, k);
      out << '\n';
    }
  }
}

/// w = Σ coef_s sv_s and the bias ρ of a libsvm model file (linear kernel).
std::pair<Eigen::VectorXd, double> read_model(const std::string& path, Eigen::Index d) {
  std::ifstream in(path);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
  double rho = 0;
  std::string line;
  bool support_vectors = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (!support_vectors) {
      std::string key;
      fields >> key;
      if (key == "rho") fields >> rho;
      support_vectors = key == "SV";
      continue;
    }
    double coef = 0;
    fields >> coef;
    std::string entry;
    while (fields >> entry) {
      const auto colon = entry.find(':');
      w[std::stol(entry.substr(0, colon)) - 1] += coef * std::stod(entry.substr(colon + 1));
    }
  }
  return {w, rho};
}

}  // namespace

BOOST_AUTO_TEST_CASE(hard_margin_svm_agrees_with_libsvm) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd X = Eigen::MatrixXd::NullaryExpr(20, 8, [&] { return normal(rng); });
  Eigen::VectorXd y(20);
  for (Eigen::Index i = 0; i < 20; ++i) y[i] = X(i, 0) + 0.3 * X(i, 1) > 0 ? 1 : -1;  // separable
  const LinearSvm ours = hard_margin_svm(X, y);
  BOOST_REQUIRE(ours.separable);
  BOOST_TEST(ours.kkt_residual < 1e-12);

  const testing::ScratchDir dir;
  write_libsvm(dir.file("data"), X, y);
  const std::string command =
      std::string(KKTFLOW_SVM_TRAIN) + " -q -s 0 -t 0 -c 1e8 -e 1e-12 " + dir.file("data") + " " + dir.file("model");
  BOOST_REQUIRE(std::system(command.c_str()) == 0);
  const auto [w, rho] = read_model(dir.file("model"), X.cols());
  // libsvm's decision function is ⟨w, x⟩ − ρ; its label order may flip the sign of (w, ρ).
  const Eigen::VectorXd libsvm = w.dot(ours.w) < 0 ? Eigen::VectorXd(-w) : w;
  BOOST_TEST(std::abs(rho) < 1e-6 * w.norm());
  BOOST_TEST((libsvm - ours.w).norm() < 1e-6 * ours.w.norm());
}
