#include "model.hpp"

#include <Eigen/QR>

#include <stdexcept>

namespace kktflow {

namespace {
/// Row w ← ‖w‖ P w / ‖P w‖, P the projection off the columns of Hs (model.hpp).
void keep_norm_off_inputs(Eigen::Ref<Eigen::RowVectorXd> w, const Eigen::MatrixXd& Hs) {
  const Eigen::VectorXd z = Hs.transpose() * w.transpose();
  // The least-norm change of the row that zeroes its pre-activations on those inputs (rank-safe
  // when the inputs are dependent, as ReLU features of mirrored samples can be).
  const Eigen::VectorXd change = Hs.transpose().completeOrthogonalDecomposition().solve(z);
  const double norm = w.norm();
  w -= change.transpose();
  const double projected = w.norm();
  if (projected > 0) w *= norm / projected;
}

[[noreturn]] void no_held_kinks(const std::string& kind) {
  throw std::logic_error("model.kind = \"" + kind + "\" cannot hold switches on their kinks (no Filippov sliding)");
}
}  // namespace

void Model::set_held(const std::vector<Eigen::Index>& switches) {
  if (!switches.empty()) no_held_kinks(kind());
}

void Model::vjp_held(const Eigen::Ref<const Eigen::VectorXd>&, const Eigen::Ref<const Eigen::VectorXd>&,
                     Eigen::Ref<Eigen::VectorXd>, Eigen::Ref<Eigen::VectorXd>) {
  no_held_kinks(kind());
}

std::pair<double, double> Model::kink_slopes(Eigen::Index) const { no_held_kinks(kind()); }

void Model::hold_on_kinks(Eigen::Ref<Eigen::VectorXd>) { no_held_kinks(kind()); }

void Model::switch_scales(const Eigen::Ref<const Eigen::VectorXd>&, Eigen::Ref<Eigen::VectorXd>) {
  no_held_kinks(kind());
}

std::vector<HeldUnit> held_units(const std::vector<Eigen::Index>& switches, Eigen::Index samples) {
  std::vector<HeldUnit> units;
  units.reserve(switches.size());
  for (Eigen::Index k : switches) units.push_back({k / samples, k % samples});
  return units;
}

void project_rows_off_inputs(Eigen::Map<RowMajorMatrix> W, const Eigen::Ref<const Eigen::MatrixXd>& H,
                             const std::vector<HeldUnit>& held) {
  const double negligible = kNegligibleInput * H.colwise().norm().maxCoeff();
  std::size_t first = 0;
  while (first < held.size()) {
    std::size_t last = first;
    while (last < held.size() && held[last].row == held[first].row) ++last;
    std::vector<Eigen::Index> samples;
    for (std::size_t h = first; h < last; ++h)
      if (H.col(held[h].sample).norm() > negligible) samples.push_back(held[h].sample);
    if (!samples.empty()) keep_norm_off_inputs(W.row(held[first].row), H(Eigen::all, samples));
    first = last;
  }
}

}  // namespace kktflow
