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
#include "adakit/data/libsvm.hpp"
#include "adakit/linear/calibrate.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/multilabel.hpp"
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

std::string model_for_loss(const TrainFlags& f, const std::string& format) {
  if (format == "dense" && f.data.data != "-")
    throw UsageError("--loss names the loss of a sparse linear model (LIBSVM or text-tsv data); a dense model's "
                     "comes with its --model",
                     {"", 0, "loss"});
  static constexpr std::pair<std::string_view, std::string_view> kModelOf[] = {
      {"auto", "auto"}, {"logistic", "logreg"},           {"softmax", "softmax"},
      {"ova", "ova"},   {"squared_hinge", "squared_hinge"}, {"squared", "linreg"}};
  for (const auto& [loss, model] : kModelOf) {
    if (f.loss != loss) continue;
    if (f.was_given("model") && !f.model.empty() && f.model != "auto" && f.model != model)
      throw UsageError("--model " + f.model + " and --loss " + f.loss + " name different models: give one", {"", 0, "loss"});
    return std::string(model);
  }
  throw UsageError("'" + f.loss + "' is not a loss: auto, logistic, softmax, ova, squared_hinge or squared", {"", 0, "loss"});
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
  if (f.workers > 1 && f.fit_threads > 1)
    throw UsageError("--fit-threads trains one learner on several threads, --workers trains several learners: "
                     "give one of them",
                     {"", 0, "fit-threads"});
  if (f.workers > 1) {
    if (f.data.data == "-")
      throw UsageError("--workers mixes the shards of an epoch over a --data file; a stream from stdin is one pass",
                       {"", 0, "workers"});
    if (!f.checkpoint.empty() || !f.resume.empty())
      throw UsageError("--workers > 1 keeps no mid-run state for --checkpoint / --resume yet: use one worker",
                       {"", 0, "workers"});
    if (f.progress_every > 0)
      throw UsageError("--progress-every reports the rows in the order one learner sees them: use one worker",
                       {"", 0, "workers"});
  }
  if (f.model == "ova" && !f.calibrate.empty())
    throw UsageError("an ova model's class probabilities stand each on its own (multilabel); --calibrate fits one "
                     "distribution over the classes: use --loss logistic, softmax or squared_hinge to calibrate",
                     {"", 0, "calibrate"});
  if (f.calibrate.empty()) {
    for (const char* flag : {"calibration-split", "calibration-data"})
      if (f.was_given(flag))
        throw UsageError("--" + std::string(flag) + " goes with --calibrate platt|isotonic", {"", 0, flag});
  } else {
    if (f.calibrate != "platt" && f.calibrate != "isotonic")
      throw UsageError("'" + f.calibrate + "' is not a calibration method: platt or isotonic", {"", 0, "calibrate"});
    if (f.data.data == "-")
      throw UsageError("--calibrate holds rows of a --data file out of training; a stream from stdin is read once",
                       {"", 0, "calibrate"});
    if (!(f.calibration_split > 0.0 && f.calibration_split < 1.0))
      throw UsageError("--calibration-split must be in (0, 1), got " + optim::format_double(f.calibration_split),
                       {"", 0, "calibration-split"});
    if (f.was_given("calibration-split") && !f.calibration_data.empty())
      throw UsageError("give --calibration-split or --calibration-data, not both", {"", 0, "calibration-data"});
    if (f.save_state)
      throw UsageError("--save-state keeps a model to train further, which would leave a calibrator stale: "
                       "calibrate the final model (without --save-state)",
                       {"", 0, "calibrate"});
  }
  if (f.data.data == "-")
    for (const char* flag : {"class-weight", "weights", "weight-column"})
      if (f.was_given(flag))
        throw UsageError("--" + std::string(flag) + " weighs the rows of a --data file; a stream from stdin has no weights",
                         {"", 0, flag});
  if (f.weight_column && format != "text-tsv")
    throw UsageError("--weight-column is for text-tsv data (label<TAB>weight<TAB>text); LIBSVM lines carry label:weight",
                     {"", 0, "weight-column"});
  if (f.was_given("classes") && f.data.data != "-")
    throw UsageError("--classes names a stream's classes (--data -); a file's come from its labels", {"", 0, "classes"});
  if (f.keep_bucket_names) {
    if (format != "text-tsv" || (f.text.hash_bits == 0 && f.init_model.empty()))
      throw UsageError("--keep-bucket-names names the columns of a hashed text model: text-tsv data with --hash-bits N",
                       {"", 0, "keep-bucket-names"});
    if (f.data.data == "-")
      throw UsageError("--keep-bucket-names collects the terms of a --data file; a stream from stdin is read once",
                       {"", 0, "keep-bucket-names"});
    if (f.save.empty())
      throw UsageError("--keep-bucket-names keeps the terms in the model file: give --save FILE", {"", 0, "keep-bucket-names"});
  }
}

