// adakit train / adakit predict on dense data: datasets by name or CSV path, nn models by a short spec
// (nn::build_model), any optimizer. The library does the work: data::prepare_data, nn::build_model,
// train::fit, io (model files, checkpoints, the run's identity); this file wires flags to it.
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/run.hpp"
#include "adakit/nn/loss.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/progress.hpp"
#include "common.hpp"
#include "subcommands.hpp"
#include "train.hpp"

namespace adakit::cli {
namespace {

// What decides a dense run's result besides --epochs and the optimizer (io::run_identity adds it).
nlohmann::json dense_settings(const TrainFlags& f) {
  return {{"data", f.data.data},         {"format", f.data.format},
          {"label-column", f.data.label_column}, {"scale", f.data.scale},
          {"test-data", f.test_data},     {"test-split", optim::format_double(f.test_split)},
          {"validation-split", optim::format_double(f.validation_split)},
          {"model", f.model},             {"activation", f.activation},
          {"dropout", optim::format_double(f.dropout)},
          {"batch-size", f.batch_size},   {"seed", f.seed},
          {"patience", f.patience},       {"on-nonfinite", f.on_nonfinite}};
}

io::ModelInfo model_info(const TrainFlags& f, const data::PreparedData& d, train::Objective objective) {
  io::ModelInfo info;
  info.objective = std::string(train::to_string(objective));
  info.input_shape = d.train.sample_shape();
  info.class_names = d.train.class_names;
  info.feature_names = d.train.feature_names;
  info.scaler_mean = d.scaler.mean;
  info.scaler_scale = d.scaler.scale;
  info.dataset = f.data.data;
  return info;
}

train::FitOptions fit_options(const TrainFlags& f) {
  train::FitOptions fo;
  fo.epochs = f.epochs;
  fo.batch_size = f.batch_size;
  fo.seed = f.seed;
  fo.patience = f.patience;
  if (f.on_nonfinite == "skip") fo.on_nonfinite = train::NonFinite::skip;
  else if (f.on_nonfinite != "error") throw UsageError("--on-nonfinite must be error or skip", {"", 0, "on-nonfinite"});
  return fo;
}

// --resume DIR: the checkpoint put into model and optimizer, checked against this run.
std::optional<train::FitState> resume(const TrainFlags& f, nn::Sequential& model, optim::Optimizer& opt,
                                      const nlohmann::json& run) {
  if (f.resume.empty()) return std::nullopt;
  const auto path = io::checkpoint_to_resume(f.resume);
  const io::Checkpoint c = io::read_checkpoint(path);
  io::check_same_run(io::saved_run_identity(c.metadata, path.string()), run, path.string());
  auto resumed = io::restore_checkpoint(c, model, opt, path.string());
  if (!f.quiet && !f.json)
    std::fprintf(stderr, "resuming from %s: epoch %lld, batch %lld of %lld (%lld optimizer steps done)\n",
                 path.string().c_str(), static_cast<long long>(resumed.epoch), static_cast<long long>(resumed.batch),
                 static_cast<long long>(resumed.batches_per_epoch), static_cast<long long>(opt.steps()));
  return resumed;
}

// A dense run's checkpoints: DIR/checkpoint.safetensors, written by the data-parallel writer under mpirun.
struct Checkpointing {
  std::string dir;  // empty: none
  std::optional<io::CheckpointWriter> writer;
  train::Callback* callback = nullptr;
  TrainParallel* parallel = nullptr;
  std::int64_t written() const { return parallel != nullptr ? parallel->checkpoints_written() : writer ? writer->saves() : 0; }
};

void start_checkpoints(Checkpointing& c, const TrainFlags& f, nn::Sequential& model, optim::Optimizer& opt,
                       std::map<std::string, std::string> meta, bool lead) {
  if (c.dir.empty()) return;
  if (lead) io::make_checkpoint_dir(c.dir);
  if (c.parallel != nullptr) {
    c.callback = c.parallel->checkpoint_writer(io::checkpoint_file(c.dir), model, opt, f.checkpoint_every, std::move(meta));
  } else {
    c.writer.emplace(io::checkpoint_file(c.dir), model, opt, f.checkpoint_every, std::move(meta));
    c.callback = &*c.writer;
  }
}

// What a finished dense run reports.
struct DenseRun {
  const TrainFlags& f;
  const std::string& optimizer;
  const optim::Optimizer& opt;
  const data::PreparedData& d;
  train::Objective objective;
  const train::FitResult& result;
  Scores train, test;
  std::int64_t state_bytes;
  const std::optional<train::FitState>& resumed;
  const Checkpointing& checkpoints;
};

nlohmann::json dense_json(const DenseRun& r) {
  const bool mse = r.objective == train::Objective::mse;
  nlohmann::json j = {{"data", r.f.data.data}, {"model", r.f.model}, {"optimizer", r.optimizer},
                      {"options", r.opt.group_options(0)}, {"optimizer_state_bytes", r.state_bytes},
                      {"epochs", r.result.epochs_run}, {"seconds", r.result.seconds},
                      {"train_samples", r.d.train.size()}, {"test_samples", r.d.test.size()},
                      {"stopped_early", r.result.stopped_early}, {"skipped_steps", r.result.skipped_steps},
                      {"threads", num_threads()}};
  add_scores(j, mse, r.train, r.test);
  std::vector<double> epoch_seconds, x, loss, acc, vloss, vacc;
  for (const auto& e : r.result.history) {
    epoch_seconds.push_back(e.epoch_seconds);
    x.push_back(static_cast<double>(e.epoch));
    loss.push_back(e.train.loss);
    acc.push_back(mse ? e.train.mse : e.train.accuracy);
    vloss.push_back(e.validation.loss);
    vacc.push_back(mse ? e.validation.mse : e.validation.accuracy);
  }
  j["epoch_seconds"] = epoch_seconds;
  const std::string metric = mse ? "mse" : "accuracy";
  NamedSeries series{{"train_loss", loss}, {"train_" + metric, acc}};
  if (r.d.validation.size() > 0) {
    series.emplace_back("validation_loss", vloss);
    series.emplace_back("validation_" + metric, vacc);
  }
  j["curve"] = curve_json("epoch", x, series);
  if (r.resumed) j["resumed_from"] = {{"epoch", r.resumed->epoch}, {"batch", r.resumed->batch}};
  if (r.checkpoints.callback != nullptr) {
    j["checkpoint"] = io::checkpoint_file(r.checkpoints.dir).string();
    j["checkpoints_written"] = r.checkpoints.written();
  }
  if (r.checkpoints.parallel != nullptr) j["data_parallel"] = r.checkpoints.parallel->report();
  if (!r.f.save.empty()) j["saved"] = r.f.save;
  return j;
}

void report_dense(const DenseRun& r) {
  if (r.f.json) {
    std::cout << dense_json(r).dump() << "\n";
    return;
  }
  if (r.f.quiet) return;
  std::printf("epochs %lld in %.2fs%s; optimizer state %.3g MB\n", static_cast<long long>(r.result.epochs_run),
              r.result.seconds, r.result.stopped_early ? " (stopped early)" : "", static_cast<double>(r.state_bytes) / 1e6);
  print_scores(r.objective == train::Objective::mse, r.train, r.test);
  if (r.result.skipped_steps > 0)
    std::printf("skipped %lld steps with a non-finite loss or gradient\n", static_cast<long long>(r.result.skipped_steps));
  if (r.checkpoints.callback != nullptr)
    std::printf("checkpoint %s (%lld written)\n", io::checkpoint_file(r.checkpoints.dir).string().c_str(),
                static_cast<long long>(r.checkpoints.written()));
  if (!r.f.save.empty()) std::printf("saved %s\n", r.f.save.c_str());
}

void print_header(const TrainFlags& f, const data::PreparedData& d, nn::Sequential& model, const std::string& optimizer,
                  TrainParallel* parallel, std::int64_t state_bytes) {
  std::fprintf(stderr, "train %s: %lld train / %lld test samples of shape %s, %s, %s\n%s", d.train.name.c_str(),
               static_cast<long long>(d.train.size()), static_cast<long long>(d.test.size()),
               shape_to_string(d.train.sample_shape()).c_str(), f.model.c_str(), optimizer.c_str(),
               model.summary(d.train.sample_shape()).c_str());
  if (parallel != nullptr)
    std::fprintf(stderr, "data parallel: %d ranks, %s, global batch %lld (%.3g MB of optimizer state per rank)\n",
                 parallel->size(), f.dist.c_str(), static_cast<long long>(f.batch_size), static_cast<double>(state_bytes) / 1e6);
}

// `parallel`: this process is one rank of a data-parallel run (mpirun); nullptr: it is alone.
int run_train_on(TrainFlags f, TrainParallel* parallel) {
  const std::string format = resolve_format(f.data);
  if (format != "dense") return run_train_linear(f, format);  // sparse data: train_linear.cpp
  const bool lead = parallel == nullptr || parallel->rank() == 0;  // under mpirun only rank 0 prints and writes
  if (!lead) f.quiet = true, f.json = false, f.save.clear();
  if (f.model.empty() || f.model == "auto") f.model = "mlp:64";
  check_no_text_flags(f.text);
  const OptimizerChoice choice = one_optimizer(f, OptimizerKind::dense);
  data::PreparedData d = data::prepare_data(prepare_options(f));
  nn::Sequential model = nn::build_model(f.model, d.train, {f.activation, f.dropout, f.seed});
  const Shape input = nn::model_input_shape(f.model, d.train.sample_shape());
  for (data::Dataset* s : {&d.train, &d.test, &d.validation})
    if (s->size() > 0 && s->sample_shape() != input) data::flatten_features(*s);
  const auto objective = train::pick_objective(d.train, shape_numel(model.output_shape(d.train.sample_shape())));
  auto opt = optim::make_optimizer(choice.name, model.parameters(), choice.options);
  opt->set_schedule(optim::Schedule::parse(f.opt.schedule));
  opt->set_clip({f.opt.clip_norm, f.opt.clip_value});
  train::FitOptions fo = fit_options(f);
  const io::ModelInfo info = model_info(f, d, objective);
  const nlohmann::json run = io::run_identity(dense_settings(f), *opt, d.train);
  const std::optional<train::FitState> resumed = resume(f, model, *opt, run);
  Checkpointing checkpoints;
  checkpoints.dir = checkpoint_dir(f);
  checkpoints.parallel = parallel;
  // Data parallel: after the restore (rank 0's parameters are broadcast, a sharded optimizer state is
  // split over the ranks) ... which lets go of them before they go, unless an error is on its way.
  if (parallel != nullptr) fo.replicas = parallel->attach(model, *opt);
  struct Detach {
    TrainParallel* parallel;
    ~Detach() {
      if (parallel != nullptr && std::uncaught_exceptions() == 0) parallel->detach();
    }
  } detach_before_model_goes{parallel};
  start_checkpoints(checkpoints, f, model, *opt, {{io::kRunKey, run.dump()}, {"adakit.task", io::task_json(info)}}, lead);
  const std::int64_t state_bytes = parallel != nullptr ? parallel->state_bytes() : opt->state_bytes();
  train::ProgressPrinter progress(stderr);
  std::vector<train::Callback*> callbacks;
  if (!f.quiet && !f.json) callbacks.push_back(&progress);
  if (checkpoints.callback != nullptr) callbacks.push_back(checkpoints.callback);
  if (!f.quiet && !f.json) print_header(f, d, model, choice.name, parallel, state_bytes);
  const auto result = train::fit(model, *opt, d.train, d.validation.size() > 0 ? &d.validation : nullptr, objective, fo,
                                 callbacks, resumed ? &*resumed : nullptr);
  if (!lead) return 0;  // rank 0 evaluates, saves and reports
  const auto tm = train::evaluate(model, d.train, objective);
  const auto te = d.test.size() > 0 ? train::evaluate(model, d.test, objective) : train::Metrics{};
  if (!f.save.empty()) io::save_model(f.save, model, info);
  report_dense({f, choice.name, *opt, d, objective, result, {tm.loss, tm.accuracy, tm.mse},
                {te.loss, te.accuracy, te.mse}, state_bytes, resumed, checkpoints});
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
  if (io::is_linear_model_file(f.model)) return run_predict_linear(f);
  if (!f.texts.empty()) throw UsageError("--text needs a text model (adakit train --format text-tsv --save ...)", {"", 0, "text"});
  if (f.data.data.empty()) throw UsageError("--data is required", {"", 0, "data"});
  if (resolve_format(f.data) != "dense")
    throw UsageError("this model was trained on dense data; --format " + resolve_format(f.data) + " does not apply",
                     {"", 0, "format"});
  auto loaded_model = io::load_model(f.model);
  const auto& info = loaded_model.info;
  auto loaded = data::load_data({f.data.data, f.data.data_dir, csv_options(f.data)});
  data::Dataset d = loaded.test ? std::move(*loaded.test) : std::move(loaded.train);  // the test split if any
  io::fit_to_model(d, info, f.data.data);
  const Tensor out = train::predict_outputs(loaded_model.model, d);
  const auto objective = train::objective_from_string(info.objective);
  const bool mse = objective == train::Objective::mse;
  const std::int64_t k = out.numel() / std::max<std::int64_t>(1, d.size());
  const std::vector<std::int32_t> classes = mse ? std::vector<std::int32_t>{} : nn::predict_classes(out);
  Tensor probs;
  if (objective == train::Objective::softmax_ce) nn::softmax(out, probs);
  nlohmann::json rows = nlohmann::json::array();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    nlohmann::json r = {{"index", i}};
    if (mse) {
      r["prediction"] = std::vector<float>(out.data() + i * k, out.data() + (i + 1) * k);
      rows.push_back(r);
      continue;
    }
    const auto c = classes[static_cast<std::size_t>(i)];
    r["class"] = c;
    if (static_cast<std::size_t>(c) < info.class_names.size()) r["label"] = info.class_names[static_cast<std::size_t>(c)];
    if (f.probabilities && objective == train::Objective::binary_logistic) {
      const double p1 = 1.0 / (1.0 + std::exp(-static_cast<double>(out[i])));
      r["probabilities"] = {1.0 - p1, p1};
    } else if (f.probabilities) {
      r["probabilities"] = std::vector<float>(probs.data() + i * k, probs.data() + (i + 1) * k);
    }
    if (d.is_classification() && static_cast<std::size_t>(i) < d.labels.size())
      correct += d.labels[static_cast<std::size_t>(i)] == c ? 1 : 0;
    rows.push_back(r);
  }
  std::optional<double> accuracy;
  if (d.is_classification() && !d.labels.empty() && !mse) accuracy = static_cast<double>(correct) / static_cast<double>(d.size());
  report_predictions(rows, accuracy, std::nullopt, f.json, {});
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

data::CsvOptions csv_options(const DataFlags& f) {
  data::CsvOptions o;
  o.label_column = f.label_column;
  return o;
}

void check_no_text_flags(const TextFlags& t) {
  if (t.hash_bits != 0 || t.tfidf || t.binary || t.ngram != "1" || t.min_df != 1 || t.max_features != 0)
    throw UsageError("--hash-bits, --ngram, --tfidf, --binary, --min-df and --max-features apply to text-tsv data",
                     {"", 0, "hash-bits"});
}

OptimizerChoice one_optimizer(const TrainFlags& f, OptimizerKind kind) {
  auto choices = resolve_optimizers(f.opt, kind);
  if (choices.size() != 1) throw UsageError("train takes one optimizer (use 'adakit compare' for several)", {"", 0, "optimizer"});
  return std::move(choices[0]);
}

data::PrepareOptions prepare_options(const TrainFlags& f) {
  if (f.test_split <= 0.0 || f.test_split >= 1.0) throw UsageError("--test-split must be in (0, 1)", {"", 0, "test-split"});
  data::PrepareOptions o;
  o.data = f.data.data;
  o.test_data = f.test_data;
  o.data_dir = f.data.data_dir;
  o.test_split = f.test_split;
  o.seed = f.seed;
  o.csv = csv_options(f.data);
  o.validation_split = f.validation_split;
  o.scale = f.data.scale;
  return o;
}

std::string checkpoint_dir(const TrainFlags& f) {
  const std::string dir = !f.checkpoint.empty() ? f.checkpoint : f.resume;
  if (f.checkpoint_every != 0 && dir.empty())
    throw UsageError("--checkpoint-every needs --checkpoint DIR", {"", 0, "checkpoint-every"});
  return dir;
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
