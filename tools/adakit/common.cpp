#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::cli {

namespace {
std::string flag_name(const std::string& key) {
  std::string f = "--" + key;
  for (auto& c : f)
    if (c == '_') c = '-';
  return f;
}

// The option keys of optimizer `name` in the chosen registry (UsageError listing the names if unknown).
std::vector<std::string> option_keys(OptimizerKind kind, const std::string& name) {
  std::vector<std::string> keys;
  const auto help = kind == OptimizerKind::dense ? optim::find_optimizer(name).options()
                                                 : linear::find_linear_optimizer(name).options();
  for (const auto& o : help) keys.push_back(o.key);
  return keys;
}

std::vector<std::string> optimizer_names(OptimizerKind kind) {
  std::vector<std::string> names;
  if (kind == OptimizerKind::dense)
    for (const auto& info : optim::optimizers()) names.emplace_back(info.name);
  else
    for (const auto& info : linear::linear_optimizers()) names.emplace_back(info.name);
  return names;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags) {
  app.add_option("--optimizer,-O", flags.optimizer,
                 "optimizer: " + join(optimizer_names(OptimizerKind::dense)) + " (sparse linear models: " +
                     join(optimizer_names(OptimizerKind::linear)) +
                     "); a comma list or 'all' runs several; NAME:key=value,... sets options")
      ->capture_default_str();
  // One flag per option key of either registry, in registry order; the help lists each optimizer's default.
  std::vector<std::string> keys;
  std::map<std::string, std::string> help, defaults;
  const auto add = [&](std::string_view name, const std::vector<optim::OptionHelp>& options, const char* tag) {
    for (const auto& o : options) {
      if (!help.contains(o.key)) {
        keys.push_back(o.key);
        help[o.key] = o.help;
      }
      defaults[o.key] += (defaults[o.key].empty() ? "" : ", ") + std::string(name) + tag + " " + o.default_value;
    }
  };
  for (const auto& info : optim::optimizers()) add(info.name, info.options(), "");
  for (const auto& info : linear::linear_optimizers()) add(info.name, info.options(), " (linear)");
  for (const auto& key : keys) {
    app.add_option_function<std::string>(
           flag_name(key), [&flags, key](const std::string& v) { flags.values[key] = v; },
           help[key] + " (default: " + defaults[key] + ")")
        ->type_name(key == "convention" || key == "eps_mode" ? "NAME" : "VALUE");
  }
  app.add_option("--schedule", flags.schedule,
                 "lr schedule: constant | step:size=N,gamma=G | exponential:gamma=G | cosine:total=N,final=F | "
                 "linear:total=N,final=F; add ,warmup=N to any")
      ->capture_default_str();
  app.add_option("--clip-norm", flags.clip_norm, "clip gradients to this global L2 norm (0 = off)")
      ->capture_default_str();
  app.add_option("--clip-value", flags.clip_value, "clip each gradient element to [-v, v] (0 = off)")
      ->capture_default_str();
}

void add_threads_flag(CLI::App& app, int& threads) {
  app.add_option("--threads,-j", threads, "threads for adakit's kernels (0 = OMP_NUM_THREADS or all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
}

std::vector<std::string> split_optimizer_list(const std::string& s) {
  // "adagrad,sgd:lr=0.1,momentum=0.9,adam": an item with '=' and no ':' continues the previous spec.
  std::vector<std::string> specs;
  std::string item;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != ',') {
      item.push_back(s[i]);
      continue;
    }
    if (item.find('=') != std::string::npos && item.find(':') == std::string::npos && !specs.empty())
      specs.back() += "," + item;
    else if (!item.empty())
      specs.push_back(item);
    item.clear();
  }
  return specs;
}

std::vector<OptimizerChoice> resolve_optimizers(const OptimizerFlags& flags, OptimizerKind kind) {
  const std::vector<std::string> specs =
      flags.optimizer == "all" ? optimizer_names(kind) : split_optimizer_list(flags.optimizer);
  if (specs.empty()) throw UsageError("no optimizer given", {"", 0, "optimizer"});
  std::vector<OptimizerChoice> out;
  std::set<std::string> used;
  for (const auto& spec : specs) {
    auto [name, opts] = optim::parse_optimizer_spec(spec);
    const auto keys = option_keys(kind, name);
    for (const auto& [k, v] : flags.values) {
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) {
        if (!opts.contains(k)) opts[k] = v;
        used.insert(k);
      } else if (specs.size() == 1) {
        throw UsageError(flag_name(k) + " does not apply to " + name, {"", 0, k});
      }
    }
    out.push_back({name, opts});
  }
  for (const auto& [k, v] : flags.values)
    if (!used.contains(k)) throw UsageError(flag_name(k) + " applies to none of the chosen optimizers", {"", 0, k});
  return out;
}

void add_scores(nlohmann::json& j, bool regression, const Scores& train, const Scores& test) {
  j["train_loss"] = metric_json(train.loss);
  j["test_loss"] = metric_json(test.loss);
  if (regression) {
    j["train_mse"] = metric_json(train.mse);
    j["test_mse"] = metric_json(test.mse);
  } else {
    j["train_accuracy"] = metric_json(train.accuracy);
    j["test_accuracy"] = metric_json(test.accuracy);
  }
}

void print_scores(bool regression, const Scores& train, const Scores& test) {
  if (regression)
    std::printf("train mse %.6g  test mse %.6g\n", train.mse, test.mse);
  else
    std::printf("train loss %.4f acc %.4f  test loss %.4f acc %.4f\n", train.loss, train.accuracy, test.loss,
                test.accuracy);
}

void report_predictions(const nlohmann::json& rows, std::optional<double> accuracy, std::optional<double> mse,
                        bool json, const std::vector<std::string>& texts) {
  if (json) {
    nlohmann::json j = {{"predictions", rows}};
    if (accuracy) j["accuracy"] = *accuracy;
    if (mse) j["mse"] = *mse;
    std::cout << j.dump() << "\n";
    return;
  }
  for (const auto& r : rows) {
    std::printf("%lld\t%s", static_cast<long long>(r["index"]),
                r.contains("label") ? r["label"].get<std::string>().c_str()
                                    : (r.contains("prediction") ? r["prediction"] : r["class"]).dump().c_str());
    if (r.contains("probabilities")) std::printf("\t%s", r["probabilities"].dump().c_str());
    if (!texts.empty()) std::printf("\t%s", texts[static_cast<std::size_t>(r["index"].get<std::int64_t>())].c_str());
    std::printf("\n");
  }
  if (accuracy) std::fprintf(stderr, "accuracy %.4f on %lld samples\n", *accuracy, static_cast<long long>(rows.size()));
  if (mse) std::fprintf(stderr, "mse %.6g on %lld samples\n", *mse, static_cast<long long>(rows.size()));
}

}  // namespace adakit::cli