nlohmann::json class_weights_json(std::span<const float> weights, const std::vector<std::string>& names) {
  nlohmann::json cw = nlohmann::json::object();
  for (std::size_t c = 0; c < weights.size(); ++c) cw[c < names.size() ? names[c] : std::to_string(c)] = weights[c];
  return cw;
}

std::vector<float> parse_class_weights(const std::string& spec, std::span<const std::int32_t> labels,
                                       const std::vector<std::string>& names, std::int64_t classes, bool regression) {
  if (spec.empty()) return {};
  if (regression)
    throw UsageError("--class-weight applies to classification; this model is a regression", {"", 0, "class-weight"});
  if (spec == "balanced") return linear::balanced_class_weights(labels, classes);
  std::vector<float> out(static_cast<std::size_t>(classes), 1.0f);
  std::vector<bool> seen(out.size(), false);
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    const std::size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw UsageError("'" + item + "' is not NAME:WEIGHT (or give 'balanced')", {"", 0, "class-weight"});
    const std::string name = item.substr(0, colon);
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw UsageError("no class '" + name + "' (the classes: " + known + ")", {"", 0, "class-weight"});
    }
    const double w = optim::parse_double("class-weight", item.substr(colon + 1));
    if (!std::isfinite(w) || w < 0.0 || !std::isfinite(static_cast<float>(w)))
      throw UsageError("class '" + name + "': weight " + item.substr(colon + 1) + " is not a finite number >= 0",
                       {"", 0, "class-weight"});
    const auto c = static_cast<std::size_t>(it - names.begin());
    if (seen[c]) throw UsageError("class '" + name + "' is weighed twice", {"", 0, "class-weight"});
    seen[c] = true;
    out[c] = static_cast<float>(w);
    start = comma + 1;
  }
  return out;
}

namespace {

// A vocabulary's columns take their training shards from their terms (TextVectorizer::feature_shards):
// a warm start on a grown vocabulary sums as one pass over all the data would.
void set_shards_from(const data::TextVectorizer* vectorizer, linear::LinearModel& model) {
  if (vectorizer == nullptr) return;
  auto shards = vectorizer->feature_shards();
  if (static_cast<std::int64_t>(shards.size()) == model.dim()) model.set_feature_shards(std::move(shards));
}

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
  if (init != nullptr) {
    o.libsvm.task = init->model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                                       : data::LibsvmOptions::Task::classification;
    o.multilabel = init->model.task() == linear::LinearTask::ova;
  }
  else if (f.model == "linreg") o.libsvm.task = data::LibsvmOptions::Task::regression;
  else if (!f.model.empty() && f.model != "auto") o.libsvm.task = data::LibsvmOptions::Task::classification;
  if (format == "text-tsv" && !o.continue_vectorizer) o.text = vectorizer_options(f.text);
  o.weight_column = f.weight_column;
  o.weights_file = f.weights;
  o.keep_train_texts = f.keep_bucket_names;
  return data::prepare_sparse_data(o);
}

