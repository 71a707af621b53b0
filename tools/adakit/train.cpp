// adakit train / adakit predict: datasets by name or CSV path, models by a short spec, any optimizer.
#include <cmath>
#include <exception>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/model.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/fit.hpp"
#include "adakit/train/progress.hpp"
#include "common.hpp"
#include "subcommands.hpp"
#include "train.hpp"

namespace adakit::cli {
namespace {

data::CsvOptions csv_options(const DataFlags& f) {
  data::CsvOptions o;
  o.label_column = f.label_column;
  return o;
}

// Relabels `d` so that its class ids follow `names` (a test file may hold fewer classes).
void align_classes(data::Dataset& d, const std::vector<std::string>& names, const std::string& what) {
  if (!d.is_classification() || d.class_names == names) return;
  std::map<std::string, std::int32_t> id;
  for (std::size_t i = 0; i < names.size(); ++i) id[names[i]] = static_cast<std::int32_t>(i);
  for (auto& l : d.labels) {
    const std::string& name = d.class_names.at(static_cast<std::size_t>(l));
    auto it = id.find(name);
    if (it == id.end()) throw Error("class '" + name + "' does not occur in the training data", {what, 0, "label"});
    l = it->second;
  }
  d.class_names = names;
}

bool is_image(const data::Dataset& d) { return d.sample_shape().size() == 3; }

std::vector<std::int64_t> parse_ints(const std::string& text, const std::string& field) {
  std::vector<std::int64_t> v;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const double x = optim::parse_double(field, item);
    if (x < 1 || x != std::floor(x) || x > 1e7) throw UsageError("'" + item + "' is not a positive integer", {"", 0, field});
    v.push_back(static_cast<std::int64_t>(x));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

// "mlp:5" | "mlp:256,128" | "logreg" | "softmax" | "linreg" | "cnn" | "cnn:32,64" | "cnn:32,64/128"
nn::Sequential build_model(const std::string& spec, const std::string& activation, double dropout,
                           data::Dataset& train, data::Dataset& test, std::uint64_t seed) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string args = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const bool classification = train.is_classification();
  const std::int64_t classes = train.num_classes();
  const std::int64_t outputs = !classification ? std::max<std::int64_t>(1, train.targets.numel() / std::max<std::int64_t>(1, train.size()))
                               : classes == 2 ? 1 : classes;
  if (dropout != 0.0 && kind != "mlp") throw UsageError("--dropout applies to mlp models", {"", 0, "dropout"});
  if (kind == "cnn") {
    if (!is_image(train)) throw UsageError("cnn needs image data ([C, H, W] samples); this data has samples of shape " + shape_to_string(train.sample_shape()), {"", 0, "model"});
    if (!classification) throw UsageError("cnn is for classification", {"", 0, "model"});
    const std::int64_t out = classes;
    if (args.empty()) {
      const auto s = train.sample_shape();
      return s[1] <= 8 ? nn::digits_cnn(s, out, seed) : nn::image_cnn(s, out, seed);
    }
    const auto slash = args.find('/');
    const auto channels = parse_ints(args.substr(0, slash), "model");
    const std::int64_t hidden = slash == std::string::npos ? 0 : parse_ints(args.substr(slash + 1), "model").at(0);
    return nn::cnn(train.sample_shape(), out, channels, seed, hidden);
  }
  // Dense models take flat samples.
  data::flatten_features(train);
  if (test.size() > 0) data::flatten_features(test);
  const std::int64_t in = train.sample_size();
  if (kind == "mlp") {
    if (args.empty()) throw UsageError("mlp needs hidden sizes, e.g. mlp:64 or mlp:256,128", {"", 0, "model"});
    return nn::mlp(in, parse_ints(args, "model"), outputs, activation, "", seed, dropout);
  }
  if (kind == "logreg") {
    if (!classification) throw UsageError("logreg is for classification; use linreg", {"", 0, "model"});
    return nn::mlp(in, {}, outputs, activation, "", seed);
  }
  if (kind == "softmax") {
    if (!classification) throw UsageError("softmax is for classification; use linreg", {"", 0, "model"});
    return nn::mlp(in, {}, classes, activation, "", seed);
  }
  if (kind == "linreg") {
    if (classification) throw UsageError("linreg is for regression targets; use logreg or softmax", {"", 0, "model"});
    return nn::mlp(in, {}, outputs, activation, "", seed);
  }
  throw UsageError("unknown model '" + spec + "' (mlp:H[,H...], logreg, softmax, linreg, cnn, cnn:C[,C...][/H])",
                   {"", 0, "model"});
}

nlohmann::json metric_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// FNV-1a 64 of the training split (features, then labels or targets): a resumed run must see the same data.
std::string data_fingerprint(const data::Dataset& d) {
  return fingerprint({{d.features.data(), static_cast<std::size_t>(d.features.numel()) * sizeof(float)},
                      {d.labels.data(), d.labels.size() * sizeof(std::int32_t)},
                      {d.targets.data(), static_cast<std::size_t>(d.targets.numel()) * sizeof(float)}});
}

// What decides a run's result, besides --epochs: the checkpoint keeps it, --resume compares it.
nlohmann::json run_identity(const TrainFlags& f, const optim::Optimizer& opt, const data::Dataset& train) {
  nlohmann::json options = nlohmann::json::object();
  for (const auto& [k, v] : opt.group_options(0)) options[k] = v;
  return {{"data", f.data.data},
          {"format", f.data.format},
          {"label-column", f.data.label_column},
          {"scale", f.data.scale},
          {"test-data", f.test_data},
          {"test-split", optim::format_double(f.test_split)},
          {"validation-split", optim::format_double(f.validation_split)},
          {"model", f.model},
          {"activation", f.activation},
          {"dropout", optim::format_double(f.dropout)},
          {"optimizer", std::string(opt.name())},
          {"options", options},
          {"schedule", opt.schedule().to_string()},
          {"clip-norm", optim::format_double(opt.clip().max_norm)},
          {"clip-value", optim::format_double(opt.clip().max_value)},
          {"batch-size", f.batch_size},
          {"seed", f.seed},
          {"patience", f.patience},
          {"on-nonfinite", f.on_nonfinite},
          {"training data (FNV-1a of the split)", data_fingerprint(train)}};
}

// `parallel`: this process is one rank of a data-parallel run (mpirun); nullptr: it is alone.
int run_train_on(TrainFlags f, TrainParallel* parallel) {
  const std::string format = resolve_format(f.data);
  // Sparse data under mpirun: rows owned by hash across the ranks (train_linear.cpp, dist/sparse.hpp).
  if (format != "dense") return run_train_linear(f, format);
  // Under mpirun only rank 0 prints and writes files; every rank trains.
  const bool lead = parallel == nullptr || parallel->rank() == 0;
  if (!lead) {
    f.quiet = true;
    f.json = false;
    f.save.clear();
  }
  if (f.model.empty() || f.model == "auto") f.model = "mlp:64";
  if (f.text.hash_bits != 0 || f.text.tfidf || f.text.binary || f.text.ngram != "1" || f.text.min_df != 1 ||
      f.text.max_features != 0)
    throw UsageError("--hash-bits, --ngram, --tfidf, --binary, --min-df and --max-features apply to text-tsv data",
                     {"", 0, "hash-bits"});
  const auto choices = resolve_optimizers(f.opt);
  if (choices.size() != 1) throw UsageError("train takes one optimizer (use 'adakit compare' for several)", {"", 0, "optimizer"});
  if (f.test_split <= 0.0 || f.test_split >= 1.0) throw UsageError("--test-split must be in (0, 1)", {"", 0, "test-split"});
  data::LoadedData loaded = data::load_data({f.data.data, f.data.data_dir, csv_options(f.data)});
  data::Dataset train = std::move(loaded.train), test;
  if (!f.test_data.empty()) {
    test = data::load_data({f.test_data, f.data.data_dir, csv_options(f.data)}).train;
    align_classes(test, train.class_names, f.test_data);
  } else if (loaded.test) {
    test = std::move(*loaded.test);
  } else {
    auto split = data::train_test_split(train, f.test_split, f.seed);
    train = std::move(split.train);
    test = std::move(split.test);
  }
  data::Dataset validation;
  if (f.validation_split > 0.0) {
    auto split = data::train_test_split(train, f.validation_split, f.seed + 1);
    train = std::move(split.train);
    validation = std::move(split.test);
  }
  const bool scale = f.data.scale == "on" || (f.data.scale == "auto" && !is_image(train));
  if (f.data.scale != "on" && f.data.scale != "off" && f.data.scale != "auto")
    throw UsageError("--scale must be auto, on or off", {"", 0, "scale"});
  data::StandardScaler scaler;
  if (scale) {
    scaler.fit(train);  // the training split only
    scaler.transform(train);
    if (test.size() > 0) scaler.transform(test);
    if (validation.size() > 0) scaler.transform(validation);
  }
  nn::Sequential model = build_model(f.model, f.activation, f.dropout, train, test, f.seed);
  if (validation.size() > 0 && validation.sample_shape() != train.sample_shape()) data::flatten_features(validation);
  const auto objective = train::pick_objective(train, shape_numel(model.output_shape(train.sample_shape())));
  auto opt = optim::make_optimizer(choices[0].name, model.parameters(), choices[0].options);
  opt->set_schedule(optim::Schedule::parse(f.opt.schedule));
  opt->set_clip({f.opt.clip_norm, f.opt.clip_value});

  train::FitOptions fo;
  fo.epochs = f.epochs;
  fo.batch_size = f.batch_size;
  fo.seed = f.seed;
  fo.patience = f.patience;
  if (f.on_nonfinite == "skip") fo.on_nonfinite = train::NonFinite::skip;
  else if (f.on_nonfinite != "error") throw UsageError("--on-nonfinite must be error or skip", {"", 0, "on-nonfinite"});
  io::ModelInfo info;
  info.objective = std::string(train::to_string(objective));
  info.input_shape = train.sample_shape();
  info.class_names = train.class_names;
  info.feature_names = train.feature_names;
  info.scaler_mean = scaler.mean;
  info.scaler_scale = scaler.scale;
  info.dataset = f.data.data;

  // Checkpoints: DIR/checkpoint.safetensors. --resume DIR reads it and, without --checkpoint, keeps
  // writing there.
  namespace fs = std::filesystem;
  const auto checkpoint_file = [](const std::string& dir) { return fs::path(dir) / "checkpoint.safetensors"; };
  const nlohmann::json run = run_identity(f, *opt, train);
  std::optional<train::FitState> resumed;
  if (!f.resume.empty()) {
    const fs::path path = checkpoint_to_resume(f.resume);
    const io::Checkpoint c = io::read_checkpoint(path);
    check_same_run(saved_run_identity(c.metadata, path.string()), run, path.string());
    resumed = io::restore_checkpoint(c, model, *opt, path.string());
    if (!f.quiet && !f.json)
      std::fprintf(stderr, "resuming from %s: epoch %lld, batch %lld of %lld (%lld optimizer steps done)\n",
                   path.string().c_str(), static_cast<long long>(resumed->epoch), static_cast<long long>(resumed->batch),
                   static_cast<long long>(resumed->batches_per_epoch), static_cast<long long>(opt->steps()));
  }
  const std::string checkpoint_dir = !f.checkpoint.empty() ? f.checkpoint : f.resume;
  if (f.checkpoint_every != 0 && checkpoint_dir.empty())
    throw UsageError("--checkpoint-every needs --checkpoint DIR", {"", 0, "checkpoint-every"});
  // Data parallel: after the restore (rank 0's parameters are broadcast, a sharded optimizer state is
  // split over the ranks).
  if (parallel != nullptr) fo.replicas = parallel->attach(model, *opt);
  // ... which lets go of them before they go, unless an error is on its way to abort the job.
  struct Detach {
    TrainParallel* parallel;
    ~Detach() {
      if (parallel != nullptr && std::uncaught_exceptions() == 0) parallel->detach();
    }
  } detach_before_model_goes{parallel};
  std::optional<io::CheckpointWriter> writer;
  train::Callback* checkpointer = nullptr;
  if (!checkpoint_dir.empty()) {
    if (lead) make_checkpoint_dir(checkpoint_dir);
    std::map<std::string, std::string> meta{{"adakit.run", run.dump()}, {"adakit.task", io::task_json(info)}};
    if (parallel != nullptr) {
      checkpointer = parallel->checkpoint_writer(checkpoint_file(checkpoint_dir), model, *opt, f.checkpoint_every, std::move(meta));
    } else {
      writer.emplace(checkpoint_file(checkpoint_dir), model, *opt, f.checkpoint_every, std::move(meta));
      checkpointer = &*writer;
    }
  }
  const auto checkpoints_written = [&] { return parallel != nullptr ? parallel->checkpoints_written() : writer ? writer->saves() : 0; };
  const std::int64_t state_bytes = parallel != nullptr ? parallel->state_bytes() : opt->state_bytes();
  train::ProgressPrinter progress(stderr);
  std::vector<train::Callback*> callbacks;
  if (!f.quiet && !f.json) callbacks.push_back(&progress);
  if (checkpointer != nullptr) callbacks.push_back(checkpointer);
  if (!f.quiet && !f.json) {
    std::fprintf(stderr, "train %s: %lld train / %lld test samples of shape %s, %s, %s\n%s", train.name.c_str(),
                 static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                 shape_to_string(train.sample_shape()).c_str(), f.model.c_str(), choices[0].name.c_str(),
                 model.summary(train.sample_shape()).c_str());
    if (parallel != nullptr)
      std::fprintf(stderr, "data parallel: %d ranks, %s, global batch %lld (%.3g MB of optimizer state per rank)\n",
                   parallel->size(), f.dist.c_str(), static_cast<long long>(f.batch_size),
                   static_cast<double>(state_bytes) / 1e6);
  }
  const auto result = train::fit(model, *opt, train, validation.size() > 0 ? &validation : nullptr, objective, fo, callbacks,
                                 resumed ? &*resumed : nullptr);
  if (!lead) return 0;  // rank 0 evaluates, saves and reports
  const auto tm = train::evaluate(model, train, objective);
  const auto te = test.size() > 0 ? train::evaluate(model, test, objective) : train::Metrics{};

  if (!f.save.empty()) io::save_model(f.save, model, info);
  nlohmann::json j = {{"data", f.data.data},       {"model", f.model},
                      {"optimizer", choices[0].name}, {"options", opt->group_options(0)},
                      {"optimizer_state_bytes", state_bytes},
                      {"epochs", result.epochs_run}, {"seconds", result.seconds},
                      {"train_samples", train.size()}, {"test_samples", test.size()},
                      {"stopped_early", result.stopped_early}, {"skipped_steps", result.skipped_steps},
                      {"train_loss", metric_json(tm.loss)}, {"test_loss", metric_json(te.loss)}};
  if (objective == train::Objective::mse) {
    j["train_mse"] = metric_json(tm.mse);
    j["test_mse"] = metric_json(te.mse);
  } else {
    j["train_accuracy"] = metric_json(tm.accuracy);
    j["test_accuracy"] = metric_json(te.accuracy);
  }
  std::vector<double> epoch_seconds;
  for (const auto& e : result.history) epoch_seconds.push_back(e.epoch_seconds);
  j["epoch_seconds"] = epoch_seconds;
  {
    std::vector<double> x, loss, acc, vloss, vacc;
    for (const auto& e : result.history) {
      x.push_back(static_cast<double>(e.epoch));
      loss.push_back(e.train.loss);
      acc.push_back(objective == train::Objective::mse ? e.train.mse : e.train.accuracy);
      vloss.push_back(e.validation.loss);
      vacc.push_back(objective == train::Objective::mse ? e.validation.mse : e.validation.accuracy);
    }
    const std::string metric = objective == train::Objective::mse ? "mse" : "accuracy";
    NamedSeries series{{"train_loss", loss}, {"train_" + metric, acc}};
    if (validation.size() > 0) {
      series.emplace_back("validation_loss", vloss);
      series.emplace_back("validation_" + metric, vacc);
    }
    j["curve"] = curve_json("epoch", x, series);
  }
  j["threads"] = num_threads();
  if (resumed) j["resumed_from"] = {{"epoch", resumed->epoch}, {"batch", resumed->batch}};
  if (checkpointer != nullptr) {
    j["checkpoint"] = checkpoint_file(checkpoint_dir).string();
    j["checkpoints_written"] = checkpoints_written();
  }
  if (parallel != nullptr) j["data_parallel"] = parallel->report();
  if (!f.save.empty()) j["saved"] = f.save;
  if (f.json) {
    std::cout << j.dump() << "\n";
  } else if (!f.quiet) {
    std::printf("epochs %lld in %.2fs%s; optimizer state %.3g MB\n", static_cast<long long>(result.epochs_run),
                result.seconds, result.stopped_early ? " (stopped early)" : "",
                static_cast<double>(state_bytes) / 1e6);
    if (objective == train::Objective::mse)
      std::printf("train mse %.6g  test mse %.6g\n", tm.mse, te.mse);
    else
      std::printf("train loss %.4f acc %.4f  test loss %.4f acc %.4f\n", tm.loss, tm.accuracy, te.loss, te.accuracy);
    if (result.skipped_steps > 0)
      std::printf("skipped %lld steps with a non-finite loss or gradient\n", static_cast<long long>(result.skipped_steps));
    if (checkpointer != nullptr)
      std::printf("checkpoint %s (%lld written)\n", checkpoint_file(checkpoint_dir).string().c_str(),
                  static_cast<long long>(checkpoints_written()));
    if (!f.save.empty()) std::printf("saved %s\n", f.save.c_str());
  }
  return 0;
}

int run_train(const TrainFlags& f) {
  auto parallel = TrainParallel::start(f);
  if (parallel == nullptr) return run_train_on(f, nullptr);
  // One rank's error must end the job: the others would wait for it in a collective.
  try {
    return run_train_on(f, parallel.get());
  } catch (const UsageError& e) {
    parallel->abort(e.what(), 2);
  } catch (const std::exception& e) {
    parallel->abort(std::string("error: ") + e.what(), 1);
  }
  return 1;  // not reached: abort() ends the job
}

int run_predict(const PredictFlags& f) {
  if (is_linear_model_file(f.model)) return run_predict_linear(f);
  if (!f.texts.empty()) throw UsageError("--text needs a text model (adakit train --format text-tsv --save ...)", {"", 0, "text"});
  if (f.data.data.empty()) throw UsageError("--data is required", {"", 0, "data"});
  if (resolve_format(f.data) != "dense")
    throw UsageError("this model was trained on dense data; --format " + resolve_format(f.data) + " does not apply",
                     {"", 0, "format"});
  auto loaded_model = io::load_model(f.model);
  auto& info = loaded_model.info;
  auto loaded = data::load_data({f.data.data, f.data.data_dir, csv_options(f.data)});
  data::Dataset d = loaded.test ? std::move(*loaded.test) : std::move(loaded.train);
  if (d.sample_shape() != info.input_shape) {
    if (d.sample_size() != shape_numel(info.input_shape))
      throw UsageError("the data has samples of shape " + shape_to_string(d.sample_shape()) + ", the model takes " +
                       shape_to_string(info.input_shape), {f.data.data, 0, "features"});
    Shape s{d.size()};
    for (auto v : info.input_shape) s.push_back(v);
    d.features.reshape(s);
  }
  if (!info.scaler_mean.empty()) {
    data::StandardScaler sc;
    sc.mean = info.scaler_mean;
    sc.scale = info.scaler_scale;
    sc.transform(d);
  }
  if (d.is_classification() && !info.class_names.empty() && d.size() > 0) align_classes(d, info.class_names, f.data.data);
  const Tensor out = train::predict_outputs(loaded_model.model, d);
  const auto objective = train::objective_from_string(info.objective);
  nlohmann::json rows = nlohmann::json::array();
  std::int64_t correct = 0;
  const std::int64_t k = out.numel() / std::max<std::int64_t>(1, d.size());
  std::vector<std::int32_t> classes = objective == train::Objective::mse ? std::vector<std::int32_t>{} : nn::predict_classes(out);
  Tensor probs;
  if (objective == train::Objective::softmax_ce) nn::softmax(out, probs);
  for (std::int64_t i = 0; i < d.size(); ++i) {
    nlohmann::json r = {{"index", i}};
    if (objective == train::Objective::mse) {
      std::vector<float> v(out.data() + i * k, out.data() + (i + 1) * k);
      r["prediction"] = v;
    } else {
      const auto c = classes[static_cast<std::size_t>(i)];
      r["class"] = c;
      if (static_cast<std::size_t>(c) < info.class_names.size()) r["label"] = info.class_names[static_cast<std::size_t>(c)];
      if (f.probabilities) {
        if (objective == train::Objective::binary_logistic) {
          const double p1 = 1.0 / (1.0 + std::exp(-static_cast<double>(out[i])));
          r["probabilities"] = {1.0 - p1, p1};
        } else {
          r["probabilities"] = std::vector<float>(probs.data() + i * k, probs.data() + (i + 1) * k);
        }
      }
      if (d.is_classification() && static_cast<std::size_t>(i) < d.labels.size())
        correct += d.labels[static_cast<std::size_t>(i)] == c ? 1 : 0;
    }
    rows.push_back(r);
  }
  if (f.json) {
    nlohmann::json j = {{"predictions", rows}};
    if (d.is_classification() && !d.labels.empty() && objective != train::Objective::mse)
      j["accuracy"] = static_cast<double>(correct) / static_cast<double>(d.size());
    std::cout << j.dump() << "\n";
  } else {
    for (const auto& r : rows) {
      if (r.contains("label")) std::printf("%lld\t%s", static_cast<long long>(r["index"]), r["label"].get<std::string>().c_str());
      else std::printf("%lld\t%s", static_cast<long long>(r["index"]), r.contains("prediction") ? r["prediction"].dump().c_str() : r["class"].dump().c_str());
      if (r.contains("probabilities")) std::printf("\t%s", r["probabilities"].dump().c_str());
      std::printf("\n");
    }
    if (d.is_classification() && !d.labels.empty() && objective != train::Objective::mse)
      std::fprintf(stderr, "accuracy %.4f on %lld samples\n", static_cast<double>(correct) / static_cast<double>(d.size()),
                   static_cast<long long>(d.size()));
  }
  return 0;
}

std::string dataset_names() {
  std::string names;
  for (const auto& b : data::builtin_datasets()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  return names;
}

void add_data_flags(CLI::App& app, DataFlags& f, bool required = true) {
  auto* data = app.add_option("--data,-d", f.data,
                              "a built-in dataset (" + dataset_names() + ", text: sentiment-tiny) or a CSV, LIBSVM or TSV file");
  if (required) data->required();
  app.add_option("--format", f.format,
                 "data format: auto (by name: .tsv text, .svm/.libsvm LIBSVM, else dense) | dense | libsvm | text-tsv")
      ->capture_default_str();
  app.add_option("--data-dir", f.data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  app.add_option("--label-column", f.label_column, "CSV label column: header name or 0-based index (default: last)");
  app.add_option("--scale", f.scale, "standard scaling fitted on the training split: auto (tabular data) | on | off")
      ->capture_default_str();
}

}  // namespace

std::string fingerprint(std::initializer_list<std::pair<const void*, std::size_t>> parts) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const auto& [p, n] : parts) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ULL;
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::filesystem::path checkpoint_to_resume(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path path = fs::path(dir) / "checkpoint.safetensors";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError("--resume takes the directory given to --checkpoint; '" + dir + "' is not a directory",
                     {"", 0, "resume"});
  if (!fs::exists(path, ec)) throw Error("no checkpoint to resume from (expected " + path.string() + ")", {dir, 0, "resume"});
  return path;
}

void make_checkpoint_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec))
    throw Error("cannot create the checkpoint directory: " + ec.message(), {dir, 0, "checkpoint"});
}

