// Warm start: see include/adakit/io/warm_start.hpp.
#include "adakit/io/warm_start.hpp"

#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/optimizer_choice.hpp"

namespace adakit::io {
namespace {

constexpr const char* kField = "init-model";

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Every class of `d`'s rows is one of the model's.
void check_classes(const data::Dataset& d, const ModelInfo& info, const std::string& source,
                   const std::string& model_source) {
  if (info.class_names.empty()) return;
  std::vector<bool> known(d.class_names.size(), false), checked(d.class_names.size(), false);
  for (const auto label : d.labels) {
    const auto i = static_cast<std::size_t>(label);
    if (i >= d.class_names.size() || checked[i]) continue;
    checked[i] = true;
    for (const auto& n : info.class_names) known[i] = known[i] || n == d.class_names[i];
    if (!known[i])
      throw UsageError("class '" + d.class_names[i] + "' is not one of the classes of the model in " + model_source +
                           " (" + joined(info.class_names) + "); a warm start cannot add classes",
                       {source, 0, "label"});
  }
}

// Named columns must be the model's, in its order.
void check_features(const data::Dataset& d, const ModelInfo& info, const std::string& source,
                    const std::string& model_source) {
  if (d.feature_names.empty() || info.feature_names.size() != d.feature_names.size()) return;
  for (std::size_t i = 0; i < d.feature_names.size(); ++i)
    if (d.feature_names[i] != info.feature_names[i])
      throw UsageError("column " + std::to_string(i + 1) + " is '" + d.feature_names[i] + "', the model in " +
                           model_source + " takes '" + info.feature_names[i] + "' there (columns: " +
                           joined(info.feature_names) + ")",
                       {source, 0, "features"});
}

// The layer configs without their seeds.
nlohmann::json without_seeds(nlohmann::json config) {
  nlohmann::json& layers = config.is_object() && config.contains("layers") ? config["layers"] : config;
  if (layers.is_array())
    for (auto& layer : layers)
      if (layer.is_object()) layer.erase("seed");
  return config;
}

}  // namespace

WarmStart read_warm_start(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw UsageError("no such file (give a model file written by 'adakit train --save', or DIR/checkpoint.safetensors)",
                     {source, 0, kField});
  if (is_linear_model_file(path))
    throw UsageError("this is a sparse linear model; on dense data --init-model takes a dense model file "
                     "('adakit train --save' of an nn model) or a dense checkpoint",
                     {source, 0, kField});
  const TensorFile file = read_safetensors(path);
  LoadedModel loaded = model_from_tensor_file(file, source);
  WarmStart w{std::move(loaded.model), std::move(loaded.info), std::nullopt};
  if (has_optimizer(file)) w.optimizer = read_optimizer(file, source);
  // Kept with the optimizer: then dropout continues its stream, else it starts over from its seed.
  if (const auto streams = read_random_streams(file, source); !streams.empty())
    restore_random_streams(streams, w.model, source);
  return w;
}

data::PreparedData prepare_for_model(const data::PrepareOptions& options, const ModelInfo& info,
                                     const std::string& model_source) {
  const bool regression = info.objective == "mse";
  data::PrepareOptions o = options;
  o.csv.task = regression ? data::CsvOptions::Task::regression : data::CsvOptions::Task::classification;
  o.scale = "off";              // the saved scaler, by fit_to_model below
  o.align_test_labels = false;  // every split is numbered as the model's classes, below
  data::PreparedData out = data::prepare_data(o);
  if (out.train.is_classification() == regression)
    throw UsageError("the model was trained for " + info.objective + " (" +
                         (regression ? "regression" : "classification") + "), but " + o.data + " is a " +
                         (regression ? "classification" : "regression") + " dataset",
                     {model_source, 0, kField});
  const auto fit = [&](data::Dataset& d, const std::string& source) {
    if (d.size() == 0) return;
    if (d.is_classification() == regression)
      throw UsageError(std::string("the model was trained for ") + (regression ? "regression" : "classification") +
                           ", this file is a " + (regression ? "classification" : "regression") + " dataset",
                       {source, 0, "label"});
    if (d.is_classification()) check_classes(d, info, source, model_source);
    check_features(d, info, source, model_source);
    fit_to_model(d, info, source);
  };
  fit(out.train, o.data);
  fit(out.test, o.test_data.empty() ? o.data : o.test_data);
  fit(out.validation, o.data);
  out.scaler = {info.scaler_mean, info.scaler_scale};
  return out;
}

std::unique_ptr<optim::Optimizer> continue_optimizer(const SavedOptimizer& saved, std::vector<Parameter*> params,
                                                     const OptimizerRequest& asked, const std::string& source) {
  const std::string fresh = ", or start a fresh optimizer from a model file saved without --save-state)";
  if (asked.name && *asked.name != saved.name)
    throw UsageError("the file keeps the state of optimizer '" + saved.name + "', this run asks for '" + *asked.name +
                         "' (leave --optimizer out to continue the saved one" + fresh,
                     {source, 0, kField});
  std::unique_ptr<optim::Optimizer> opt;
  try {
    opt = optim::make_optimizer(saved.name, params);
  } catch (const UsageError& e) {
    throw Error(e.message(), {source, 0, "optim.name"});
  }
  restore_optimizer(saved.state, *opt, source);
  std::string diffs;
  if (!asked.options.empty()) {
    optim::OptionMap merged = opt->group_options(0);
    for (const auto& [k, v] : asked.options) merged[k] = v;
    const optim::OptionMap want = optim::make_optimizer(saved.name, params, merged)->group_options(0);
    const optim::OptionMap have = opt->group_options(0);
    for (const auto& [k, v] : asked.options) {
      const auto w = want.find(k), h = have.find(k);
      if (w != want.end() && h != have.end() && w->second != h->second)
        diffs += "\n  " + train::option_flag(k) + ": saved " + h->second + ", this run " + w->second;
    }
  }
  if (asked.schedule) {
    const std::string want = optim::Schedule::parse(*asked.schedule).to_string(), have = opt->schedule().to_string();
    if (want != have) diffs += "\n  --schedule: saved " + have + ", this run " + want;
  }
  const auto clip = [&](const char* flag, const std::optional<double>& want, double have) {
    if (want && optim::format_double(*want) != optim::format_double(have))
      diffs += std::string("\n  ") + flag + ": saved " + optim::format_double(have) + ", this run " +
               optim::format_double(*want);
  };
  clip("--clip-norm", asked.clip_norm, opt->clip().max_norm);
  clip("--clip-value", asked.clip_value, opt->clip().max_value);
  if (!diffs.empty())
    throw UsageError("the optimizer state kept in the file was saved with other settings (leave these flags out to "
                     "continue with the saved ones" + fresh + ":" + diffs,
                     {source, 0, kField});
  return opt;
}

void check_same_architecture(const nlohmann::json& saved, const nlohmann::json& built, const std::string& source) {
  const nlohmann::json a = without_seeds(saved), b = without_seeds(built);
  if (a != b)
    throw UsageError("--model (with --activation, --dropout) describes another model than the one saved: saved " +
                         a.dump() + ", the flags build " + b.dump() + " (leave --model out to continue the saved one)",
                     {source, 0, "model"});
}

}  // namespace adakit::io
