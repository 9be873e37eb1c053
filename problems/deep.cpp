#include "deep.hpp"

#include "init.hpp"
#include "param_checks.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kktflow {

using ConstLayer = Eigen::Map<const RowMajorMatrix>;

void validate(const DeepParams& p) {
  if (p.layers.empty())
    throw std::invalid_argument("model.layers = []: must list at least one layer, each \"relu\" or \"linear\"");
  for (std::size_t l = 0; l < p.layers.size(); ++l) {
    if (p.layers[l] != "relu" && p.layers[l] != "linear")
      throw std::invalid_argument("model.layers[" + std::to_string(l) + "] = \"" + p.layers[l] +
                                  "\": allowed values are \"relu\", \"linear\"");
  }
  if (p.layers.back() != "linear")
    throw std::invalid_argument("model.layers[" + std::to_string(p.layers.size() - 1) +
                                "] = \"relu\": the output layer must be \"linear\" (a ReLU output cannot be negative)");
  require_count("model.width", p.width);
  require_scale("model.init_scale", p.init_scale);
}

DeepNet::DeepNet(const Eigen::MatrixXd& X, const DeepParams& params) : m_X(X), m_params(params) {
  validate(params);
  const auto L = params.layers.size();
  const Eigen::Index n = X.rows();
  Eigen::Index in = X.cols();
  m_H.push_back(X.transpose());
  for (std::size_t l = 0; l < L; ++l) {
    const Eigen::Index out = l + 1 == L ? 1 : params.width;
    m_views.push_back({"W" + std::to_string(l + 1), out, in, m_dim});
    m_dim += out * in;
    m_Z.emplace_back(out, n);
    m_H.emplace_back(out, n);
    m_delta.emplace_back(out, n);
    if (is_relu(l)) m_num_switches += out * n;
    in = out;
  }
  m_Zs = m_Z;
  m_Hs = m_H;
  m_dZ = m_Z;
  m_dH = m_H;
  m_dH[0].setZero();  // the input does not move with θ
  m_theta.resize(m_dim);
  m_theta_s.resize(m_dim);
}

bool DeepNet::has_skip(std::size_t layer) const {
  return m_params.skip && is_relu(layer) && m_views[layer].rows == m_views[layer].cols;
}

std::vector<std::size_t> DeepNet::trailing_linear_layers() const {
  std::size_t first = m_views.size();
  while (first > 0 && !is_relu(first - 1)) --first;
  std::vector<std::size_t> out;
  for (std::size_t l = first; l < m_views.size(); ++l) out.push_back(l);
  return out;
}

double DeepNet::psi(std::size_t layer, double z) const {
  if (!is_relu(layer)) return z;
  return (z > 0 ? z : 0.0) + (has_skip(layer) ? z : 0.0);
}

double DeepNet::dpsi(std::size_t layer, double z) const {
  if (!is_relu(layer)) return 1.0;
  return (z > 0 ? 1.0 : 0.0) + (has_skip(layer) ? 1.0 : 0.0);
}

Eigen::VectorXd DeepNet::initial_theta() const { return gaussian_theta(dim(), m_params.init_scale, m_params.seed); }

void DeepNet::propagate(const Eigen::Ref<const Eigen::VectorXd>& theta, std::vector<Eigen::MatrixXd>& Z,
                        std::vector<Eigen::MatrixXd>& H) const {
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    const LayerView& v = m_views[l];
    Z[l].noalias() = ConstLayer(theta.data() + v.offset, v.rows, v.cols) * H[l];
    H[l + 1] = Z[l].unaryExpr([this, l](double z) { return psi(l, z); });
  }
}

void DeepNet::forward(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> F) {
  m_theta = theta;
  propagate(theta, m_Z, m_H);
  F = m_H.back().row(0).transpose();
}

void DeepNet::vjp(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad) {
  backpropagate(G, grad, nullptr, nullptr);
}

void DeepNet::vjp_held(const Eigen::Ref<const Eigen::VectorXd>& G, const Eigen::Ref<const Eigen::VectorXd>& delta_held,
                       Eigen::Ref<Eigen::VectorXd> grad, Eigen::Ref<Eigen::VectorXd> incoming_held) {
  backpropagate(G, grad, &delta_held, &incoming_held);
}

void DeepNet::backpropagate(const Eigen::Ref<const Eigen::VectorXd>& G, Eigen::Ref<Eigen::VectorXd> grad,
                            const Eigen::Ref<const Eigen::VectorXd>* delta_held,
                            Eigen::Ref<Eigen::VectorXd>* incoming_held) {
  for (std::size_t l = m_views.size(); l-- > 0;) {
    const LayerView& v = m_views[l];
    if (l + 1 == m_views.size()) {
      m_delta[l].row(0) = G.transpose();
    } else {
      const LayerView& next = m_views[l + 1];
      m_delta[l].noalias() =
          ConstLayer(m_theta.data() + next.offset, next.rows, next.cols).transpose() * m_delta[l + 1];
    }
    if (incoming_held)
      for (std::size_t r = 0; r < m_held.size(); ++r)
        if (m_held[r].layer == l)
          (*incoming_held)[static_cast<Eigen::Index>(r)] = m_delta[l](m_held[r].row, m_held[r].sample);
    m_delta[l] = m_delta[l].binaryExpr(m_Z[l], [this, l](double g, double z) { return g * dpsi(l, z); });
    if (delta_held)
      for (std::size_t r = 0; r < m_held.size(); ++r)
        if (m_held[r].layer == l)
          m_delta[l](m_held[r].row, m_held[r].sample) = (*delta_held)[static_cast<Eigen::Index>(r)];
    Eigen::Map<RowMajorMatrix>(grad.data() + v.offset, v.rows, v.cols).noalias() = m_delta[l] * m_H[l].transpose();
  }
}