nlohmann::json saved_run_identity(const std::map<std::string, std::string>& metadata, const std::string& file) {
  auto it = metadata.find("adakit.run");
  if (it == metadata.end()) throw Error("not written by adakit train (no adakit.run entry)", {file, 0, "adakit.run"});
  nlohmann::json saved;
  try {
    saved = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("expected a JSON object: ") + e.what(), {file, 0, "adakit.run"});
  }
  if (!saved.is_object()) throw Error("expected a JSON object", {file, 0, "adakit.run"});
  return saved;
}

// UsageError listing every difference between the checkpoint's run and this one.
void check_same_run(const nlohmann::json& saved, const nlohmann::json& now, const std::string& file) {
  std::string diffs;
  const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  for (const auto& [k, v] : now.items()) {
    if (k == "options" && saved.value("optimizer", nlohmann::json()) != now.at("optimizer")) continue;  // listed above
    if (k == "options" && saved.contains(k) && saved.at(k).is_object()) {
      for (const auto& [ok, ov] : v.items()) {
        const auto& sv = saved.at(k);
        const std::string was = sv.contains(ok) ? text(sv.at(ok)) : "(none)";
        if (was != text(ov)) diffs += "\n  --" + ok + ": checkpoint " + was + ", this run " + text(ov);
      }
      continue;
    }
    const std::string was = saved.contains(k) ? text(saved.at(k)) : "(none)";
    if (was != text(v)) diffs += "\n  " + (k.find(' ') == std::string::npos ? "--" + k : k) + ": checkpoint '" + was + "', this run '" + text(v) + "'";
  }
  if (!diffs.empty())
    throw UsageError("cannot resume: this run differs from the checkpoint's (only --epochs, --save, --checkpoint, "
                     "--checkpoint-every, --threads, --json and --quiet may change):" + diffs,
                     {file, 0, "adakit.run"});
}


