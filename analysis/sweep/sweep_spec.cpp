/// \file sweep_spec.cpp
/// Parsing and expanding sweep files (sweep_spec.hpp).
#include "analysis/sweep/sweep_spec.hpp"

#include "analysis/io/toml_file.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace kktflow {
namespace {

const std::set<std::string> kTopLevelKeys{"base", "mode", "claims", "budget_s", "set", "grid", "case", "continuation"};
const std::set<std::string> kContinuationKeys{"key", "from", "to", "step", "max_step", "locate_tol", "support_tol"};
/// Ours: margins within 0.1% of the least count as one support set.
constexpr double kDefaultSupportTol = 1e-3;

/// A value as TOML text (strings quoted), the form `--set` parses.
std::string toml_text(const toml::node& node) {
  std::ostringstream os;
  node.visit([&](const auto& v) { os << v; });
  return os.str();
}

/// (dotted key, node) of every leaf of `table`: nested tables become section.key.
void flatten(const toml::table& table, const std::string& prefix,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const auto* sub = node.as_table()) {
      flatten(*sub, name, out);
    } else {
      out.emplace_back(name, &node);
    }
  }
}

std::vector<std::pair<std::string, const toml::node*>> leaves(const toml::table& table) {
  std::vector<std::pair<std::string, const toml::node*>> out;
  flatten(table, "", out);
  return out;
}

/// The value of a swept or set key: a string, number or boolean (what a config key takes).
std::string scalar_text(const std::string& where, const toml::node& node) {
  if (const auto f = node.value_exact<double>()) {
    if (!std::isfinite(*f)) throw SweepError(where + " = " + toml_text(node) + ": must be finite");
    return toml_float_text(*f);
  }
  if (node.is_string() || node.is_integer() || node.is_boolean()) return toml_text(node);
  throw SweepError(where + " = " + toml_text(node) + ": expected a string, number or boolean");
}

toml::table parse(const std::string& path) {
  try {
    return read_toml_file(path, "sweep file");
  } catch (const std::runtime_error& e) {
    throw SweepError(e.what());
  }
}

void check_top_level(const toml::table& root) {
  for (const auto& [key, _] : root) {
    if (!kTopLevelKeys.count(std::string(key.str())))
      throw SweepError("unknown sweep key " + std::string(key.str()) +
                       "; allowed: base, mode, claims, budget_s, set, grid, case, continuation");
  }
}

std::string read_base(const toml::table& root, const std::string& path) {
  const auto base = root["base"].value_exact<std::string>();
  if (!base) {
    throw SweepError(root.contains("base") ? "base = " + toml_text(*root.get("base")) + ": expected a string (a path)"
                                           : "base: missing; name the run configuration the cases start from");
  }
  const std::filesystem::path resolved = std::filesystem::path(path).parent_path() / *base;
  if (!std::filesystem::is_regular_file(resolved))
    throw SweepError("base = \"" + *base + "\": no such file " + resolved.string() +
                     " (relative paths start at the sweep file)");
  return std::filesystem::absolute(resolved).lexically_normal().string();
}

std::vector<std::string> read_claims(const toml::table& root) {
  std::vector<std::string> claims;
  const toml::node* node = root.get("claims");
  if (!node) return claims;
  const auto* array = node->as_array();
  for (std::size_t k = 0; array && k < array->size(); ++k) {
    const auto name = array->at(k).value_exact<std::string>();
    if (!name) break;
    claims.push_back(*name);
  }
  if (!array || claims.size() != array->size())
    throw SweepError("claims = " + toml_text(*node) + ": expected an array of claim names (kktflow verify --claims)");
  return claims;
}

double read_budget(const toml::table& root) {
  const toml::node* node = root.get("budget_s");
  if (!node) return 0;
  const auto budget = node->value<double>();
  if (!budget || !(*budget >= 0) || !std::isfinite(*budget))
    throw SweepError("budget_s = " + toml_text(*node) + ": must be a finite number of seconds ≥ 0 (0: no budget)");
  return *budget;
}

