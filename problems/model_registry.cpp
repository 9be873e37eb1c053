#include "model_registry.hpp"

#include "init.hpp"
#include "linear.hpp"
#include "param_checks.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace kktflow {

namespace {

std::string join(const std::vector<std::string>& words, const std::string& quote = "\"") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + quote + w + quote;
  return out;
}

std::string join_commas(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ",") + w;
  return out;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; std::getline(in, word, ',');) out.push_back(word);
  return out;
}

/// The /model attributes as text, read with messages that name the attribute.
class Attributes {
 public:
  explicit Attributes(const std::map<std::string, std::string>& attrs) : m_attrs(attrs) {}

  const std::string& text(const std::string& name) const {
    const auto it = m_attrs.find(name);
    if (it == m_attrs.end()) throw std::invalid_argument("/model has no attribute '" + name + "'");
    return it->second;
  }
  double number(const std::string& name) const {
    const std::string& value = text(name);
    try {
      return std::stod(value);
    } catch (const std::exception&) {
      throw std::invalid_argument("/model attribute '" + name + "' = '" + value + "': expected a number");
    }
  }
  Eigen::Index count(const std::string& name) const { return static_cast<Eigen::Index>(number(name)); }

 private:
  const std::map<std::string, std::string>& m_attrs;
};

}  // namespace

const std::vector<std::string>& model_kinds() {
  static const std::vector<std::string> kinds{"leaky2_fixed_outer", "two_layer_leaky", "deep", "linear", "relu2"};
  return kinds;
}

const std::set<std::string>& model_keys(const std::string& kind) {
  static const std::map<std::string, std::set<std::string>> keys{
      {"leaky2_fixed_outer", {"width", "gamma", "signs", "init_scale"}},
      {"two_layer_leaky", {"width", "alpha", "init_scale"}},
      {"deep", {"layers", "width", "skip", "init_scale"}},
      {"linear", {"init_scale"}},
      {"relu2", {"width", "init_radius"}},
  };
  const auto it = keys.find(kind);
  if (it == keys.end())
    throw std::invalid_argument("model.kind = \"" + kind + "\": allowed values are " + join(model_kinds()));
  return it->second;
}

void set_model_seed(ModelSpec& spec, std::uint64_t seed) {
  spec.leaky2.seed = seed;
  spec.two_layer.seed = seed;
  spec.deep.seed = seed;
  spec.relu2.seed = seed;
  spec.linear.seed = seed;
}

void validate(const ModelSpec& spec) {
  model_keys(spec.kind);  // throws for an unknown kind
  if (spec.kind == "leaky2_fixed_outer") validate(spec.leaky2);
  if (spec.kind == "two_layer_leaky") validate(spec.two_layer);
  if (spec.kind == "deep") validate(spec.deep);
  if (spec.kind == "relu2") validate(spec.relu2);
  if (spec.kind == "linear") require_scale("model.init_scale", spec.linear.init_scale, true);
}

BuiltModel make_model(const ModelSpec& spec, const Eigen::MatrixXd& X) {
  validate(spec);
  BuiltModel built;
  if (spec.kind == "two_layer_leaky") {
    auto model = std::make_unique<TwoLayerLeaky>(X, spec.two_layer);
    built.theta0 = model->initial_theta();
    built.model = std::move(model);
  } else if (spec.kind == "deep") {
    auto model = std::make_unique<DeepNet>(X, spec.deep);
    built.theta0 = model->initial_theta();
    built.model = std::move(model);
  } else if (spec.kind == "relu2") {
    auto model = std::make_unique<Relu2>(X, spec.relu2);
    built.theta0 = model->initial_theta();
    built.model = std::move(model);
  } else if (spec.kind == "linear") {
    built.model = std::make_unique<LinearModel>(X);
    const Eigen::Index dim = built.model->dim();
    built.theta0 = spec.linear.init_scale > 0 ? gaussian_theta(dim, spec.linear.init_scale, spec.linear.seed)
                                              : Eigen::VectorXd::Zero(dim);
  } else {
    auto model = std::make_unique<Leaky2FixedOuter>(X, spec.leaky2);
    built.theta0 = model->initial_theta();
    built.model = std::move(model);
  }
  return built;
}

ModelDescription describe_model(const ModelSpec& spec) {
  ModelDescription d;
  if (spec.kind == "leaky2_fixed_outer") {
    d.text = {{"activation", "leaky_relu"}, {"signs", spec.leaky2.balanced_signs ? "balanced" : "random"}};
    d.numbers = {{"gamma", spec.leaky2.gamma},
                 {"width", static_cast<double>(spec.leaky2.width)},
                 {"init_scale", spec.leaky2.init_scale}};
  } else if (spec.kind == "two_layer_leaky") {
    d.text = {{"activation", "leaky_relu"}};
    d.numbers = {{"alpha", spec.two_layer.alpha},
                 {"width", static_cast<double>(spec.two_layer.width)},
                 {"init_scale", spec.two_layer.init_scale}};
  } else if (spec.kind == "deep") {
    d.text = {{"activation", join_commas(spec.deep.layers)}, {"skip", spec.deep.skip ? "true" : "false"}};
    d.numbers = {{"width", static_cast<double>(spec.deep.width)}, {"init_scale", spec.deep.init_scale}};
  } else if (spec.kind == "relu2") {
    d.text = {{"activation", "relu"}};
    d.numbers = {{"width", static_cast<double>(spec.relu2.width)},
                 {"outputs", static_cast<double>(spec.relu2.outputs)},
                 {"init_radius", spec.relu2.init_radius}};
  } else {
    d.text = {{"activation", "none"}};
    d.numbers = {{"init_scale", spec.linear.init_scale}};
  }
  return d;
}

ModelSpec spec_from_attributes(const std::map<std::string, std::string>& attrs) {
  const Attributes a(attrs);
  ModelSpec spec;
  spec.kind = a.text("kind");
  model_keys(spec.kind);  // throws for an unknown kind
  if (spec.kind == "leaky2_fixed_outer")
    spec.leaky2 = {a.count("width"), a.number("gamma"), a.text("signs") == "balanced", a.number("init_scale"), 0};
  else if (spec.kind == "two_layer_leaky")
    spec.two_layer = {a.count("width"), a.number("alpha"), a.number("init_scale"), 0};
  else if (spec.kind == "deep")
    spec.deep = {split_commas(a.text("activation")), a.count("width"), a.text("skip") == "true", a.number("init_scale"),
                 0};
  else if (spec.kind == "relu2")
    spec.relu2 = {a.count("width"), a.count("outputs"), a.number("init_radius"), 0};
  else
    spec.linear = {a.number("init_scale"), 0};
  return spec;
}

}  // namespace kktflow