void add_train(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("train", "train a model on a dataset with any optimizer");
  auto f = std::make_shared<TrainFlags>();
  add_data_flags(*app, f->data);
  app->add_option("--test-data", f->test_data, "evaluate on this file instead of a split of --data");
  app->add_option("--test-split", f->test_split, "fraction held out for testing (seeded, stratified)")->capture_default_str();
  app->add_option("--validation-split", f->validation_split, "fraction of the training split for validation (0 = none)")
      ->capture_default_str();
  app->add_option("--model,-m", f->model,
                  "dense data: mlp:H[,H...] (default mlp:64) | logreg | softmax | linreg | cnn | cnn:C[,C...][/H]; "
                  "sparse data (libsvm, text-tsv): auto (default) | logreg | softmax | linreg");
  app->add_option("--activation", f->activation, "hidden activation of mlp: relu | tanh | sigmoid")->capture_default_str();
  app->add_option("--epochs,-e", f->epochs, "epochs")->capture_default_str()->check(CLI::Range(0, 1000000));
  app->add_option("--batch-size,-b", f->batch_size, "minibatch size")->capture_default_str()->check(CLI::Range(1, 1 << 24));
  app->add_option("--seed", f->seed, "seed: split, initial weights, shuffling")->capture_default_str();
  app->add_option("--patience", f->patience, "early stopping after this many epochs without improvement (0 = off)")
      ->capture_default_str();
  app->add_option("--on-nonfinite", f->on_nonfinite,
                  "a non-finite loss or gradient, found before the optimizer runs: error (exit 1) | skip the step "
                  "(parameters and optimizer state untouched; counted in skipped_steps)")
      ->capture_default_str();
  app->add_option("--dropout", f->dropout, "mlp: dropout probability after each hidden activation (0 = none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.999999));
  app->add_option("--checkpoint", f->checkpoint,
                  "write DIR/checkpoint.safetensors (model, optimizer state, position, RNG states), atomically, "
                  "every --checkpoint-every batches and at the end");
  app->add_option("--checkpoint-every", f->checkpoint_every,
                  "checkpoint interval in batches, counted over the whole run (0 = at the end of each epoch)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app->add_option("--dist", f->dist,
                  "under mpirun -np K (dense models): data parallel, each rank computing 1/K of every batch; "
                  "replicated (every rank holds the optimizer state) | sharded (ZeRO-1: each rank holds 1/K of it). "
                  "Ignored without mpirun")
      ->capture_default_str();
  app->add_option("--dist-bucket-kb", f->dist_bucket_kb, "under mpirun, replicated: gradient allreduce bucket size in KiB")
      ->capture_default_str();
  app->add_option("--resume", f->resume,
                  "continue the run saved in DIR (same flags; --epochs may grow); exact: ends bit-identical to an "
                  "uninterrupted run. Keeps checkpointing into DIR unless --checkpoint says otherwise");
  add_optimizer_flags(*app, f->opt);
  app->add_option("--ngram", f->text.ngram, "text: word n-gram lengths, N or MIN,MAX (e.g. 1,2)")->capture_default_str();
  app->add_option("--hash-bits", f->text.hash_bits, "text: hash features into 2^N columns (MurmurHash3, signed); 0 = vocabulary")
      ->capture_default_str()
      ->check(CLI::Range(0, 31));
  app->add_flag("--tfidf", f->text.tfidf, "text: tf-idf weights (smooth idf, rows scaled to unit l2 norm)");
  app->add_flag("--binary", f->text.binary, "text: 1 where a term occurs instead of its count");
  app->add_option("--min-df", f->text.min_df, "text: keep terms in at least N documents (or a fraction < 1)")
      ->capture_default_str();
  app->add_option("--max-features", f->text.max_features, "text: keep the N most frequent terms (0 = all)")
      ->capture_default_str();
  app->add_option("--save", f->save, "write the trained model (weights + architecture, and a text model's vocabulary) to this file");
  app->add_flag("--json", f->json, "print one JSON object of final metrics");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  action_for(app, action, [f] { return run_train(*f); });
}

void add_predict(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("predict", "predict with a saved model");
  auto f = std::make_shared<PredictFlags>();
  app->add_option("--model,-m", f->model, "a model file written by 'adakit train --save'")->required();
  add_data_flags(*app, f->data, false);
  app->add_option("--text", f->texts, "text to classify with a text model (repeat for several)");
  app->add_flag("--probabilities", f->probabilities, "also print class probabilities");
  app->add_flag("--json", f->json, "print one JSON object");
  action_for(app, action, [f] { return run_predict(*f); });
}

}  // namespace adakit::cli