std::vector<std::string> read_set(const toml::table& root) {
  std::vector<std::string> overrides;
  const toml::node* node = root.get("set");
  if (!node) return overrides;
  if (!node->is_table()) throw SweepError("set = " + toml_text(*node) + ": expected a table of key = value");
  for (const auto& [key, value] : leaves(*node->as_table()))
    overrides.push_back(key + "=" + scalar_text("set." + key, *value));
  return overrides;
}

/// Every combination of the [grid] values, the last key varying fastest.
std::vector<std::vector<std::pair<std::string, std::string>>> expand_grid(const toml::table& root,
                                                                          std::vector<std::string>& keys) {
  const auto* grid = root.get_as<toml::table>("grid");
  if (!grid) throw SweepError("mode = \"grid\": missing the [grid] table (key = [values, ...])");
  std::vector<std::vector<std::string>> values;
  for (const auto& [key, node] : leaves(*grid)) {
    const auto* array = node->as_array();
    if (!array || array->empty())
      throw SweepError("grid." + key + " = " + toml_text(*node) + ": expected a non-empty array of values");
    keys.push_back(key);
    values.emplace_back();
    for (std::size_t k = 0; k < array->size(); ++k)
      values.back().push_back(scalar_text("grid." + key + "[" + std::to_string(k) + "]", array->at(k)));
  }
  if (keys.empty()) throw SweepError("[grid] is empty: give at least one key = [values, ...]");
  std::vector<std::vector<std::pair<std::string, std::string>>> cases{{}};
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& partial : cases) {
      for (const std::string& value : values[k]) {
        next.push_back(partial);
        next.back().emplace_back(keys[k], value);
      }
    }
    cases = std::move(next);
  }
  return cases;
}

/// The [[case]] tables; every case must set the same keys, so that the index has one column each.
std::vector<std::vector<std::pair<std::string, std::string>>> expand_list(const toml::table& root,
                                                                          std::vector<std::string>& keys) {
  const auto* list = root.get_as<toml::array>("case");
  if (!list || list->empty()) throw SweepError("mode = \"list\": missing the [[case]] tables (one per case)");
  std::vector<std::vector<std::pair<std::string, std::string>>> cases;
  for (std::size_t c = 0; c < list->size(); ++c) {
    const auto* table = list->at(c).as_table();
    if (!table) throw SweepError("case[" + std::to_string(c) + "]: expected a table of key = value");
    std::vector<std::string> these;
    cases.emplace_back();
    for (const auto& [key, node] : leaves(*table)) {
      these.push_back(key);
      cases.back().emplace_back(key, scalar_text("case[" + std::to_string(c) + "]." + key, *node));
    }
    if (c == 0) keys = these;
    if (these != keys)
      throw SweepError("case[" + std::to_string(c) +
                       "] sets other keys than case[0]; every [[case]] must set the same keys");
  }
  return cases;
}

/// A number of [continuation]; `fallback` when absent (nullopt: required).
double continuation_number(const toml::table& table, const std::string& key, std::optional<double> fallback) {
  const toml::node* node = table.get(key);
  if (!node) {
    if (fallback) return *fallback;
    throw SweepError("continuation." + key + ": missing; [continuation] needs key, from, to and step");
  }
  const auto value = node->value<double>();
  if (!value || !std::isfinite(*value))
    throw SweepError("continuation." + key + " = " + toml_text(*node) + ": expected a finite number");
  return *value;
}

void check_range(const std::string& key, double value, bool ok, const std::string& allowed) {
  if (!ok) throw SweepError("continuation." + key + " = " + toml_float_text(value) + ": " + allowed);
}

