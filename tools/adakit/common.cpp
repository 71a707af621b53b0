#include "common.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"

namespace adakit::cli {

namespace {
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}
}  // namespace

void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags) {
  app.add_option("--optimizer,-O", flags.optimizer,
                 "optimizer: " + join(train::optimizer_names(OptimizerKind::dense)) + " (sparse linear models: " +
                     join(train::optimizer_names(OptimizerKind::linear)) +
                     "); a comma list or 'all' runs several; NAME:key=value,... sets options")
      ->capture_default_str();
  // One flag per option key of either registry, in registry order; the help lists each optimizer's default.
  for (const auto& o : train::option_flag_help()) {
    app.add_option_function<std::string>(
           train::option_flag(o.key), [&flags, key = o.key](const std::string& v) { flags.values[key] = v; },
           o.help + " (default: " + o.defaults + ")")
        ->type_name(o.key == "convention" || o.key == "eps_mode" ? "NAME" : "VALUE");
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

OptimizerChoice one_optimizer(const OptimizerFlags& flags, OptimizerKind kind, const std::string& refusal) {
  auto choices = resolve_optimizers(flags, kind);
  if (choices.size() != 1) throw UsageError(refusal, {"", 0, "optimizer"});
  return std::move(choices[0]);
}

void add_threads_flag(CLI::App& app, int& threads) {
  app.add_option("--threads,-j", threads, "threads for adakit's kernels (0 = OMP_NUM_THREADS or all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
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
                        bool json, const std::vector<std::string>& texts, const nlohmann::json& extra) {
  if (json) {
    nlohmann::json j = {{"predictions", rows}};
    if (accuracy) j["accuracy"] = *accuracy;
    if (mse) j["mse"] = *mse;
    for (const auto& [key, value] : extra.items()) j[key] = value;
    std::cout << j.dump() << "\n";
    return;
  }
  for (const auto& r : rows) {
    std::string shown;
    if (r.contains("labels")) {  // --top-k / --threshold: name:probability of each class chosen
      for (const auto& c : r["labels"])
        shown += (shown.empty() ? "" : " ") + (c.contains("label") ? c["label"].get<std::string>() : c["class"].dump()) +
                 ":" + format_printf("%.4f", c["probability"].get<double>());
    } else {
      shown = r.contains("label") ? r["label"].get<std::string>()
                                  : (r.contains("prediction") ? r["prediction"] : r["class"]).dump();
    }
    std::printf("%lld\t%s", static_cast<long long>(r["index"]), shown.c_str());
    if (r.contains("probabilities")) std::printf("\t%s", r["probabilities"].dump().c_str());
    if (!texts.empty()) std::printf("\t%s", texts[static_cast<std::size_t>(r["index"].get<std::int64_t>())].c_str());
    std::printf("\n");
  }
  if (accuracy) std::fprintf(stderr, "accuracy %.4f on %lld samples\n", *accuracy, static_cast<long long>(rows.size()));
  if (mse) std::fprintf(stderr, "mse %.6g on %lld samples\n", *mse, static_cast<long long>(rows.size()));
  if (extra.contains("multilabel")) {
    const auto& m = extra["multilabel"];
    std::fprintf(stderr, "P@%lld %.4f  R@%lld %.4f  precision %.4f  recall %.4f  F1 %.4f at threshold %g\n",
                 static_cast<long long>(m["k"].get<std::int64_t>()), m["precision_at_k"].get<double>(),
                 static_cast<long long>(m["k"].get<std::int64_t>()), m["recall_at_k"].get<double>(),
                 m["precision"].get<double>(), m["recall"].get<double>(), m["f1"].get<double>(), m["threshold"].get<double>());
  }
}

}  // namespace adakit::cli
