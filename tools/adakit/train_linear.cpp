// adakit train / predict for sparse linear models: LIBSVM files or `label<TAB>text` data, logistic /
// softmax / linear regression trained by the lazy optimizers of linear/registry.hpp. The library does
// the work (data::prepare_sparse_data, linear::fit, io/linear_model.hpp: the model file); this file
// only wires flags to it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/run.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/progressive.hpp"
#include "adakit/train/progress.hpp"
#if ADAKIT_HAS_MPI
#include "adakit/dist/comm.hpp"
#include "adakit/dist/sparse.hpp"
#endif
#include "train.hpp"

namespace adakit::cli {

data::TextVectorizerOptions vectorizer_options(const TextFlags& t) {
  data::TextVectorizerOptions o;
  const auto comma = t.ngram.find(',');
  const auto parse_n = [&](const std::string& s) {
    const double x = optim::parse_double("ngram", s);
    if (x < 1 || x > 16 || x != std::floor(x)) throw UsageError("'" + s + "' is not an n-gram length in [1, 16]", {"", 0, "ngram"});
    return static_cast<std::int32_t>(x);
  };
  o.ngram_min = parse_n(t.ngram.substr(0, comma));
  o.ngram_max = comma == std::string::npos ? o.ngram_min : parse_n(t.ngram.substr(comma + 1));
  if (t.tfidf && t.binary) throw UsageError("--tfidf and --binary exclude each other", {"", 0, "tfidf"});
  o.weighting = t.tfidf ? data::TextWeighting::tfidf : t.binary ? data::TextWeighting::binary : data::TextWeighting::count;
  o.hash_bits = t.hash_bits;
  o.min_df = t.min_df >= 1 ? data::DfThreshold::count(static_cast<std::int64_t>(t.min_df)) : data::DfThreshold::fraction(t.min_df);
  o.max_features = t.max_features;
  o.validate();  // UsageError naming the field
  return o;
}

void check_sparse_flags(const TrainFlags& f, const std::string& format) {
  if (f.opt.schedule != "constant" || f.opt.clip_norm != 0.0 || f.opt.clip_value != 0.0)
    throw UsageError("--schedule, --clip-norm and --clip-value apply to dense models, not to sparse linear ones",
                     {"", 0, "schedule"});
  if (f.on_nonfinite != "error" || f.dropout != 0.0)
    throw UsageError("--on-nonfinite and --dropout apply to dense models, not to sparse linear ones", {"", 0, "on-nonfinite"});
  if (f.validation_split > 0.0 || f.fit.patience > 0)
    throw UsageError("--validation-split and --patience apply to dense models, not to sparse linear ones",
                     {"", 0, "validation-split"});
  if (!f.data.label_column.empty() || f.data.scale != "auto")
    throw UsageError("--label-column and --scale apply to CSV data, not to " + format, {"", 0, "label-column"});
  if (f.save_state && (f.save.empty() || io::is_json_model_path(f.save)))
    throw UsageError("--save-state keeps the optimizer's state in a binary model file: give --save FILE (not .json)",
                     {"", 0, "save-state"});
  if (f.was_given("classes") && f.data.data != "-")
    throw UsageError("--classes names a stream's classes (--data -); a file's come from its labels", {"", 0, "classes"});
}

namespace {

// Data: the training file and a test file, or a seeded stratified split of the training file. A warm
// start (`init`) continues the saved model's vectorizer instead of fitting one.
data::PreparedSparseData prepare_sparse(const TrainFlags& f, const std::string& format, const io::LinearModelFile* init) {
  data::PrepareOptions o = prepare_options(f);
  if (format != "text-tsv") check_no_text_flags(f.text);
  o.align_test_labels = init == nullptr;  // a warm start numbers both splits as the model's classes
  if (init != nullptr && init->vectorizer) {
    o.continue_vectorizer = init->vectorizer;
    o.grow_vocabulary = !f.freeze_vocabulary;
  }
  // The linear model holds a dense weight row per column: 2^27 columns (KDD Cup 2012 has 5.5e7) is
  // 0.5 GiB of float32 per output before the optimizer's state. A larger index is an error naming its line.
  o.libsvm.max_index = std::int64_t{1} << 27;
  if (init != nullptr)
    o.libsvm.task = init->model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                                       : data::LibsvmOptions::Task::classification;
  else if (f.model == "linreg") o.libsvm.task = data::LibsvmOptions::Task::regression;
  else if (!f.model.empty() && f.model != "auto") o.libsvm.task = data::LibsvmOptions::Task::classification;
  if (format == "text-tsv" && !o.continue_vectorizer) o.text = vectorizer_options(f.text);
  return data::prepare_sparse_data(o);
}

nlohmann::json sparse_settings(const TrainFlags& f, const std::string& format) {
  nlohmann::json run = {{"data", f.data.data},   {"format", format},        {"test-data", f.test_data},
                        {"test-split", optim::format_double(f.test_split)}, {"model", f.model},
                        {"batch-size", f.fit.batch_size}, {"seed", f.fit.seed}};
  if (format == "text-tsv")
    run["text features"] = {{"ngram", f.text.ngram}, {"hash-bits", f.text.hash_bits}, {"tfidf", f.text.tfidf},
                            {"binary", f.text.binary}, {"min-df", optim::format_double(f.text.min_df)},
                            {"max-features", f.text.max_features}};
  return run;
}

// What a finished sparse run reports.
struct SparseRun {
  const TrainFlags& f;
  const std::string& format;
  const std::string& optimizer;
  const linear::LinearOptimizer& opt;
  const linear::LinearModel& model;
  const data::PreparedSparseData& d;
  const linear::FitResult& result;
  Scores train, test;
  const std::optional<linear::FitState>& resumed;
  const std::string& checkpoint_dir;
  std::int64_t checkpoints_written;
  const WarmStart* warm;
  const run::ProgressiveValidation* progressive;
};

nlohmann::json sparse_json(const SparseRun& r) {
  const bool squared = r.model.task() == linear::LinearTask::squared;
  std::vector<double> epoch_seconds;  // a resumed run's history has the seconds since the start only
  double previous = 0.0;
  for (const auto& e : r.result.history) epoch_seconds.push_back(e.seconds - std::exchange(previous, e.seconds));
  nlohmann::json j = {{"data", r.f.data.data}, {"format", r.format}, {"model", std::string(linear::to_string(r.model.task()))},
                      {"optimizer", r.optimizer}, {"options", r.opt.option_map()},
                      {"epochs", static_cast<std::int64_t>(r.result.history.size())}, {"steps", r.result.steps},
                      {"seconds", r.result.seconds}, {"train_samples", r.d.train.size()}, {"test_samples", r.d.test.size()},
                      {"features", r.model.dim()}, {"weights", r.model.dim() * r.model.outputs()},
                      {"nonzero_weights", r.model.count_nonzero_weights()}, {"epoch_seconds", epoch_seconds},
                      {"curve", report::history_curve(r.result.history, squared, false)},
                      {"threads", num_threads()}};
  add_scores(j, squared, r.train, r.test);
  if (!r.f.save.empty()) j["saved"] = r.f.save;
  if (r.resumed) j["resumed_from"] = {{"epoch", r.resumed->epoch}, {"row", r.resumed->next}};
  if (!r.checkpoint_dir.empty()) {
    j["checkpoint"] = io::checkpoint_file(r.checkpoint_dir).string();
    j["checkpoints_written"] = r.checkpoints_written;
  }
  if (r.warm != nullptr) j["init_model"] = warm_json(*r.warm, r.f.init_model);
  if (r.progressive != nullptr) j["progressive"] = progressive_json(*r.progressive);
  return j;
}

void report_sparse(const SparseRun& r) {
  if (r.f.json) {
    std::cout << sparse_json(r).dump() << "\n";
    return;
  }
  if (r.f.quiet) return;
  const std::int64_t nonzero = r.model.count_nonzero_weights(), weights = r.model.dim() * r.model.outputs();
  std::printf("epochs %lld in %.2fs, nonzero weights %lld of %lld (%.1f%%)\n", static_cast<long long>(r.result.history.size()),
              r.result.seconds, static_cast<long long>(nonzero), static_cast<long long>(weights),
              100.0 * static_cast<double>(nonzero) / static_cast<double>(weights));
  print_scores(r.model.task() == linear::LinearTask::squared, r.train, r.test);
  if (!r.f.save.empty()) std::printf("saved %s\n", r.f.save.c_str());
  if (!r.checkpoint_dir.empty())
    std::printf("checkpoint %s (%lld written)\n", io::checkpoint_file(r.checkpoint_dir).string().c_str(),
                static_cast<long long>(r.checkpoints_written));
}

// Under mpirun every rank reads the same data (same split) and trains its share of each global batch;
// rank 0 gathers the model (dist::fit_linear, docs/distributed.md) and gets the run, the others nothing.
std::optional<linear::FitResult> fit_sparse(linear::LinearModel& model, linear::LinearOptimizer& opt,
                                            const data::SparseDataset& train, const linear::FitOptions& fo,
                                            const std::vector<run::Callback*>& callbacks,
                                            const linear::FitCheckpoints& checkpoints) {
#if ADAKIT_HAS_MPI
  if (dist::Environment::launched_by_mpirun()) {
    dist::Environment mpi(nullptr, nullptr);  // a no-op when main already initialised MPI
    dist::Comm comm = dist::Comm::world();
    const auto on_epoch = [&](const linear::EpochReport& e) {
      for (auto* c : callbacks) c->on_epoch_end(e);
      return false;
    };
    return dist::fit_linear(comm, model, opt, train, fo, on_epoch, checkpoints);
  }
#endif
  return linear::fit(model, opt, train, fo, callbacks, checkpoints);
}

}  // namespace

int run_train_linear(const TrainFlags& f, const std::string& format) {
  if (f.data.data == "-") return run_train_stream(f, format);
  check_sparse_flags(f, format);
  std::optional<io::LinearModelFile> init;
  if (!f.init_model.empty()) init = read_init_model(f, format);
  const OptimizerChoice choice = init ? warm_optimizer(f, *init) : one_optimizer(f, OptimizerKind::linear);
  data::PreparedSparseData d = prepare_sparse(f, format, init ? &*init : nullptr);
  linear::LinearModel model = init ? std::move(init->model)
                                   : linear::LinearModel::for_dataset(d.train, std::max<std::int64_t>(1, d.train.features.cols), f.model);
  auto opt = init ? continued_optimizer(choice, *init, model) : linear::make_linear_optimizer(choice.name, choice.options);
  std::optional<WarmStart> warm;
  if (init) warm = continue_on(f, model, *opt, d);
  // No syncs inside fit: a run continued later (--init-model) then ends as one uninterrupted run.
  const linear::FitOptions fo{.epochs = f.fit.epochs, .batch_size = f.fit.batch_size, .seed = f.fit.seed,
                              .shuffle = !f.no_shuffle, .sync = false};
  const bool talk = !f.quiet && !f.json;
  // Checkpoints, as for dense models: DIR/checkpoint.safetensors (a linear checkpoint: io/checkpoint.hpp),
  // every --checkpoint-every batches of the run (0: every epoch) and at the end; --resume DIR continues
  // from it and, without --checkpoint, keeps writing there.
  const std::string dir = checkpoint_dir(f);
  const nlohmann::json run = io::run_identity(sparse_settings(f, format), *opt, d.train);
  std::optional<linear::FitState> resumed;
  if (!f.resume.empty()) resumed = io::resume_run(f.resume, run, model, *opt);
  if (resumed && talk)
    print_resumed(f.resume, resumed->epoch, "row " + std::to_string(resumed->next) + " of " + std::to_string(d.train.size()),
                  opt->steps());
  // Beside the run's identity, what `adakit predict --model DIR/checkpoint.safetensors` needs.
  auto meta = io::linear_model_metadata(d.vectorizer ? &*d.vectorizer : nullptr);
  meta[io::kRunKey] = run.dump();
  std::int64_t written = 0;
  const auto checkpoints = io::linear_run_checkpoints(dir, f.checkpoint_every, model, *opt, f.fit.seed, f.fit.batch_size,
                                                      std::move(meta), written, resumed ? &*resumed : nullptr);
  train::ProgressPrinter progress(stderr);
  std::optional<run::ProgressiveValidation> progressive;
  if (f.progress_every > 0) progressive.emplace(f.progress_every, model.task() != linear::LinearTask::squared, progress_sink(talk));
  if (talk) {
    std::fprintf(stderr, "train %s (%s): %lld train / %lld test rows, %lld features (%lld nonzeros), %s, %s\n",
                 f.data.data.c_str(), format.c_str(), static_cast<long long>(d.train.size()),
                 static_cast<long long>(d.test.size()), static_cast<long long>(model.dim()),
                 static_cast<long long>(d.train.features.nnz()), std::string(linear::to_string(model.task())).c_str(),
                 choice.name.c_str());
    if (warm) print_warm_start(f.init_model, *warm, opt->steps());
  }
  std::vector<run::Callback*> callbacks;
  if (talk) callbacks.push_back(&progress);
  if (progressive) callbacks.push_back(&*progressive);
  const auto result = fit_sparse(model, *opt, d.train, fo, callbacks, checkpoints);
  if (!result) return 0;  // under mpirun rank 0 evaluates, saves and reports
  if (progressive) progressive->finish();
  // A file that keeps the optimizer's state keeps the weights as the optimizer left them (it brings
  // them up to date when loading for predictions); the others are saved synced.
  const auto* vectorizer = d.vectorizer ? &*d.vectorizer : nullptr;
  if (!f.save.empty() && f.save_state) io::save_linear_model(f.save, model, vectorizer, opt.get());
  opt->sync(model);
  if (!f.save.empty() && !f.save_state) io::save_linear_model(f.save, model, vectorizer);
  const auto tm = linear::evaluate(model, d.train);
  const auto te = d.test.size() > 0 ? linear::evaluate(model, d.test) : linear::Metrics{};
  report_sparse({f, format, choice.name, *opt, model, d, *result, {tm.loss, tm.accuracy, tm.mse},
                 {te.loss, te.accuracy, te.mse}, resumed, dir, written, warm ? &*warm : nullptr,
                 progressive ? &*progressive : nullptr});
  return 0;
}

namespace {

// The data to predict: --text through the model's vectorizer, else the --data file.
data::SparseDataset predict_input(const PredictFlags& f, const io::LinearModelFile& file) {
  if (f.texts.empty()) {
    if (file.vectorizer && resolve_format(f.data) != "dense" && resolve_format(f.data) != "text-tsv")
      throw UsageError("this text model reads text-tsv data", {"", 0, "format"});
    return io::read_for_model(file, f.data.data, f.data.data_dir);
  }
  data::SparseDataset d;
  d.name = "text";
  d.features = file.vectorizer->transform(f.texts);
  return d;
}

}  // namespace

int run_predict_linear(const PredictFlags& f) {
  const io::LinearModelFile file = io::read_linear_model(f.model);
  if (!f.texts.empty() && !f.data.data.empty()) throw UsageError("give --text or --data, not both", {"", 0, "text"});
  if (f.texts.empty() && f.data.data.empty()) throw UsageError("give --data FILE or --text \"...\"", {"", 0, "data"});
  if (!f.texts.empty() && !file.vectorizer)
    throw UsageError("--text needs a model trained on text (this one was trained on LIBSVM features)", {"", 0, "text"});
  const data::SparseDataset d = predict_input(f, file);
  const run::Predictions p = linear::predictions(file.model, d, f.probabilities);
  report_predictions(run::prediction_rows(p), p.accuracy, p.mse, f.json, f.texts);
  return 0;
}

}  // namespace adakit::cli