ContinuationSpec read_continuation(const toml::table& root) {
  const auto* table = root.get_as<toml::table>("continuation");
  if (!table) throw SweepError("mode = \"continuation\": missing the [continuation] table (key, from, to, step)");
  for (const auto& [key, _] : *table) {
    if (!kContinuationKeys.count(std::string(key.str())))
      throw SweepError("unknown key continuation." + std::string(key.str()) +
                       "; allowed: key, from, to, step, max_step, locate_tol, support_tol");
  }
  ContinuationSpec c;
  const auto key = (*table)["key"].value_exact<std::string>();
  if (!key || key->empty())
    throw SweepError(table->contains("key") ? "continuation.key = " + toml_text(*table->get("key")) +
                                                  ": expected a config key such as \"data.shift\""
                                            : "continuation.key: missing; name the config key to follow");
  c.key = *key;
  c.from = continuation_number(*table, "from", std::nullopt);
  c.to = continuation_number(*table, "to", std::nullopt);
  c.step = continuation_number(*table, "step", std::nullopt);
  const double span = std::abs(c.to - c.from);
  check_range("to", c.to, span > 0, "must differ from continuation.from = " + toml_float_text(c.from));
  check_range("step", c.step, c.step > 0 && c.step <= span,
              "must lie in (0, |to − from|] = (0, " + toml_float_text(span) + "]; its sign is taken from to − from");
  c.max_step = continuation_number(*table, "max_step", 4 * c.step);
  check_range("max_step", c.max_step, c.max_step >= c.step, "must be ≥ continuation.step = " + toml_float_text(c.step));
  c.locate_tol = continuation_number(*table, "locate_tol", c.step / 16);
  check_range("locate_tol", c.locate_tol, c.locate_tol > 0 && c.locate_tol <= c.step,
              "must lie in (0, step] = (0, " + toml_float_text(c.step) + "]");
  c.support_tol = continuation_number(*table, "support_tol", kDefaultSupportTol);
  check_range("support_tol", c.support_tol, c.support_tol > 0 && c.support_tol < 1, "must lie in (0, 1)");
  return c;
}

/// The modes and the tables each forbids.
void check_mode(const toml::table& root, const std::string& mode) {
  if (mode != "grid" && mode != "list" && mode != "continuation")
    throw SweepError("mode = \"" + mode + "\": allowed values are \"grid\", \"list\", \"continuation\"");
  struct ModeTable {
    const char* key;   // the table's key in the sweep file
    const char* what;  // as messages name it
    const char* mode;  // the mode it belongs to
  };
  for (const ModeTable& t : {ModeTable{"grid", "[grid]", "grid"}, ModeTable{"case", "[[case]] tables", "list"},
                             ModeTable{"continuation", "[continuation]", "continuation"}}) {
    if (mode != t.mode && root.contains(t.key))
      throw SweepError(std::string(t.what) + " given with mode = \"" + mode + "\"; use mode = \"" + t.mode +
                       "\" for them");
  }
}

}  // namespace

std::string toml_float_text(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string SweepCase::label() const {
  std::string out;
  for (const auto& [key, value] : params) out += (out.empty() ? "" : " ") + key + "=" + value;
  return out;
}

SweepSpec read_sweep_file(const std::string& path) {
  const toml::table root = parse(path);
  check_top_level(root);
  SweepSpec spec;
  spec.path = path;
  std::ostringstream text;
  text << std::ifstream(path).rdbuf();
  spec.text = text.str();
  spec.base_config = read_base(root, path);
  spec.mode = root["mode"].value_or(std::string("grid"));
  if (root.contains("mode") && !root["mode"].is_string())
    throw SweepError("mode = " + toml_text(*root.get("mode")) +
                     ": allowed values are \"grid\", \"list\", \"continuation\"");
  check_mode(root, spec.mode);
  spec.claims = read_claims(root);
  spec.budget_s = read_budget(root);
  spec.shared = read_set(root);
  if (spec.mode == "continuation") {
    spec.continuation = read_continuation(root);
    spec.keys = {spec.continuation.key};
    return spec;
  }
  const auto cases = spec.mode == "grid" ? expand_grid(root, spec.keys) : expand_list(root, spec.keys);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    SweepCase sweep_case{static_cast<int>(c), cases[c], spec.shared};
    for (const auto& [key, value] : cases[c]) sweep_case.overrides.push_back(key + "=" + value);
    spec.cases.push_back(std::move(sweep_case));
  }
  return spec;
}

SweepDescription describe_sweep(const SweepSpec& spec) {
  return {spec.path, spec.text, spec.base_config, spec.mode, spec.keys, spec.budget_s};
}

}  // namespace kktflow
