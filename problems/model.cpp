#include "model.hpp"

#include <Eigen/QR>

#include <stdexcept>

namespace kktflow {

namespace {
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

void project_rows_off_inputs(Eigen::Map<RowMajorMatrix> W, const Eigen::Ref<const Eigen::MatrixXd>& H,
                             const std::vector<HeldUnit>& held) {
  std::size_t first = 0;
  while (first < held.size()) {
    std::size_t last = first;
    while (last < held.size() && held[last].row == held[first].row) ++last;
    const auto count = static_cast<Eigen::Index>(last - first);
    Eigen::MatrixXd Hs(H.rows(), count);  // the inputs row j is held at, as columns
    for (Eigen::Index c = 0; c < count; ++c) Hs.col(c) = H.col(held[first + static_cast<std::size_t>(c)].sample);
    const Eigen::VectorXd z = Hs.transpose() * W.row(held[first].row).transpose();
    // The least-norm change of the row that zeroes its pre-activations on those inputs (rank-safe
    // when the inputs are dependent, as ReLU features of mirrored samples can be).
    const Eigen::VectorXd change = Hs.transpose().completeOrthogonalDecomposition().solve(z);
    const double norm = W.row(held[first].row).norm();
    W.row(held[first].row) -= change.transpose();
    const double projected = W.row(held[first].row).norm();
    if (projected > 0) W.row(held[first].row) *= norm / projected;
    first = last;
  }
}

}  // namespace kktflow
