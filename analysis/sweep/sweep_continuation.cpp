/// \file sweep_continuation.cpp
/// Continuation along one parameter (sweep_continuation.hpp).
#include "analysis/sweep/sweep_continuation.hpp"

#include "analysis/io/run_data_reader.hpp"
#include "analysis/sweep/sweep_cases.hpp"
#include "analysis/verify/leaky2_run.hpp"
#include "analysis/verify/model_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace kktflow {
namespace {

using Eigen::Index;

/// The support set of normalized margins q̄: every i with q̄_i ≤ q̄_min + tol |q̄_min|.
std::vector<Index> support_of(const Eigen::VectorXd& q, double tol) {
  const double q_min = q.minCoeff();
  std::vector<Index> support;
  for (Index i = 0; i < q.size(); ++i)
    if (q[i] <= q_min + tol * std::abs(q_min)) support.push_back(i);
  return support;
}

char sign_char(double s, double threshold) { return std::abs(s) <= threshold ? '0' : s > 0 ? '+' : '-'; }

LimitSignature fixed_outer_signature(const RunData& data, double support_tol) {
  const Leaky2Run run = leaky2_run(data);
  LimitSignature sig;
  const Eigen::VectorXd q = margins(run.net, run.W_final) / run.W_final.norm();
  sig.support = support_of(q, support_tol);
  const Pattern pattern = activation_pattern(run.net, run.W_final);
  for (Index j = 0; j < pattern.rows(); ++j)
    for (Index i = 0; i < pattern.cols(); ++i) sig.pattern += sign_char(pattern(j, i), 0.0);
  return sig;
}

LimitSignature model_signature(const RunData& data, double support_tol) {
  const ModelRun run(data);
  Model& model = run.model();
  const Eigen::VectorXd& theta = data.theta_final;
  Eigen::VectorXd F(model.num_samples() * model.num_outputs());
  model.forward(theta, F);
  const Eigen::VectorXd q = data.y.cwiseProduct(F) / std::pow(theta.norm(), model.homogeneity());
  LimitSignature sig;
  sig.support = support_of(q, support_tol);
  Eigen::VectorXd s(model.num_switches());
  model.switch_functions(theta, s);
  const double threshold = s.size() > 0 ? kKinkThreshold * s.cwiseAbs().maxCoeff() : 0.0;
  for (Index k = 0; k < s.size(); ++k) sig.pattern += sign_char(s[k], threshold);
  return sig;
}

/// One case on the branch: its parameter value, its case index and its limit's signature.
struct BranchPoint {
  double value = 0;
  int case_index = 0;
  LimitSignature signature;
};

/// The continuation's loop: makes each case, runs it to its end, reads its limit.
class Continuation {
 public:
  Continuation(const SweepSpec& spec, const ConfigResolver& resolve, const SweepOptions& opts)
      : m_spec(spec),
        m_c(spec.continuation),
        m_resolve(resolve),
        m_opts(opts),
        m_book(spec, opts.dir, opts.kktflow_exe),
        m_index((std::filesystem::path(opts.dir) / "index.h5").string()) {
    m_record.key = m_c.key;
    m_record.settings = {{"from", m_c.from},
                         {"to", m_c.to},
                         {"step", m_c.step},
                         {"max_step", m_c.max_step},
                         {"locate_tol", m_c.locate_tol},
                         {"support_tol", m_c.support_tol}};
  }

  ContinuationOutcome run() {
    report();
    std::optional<BranchPoint> here = point_at(m_c.from, std::nullopt);
    double step = m_c.step;
    while (here && here->value != m_c.to) {
      const std::optional<BranchPoint> next = point_at(toward_end(here->value, step), here);
      if (!next) break;
      if (next->signature.same_branch(here->signature)) {
        here = next;
        step = std::min(2 * step, m_c.max_step);
        continue;
      }
      here = locate_change(*here, *next);
      // Go on from the case that revealed the change unless a second change lies inside the bracket.
      if (here && next->signature.same_branch(here->signature)) here = next;
      step = m_c.step;
    }
    report();
    return {SweepOutcome{true, m_book.rows(), m_totals, m_budget_exhausted}, m_record, m_stopped};
  }

 private:
  /// value + step, but not past `to`.
  [[nodiscard]] double toward_end(double value, double step) const {
    return m_c.to > m_c.from ? std::min(value + step, m_c.to) : std::max(value - step, m_c.to);
  }