void DeepNet::set_held(const std::vector<Eigen::Index>& switches) {
  m_held.clear();
  for (Eigen::Index k : switches) {
    Eigen::Index at = 0;
    for (std::size_t l = 0; l < m_views.size(); ++l) {
      if (!is_relu(l)) continue;
      const Eigen::Index size = m_Z[l].size();
      if (k < at + size) {
        m_held.push_back({l, (k - at) / num_samples(), (k - at) % num_samples()});
        break;
      }
      at += size;
    }
  }
}

std::pair<double, double> DeepNet::kink_slopes(Eigen::Index k) const {
  Eigen::Index at = 0;
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    if (!is_relu(l)) continue;
    at += m_Z[l].size();
    if (k < at) return {dpsi(l, -1.0), dpsi(l, 1.0)};
  }
  throw std::out_of_range("DeepNet::kink_slopes: switch " + std::to_string(k) + " out of range");
}

std::size_t DeepNet::highest_held_layer() const {
  std::size_t top = 0;
  for (const HeldSwitch& h : m_held) top = std::max(top, h.layer);
  return top;
}

bool DeepNet::relu_below(std::size_t layer) const {
  for (std::size_t l = 0; l < layer; ++l)
    if (!is_relu(l)) return false;
  return true;
}

LayerChain DeepNet::chain_to(Eigen::Ref<Eigen::VectorXd> theta, std::size_t top) const {
  LayerChain chain;
  for (std::size_t l = 0; l <= top; ++l) {
    const LayerView& v = m_views[l];
    chain.emplace_back(theta.data() + v.offset, v.rows, v.cols);
  }
  return chain;
}

void DeepNet::hold_on_kinks(Eigen::Ref<Eigen::VectorXd> theta) {
  if (m_held.empty()) return;
  const std::size_t top = highest_held_layer();
  LayerChain chain = chain_to(theta, top);
  // A row projected in layer l ≥ 2 moves W_l's columns, i.e. the balances of layer l − 1; when the
  // layers below are all ReLU, rescaling their units (unit_balance.hpp) puts them back.
  const bool rebalance = top > 0 && relu_below(top);
  const Eigen::VectorXd balances = rebalance ? unit_balances(chain) : Eigen::VectorXd();
  std::vector<Eigen::MatrixXd> Z = m_Z, H = m_H;
  for (std::size_t l = 0; l <= top; ++l) {
    std::vector<HeldUnit> units;
    for (const HeldSwitch& h : m_held)
      if (h.layer == l) units.push_back({h.row, h.sample});
    if (units.empty()) continue;
    propagate(theta, Z, H);  // the inputs of layer l after the corrections below it
    project_rows_off_inputs(chain[l], H[l], units);
  }
  if (rebalance) rescale_to_balance(chain, balances);
}

void DeepNet::switch_functions(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> s) {
  m_theta_s = theta;
  propagate(theta, m_Zs, m_Hs);
  Eigen::Index at = 0;
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    if (!is_relu(l)) continue;
    const Eigen::Index size = m_Zs[l].size();
    Eigen::Map<RowMajorMatrix>(s.data() + at, m_Zs[l].rows(), m_Zs[l].cols()) = m_Zs[l];
    at += size;
  }
}

void DeepNet::switch_scales(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::VectorXd> scales) {
  std::vector<Eigen::MatrixXd> Z = m_Z, H = m_H;
  propagate(theta, Z, H);
  Eigen::Index at = 0;
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    if (!is_relu(l)) continue;
    const LayerView& v = m_views[l];
    const ConstLayer W(theta.data() + v.offset, v.rows, v.cols);
    Eigen::Map<RowMajorMatrix>(scales.data() + at, Z[l].rows(), Z[l].cols()).noalias() =
        W.rowwise().norm() * H[l].colwise().norm();
    at += Z[l].size();
  }
}

void DeepNet::switch_velocity(const Eigen::Ref<const Eigen::VectorXd>& dtheta, Eigen::Ref<Eigen::VectorXd> ds) {
  Eigen::Index at = 0;
  for (std::size_t l = 0; l < m_views.size(); ++l) {
    const LayerView& v = m_views[l];
    m_dZ[l].noalias() = ConstLayer(dtheta.data() + v.offset, v.rows, v.cols) * m_Hs[l];
    m_dZ[l].noalias() += ConstLayer(m_theta_s.data() + v.offset, v.rows, v.cols) * m_dH[l];
    m_dH[l + 1] = m_dZ[l].binaryExpr(m_Zs[l], [this, l](double dz, double z) { return dz * dpsi(l, z); });
    if (!is_relu(l)) continue;
    Eigen::Map<RowMajorMatrix>(ds.data() + at, m_dZ[l].rows(), m_dZ[l].cols()) = m_dZ[l];
    at += m_dZ[l].size();
  }
}

}  // namespace kktflow