nlohmann::json sparse_settings(const TrainFlags& f, const std::string& format) {
  nlohmann::json run = {{"data", f.data.data},   {"format", format},        {"test-data", f.test_data},
                        {"test-split", optim::format_double(f.test_split)}, {"model", f.model},
                        {"batch-size", f.fit.batch_size}, {"seed", f.fit.seed}};
  if (!f.class_weight.empty()) run["class-weight"] = f.class_weight;
  if (f.workers > 1) run["workers"] = f.workers;
  if (f.fit_threads > 0) run["fit-threads"] = f.fit_threads;
  if (!f.weights.empty()) run["weights"] = f.weights;
  if (!f.calibrate.empty())
    run["calibrate"] = {{"method", f.calibrate}, {"split", optim::format_double(f.calibration_split)},
                        {"data", f.calibration_data}};
  if (f.weight_column) run["weight-column"] = true;
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
  std::span<const float> class_weights;
  const nlohmann::json* calibration = nullptr;  // --calibrate: what calibrate_model measured
  const linear::MultilabelMetrics* multilabel = nullptr;  // an ova model with test rows: P@1, R@1, F1 at 0.5
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
  j["workers"] = r.f.workers;
  j["fit_threads"] = r.result.threads;
  if (!r.class_weights.empty()) j["class_weights"] = class_weights_json(r.class_weights, r.model.class_names());
  if (r.calibration != nullptr) j["calibration"] = *r.calibration;
  if (r.multilabel) j["test_multilabel"] = linear::to_json(*r.multilabel);
  if (!r.d.train.weights.empty()) {
    double total = 0.0;
    for (const float w : r.d.train.weights) total += w;
    j["train_weight_sum"] = total;
  }
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
  if (r.multilabel != nullptr)
    std::printf("test multilabel: P@1 %.4f  R@1 %.4f  precision %.4f  recall %.4f  F1 %.4f (threshold %.2f)\n",
                r.multilabel->precision_at_k, r.multilabel->recall_at_k, r.multilabel->precision, r.multilabel->recall,
                r.multilabel->f1, r.multilabel->threshold);
  if (r.calibration != nullptr) {
    const nlohmann::json& c = *r.calibration;
    const char* on = c.contains("before") ? "test" : "calibration";
    const nlohmann::json& before = c.contains("before") ? c["before"] : c["calibration_split"]["before"];
    const nlohmann::json& after = c.contains("after") ? c["after"] : c["calibration_split"]["after"];
    std::printf("calibrated (%s, %lld rows); on the %s rows: ECE %.4f -> %.4f, Brier %.4f -> %.4f, log loss %.4f -> %.4f\n",
                c["method"].get<std::string>().c_str(), static_cast<long long>(c["rows"].get<std::int64_t>()), on,
                before["ece"].get<double>(), after["ece"].get<double>(), before["brier"].get<double>(),
                after["brier"].get<double>(), before["log_loss"].get<double>(), after["log_loss"].get<double>());
  }
  if (!r.f.save.empty()) std::printf("saved %s\n", r.f.save.c_str());
  if (!r.checkpoint_dir.empty())
    std::printf("checkpoint %s (%lld written)\n", io::checkpoint_file(r.checkpoint_dir).string().c_str(),
                static_cast<long long>(r.checkpoints_written));
}

// --calibrate: the rows the calibrator is fitted on. --calibration-split F holds out that fraction of
// the training split (seeded by --seed + 2, stratified: the test split is --seed's, a dense model's
// validation split --seed + 1); the text vectorizer was fitted before, on all of them.
std::optional<data::SparseDataset> hold_out_calibration(const TrainFlags& f, data::PreparedSparseData& d) {
  if (f.calibrate.empty()) return std::nullopt;
  if (!d.train.is_classification())
    throw UsageError("--calibrate calibrates class probabilities; this data has numeric targets (a regression)",
                     {"", 0, "calibrate"});
  if (!f.calibration_data.empty()) return data::SparseDataset{};  // read once the model is made (calibration_rows)
  data::SplitRows s;
  try {
    s = data::split_rows(d.train.size(), d.train.labels, f.calibration_split, f.fit.seed + 2);
  } catch (const UsageError& e) {
    throw UsageError(e.message(), {"", 0, "calibration-split"});
  }
  data::SparseDataset held = d.train.subset(s.test_rows);
  d.train = d.train.subset(s.train_rows);
  return held;
}

// --calibration-data FILE as the model reads it (its vectorizer, its columns, its classes).
data::SparseDataset calibration_file(const TrainFlags& f, const std::string& format, const data::PreparedSparseData& d,
                                     const linear::LinearModel& model) {
  data::SparseDataset c;
  if (d.vectorizer) {
    data::TextDataset t = data::load_text(f.calibration_data, f.data.data_dir);
    data::align_labels(t.labels, t.class_names, model.class_names(), f.calibration_data);
    c = data::vectorize(t, *d.vectorizer);
  } else {
    if (format == "text-tsv") throw UsageError("a text run without a vectorizer", {"", 0, "calibration-data"});
    data::LibsvmOptions lo;
    lo.task = data::LibsvmOptions::Task::classification;
    c = data::read_libsvm(f.calibration_data, lo);
    data::fit_columns(c.features, model.dim());
    data::align_labels(c.labels, c.class_names, model.class_names(), f.calibration_data);
  }
  return c;
}

