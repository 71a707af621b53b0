// adakit train / adakit predict on dense data: datasets by name or CSV path, nn models by a short spec
// (nn::build_model), any optimizer. The library does the work: data::prepare_data, nn::build_model,
// train::fit, io (model files, checkpoints, the run's identity); this file wires flags to it.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <system_error>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/run.hpp"
#include "adakit/io/warm_start.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/progress.hpp"
#if ADAKIT_HAS_MPI
#include "adakit/dist/session.hpp"
#endif
#include "subcommands.hpp"
#include "train.hpp"

namespace adakit::cli {
namespace {

// What decides a dense run's result besides --epochs and the optimizer (io::run_identity adds it).
nlohmann::json dense_settings(const TrainFlags& f) {
  nlohmann::json s = {{"data", f.data.data},         {"format", f.data.format},
          {"label-column", f.data.label_column}, {"scale", f.data.scale},
          {"test-data", f.test_data},     {"test-split", optim::format_double(f.test_split)},
          {"validation-split", optim::format_double(f.validation_split)},
          {"model", f.model},             {"activation", f.activation},
          {"dropout", optim::format_double(f.dropout)},
          {"batch-size", f.fit.batch_size}, {"seed", f.fit.seed},
          {"patience", f.fit.patience},   {"on-nonfinite", f.on_nonfinite}};
  if (f.no_shuffle) s["shuffle"] = false;  // only when given: checkpoints written before the flag still resume
  if (!f.init_model.empty()) s["init-model"] = f.init_model;
  if (!f.class_weight.empty()) s["class-weight"] = f.class_weight;
  return s;
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
  const io::RunCheckpoints& checkpoints;
  const train::DataParallelSession* parallel;
  bool continued;  // --init-model: the saved optimizer state went on
  const std::vector<float>& class_weights;        // --class-weight, per class (empty: none)
  const std::vector<std::string>& class_names;
};

// --model, or the model of --init-model when --model is not given.
std::string model_label(const TrainFlags& f) { return f.model.empty() ? "init-model " + f.init_model : f.model; }

nlohmann::json dense_json(const DenseRun& r) {
  const bool mse = r.objective == train::Objective::mse;
  nlohmann::json j = {{"data", r.f.data.data}, {"model", model_label(r.f)}, {"optimizer", r.optimizer},
                      {"options", r.opt.group_options(0)}, {"optimizer_state_bytes", r.state_bytes},
                      {"epochs", r.result.epochs_run}, {"seconds", r.result.seconds},
                      {"train_samples", r.d.train.size()}, {"test_samples", r.d.test.size()},
                      {"stopped_early", r.result.stopped_early}, {"skipped_steps", r.result.skipped_steps},
                      {"threads", num_threads()}};
  add_scores(j, mse, r.train, r.test);
  std::vector<double> epoch_seconds;
  for (const auto& e : r.result.history) epoch_seconds.push_back(e.epoch_seconds);
  j["epoch_seconds"] = epoch_seconds;
  j["curve"] = report::history_curve(r.result.history, mse, r.d.validation.size() > 0);
  if (r.resumed) j["resumed_from"] = {{"epoch", r.resumed->epoch}, {"batch", r.resumed->batch}};
  if (r.checkpoints.callback() != nullptr) {
    j["checkpoint"] = io::checkpoint_file(checkpoint_dir(r.f)).string();
    j["checkpoints_written"] = r.checkpoints.written();
  }
  if (r.parallel != nullptr) j["data_parallel"] = r.parallel->report();
  if (!r.f.init_model.empty())
    j["init_model"] = {{"file", r.f.init_model}, {"optimizer_state", r.continued ? "continued" : "fresh"}};
  if (!r.f.save.empty()) j["saved"] = r.f.save;
  if (!r.f.save.empty() && r.f.save_state) j["saved_state"] = true;
  if (!r.class_weights.empty()) j["class_weights"] = class_weights_json(r.class_weights, r.class_names);
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
  if (r.checkpoints.callback() != nullptr)
    std::printf("checkpoint %s (%lld written)\n", io::checkpoint_file(checkpoint_dir(r.f)).string().c_str(),
                static_cast<long long>(r.checkpoints.written()));
  if (!r.f.save.empty()) std::printf("saved %s\n", r.f.save.c_str());
}

void print_header(const TrainFlags& f, const data::PreparedData& d, nn::Sequential& model, const std::string& optimizer,
                  train::DataParallelSession* parallel, std::int64_t state_bytes) {
  std::fprintf(stderr, "train %s: %lld train / %lld test samples of shape %s, %s, %s\n%s", d.train.name.c_str(),
               static_cast<long long>(d.train.size()), static_cast<long long>(d.test.size()),
               shape_to_string(d.train.sample_shape()).c_str(), model_label(f).c_str(), optimizer.c_str(),
               model.summary(d.train.sample_shape()).c_str());
  if (parallel != nullptr)
    std::fprintf(stderr, "data parallel: %d ranks, %s, global batch %lld (%.3g MB of optimizer state per rank)\n",
                 parallel->size(), f.dist.mode.c_str(), static_cast<long long>(f.fit.batch_size),
                 static_cast<double>(state_bytes) / 1e6);
}

// UsageError on a flag of sparse models (train_linear.cpp) given with dense data.
void check_dense_flags(const TrainFlags& f) {
  for (const char* flag : {"classes", "progress-every", "freeze-vocabulary", "weights", "weight-column",
                           "write-features", "keep-bucket-names", "workers", "fit-threads", "calibrate", "calibration-split",
                           "calibration-data"})
    if (f.was_given(flag))
      throw UsageError("--" + std::string(flag) +
                           " applies to sparse data (--format libsvm or text-tsv), not to dense models",
                       {"", 0, flag});
}

// --save-state: the --save file keeps the optimizer's state (io::save_model with it).
void check_save_state(const TrainFlags& f, const train::DataParallelSession* parallel) {
  if (!f.save_state) return;
  if (f.save.empty())
    throw UsageError("--save-state keeps the optimizer's state in the --save file: give --save FILE",
                     {"", 0, "save-state"});
  if (parallel != nullptr && f.dist.mode == "sharded")
    throw UsageError("--save-state under mpirun --dist sharded: each rank holds a part of the optimizer's state; use "
                     "--dist replicated, or --checkpoint DIR (which gathers it)",
                     {"", 0, "save-state"});
}

// --init-model: flags that cannot go with a warm start. The others are checked against the saved model.
void check_warm_start_flags(const TrainFlags& f) {
  if (!f.resume.empty())
    throw UsageError("--resume and --init-model exclude each other: --resume continues an interrupted run from its "
                     "checkpoint (same flags), --init-model starts a new run from a saved model",
                     {"", 0, "resume"});
  if (!f.checkpoint.empty() || f.checkpoint_every != 0)
    throw UsageError("--checkpoint with --init-model: a warm-start run cannot be resumed; save it with --save FILE "
                     "--save-state and continue it with --init-model FILE",
                     {"", 0, "checkpoint"});
  for (const char* flag : {"activation", "dropout"})
    if (f.was_given(flag) && !f.was_given("model"))
      throw UsageError("--" + std::string(flag) + " with --init-model: the saved model's architecture is used; give "
                       "--model too to check it, or leave --" + flag + " out",
                       {"", 0, flag});
}

// --scale given with --init-model must say what the saved model did: new data is scaled with its scaler.
void check_scale_flag(const TrainFlags& f, const io::ModelInfo& info) {
  if (!f.was_given("scale") || f.data.scale == "auto") return;
  const bool saved = !info.scaler_mean.empty();
  if ((f.data.scale == "on") != saved)
    throw UsageError("--scale " + f.data.scale + ": the model in " + f.init_model + " was trained " +
                         (saved ? "with" : "without") + " standard scaling; a warm start scales the new data as the "
                         "model was trained (the saved scaler, not a refitted one)",
                     {"", 0, "scale"});
}

std::unique_ptr<optim::Optimizer> fresh_optimizer(const TrainFlags& f, const OptimizerChoice& choice,
                                                  nn::Sequential& model) {
  auto opt = optim::make_optimizer(choice.name, model.parameters(), choice.options);
  opt->set_schedule(optim::Schedule::parse(f.opt.schedule));
  opt->set_clip({f.opt.clip_norm, f.opt.clip_value});
  return opt;
}

// What the optimizer flags given ask of a saved optimizer named `saved`.
io::OptimizerRequest optimizer_request(const TrainFlags& f, const std::string& saved) {
  io::OptimizerRequest r;
  if (f.was_given("optimizer") || !f.opt.values.empty()) {
    TrainFlags asked = f;
    if (!f.was_given("optimizer")) asked.opt.optimizer = saved;  // option flags alone: the saved optimizer's
    OptimizerChoice choice = one_optimizer(asked, OptimizerKind::dense);
    if (f.was_given("optimizer")) r.name = choice.name;
    r.options = std::move(choice.options);
  }
  if (f.was_given("schedule")) r.schedule = f.opt.schedule;
  if (f.was_given("clip-norm")) r.clip_norm = f.opt.clip_norm;
  if (f.was_given("clip-value")) r.clip_value = f.opt.clip_value;
  return r;
}

// A dense run before training: its data, model, objective, optimizer and what --save writes beside the weights.
struct DenseSetup {
  data::PreparedData d;
  nn::Sequential model;
  io::ModelInfo info;
  train::Objective objective = train::Objective::mse;
  std::string optimizer;  // its registry name
  std::unique_ptr<optim::Optimizer> opt;
  bool continued = false;  // warm start: the saved optimizer state goes on
};

// A model built from --model on data prepared (and scaled) afresh.
DenseSetup fresh_setup(const TrainFlags& f) {
  const OptimizerChoice choice = one_optimizer(f, OptimizerKind::dense);
  DenseSetup s;
  s.d = data::prepare_data(prepare_options(f));
  s.model = nn::build_model(f.model, s.d.train, {f.activation, f.dropout, f.fit.seed});
  const Shape input = nn::model_input_shape(f.model, s.d.train.sample_shape());
  for (data::Dataset* x : {&s.d.train, &s.d.test, &s.d.validation})
    if (x->size() > 0 && x->sample_shape() != input) data::flatten_features(*x);
  s.objective = train::pick_objective(s.d.train, shape_numel(s.model.output_shape(s.d.train.sample_shape())));
  s.info = io::model_info(s.d, std::string(train::to_string(s.objective)), f.data.data);
  s.optimizer = choice.name;
  s.opt = fresh_optimizer(f, choice, s.model);
  return s;
}

// --init-model FILE: the saved model, its task and (when kept) its optimizer, on data made what it takes.
DenseSetup warm_setup(const TrainFlags& f) {
  io::WarmStart w = io::read_warm_start(f.init_model);
  check_scale_flag(f, w.info);
  DenseSetup s;
  s.d = io::prepare_for_model(prepare_options(f), w.info, f.init_model);
  if (f.was_given("model") && f.model != "auto")
    io::check_same_architecture(w.model.config(),
                                nn::build_model(f.model, s.d.train, {f.activation, f.dropout, f.fit.seed}).config(),
                                f.init_model);
  s.model = std::move(w.model);
  s.info = std::move(w.info);
  s.info.dataset = f.data.data;  // where it was trained last
  s.objective = train::objective_from_string(s.info.objective);
  if (w.optimizer) {
    s.optimizer = w.optimizer->name;
    s.opt = io::continue_optimizer(*w.optimizer, s.model.parameters(), optimizer_request(f, s.optimizer), f.init_model);
    s.continued = true;
  } else {
    const OptimizerChoice choice = one_optimizer(f, OptimizerKind::dense);
    s.optimizer = choice.name;
    s.opt = fresh_optimizer(f, choice, s.model);
  }
  return s;
}

void print_warm_start(const TrainFlags& f, const DenseSetup& s) {
  if (s.continued)
    std::fprintf(stderr, "init-model %s: continuing its weights and %s state (%lld optimizer steps done)\n",
                 f.init_model.c_str(), s.optimizer.c_str(), static_cast<long long>(s.opt->steps()));
  else
    std::fprintf(stderr, "init-model %s: no optimizer state in it (saved without --save-state); %s starts fresh from "
                 "its weights\n", f.init_model.c_str(), s.optimizer.c_str());
}

// `parallel`: this process is one rank of a data-parallel run (mpirun); nullptr: it is alone.
int run_train_on(TrainFlags f, train::DataParallelSession* parallel) {
  const std::string format = resolve_format(f.data);
  if (f.was_given("write-features") && f.write_features.empty())
    throw UsageError("--write-features needs a directory name", {"", 0, "write-features"});
  if (f.was_given("write-features") && f.data.data == "-")
    throw UsageError("--write-features writes the splits of a --data file; a stream from stdin has none", {"", 0, "write-features"});
  if (f.was_given("loss")) {  // the sparse task it names, as --model would
    f.model = model_for_loss(f, format);
    f.given.insert("model");
  }
  check_autotune_flags(f, format);
  if (f.was_given("autotune-validation")) return run_train_autotune(f, format);  // autotune.cpp
  if (format != "dense" || f.data.data == "-") return run_train_linear(f, format);  // sparse data, stdin: train_linear.cpp
  check_no_text_flags(f.text);
  check_dense_flags(f);
  check_save_state(f, parallel);
  const bool warm = !f.init_model.empty();
  if (warm) check_warm_start_flags(f);
  const bool lead = parallel == nullptr || parallel->rank() == 0;  // under mpirun only rank 0 prints and writes
  if (!lead) f.quiet = true, f.json = false, f.save.clear();
  if (!warm && (f.model.empty() || f.model == "auto")) f.model = "mlp:64";
  if (f.on_nonfinite != "skip" && f.on_nonfinite != "error")
    throw UsageError("--on-nonfinite must be error or skip", {"", 0, "on-nonfinite"});
  DenseSetup s = warm ? warm_setup(f) : fresh_setup(f);
  auto& [d, model, info, objective, optimizer, opt, continued] = s;
  train::FitOptions fo = f.fit;
  fo.shuffle = !f.no_shuffle;
  if (f.on_nonfinite == "skip") fo.on_nonfinite = train::NonFinite::skip;
  fo.class_weights = parse_class_weights(f.class_weight, d.train.labels, info.class_names,
                                         objective == train::Objective::mse ? 0 : static_cast<std::int64_t>(info.class_names.size()),
                                         objective == train::Objective::mse);
  if (!fo.class_weights.empty() && parallel != nullptr)
    throw UsageError("--class-weight is not supported under mpirun for dense models yet", {"", 0, "class-weight"});
  const nlohmann::json run = io::run_identity(dense_settings(f), *opt, d.train);
  std::optional<train::FitState> resumed;
  if (!f.resume.empty()) resumed = io::resume_run(f.resume, run, model, *opt);
  if (resumed && !f.quiet && !f.json)
    print_resumed(f.resume, resumed->epoch, "batch " + std::to_string(resumed->batch) + " of " +
                  std::to_string(resumed->batches_per_epoch), opt->steps());
  if (warm && !f.quiet && !f.json) print_warm_start(f, s);
  // Data parallel: after the restore (rank 0's parameters are broadcast, a sharded optimizer state is
  // split over the ranks) ... which lets go of them before they go, unless an error is on its way.
  if (parallel != nullptr) fo.replicas = parallel->attach(model, *opt);
  struct Detach {
    train::DataParallelSession* parallel;
    ~Detach() {
      if (parallel != nullptr && std::uncaught_exceptions() == 0) parallel->detach();
    }
  } detach_before_model_goes{parallel};
  const io::RunCheckpoints checkpoints(checkpoint_dir(f), model, *opt, f.checkpoint_every,
                                       {{io::kRunKey, run.dump()}, {"adakit.task", io::task_json(info)}}, parallel);
  const std::int64_t state_bytes = parallel != nullptr ? parallel->state_bytes() : opt->state_bytes();
  train::ProgressPrinter progress(stderr);
  std::vector<train::Callback*> callbacks;
  if (!f.quiet && !f.json) callbacks.push_back(&progress);
  if (checkpoints.callback() != nullptr) callbacks.push_back(checkpoints.callback());
  if (!f.quiet && !f.json) print_header(f, d, model, optimizer, parallel, state_bytes);
  const auto result = train::fit(model, *opt, d.train, d.validation.size() > 0 ? &d.validation : nullptr, objective, fo,
                                 callbacks, resumed ? &*resumed : nullptr);
  if (!lead) return 0;  // rank 0 evaluates, saves and reports
  const auto tm = train::evaluate(model, d.train, objective);
  const auto te = d.test.size() > 0 ? train::evaluate(model, d.test, objective) : train::Metrics{};
  if (!f.save.empty()) io::save_model(f.save, model, info, f.save_state ? opt.get() : nullptr);
  report_dense({f, optimizer, *opt, d, objective, result, {tm.loss, tm.accuracy, tm.mse},
                {te.loss, te.accuracy, te.mse}, state_bytes, resumed, checkpoints, parallel, continued,
                fo.class_weights, info.class_names});
  return 0;
}

// Under mpirun: this rank's data-parallel session (adakit::dist); nullptr when not started by mpirun.
std::unique_ptr<train::DataParallelSession> start_parallel(const TrainFlags& f) {
  f.dist.validate();
  const int world = train::mpirun_world_size();
  if (world == 0) return nullptr;
#if ADAKIT_HAS_MPI
  return std::make_unique<dist::TrainSession>(f.dist);
#else
  if (world > 1)
    throw UsageError("started by mpirun with " + std::to_string(world) +
                     " processes, but this adakit was built without MPI (configure with -DADAKIT_MPI=ON; "
                     "Debian: libopenmpi-dev)", {"", 0, "dist"});
  return nullptr;
#endif
}

int run_train(const TrainFlags& f) {
  auto parallel = start_parallel(f);
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
  auto [model, info] = io::load_model(f.model);  // first: a damaged or foreign file is reported as such
  if (f.top_k != -1 || f.threshold != -1.0) {
    const char* flag = f.top_k != -1 ? "top-k" : "threshold";
    throw UsageError("--" + std::string(flag) + " picks the classes of a sparse linear model (adakit train on LIBSVM "
                     "or text data); this is a dense model",
                     {"", 0, flag});
  }
  if (!f.texts.empty()) throw UsageError("--text needs a text model (adakit train --format text-tsv --save ...)", {"", 0, "text"});
  if (f.data.data.empty()) throw UsageError("--data is required", {"", 0, "data"});
  if (resolve_format(f.data) != "dense")
    throw UsageError("this model was trained on dense data; --format " + resolve_format(f.data) + " does not apply",
                     {"", 0, "format"});
  auto loaded = data::load_data({f.data.data, f.data.data_dir, csv_options(f.data)});
  data::Dataset d = loaded.test ? std::move(*loaded.test) : std::move(loaded.train);  // the test split if any
  io::fit_to_model(d, info, f.data.data);
  const run::Predictions p =
      train::predictions(model, d, train::objective_from_string(info.objective), info.class_names, f.probabilities);
  report_predictions(run::prediction_rows(p), p.accuracy, std::nullopt, f.json, {});
  return 0;
}

// An option whose --help shows its default.
template <class T>
CLI::Option* with_default(CLI::App& app, const std::string& name, T& value, const std::string& help) {
  return app.add_option(name, value, help)->capture_default_str();
}

void add_data_flags(CLI::App& app, DataFlags& f, bool required = true) {
  auto* data = app.add_option("--data,-d", f.data,
                              "a built-in dataset (" + data::builtin_names() + ", text: sentiment-tiny) or a CSV, LIBSVM or TSV file");
  if (required) data->required();
  with_default(app, "--format", f.format,
               "data format: auto (by name: .tsv text, .svm/.libsvm LIBSVM, else dense) | dense | libsvm | text-tsv");
  app.add_option("--data-dir", f.data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  app.add_option("--label-column", f.label_column, "CSV label column: header name or 0-based index (default: last)");
  with_default(app, "--scale", f.scale, "standard scaling fitted on the training split: auto (tabular data) | on | off");
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
  return one_optimizer(f.opt, kind, "train takes one optimizer (use 'adakit compare' for several)");
}

data::PrepareOptions prepare_options(const TrainFlags& f) {
  if (f.test_split <= 0.0 || f.test_split >= 1.0) throw UsageError("--test-split must be in (0, 1)", {"", 0, "test-split"});
  data::PrepareOptions o{.data = f.data.data, .test_data = f.test_data, .data_dir = f.data.data_dir, .test_split = f.test_split,
          .seed = f.fit.seed, .csv = csv_options(f.data), .validation_split = f.validation_split, .scale = f.data.scale, .text = {}, .libsvm = {},
          .continue_vectorizer = {}, .grow_vocabulary = true, .keep_train_texts = false};
  o.multilabel = f.model == "ova";  // --loss ova: a line's label is a comma-separated set of classes
  return o;
}

void write_features(const std::string& dir, const data::PreparedSparseData& d) {
  if (dir.empty()) throw UsageError("--write-features needs a directory name", {"", 0, "write-features"});
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw Error("cannot create the directory: " + (ec ? ec.message() : "a file of that name is in the way"),
                {dir, 0, "write-features"});
  data::write_libsvm(std::filesystem::path(dir) / "train.svm", d.train);
  if (d.test.size() > 0) data::write_libsvm(std::filesystem::path(dir) / "test.svm", d.test);
}

std::string checkpoint_dir(const TrainFlags& f) {
  const std::string dir = !f.checkpoint.empty() ? f.checkpoint : f.resume;
  if (f.checkpoint_every != 0 && dir.empty())
    throw UsageError("--checkpoint-every needs --checkpoint DIR", {"", 0, "checkpoint-every"});
  return dir;
}

void print_resumed(const std::string& dir, std::int64_t epoch, const std::string& position, std::int64_t steps) {
  std::fprintf(stderr, "resuming from %s: epoch %lld, %s (%lld optimizer steps done)\n",
               io::checkpoint_file(dir).string().c_str(), static_cast<long long>(epoch), position.c_str(),
               static_cast<long long>(steps));
}

void add_train(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("train", "train a model on a dataset with any optimizer");
  auto f = std::make_shared<TrainFlags>();
  add_data_flags(*app, f->data);
  app->add_option("--test-data", f->test_data, "evaluate on this file instead of a split of --data");
  with_default(*app, "--test-split", f->test_split, "fraction held out for testing (seeded, stratified)");
  with_default(*app, "--validation-split", f->validation_split, "fraction of the training split for validation (0 = none)");
  app->add_option("--model,-m", f->model,
                  "dense data: mlp:H[,H...] (default mlp:64) | logreg | softmax | linreg | cnn | cnn:C[,C...][/H]; "
                  "sparse data (libsvm, text-tsv): auto (default) | logreg | softmax | ova | squared_hinge | linreg "
                  "(or name the loss with --loss)");
  app->add_option("--loss", f->loss,
                  "sparse linear models: auto | logistic | softmax | ova (one-vs-all logistic, fastText's; multilabel "
                  "data: comma-separated labels a line) | squared_hinge (L2-loss SVM, one-vs-rest: LIBLINEAR -s 2) | squared");
  with_default(*app, "--activation", f->activation, "hidden activation of mlp: relu | tanh | sigmoid");
  with_default(*app, "--epochs,-e", f->fit.epochs, "epochs")->check(CLI::Range(0, 1000000));
  with_default(*app, "--batch-size,-b", f->fit.batch_size, "minibatch size")->check(CLI::Range(1, 1 << 24));
  with_default(*app, "--seed", f->fit.seed, "seed: split, initial weights, shuffling");
  with_default(*app, "--patience", f->fit.patience, "early stopping after this many epochs without improvement (0 = off)");
  with_default(*app, "--on-nonfinite", f->on_nonfinite,
               "a non-finite loss or gradient, found before the optimizer runs: error (exit 1) | skip the step "
               "(parameters and optimizer state untouched; counted in skipped_steps)");
  with_default(*app, "--dropout", f->dropout, "mlp: dropout probability after each hidden activation (0 = none)")
      ->check(CLI::Range(0.0, 0.999999));
  app->add_option("--checkpoint", f->checkpoint,
                  "write DIR/checkpoint.safetensors (model, optimizer state, position, RNG states), atomically, "
                  "every --checkpoint-every batches and at the end");
  with_default(*app, "--checkpoint-every", f->checkpoint_every,
               "checkpoint interval in batches, counted over the whole run (0 = at the end of each epoch)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  with_default(*app, "--dist", f->dist.mode,
               "under mpirun -np K (dense models): data parallel, each rank computing 1/K of every batch; "
               "replicated (every rank holds the optimizer state) | sharded (ZeRO-1: each rank holds 1/K of it). "
               "Ignored without mpirun");
  with_default(*app, "--dist-bucket-kb", f->dist.bucket_kb, "under mpirun, replicated: gradient allreduce bucket size in KiB");
  app->add_option("--resume", f->resume,
                  "continue the run saved in DIR (same flags; --epochs may grow); exact: ends bit-identical to an "
                  "uninterrupted run. Keeps checkpointing into DIR unless --checkpoint says otherwise");
  add_optimizer_flags(*app, f->opt);
  with_default(*app, "--ngram", f->text.ngram, "text: word n-gram lengths, N or MIN,MAX (e.g. 1,2)");
  with_default(*app, "--hash-bits", f->text.hash_bits, "text: hash features into 2^N columns (MurmurHash3, signed); 0 = vocabulary")
      ->check(CLI::Range(0, 31));
  app->add_flag("--tfidf", f->text.tfidf, "text: tf-idf weights (smooth idf, rows scaled to unit l2 norm)");
  app->add_flag("--binary", f->text.binary, "text: 1 where a term occurs instead of its count");
  with_default(*app, "--min-df", f->text.min_df, "text: keep terms in at least N documents (or a fraction < 1)");
  with_default(*app, "--max-features", f->text.max_features, "text: keep the N most frequent terms (0 = all)");
  app->add_option("--save", f->save,
                  "write the trained model (weights + architecture, and a text model's vocabulary) to this file; "
                  "sparse models: binary (loads in milliseconds), or readable JSON when FILE ends in .json");
  app->add_flag("--save-state", f->save_state,
                "keep the optimizer's state in the --save file too (sparse models: binary), to continue training "
                "later with --init-model");
  app->add_option("--init-model", f->init_model,
                  "warm start: continue this saved model (a --save file; with its optimizer state when saved with "
                  "--save-state) on --data; flags that would change the model's meaning are refused");
  app->add_flag("--no-shuffle", f->no_shuffle, "train on the rows in file order (no per-epoch shuffling)");
  app->add_option("--workers", f->workers,
                  "sparse models, adagrad: parameter mixing over N shards of each epoch, trained in parallel (up to "
                  "--threads at a time) and mixed after each epoch; the result depends on N (reproducible for a "
                  "--seed and N), never on --threads (docs/sparse.md, \"Two cores\")")
      ->check(CLI::Range(1, 16));
  app->add_option("--fit-threads", f->fit_threads,
                  "sparse models: train the one learner on N threads (1 or 2), each owning half of the "
                  "model's features, bit for bit the 1-thread model; 0 (default): min(--threads, 2) for models of 8 "
                  "or more outputs, else 1 (docs/sparse.md, \"Two cores\")")
      ->check(CLI::Range(0, 2));
  app->add_flag("--freeze-vocabulary", f->freeze_vocabulary,
                "warm start of a text model: keep its vocabulary (terms it has not seen are ignored)");
  app->add_flag("--keep-bucket-names", f->keep_bucket_names,
                "hashed text (--hash-bits): keep in the --save file, for each column, the 4 most frequent training "
                "n-grams that hash there, so that 'adakit explain' names them (as VW's --invert_hash, without "
                "retraining)");
  app->add_option("--classes", f->classes,
                  "sparse data from stdin without --init-model: the class names, comma separated (e.g. -1,+1)");
  app->add_option("--class-weight", f->class_weight,
                  "weigh each class's rows: 'balanced' (n / (classes x rows of the class), as "
                  "scikit-learn) or NAME:W,NAME:W,... (classes not named weigh 1); LIBLINEAR's -wi");
  app->add_option("--calibrate", f->calibrate,
                  "sparse classifiers: calibrate the probabilities on rows held out from training, by 'platt' "
                  "(sigmoid of the score) or 'isotonic' (monotone steps); kept in the --save file, used by "
                  "predict --probabilities and serve (scikit-learn's CalibratedClassifierCV)");
  with_default(*app, "--calibration-split", f->calibration_split,
               "--calibrate: the fraction of the training rows held out to fit the calibrator (seeded, stratified)");
  app->add_option("--calibration-data", f->calibration_data,
                  "--calibrate: fit the calibrator on this file instead (same format as --data); all training "
                  "rows are trained on");
  app->add_option("--weights", f->weights,
                  "sparse models: a file of importance weights, one number >= 0 per row of --data (LIBLINEAR's -W); "
                  "LIBSVM lines may carry label:weight instead");
  app->add_option("--write-features", f->write_features,
                  "sparse data: write the prepared training and test splits (a text run's tf-idf or count "
                  "features) to DIR/train.svm and DIR/test.svm in LIBSVM format before training (labels: the "
                  "class names when all are numbers, else class ids 0, 1, ... in sorted name order); with "
                  "--epochs 0 nothing is trained");
  app->add_flag("--weight-column", f->weight_column,
                "text: lines are label<TAB>weight<TAB>text, the weight an importance weight >= 0");
  with_default(*app, "--progress-every", f->progress_every,
               "sparse models: report the progressive validation loss (each example scored before it is "
               "learnt) every N examples (0 = per epoch; stdin: every 100000)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 50));
  app->add_option("--autotune-validation", f->autotune.validation,
                  "sparse models: search lr, l1/l2, the initial accumulator, epochs, the loss (softmax or logistic "
                  "against squared_hinge) and (text) the n-gram length, hash bits and tf-idf, scoring each trial on this file (accuracy; regression: mse); the first trial is "
                  "the run the other flags describe; flags given are fixed, not searched; --save keeps the best "
                  "trial's model as trained");
  with_default(*app, "--autotune-duration", f->autotune.duration,
               "autotune: the time budget in seconds (a trial still running at the end is stopped and "
               "discarded, except the first)");
  app->add_option("--autotune-model-size", f->autotune.model_size,
                  "autotune: a limit on the saved model's size, e.g. 2M (K, M, G: powers of 1000); hashed trials "
                  "get fewer bits and vocabularies their most frequent terms until the largest possible file fits");
  with_default(*app, "--autotune-trials", f->autotune.trials,
               "autotune: stop after this many trials (0 = as many as the duration allows)");
  app->add_flag("--json", f->json, "print one JSON object of final metrics");
  app->add_flag("--quiet,-q", f->quiet, "print nothing but errors");
  // Which flags were given: a warm start takes the saved model's settings for the others.
  app->parse_complete_callback([app, f] {
    for (const CLI::Option* o : app->get_options())
      if (o->count() > 0 && !o->get_lnames().empty()) f->given.insert(o->get_lnames().front());
  });
  action_for(app, action, [f] { return run_train(*f); });
}

void add_predict(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("predict", "predict with a saved model");
  auto f = std::make_shared<PredictFlags>();
  app->add_option("--model,-m", f->model, "a model file written by 'adakit train --save'")->required();
  add_data_flags(*app, f->data, false);
  app->add_option("--text", f->texts, "text to classify with a text model (repeat for several)");
  app->add_flag("--probabilities", f->probabilities, "also print class probabilities");
  app->add_option("--top-k", f->top_k,
                  "sparse classifiers: the K most probable classes of each row, with their probabilities "
                  "(and P@K, R@K in --json when the data carry labels)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 24));
  app->add_option("--threshold", f->threshold,
                  "sparse classifiers: of those, the classes with probability >= T (an ova model's multilabel "
                  "answer; with --top-k left out, all classes are candidates); precision, recall and F1 at T in --json")
      ->check(CLI::Range(0.0, 1.0));
  app->add_flag("--json", f->json, "print one JSON object");
  action_for(app, action, [f] { return run_predict(*f); });
}

}  // namespace adakit::cli
