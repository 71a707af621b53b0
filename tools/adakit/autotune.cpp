// adakit train --autotune-validation FILE [--autotune-duration S] [--autotune-model-size 2M]: the search
// of linear/autotune.hpp over a sparse run's data. The first trial is the run the other flags describe
// (the baseline); flags given on the command line are fixed, not searched (as fastText's autotune does).
// The best trial's model is kept as trained (not retrained), evaluated on the test split and saved.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/autotune.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "train.hpp"
#if ADAKIT_HAS_MPI
#include "adakit/dist/comm.hpp"
#endif

namespace adakit::cli {
namespace {

constexpr const char* kAutotuneFlags[] = {"autotune-validation", "autotune-duration", "autotune-model-size",
                                          "autotune-trials"};

std::string trial_line(const linear::TuneTrial& t, bool text, bool regression) {
  char buf[512];
  const auto& c = t.config;
  std::string feats = text ? " ngram " + std::to_string(c.ngram_min) + "," + std::to_string(c.ngram_max) + " hash-bits " +
                                 std::to_string(c.hash_bits) + " " + data::to_string(c.weighting)
                           : "";
  if (!c.task.empty()) feats = " " + c.task + feats;
  std::string score = "-";
  if (t.features > 0) {
    std::snprintf(buf, sizeof buf, "%s %.4f", regression ? "mse" : "acc", t.metric);
    score = buf;
  }
  std::snprintf(buf, sizeof buf, "trial %3lld  %-9s %-10s lr %-9.3g l1 %-8.2g l2 %-8.2g s0 %-7.3g epochs %-3lld%s  %.2fs %.3g MB",
                static_cast<long long>(t.index), score.c_str(), c.optimizer.c_str(), c.lr, c.l1, c.l2,
                c.initial_accumulator, static_cast<long long>(c.epochs), feats.c_str(), t.seconds,
                static_cast<double>(t.model_bytes) / 1e6);
  std::string line = buf;
  if (t.status != "ok") line += "  (" + t.status + ")";
  if (!t.constrained.empty()) line += "  [" + t.constrained + "]";
  return line;
}

// The first trial: the run the flags describe.
linear::TuneConfig first_config(const TrainFlags& f, const OptimizerChoice& choice, const data::TextVectorizerOptions* text) {
  linear::TuneConfig c;
  c.optimizer = choice.name;
  c.epochs = f.fit.epochs;
  // The options the optimizer starts from: its registry defaults, overridden by the flags given.
  optim::OptionMap all;
  for (const auto& o : linear::find_linear_optimizer(choice.name).options()) all[o.key] = o.default_value;
  for (const auto& [k, v] : choice.options) all[k] = v;
  const auto take = [&](std::initializer_list<const char*> keys, double& into) {
    for (const char* k : keys)
      if (auto it = all.find(k); it != all.end()) {
        into = optim::parse_double(k, it->second);
        all.erase(it);
      }
  };
  take({"lr", "alpha"}, c.lr);
  take({"initial_accumulator_value", "beta"}, c.initial_accumulator);
  take({"l1"}, c.l1);
  take({"l2"}, c.l2);
  // The rest passes through as given (defaults left to the optimizer).
  for (const auto& [k, v] : choice.options)
    if (all.count(k) > 0) c.extra[k] = v;
  if (text != nullptr) {
    c.ngram_min = text->ngram_min;
    c.ngram_max = text->ngram_max;
    c.hash_bits = text->hash_bits;
    c.weighting = text->weighting;
  }
  return c;
}

}  // namespace

void check_autotune_flags(const TrainFlags& f, const std::string& format) {
  const bool on = f.was_given("autotune-validation");
  if (!on) {
    for (const char* flag : kAutotuneFlags)
      if (f.was_given(flag))
        throw UsageError("--" + std::string(flag) + " needs --autotune-validation FILE (the data each trial is scored on)",
                         {"", 0, flag});
    return;
  }
  if (f.autotune.validation.empty())
    throw UsageError("--autotune-validation needs a file name", {"", 0, "autotune-validation"});
  if (format == "dense")
    throw UsageError("--autotune-validation tunes sparse linear models (--format libsvm or text-tsv), not dense ones",
                     {"", 0, "autotune-validation"});
  if (f.data.data == "-")
    throw UsageError("--autotune-validation trains many times on a --data file; a stream from stdin is read once",
                     {"", 0, "autotune-validation"});
  if (!(f.autotune.duration > 0.0) || f.autotune.duration > 1e7)
    throw UsageError("--autotune-duration must be a number of seconds > 0", {"", 0, "autotune-duration"});
  if (f.autotune.trials < 0) throw UsageError("--autotune-trials must be >= 0", {"", 0, "autotune-trials"});
  if (!f.autotune.model_size.empty()) (void)linear::parse_byte_size(f.autotune.model_size, "autotune-model-size");
  for (const char* flag : {"resume", "checkpoint", "checkpoint-every", "init-model", "progress-every", "keep-bucket-names",
                           "write-features", "workers", "calibrate", "calibration-split", "calibration-data"})
    if (f.was_given(flag))
      throw UsageError("--" + std::string(flag) + " does not go with --autotune-validation (the search trains many models "
                       "from scratch and keeps the best)",
                       {"", 0, flag});
#if ADAKIT_HAS_MPI
  if (dist::Environment::launched_by_mpirun())
    throw UsageError("--autotune-validation runs in one process, not under mpirun", {"", 0, "autotune-validation"});
#endif
}

int run_train_autotune(const TrainFlags& f, const std::string& format) {
  check_sparse_flags(f, format);
  const bool text = format == "text-tsv";
  const OptimizerChoice choice = one_optimizer(f, OptimizerKind::linear);
  const std::int64_t size_limit = f.autotune.model_size.empty() ? 0 : linear::parse_byte_size(f.autotune.model_size);

  // The training and test splits, as a plain run has them (texts kept for vectorising per trial).
  data::PrepareOptions po = prepare_options(f);
  if (!text) check_no_text_flags(f.text);
  po.libsvm.max_index = std::int64_t{1} << 27;
  if (f.model == "linreg") po.libsvm.task = data::LibsvmOptions::Task::regression;
  else if (!f.model.empty() && f.model != "auto") po.libsvm.task = data::LibsvmOptions::Task::classification;
  std::optional<data::TextVectorizerOptions> text_options;
  if (text) text_options = po.text = vectorizer_options(f.text);
  po.weight_column = f.weight_column;
  po.weights_file = f.weights;
  po.keep_train_texts = text;
  po.keep_test_texts = text;
  data::PreparedSparseData d = data::prepare_sparse_data(po);

  // The validation file, its classes numbered as the training data's.
  data::TextDataset train_text, validation_text;
  data::SparseDataset validation;
  linear::TuneData td;
  if (text) {
    train_text = {d.train.name, std::move(d.train_texts), d.train.labels, d.train.class_names, d.train.weights,
                  d.train.label_sets};
    validation_text = data::load_text(f.autotune.validation, f.data.data_dir, f.weight_column, po.multilabel);
    data::align_labels(validation_text.labels, validation_text.class_names, train_text.class_names, f.autotune.validation,
                       &validation_text.label_sets);
    td.train_text = &train_text;
    td.validation_text = &validation_text;
    td.text = *text_options;
  } else {
    data::LibsvmOptions lo = po.libsvm;
    lo.multilabel = po.multilabel;
    if (lo.task == data::LibsvmOptions::Task::auto_detect)
      lo.task = d.train.is_classification() ? data::LibsvmOptions::Task::classification : data::LibsvmOptions::Task::regression;
    validation = data::read_libsvm(f.autotune.validation, lo);
    if (validation.is_classification() && d.train.is_classification())
      data::align_labels(validation.labels, validation.class_names, d.train.class_names, f.autotune.validation,
                         &validation.label_sets);
    td.train = &d.train;
    td.validation = &validation;
  }

  // Flags given are fixed: the optimizer's options given (--lr or --optimizer NAME:lr=...), --epochs and
  // the text flags.
  std::vector<std::string> fixed;
  for (const auto& [k, v] : choice.options) fixed.push_back(k);
  for (const char* k : {"epochs", "ngram", "hash-bits", "min-df", "max-features", "tfidf", "binary"})
    if (f.was_given(k)) fixed.push_back(k);
  if (f.was_given("model") && f.model != "auto") fixed.push_back("model");  // --model or --loss
  linear::TuneSpace space = linear::TuneSpace::for_optimizer(choice.name, text, f.was_given("optimizer"), fixed);
  linear::TuneConfig first = first_config(f, choice, text_options ? &*text_options : nullptr);
  // The loss: the model the flags give (or the automatic one), and for single-label classes the squared
  // hinge beside it (LIBLINEAR -s 2's loss, the most accurate on the Debian descriptions).
  const std::string task_asked = f.model.empty() ? "auto" : f.model;
  if (d.train.is_classification()) {
    const linear::LinearTask t = linear::LinearModel::for_dataset(d.train, 1, task_asked).task();
    first.task = t == linear::LinearTask::logistic ? "logreg" : linear::to_string(t);  // for_dataset's names
    if (space.task && !d.train.is_multilabel() && first.task != "squared_hinge")
      space.tasks = {first.task, "squared_hinge"};
  }
  // Other AdaGrad options given (--lr-decay, --convention, ...) may not exist in adagrad-l1: keep adagrad.
  if (space.adagrad_l1_for_regularization && !first.extra.empty())
    space.adagrad_l1_for_regularization = false, space.l1 = space.l2 = false;

  linear::TuneOptions to{.seconds = f.autotune.duration, .max_trials = f.autotune.trials, .max_model_bytes = size_limit,
                         .max_table_entries = std::int64_t{1} << 25, .seed = f.fit.seed,
                         .task = f.model.empty() ? "auto" : f.model, .batch_size = f.fit.batch_size,
                         .shuffle = !f.no_shuffle, .class_weights = {}, .threads = f.fit_threads};
  if (!f.class_weight.empty()) {
    const linear::LinearModel shape = linear::LinearModel::for_dataset(d.train, 1, to.task);  // its classes and task
    to.class_weights = parse_class_weights(f.class_weight, d.train.labels, shape.class_names(), shape.classes(),
                                           shape.task() == linear::LinearTask::squared);
  }
  const bool talk = !f.quiet && !f.json;
  const bool regression = !d.train.is_classification();
  if (talk)
    std::fprintf(stderr, "autotune %s (%s): %lld train rows, %lld validation rows (%s), %g s%s; scored by validation %s\n",
                 f.data.data.c_str(), format.c_str(), static_cast<long long>(d.train.size()),
                 static_cast<long long>(text ? validation_text.size() : validation.size()), f.autotune.validation.c_str(),
                 f.autotune.duration, size_limit > 0 ? (", model size <= " + std::to_string(size_limit) + " bytes").c_str() : "",
                 regression ? "mse" : "accuracy");
  const auto on_trial = [&](const linear::TuneTrial& t) {
    if (talk) std::printf("%s\n", trial_line(t, text, regression).c_str()), std::fflush(stdout);
  };
  linear::TuneResult r = linear::autotune(td, first, space, to, on_trial);

  // The best model as trained; the test split through its vectoriser.
  linear::LinearModel& model = *r.model;
  const data::TextVectorizer* vectorizer = r.vectorizer ? &*r.vectorizer : nullptr;
  data::SparseDataset test;
  if (vectorizer != nullptr) {
    data::TextDataset t{d.test.name, std::move(d.test_texts), d.test.labels, d.test.class_names, d.test.weights,
                        d.test.label_sets};
    test = data::vectorize(t, *vectorizer);
  } else {
    test = std::move(d.test);
    if (test.size() > 0) data::fit_columns(test.features, model.dim());
  }
  data::SparseDataset train_features;  // the training split as the best model saw it
  if (vectorizer != nullptr) train_features = data::vectorize(train_text, *vectorizer);
  else {
    train_features = std::move(d.train);
    data::fit_columns(train_features.features, model.dim());
  }
  std::int64_t saved_bytes = 0;
  if (!f.save.empty()) {
    io::save_linear_model(f.save, model, vectorizer, f.save_state ? r.optimizer.get() : nullptr);
    std::error_code ec;
    saved_bytes = static_cast<std::int64_t>(std::filesystem::file_size(f.save, ec));
  }
  const auto tm = linear::evaluate(model, train_features);
  const auto te = test.size() > 0 ? linear::evaluate(model, test) : linear::Metrics{};
  const linear::TuneTrial& best = r.trials[static_cast<std::size_t>(r.best)];
  const linear::TuneTrial& base = r.trials.front();
  if (f.json) {
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& t : r.trials) trials.push_back(t.to_json(text, regression));
    nlohmann::json j = {{"data", f.data.data}, {"format", format}, {"model", std::string(linear::to_string(model.task()))},
                        {"optimizer", best.config.optimizer}, {"options", best.config.options()},
                        {"epochs", best.config.epochs}, {"train_samples", train_features.size()},
                        {"test_samples", test.size()}, {"features", model.dim()},
                        {"weights", model.dim() * model.outputs()}, {"nonzero_weights", model.count_nonzero_weights()},
                        {"threads", num_threads()}};
    add_scores(j, regression, {tm.loss, tm.accuracy, tm.mse}, {te.loss, te.accuracy, te.mse});
    const std::string metric = regression ? "validation_mse" : "validation_accuracy";
    j["autotune"] = {{"validation", f.autotune.validation}, {"duration", f.autotune.duration},
                     {"seconds", r.seconds}, {"metric", metric}, {"trials", trials}, {"skipped", r.skipped},
                     {"best", {{"trial", best.index}, {metric, best.metric}, {"config", best.config.to_json(text)}}},
                     {"baseline", {{"trial", 0}, {metric, base.metric}}},
                     {"fixed", fixed}, {"kept", "the best trial's model, as trained (not retrained)"}};
    if (size_limit > 0) j["autotune"]["model_size_limit"] = size_limit;
    if (!f.save.empty()) j["saved"] = f.save, j["saved_bytes"] = saved_bytes;
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (f.quiet) return 0;
  std::printf("best: trial %lld of %lld in %.1fs, validation %s %.4f (the defaults, trial 0: %.4f)\n",
              static_cast<long long>(best.index), static_cast<long long>(r.trials.size()), r.seconds,
              regression ? "mse" : "accuracy", best.metric, base.metric);
  std::printf("  %s\n", best.config.to_json(text).dump().c_str());
  print_scores(regression, {tm.loss, tm.accuracy, tm.mse}, {te.loss, te.accuracy, te.mse});
  if (!f.save.empty()) std::printf("saved %s (%lld bytes)\n", f.save.c_str(), static_cast<long long>(saved_bytes));
  return 0;
}

}  // namespace adakit::cli
