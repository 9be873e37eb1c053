#include "analysis/verify/model_run.hpp"

#include <cmath>
#include <stdexcept>

namespace kktflow {

namespace {

ModelSpec spec_of(const RunData& data) {
  std::map<std::string, std::string> attrs = data.model_attrs;
  attrs["kind"] = data.kind;
  return spec_from_attributes(attrs);
}

}  // namespace

ModelRun::ModelRun(const RunData& data) : m_data(data), m_model(make_model(spec_of(data), data.X).model) {}

double ModelRun::number(const std::string& name) const {
  const auto it = m_data.model_attrs.find(name);
  if (it == m_data.model_attrs.end()) throw std::invalid_argument("/model has no attribute '" + name + "'");
  return std::stod(it->second);
}

Eigen::Map<const RowMajorMatrix> layer_of(const Eigen::VectorXd& theta, const LayerView& view) {
  return {theta.data() + view.offset, view.rows, view.cols};
}

double angle(const Eigen::VectorXd& u, const Eigen::VectorXd& v) {
  return std::acos(std::clamp(u.dot(v) / (u.norm() * v.norm()), -1.0, 1.0));
}

Eigen::VectorXd margins_at(Model& model, const Eigen::VectorXd& y, const Eigen::VectorXd& theta) {
  Eigen::VectorXd q(y.size());
  model.forward(theta, q);
  return q.cwiseProduct(y);
}

}  // namespace kktflow