// Fits the calibrator on `held` with the trained (synced) weights, puts it in the model, and measures
// the probabilities before and after (linear/calibrate.hpp): on the test split ("before" / "after")
// when there is one, and on the calibration rows themselves ("calibration_split": in-sample after).
nlohmann::json calibrate_model(const TrainFlags& f, linear::LinearModel& model, const data::SparseDataset& held,
                               const data::SparseDataset& test) {
  if (model.task() == linear::LinearTask::squared)
    throw UsageError("--calibrate calibrates class probabilities; this model is a regression", {"", 0, "calibrate"});
  if (held.size() == 0) throw UsageError("no rows to calibrate on", {"", 0, "calibration-data"});
  linear::CalibrationOptions o;
  o.method = linear::calibration_method_from_string(f.calibrate);
  const auto measure = [&](const data::SparseDataset& d, bool calibrated) {
    const Tensor p = calibrated ? linear::predict_proba(model, d.features) : linear::uncalibrated_proba(model, d.features);
    return linear::to_json(linear::calibration_metrics(p, d.labels));
  };
  nlohmann::json j = {{"method", f.calibrate}, {"rows", held.size()},
                      {"source", f.calibration_data.empty() ? "calibration-split" : f.calibration_data}};
  if (f.calibration_data.empty()) j["split"] = f.calibration_split;
  nlohmann::json before_test, before_held = measure(held, false);
  if (test.size() > 0) before_test = measure(test, false);
  model.set_calibrator(linear::Calibrator::fit(linear::decision_function(model, held.features), held.labels,
                                               model.classes(), o));
  j["calibration_split"] = {{"before", before_held}, {"after", measure(held, true)}};
  if (test.size() > 0) {
    j["measured_on"] = "test";
    j["before"] = before_test;
    j["after"] = measure(test, true);
  } else {
    j["measured_on"] = "calibration";
  }
  return j;
}

