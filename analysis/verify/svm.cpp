#include "analysis/verify/svm.hpp"

#include "analysis/verify/cone_qp.hpp"

#include <numeric>

namespace kktflow {

LinearSvm hard_margin_svm(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y) {
  const Eigen::Index n = X.rows();
  const Eigen::MatrixXd Q = y.asDiagonal() * (X * X.transpose()) * y.asDiagonal();
  ConeStructure cone;
  cone.heads.resize(static_cast<std::size_t>(n));
  std::iota(cone.heads.begin(), cone.heads.end(), Eigen::Index{0});
  cone.tails.resize(cone.heads.size());
  const ConeQpResult qp = solve_cone_qp(Q, Eigen::VectorXd::Ones(n), cone);
  LinearSvm svm;
  svm.alpha = qp.v;
  svm.converged = qp.converged;
  svm.separable = !qp.unbounded;
  if (!svm.separable) return svm;
  svm.w = X.transpose() * y.cwiseProduct(svm.alpha);
  svm.margin = 1 / svm.w.norm();
  const Eigen::VectorXd slack = y.cwiseProduct(X * svm.w) - Eigen::VectorXd::Ones(n);
  const double infeasibility = (-slack).cwiseMax(0.0).maxCoeff();
  const double alpha_max = svm.alpha.maxCoeff();
  const double complementarity = alpha_max > 0 ? svm.alpha.cwiseProduct(slack.cwiseAbs()).maxCoeff() / alpha_max : 0;
  svm.kkt_residual = std::max(infeasibility, complementarity);
  return svm;
}

double linear_margin(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::VectorXd>& y,
                     const Eigen::Ref<const Eigen::VectorXd>& v) {
  return y.cwiseProduct(X * v).minCoeff() / v.norm();
}

}  // namespace kktflow