  /// Bisects between two cases of different signatures until the bracket is at most locate_tol
  /// wide; records the change and returns the bracket's far end (nothing if a case failed).
  std::optional<BranchPoint> locate_change(BranchPoint before, BranchPoint after) {
    while (std::abs(after.value - before.value) > m_c.locate_tol) {
      const std::optional<BranchPoint> mid = point_at(0.5 * (before.value + after.value), before);
      if (!mid) return std::nullopt;
      (mid->signature.same_branch(before.signature) ? before : after) = *mid;
    }
    m_record.changes.push_back({before.case_index, after.case_index, before.value, after.value,
                                before.signature.support_text(), after.signature.support_text(),
                                before.signature.pattern != after.signature.pattern});
    report();
    return after;
  }

  /// Runs the case at `value`, warm-started from `from`'s limit; nothing when the sweep must stop
  /// (interrupted, out of budget, the case failed or has no limit), with m_stopped saying why.
  std::optional<BranchPoint> point_at(double value, const std::optional<BranchPoint>& from) {
    if (interrupted()) return stop("interrupted");
    if (m_spec.budget_s > 0 && seconds() > m_spec.budget_s) {
      m_budget_exhausted = true;
      return stop(fmt::format("budget_s = {} reached", m_spec.budget_s));
    }
    const int index = add_case(value, from);
    while (m_book.has_next() && !interrupted()) {
      m_book.finish(run_task_to_end(m_book.next_task(), m_opts.interrupted));
      report();
    }
    const CaseRow& row = m_book.row(index);
    if (row.state != "done")
      return stop(interrupted() ? "interrupted" : fmt::format("case {} ({}) failed", index, row.label));
    try {
      BranchPoint point{value, index, read_limit_signature(m_book.case_path(index), m_c.support_tol)};
      m_record.support[static_cast<std::size_t>(index)] = point.signature.support_text();
      m_record.pattern[static_cast<std::size_t>(index)] = point.signature.pattern;
      report();
      return point;
    } catch (const std::exception& e) {
      return stop(fmt::format("case {} ({}) has no limit to continue from: {}", index, row.label, e.what()));
    }
  }

  int add_case(double value, const std::optional<BranchPoint>& from) {
    const int index = static_cast<int>(m_cases.size());
    const std::string text = toml_float_text(value);
    SweepCase& c = m_cases.emplace_back(SweepCase{index, {{m_c.key, text}}, m_spec.shared});
    c.overrides.push_back(m_c.key + "=" + text);
    if (from) c.overrides.push_back(fmt::format("init.theta_file=\"{}\"", m_book.case_path(from->case_index)));
    m_book.add(c, m_resolve(c.overrides));
    m_record.value.push_back(value);
    m_record.warm_start.push_back(from ? from->case_index : -1);
    m_record.support.emplace_back();
    m_record.pattern.emplace_back();
    return index;
  }

  std::nullopt_t stop(std::string why) {
    m_stopped = std::move(why);
    return std::nullopt;
  }

  [[nodiscard]] bool interrupted() const { return m_opts.interrupted != nullptr && m_opts.interrupted(); }
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
  }

  void report() {
    m_totals.wall_s = seconds();
    write_sweep_index(m_index, describe_sweep(m_spec), m_book.rows(), m_totals, &m_record);
    if (m_opts.on_progress) m_opts.on_progress(m_book.status(0, m_totals.wall_s));
  }

  const SweepSpec& m_spec;
  const ContinuationSpec& m_c;
  const ConfigResolver& m_resolve;
  const SweepOptions& m_opts;
  std::deque<SweepCase> m_cases;  // a deque: the book's rows point at its elements
  CaseBook m_book;
  std::string m_index;
  ContinuationRecord m_record;
  SweepTotals m_totals{0, 1, 1};
  bool m_budget_exhausted = false;
  std::string m_stopped;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

}  // namespace

std::string LimitSignature::support_text() const { return fmt::format("{}", fmt::join(support, ",")); }

LimitSignature read_limit_signature(const std::string& run_file, double support_tol) {
  const RunData data = read_run_data(run_file);
  if (data.kind == "relu2")
    throw std::invalid_argument(run_file +
                                ": model.kind = \"relu2\" (square loss) has no margins to take a support set from");
  return data.kind == "leaky2_fixed_outer" ? fixed_outer_signature(data, support_tol)
                                           : model_signature(data, support_tol);
}

ContinuationOutcome run_continuation(const SweepSpec& spec, const ConfigResolver& resolve, const SweepOptions& opts) {
  if (spec.mode != "continuation") throw std::invalid_argument("run_continuation: mode = \"" + spec.mode + "\"");
  return Continuation(spec, resolve, opts).run();
}

}  // namespace kktflow