// Under mpirun every rank reads the same data (same split) and trains its share of each global batch;
// rank 0 gathers the model (dist::fit_linear, docs/distributed.md) and gets the run, the others nothing.
std::optional<linear::FitResult> fit_sparse(linear::LinearModel& model, linear::LinearOptimizer& opt,
                                            const data::SparseDataset& train, const linear::FitOptions& fo,
                                            const std::vector<run::Callback*>& callbacks,
                                            const linear::FitCheckpoints& checkpoints) {
#if ADAKIT_HAS_MPI
  if (dist::Environment::launched_by_mpirun()) {
    if (fo.workers > 1)
      throw UsageError("--workers mixes threads of one process; under mpirun the ranks share each batch", {"", 0, "workers"});
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
  if (d.train.is_multilabel() && !f.class_weight.empty())
    throw UsageError("class weights weigh a row by its one class; these rows have label sets (weigh rows with --weights)",
                     {"", 0, "class-weight"});
  // The terms of each hashed column: a warm start's, carried on (and counted on with this data's when asked).
  std::optional<data::BucketTerms> bucket_terms;
  if (init) bucket_terms = std::move(init->bucket_terms);
  if (f.keep_bucket_names) {
    if (!d.vectorizer || d.vectorizer->options().hash_bits == 0)
      throw UsageError(f.init_model + " has a vocabulary, which names its columns: --keep-bucket-names is for hashed text models",
                       {"", 0, "keep-bucket-names"});
    data::BucketTerms collected = data::BucketTerms::collect(*d.vectorizer, d.train_texts);
    bucket_terms = bucket_terms ? bucket_terms->merged(collected) : std::move(collected);
    d.train_texts = {};
  }
  std::optional<data::SparseDataset> held = hold_out_calibration(f, d);
  linear::LinearModel model = init ? std::move(init->model)
                                   : linear::LinearModel::for_dataset(d.train, std::max<std::int64_t>(1, d.train.features.cols), f.model);
  auto opt = init ? continued_optimizer(choice, *init, model) : linear::make_linear_optimizer(choice.name, choice.options);
  std::optional<WarmStart> warm;
  if (init) warm = continue_on(f, model, *opt, d);
  set_shards_from(d.vectorizer ? &*d.vectorizer : nullptr, model);
  // A saved calibrator was fitted on the saved weights: this run's training leaves it stale.
  if (model.calibrator() != nullptr && !f.quiet && !f.json && f.calibrate.empty())
    std::fprintf(stderr, "note: %s was calibrated; its calibrator is dropped (give --calibrate to fit a new one)\n",
                 f.init_model.c_str());
  model.set_calibrator(std::nullopt);
  if (held && !f.calibration_data.empty()) held = calibration_file(f, format, d, model);
  // No syncs inside fit: a run continued later (--init-model) then ends as one uninterrupted run.
  const linear::FitOptions fo{.epochs = f.fit.epochs, .batch_size = f.fit.batch_size, .seed = f.fit.seed,
                              .shuffle = !f.no_shuffle, .sync = false,
                              .class_weights = parse_class_weights(f.class_weight, d.train.labels, model.class_names(),
                                                                   model.classes(),
                                                                   model.task() == linear::LinearTask::squared),
                              .workers = f.workers,
                              .threads = f.fit_threads};
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
  if (f.was_given("write-features")) write_features(f.write_features, d);  // as trained on (classes: the model's)
  const auto result = fit_sparse(model, *opt, d.train, fo, callbacks, checkpoints);
  if (!result) return 0;  // under mpirun rank 0 evaluates, saves and reports
  if (progressive) progressive->finish();
  // A file that keeps the optimizer's state keeps the weights as the optimizer left them (it brings
  // them up to date when loading for predictions); the others are saved synced.
  const auto* vectorizer = d.vectorizer ? &*d.vectorizer : nullptr;
  const auto* names = bucket_terms ? &*bucket_terms : nullptr;
  if (!f.save.empty() && f.save_state) io::save_linear_model(f.save, model, vectorizer, opt.get(), names);
  opt->sync(model);
  std::optional<nlohmann::json> calibration;
  if (held) calibration = calibrate_model(f, model, *held, d.test);
  if (!f.save.empty() && !f.save_state) io::save_linear_model(f.save, model, vectorizer, nullptr, names);
  const auto tm = linear::evaluate(model, d.train);
  const auto te = d.test.size() > 0 ? linear::evaluate(model, d.test) : linear::Metrics{};
  std::optional<linear::MultilabelMetrics> multilabel;
  if (model.task() == linear::LinearTask::ova && d.test.size() > 0)
    multilabel = linear::multilabel_metrics(linear::predict_proba(model, d.test.features), d.test);
  report_sparse({f, format, choice.name, *opt, model, d, *result, {tm.loss, tm.accuracy, tm.mse},
                 {te.loss, te.accuracy, te.mse}, resumed, dir, written, warm ? &*warm : nullptr,
                 progressive ? &*progressive : nullptr, fo.class_weights, calibration ? &*calibration : nullptr,
                 multilabel ? &*multilabel : nullptr});
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
  const bool choose = f.top_k != -1 || f.threshold != -1.0;  // --top-k / --threshold: several classes a row
  if (choose && file.model.task() == linear::LinearTask::squared)
    throw UsageError("a regression model has no classes to choose from", {"", 0, f.top_k != -1 ? "top-k" : "threshold"});
  const run::Predictions p = linear::predictions(file.model, d, f.probabilities || choose);
  nlohmann::json rows = run::prediction_rows(p);
  nlohmann::json extra = nlohmann::json::object();
  if (choose) {
    const std::int64_t k = f.top_k != -1 ? f.top_k : file.model.classes();
    const double t = f.threshold != -1.0 ? f.threshold : 0.0;
    const auto c = static_cast<std::size_t>(file.model.classes());
    std::vector<float> row(c);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(p.probabilities.begin() + static_cast<std::ptrdiff_t>(i * c), c, row.begin());
      nlohmann::json chosen = nlohmann::json::array();
      for (const auto& [id, prob] : linear::top_classes(row, k, t)) {
        nlohmann::json one = {{"class", id}, {"probability", prob}};
        if (static_cast<std::size_t>(id) < p.class_names.size()) one["label"] = p.class_names[static_cast<std::size_t>(id)];
        chosen.push_back(std::move(one));
      }
      rows[i]["labels"] = std::move(chosen);
      if (!f.probabilities) rows[i].erase("probabilities");
    }
    // Scores against the data's labels (sets): P@k at --top-k (1 if not given), F1 at --threshold (0.5).
    if (d.is_classification() && !d.labels.empty()) {
      const Tensor probs({p.rows, file.model.classes()}, std::vector<float>(p.probabilities.begin(), p.probabilities.end()));
      extra["multilabel"] = linear::to_json(linear::multilabel_metrics(probs, d, f.top_k != -1 ? f.top_k : 1,
                                                                       f.threshold != -1.0 ? f.threshold : 0.5));
    }
  }
  report_predictions(rows, p.accuracy, p.mse, f.json, f.texts, extra);
  return 0;
}

}  // namespace adakit::cli
