#include "square_flow.hpp"

#include "metrics.hpp"
#include "product_threads.hpp"
#include "run_text.hpp"
#include "step_control.hpp"

#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace kktflow {

namespace {

namespace odeint = boost::numeric::odeint;
using Dopri5 = odeint::runge_kutta_dopri5<Eigen::VectorXd, double, Eigen::VectorXd, double, odeint::vector_space_algebra>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

void validate(const SquareFlowOptions& o) {
  auto require = [](bool ok, const std::string& key, double v, const std::string& range) {
    if (!ok) throw std::invalid_argument(key + " = " + sci(v) + ": " + range);
  };
  require(o.stop.loss >= 0 && std::isfinite(o.stop.loss), "stop.loss", o.stop.loss, "must be a finite number ≥ 0");
  require(o.stop.grad_norm >= 0 && std::isfinite(o.stop.grad_norm), "stop.grad_norm", o.stop.grad_norm,
          "must be a finite number ≥ 0");
  require(o.stop.wall_s > 0, "stop.wall_s", o.stop.wall_s, "must be > 0");
  require(o.stop.max_steps > 0, "stop.max_steps", static_cast<double>(o.stop.max_steps), "must be ≥ 1");
  require(o.abs_tol > 0 && std::isfinite(o.abs_tol), "flow.abs_tol", o.abs_tol, "must be a finite number > 0");
  require(o.rel_tol > 0 && o.rel_tol < 1, "flow.rel_tol", o.rel_tol, "must be in (0, 1)");
  require(o.dt_initial > 0 && std::isfinite(o.dt_initial), "flow.dt_initial", o.dt_initial, "must be a finite number > 0");
  require(o.record_every_log_t > 0, "output.record_every_log_t", o.record_every_log_t, "must be > 0");
  require(o.k_top >= 1, "output.k_top", o.k_top, "must be ≥ 1");
}

SquareFlow::SquareFlow(Model& model, SquareLoss loss, SquareFlowOptions options)
    : m_model(model), m_loss(std::move(loss)), m_opt(options),
      m_held(model), m_F(model.num_samples() * model.num_outputs()), m_G(m_F.size()), m_grad(model.dim()),
      m_s(model.num_switches()), m_s_new(model.num_switches()), m_sdot(model.num_switches()) {
  validate(options);
  if (m_loss.targets().size() != m_F.size())
    throw std::invalid_argument("square loss: " + std::to_string(m_loss.targets().size()) + " targets for " +
                                std::to_string(m_F.size()) + " model outputs");
}

double SquareFlow::loss_and_gradient(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
  ++m_rhs_evals;
  m_model.forward(theta, m_F);
  const double L = m_loss.gradient(m_F, m_G);
  if (m_held.empty()) {
    m_model.vjp(m_G, grad);
  } else {
    m_held.moved_to(theta);
    m_held.vjp(m_G, grad, true);
  }
  return L;
}

double SquareFlow::loss_at(const Eigen::VectorXd& theta) {
  m_model.forward(theta, m_F);
  return m_loss.value(m_F);
}

Record SquareFlow::make_record(const Eigen::VectorXd& theta, double t, double dt, double err) {
  Record r;
  r.step = m_step;
  r.tau = t;
  r.log_t = std::log(t);
  const double L = loss_and_gradient(theta, m_grad);
  r.log_loss = std::log(L);
  r.norm = theta.norm();
  r.normalized_margin = r.smoothed_margin = kNaN;  // no margins under the square loss
  r.kkt_eps = r.kkt_delta = kNaN;
  const LayerView first = m_model.layers().front();
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> W(
      theta.data() + first.offset, first.rows, first.cols);
  const Eigen::VectorXd s = singular_values(W);
  const Eigen::Index k = std::min<Eigen::Index>(m_opt.k_top, s.size());
  r.sigma = Eigen::VectorXd::Zero(m_opt.k_top);
  r.sigma.head(k) = s.head(k);
  r.stable_rank = s[0] > 0 ? s.squaredNorm() / (s[0] * s[0]) : 0.0;
  const double gnorm = m_grad.norm();
  r.alignment_beta = gnorm > 0 && r.norm > 0 ? -theta.dot(m_grad) / (r.norm * gnorm) : 0.0;
  const Eigen::VectorXd direction = theta / r.norm;
  r.direction_change = m_points == 0 || r.log_t <= m_prev_record_log_t
                           ? 0.0
                           : (direction - m_prev_direction).norm() / (r.log_t - m_prev_record_log_t);
  m_prev_direction = direction;
  m_prev_record_log_t = r.log_t;
  r.switches = m_switches;
  r.sliding = static_cast<std::int64_t>(m_held.held().size());
  r.rhs_evals = m_rhs_evals;
  r.dt = dt;
  r.err_estimate = err;
  r.wall_s = now_s() - m_wall0;
  return r;
}

void SquareFlow::emit(Eigen::Index k, double log_t, int new_sign) {
  const Eigen::Index n = m_model.num_samples();
  const SwitchEvent e{m_points, log_t, k / n, k % n, new_sign};
  for (Observer* o : m_observers) o->on_event(e);
}

std::vector<Eigen::Index> SquareFlow::report_switches(const Eigen::VectorXd& theta, double log_t) {
  m_model.switch_functions(theta, m_s_new);
  const auto& held = m_held.held();
  std::vector<Eigen::Index> crossed;
  for (Eigen::Index k = 0; k < m_s.size(); ++k) {
    // A held pair sits at its kink: the sign of its rounding-size s is no crossing.
    if ((m_s[k] > 0) == (m_s_new[k] > 0) || std::binary_search(held.begin(), held.end(), k)) continue;
    ++m_switches;
    crossed.push_back(k);
    emit(k, log_t, m_s_new[k] > 0 ? 1 : -1);
  }
  m_s.swap(m_s_new);
  return crossed;
}

std::vector<Eigen::Index> SquareFlow::kink_candidates(const std::vector<Eigen::Index>& crossed,
                                                      const Eigen::VectorXd& dxdt, double dt) {
  m_model.switch_velocity(dxdt, m_sdot);  // at the θ of report_switches
  const auto& held = m_held.held();
  std::vector<Eigen::Index> out;
  for (Eigen::Index k = 0; k < m_s.size(); ++k) {
    if (std::binary_search(held.begin(), held.end(), k)) continue;
    const bool due = m_s[k] * m_sdot[k] < 0 && std::abs(m_s[k]) <= std::abs(m_sdot[k]) * dt;
    if (due || std::binary_search(crossed.begin(), crossed.end(), k)) out.push_back(k);
  }
  return out;
}

std::vector<Eigen::Index> SquareFlow::capture_attracted(std::vector<Eigen::Index> trial, const Eigen::VectorXd& theta) {
  const std::vector<Eigen::Index> before = m_held.held();
  const auto kept = keep_attracted(
      before, std::move(trial),
      [&](const std::vector<Eigen::Index>& merged) {
        m_held.set(merged);
        loss_and_gradient(theta, m_grad);  // the raw slopes of every held pair at θ
      },
      [&] { return m_held.leaving(); });
  if (kept.empty()) m_held.set(before);
  return kept;
}

void SquareFlow::update_sliding(const std::vector<Eigen::Index>& crossed, Eigen::VectorXd& theta, Eigen::VectorXd& dxdt,
                                double dt, double log_t, RunResult& result) {
  if (!sliding_on()) return;
  // The raw slopes are those of the step's last field evaluation, at its end (dopri5 is FSAL).
  const auto leaving = m_held.leaving();
  std::vector<Eigen::Index> kept = m_held.held();
  for (const auto& [k, above] : leaving) {
    std::erase(kept, k);
    ++result.releases;
    emit(k, log_t, above ? 2 : -2);
  }
  if (!leaving.empty()) m_held.set(kept);
  std::vector<Eigen::Index> candidates = kink_candidates(crossed, dxdt, dt);
  std::erase_if(candidates, [&](Eigen::Index k) { return is_leaving(leaving, k); });
  const auto captured = candidates.empty() ? candidates : capture_attracted(std::move(candidates), theta);
  for (Eigen::Index k : captured) {
    ++result.captures;
    emit(k, log_t, 0);
  }
  if (!m_held.empty()) m_model.hold_on_kinks(theta);
  if (leaving.empty() && captured.empty()) return;
  loss_and_gradient(theta, dxdt);  // the held set changed, and with it the field
  dxdt = -dxdt;
  m_model.switch_functions(theta, m_s);
}

std::string SquareFlow::describe(Status s, const Record& r) const {
  const std::string at = " at t = " + sci(r.tau) + " after " + std::to_string(r.step) + " steps";
  switch (s) {
    case Status::converged: return "L = " + sci(std::exp(r.log_loss)) + " ≤ stop.loss = " + sci(m_opt.stop.loss) + at;
    case Status::stationary:
      return "‖∇L‖ ≤ stop.grad_norm = " + sci(m_opt.stop.grad_norm) + " with L = " + sci(std::exp(r.log_loss)) + at;
    case Status::log_t_max: return "log t reached stop.log_t_max = " + sci(m_opt.stop.log_t_max) + at;
    case Status::wall_budget: return "wall time reached stop.wall_s = " + sci(m_opt.stop.wall_s) + " s" + at;
    case Status::step_budget: return "step count reached stop.max_steps = " + std::to_string(m_opt.stop.max_steps) + at;
    case Status::non_finite: return "the state or the loss became non-finite" + at;
    case Status::no_progress: return "the step size fell below 1e-13 of t" + at;
    case Status::interrupted: return "interrupted by a signal" + at;
    case Status::not_separated: return "the data were never separated" + at;  // the margin flow's status only
  }
  return "unknown";
}

RunResult SquareFlow::run(Eigen::VectorXd& theta, const std::function<bool()>& interrupted) {
  m_wall0 = now_s();
  m_step = m_switches = m_points = m_rhs_evals = 0;
  const ScopedProductThreads threads(rhs_work(m_model));
  m_held.set({});
  for (Observer* o : m_observers) o->on_snapshot(theta, -1);
  m_model.switch_functions(theta, m_s);

  Dopri5 stepper;
  StepController control(4);
  Eigen::VectorXd dxdt(theta.size()), out(theta.size()), dxdt_out(theta.size()), err(theta.size());
  auto field = [this](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double /*t*/) {
    loss_and_gradient(x, dx);
    dx = -dx;
  };
  double L = loss_and_gradient(theta, dxdt);
  double gnorm = dxdt.norm();
  dxdt = -dxdt;
  double t = 0, dt = m_opt.dt_initial, last_dt = 0, last_err = -1;
  double next_record = -std::numeric_limits<double>::infinity();
  RunResult result;
  Status status = Status::converged;
  for (;;) {
    if (L <= m_opt.stop.loss) { status = Status::converged; break; }
    if (gnorm <= m_opt.stop.grad_norm) { status = Status::stationary; break; }
    if (t > 0 && std::log(t) >= m_opt.stop.log_t_max) { status = Status::log_t_max; break; }
    if (m_step >= m_opt.stop.max_steps) { status = Status::step_budget; break; }
    if (now_s() - m_wall0 >= m_opt.stop.wall_s) { status = Status::wall_budget; break; }
    if (interrupted()) { status = Status::interrupted; break; }
    if (!theta.allFinite() || !std::isfinite(L)) { status = Status::non_finite; break; }
    if (dt < 1e-13 * std::max(1.0, t)) { status = Status::no_progress; break; }

    stepper.do_step(field, theta, dxdt, t, out, dxdt_out, dt, err);
    const double e = error_norm(theta, out, err, m_opt.abs_tol, m_opt.rel_tol);
    const bool accepted = std::isfinite(e) && e <= 1.0 && out.allFinite();
    const double dt_next = control.next(dt, e, accepted);
    if (!accepted) {
      ++result.rejected_steps;
      dt = dt_next;
      continue;
    }
    t += dt;
    ++m_step;
    theta.swap(out);
    dxdt.swap(dxdt_out);
    last_dt = dt;
    last_err = e;
    dt = dt_next;
    const auto crossed = report_switches(theta, std::log(t));
    update_sliding(crossed, theta, dxdt, dt, std::log(t), result);
    gnorm = dxdt.norm();
    L = loss_at(theta);
    if (std::log(t) >= next_record) {
      result.last = make_record(theta, t, last_dt, last_err);
      for (Observer* o : m_observers) o->on_record(result.last, theta);
      for (Observer* o : m_observers) o->on_snapshot(theta, m_points);
      ++m_points;
      next_record = std::log(t) + m_opt.record_every_log_t;
    }
  }
  if (m_step > 0 && result.last.step != m_step) {
    result.last = make_record(theta, t, last_dt, last_err);
    for (Observer* o : m_observers) o->on_record(result.last, theta);
    for (Observer* o : m_observers) o->on_snapshot(theta, m_points);
    ++m_points;
  }
  result.status = status;
  result.sliding_pairs = static_cast<std::int64_t>(m_held.held().size());
  result.reason = describe(status, result.last);
  for (Observer* o : m_observers) o->on_finish(theta, status, result.reason);
  return result;
}

}  // namespace kktflow
