/// \file _kktflow.cpp
/// The kktflow library from Python (pybind11): `run` and `verify` call the same code as
/// `kktflow run` and `kktflow verify` (app/run_session.hpp, analysis/verify), in-process.
///
/// A run releases the GIL while it integrates. Once a step it takes the GIL back for a moment to
/// let Python run its signal handlers: Ctrl-C in a notebook stops the run at a step boundary as
/// SIGINT stops `kktflow run` (status "interrupted", a checkpoint `resume=True` continues from),
/// and the KeyboardInterrupt is raised once the file is closed. Progress goes to a Python
/// callable, called with each trajectory row.
#include "analysis/io/h5_error.hpp"
#include "analysis/io/run_data_reader.hpp"
#include "analysis/io/verify_store.hpp"
#include "analysis/io/writer_lock.hpp"
#include "analysis/verify/claim_registry.hpp"
#include "analysis/verify/tolerance_source.hpp"
#include "app/config.hpp"
#include "app/exit_codes.hpp"
#include "app/run_session.hpp"

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace kktflow;

namespace {

/// Asked by the driver once a step, without the GIL: takes it, runs Python's signal handlers,
/// and remembers the first exception they raise (KeyboardInterrupt).
class PythonInterrupt {
 public:
  bool operator()() {
    if (m_error) return true;
    const py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) m_error.emplace();  // fetches and clears the pending exception
    return m_error.has_value();
  }
  /// Raises the remembered exception, if any; call with the GIL held.
  void raise_if_interrupted() {
    if (m_error) {
      m_error->restore();
      throw py::error_already_set();
    }
  }

 private:
  std::optional<py::error_already_set> m_error;
};

/// Hands each trajectory row to a Python callable. An exception in the callable stops the calls
/// (the run goes on) and is raised after the run.
class PythonProgress final : public Observer {
 public:
  /// `target`: the figure the run stops at (stop.kkt_eps, or stop.loss for the square loss).
  PythonProgress(py::object callback, double target) : m_callback(std::move(callback)), m_target(target) {}
  void on_record(const Record& r, const Eigen::VectorXd& /*theta_c*/) override {
    if (m_callback.is_none() || m_error) return;
    const py::gil_scoped_acquire gil;
    try {
      m_callback(py::dict(py::arg("step") = r.step, py::arg("log_t") = r.log_t, py::arg("log_loss") = r.log_loss,
                          py::arg("kkt_eps") = r.kkt_eps, py::arg("stable_rank") = r.stable_rank,
                          py::arg("normalized_margin") = r.normalized_margin, py::arg("wall_s") = r.wall_s,
                          py::arg("target") = m_target));
    } catch (py::error_already_set& e) {
      m_error.emplace(std::move(e));
    }
  }
  void raise_if_failed() {
    if (m_error) {
      m_error->restore();
      throw py::error_already_set();
    }
  }

 private:
  py::object m_callback;
  double m_target;
  std::optional<py::error_already_set> m_error;
};

/// The configuration from a TOML file (`config_path`) or TOML text, with overrides.
RunConfig config_of(const std::string& config_path, const std::string& config_text,
                    const std::vector<std::string>& overrides) {
  return config_path.empty() ? load_config_text(config_text, overrides) : load_config(config_path, overrides);
}

py::dict run(const std::string& config_path, const std::string& config_text, const std::vector<std::string>& overrides,
             const std::string& output, bool force, bool resume, py::object progress) {
  PythonInterrupt interrupt;
  RunConfig config = config_of(config_path, config_text, overrides);
  PythonProgress rows(std::move(progress),
                      config.model.kind == "relu2" ? config.square.stop.loss : config.driver.stop.kkt_eps);
  RunRequest request{std::move(config), output, force, resume, [&interrupt] { return interrupt(); }, {&rows}};
  RunOutcome outcome;
  {
    const py::gil_scoped_release release;
    outcome = run_session(request);
  }
  interrupt.raise_if_interrupted();
  rows.raise_if_failed();
  return py::dict(py::arg("exit_code") = outcome.exit_code, py::arg("ran") = outcome.ran,
                  py::arg("status") = outcome.ran ? to_string(outcome.result.status) : std::string(),
                  py::arg("reason") = outcome.ran ? outcome.result.reason : std::string(),
                  py::arg("message") = outcome.message, py::arg("steps") = outcome.result.last.step,
                  py::arg("log_t") = outcome.result.last.log_t, py::arg("kkt_eps") = outcome.result.last.kkt_eps);
}

py::list verify(const std::string& path, const std::vector<std::string>& claims) {
  VerifyOutcome outcome;
  {
    const py::gil_scoped_release release;
    const WriterLock lock(path);  // as `kktflow verify`: no run may be writing the file meanwhile
    outcome = verify_run(read_run_data(path), claims);
    write_verify(path, outcome.claims, outcome.finals);
  }
  py::list rows;
  for (const ClaimResult& c : outcome.claims)
    rows.append(py::dict(py::arg("name") = c.name, py::arg("passed") = c.passed, py::arg("value") = c.value,
                         py::arg("tolerance") = c.tolerance, py::arg("tolerance_source") = tolerance_source(c.name),
                         py::arg("certified") = c.certified, py::arg("detail") = c.detail));
  return rows;
}

}  // namespace

PYBIND11_MODULE(_kktflow, m) {
  m.doc() = "kktflow's run and verify, in-process (the package kktflow wraps them)";
  py::register_exception<ConfigError>(m, "ConfigError", PyExc_ValueError);
  py::register_exception<h5::Error>(m, "FileError", PyExc_OSError);
  m.def("run", &run, py::arg("config_path"), py::arg("config_text"), py::arg("overrides"), py::arg("output"),
        py::arg("force"), py::arg("resume"), py::arg("progress"),
        "Runs a configuration (a TOML file, or TOML text when config_path is empty) into the run file "
        "`output`; returns the exit code and the run's end.");
  m.def("verify", &verify, py::arg("path"), py::arg("claims"),
        "Checks the claims (every applicable one when empty) on a run file and writes them into it.");
  m.def("version", [] { return std::string(KKTFLOW_VERSION) + " (git " + KKTFLOW_GIT_COMMIT + ")"; });
}
