// adakit train / predict for sparse linear models: LIBSVM files or `label<TAB>text` data, logistic /
// softmax / linear regression trained by the lazy optimizers of linear/registry.hpp. The library does
// the work (data/text.hpp, data/libsvm.hpp, linear/fit.hpp); this file only wires flags to it.
//
// A saved model is one JSON document: the model (LinearModel::to_json: only features with a nonzero
// weight, so L1-sparse models stay small) plus, for text models, the fitted vectorizer:
//   {"format": "adakit.linear", ...model..., "input": "libsvm" | "text", "vectorizer": {...}}
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/text.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/run/schedule.hpp"
#include "adakit/train/progress.hpp"
#if ADAKIT_HAS_MPI
#include "adakit/dist/comm.hpp"
#include "adakit/dist/sparse.hpp"
#endif
#include "train.hpp"

namespace adakit::cli {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_text_builtin(const std::string& name) {
  for (auto n : data::text_builtin_names())
    if (n == name) return true;
  return false;
}

nlohmann::json metric_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

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

data::TextDataset load_text(const std::string& name, const std::string& data_dir) {
  if (is_text_builtin(name)) return data::load_text_builtin(name, data_dir);
  return data::read_text_tsv(name);
}

// Class ids of `d` renumbered to follow `names` (the training classes). A class the model does not know
// is an error naming the file.
void align_labels(std::vector<std::int32_t>& labels, std::vector<std::string>& class_names,
                  const std::vector<std::string>& names, const std::string& what) {
  if (class_names == names) return;
  std::map<std::string, std::int32_t> id;
  for (std::size_t i = 0; i < names.size(); ++i) id[names[i]] = static_cast<std::int32_t>(i);
  for (auto& l : labels) {
    const std::string& name = class_names.at(static_cast<std::size_t>(l));
    auto it = id.find(name);
    if (it == id.end()) throw Error("class '" + name + "' does not occur in the training data", {what, 0, "label"});
    l = it->second;
  }
  class_names = names;
}

data::SparseDataset to_sparse(const data::TextDataset& t, const data::TextVectorizer& v) {
  data::SparseDataset d;
  d.name = t.name;
  d.features = v.transform(t.texts);
  d.labels = t.labels;
  d.class_names = t.class_names;
  return d;
}

// LIBSVM columns at or beyond the model's dim are dropped (features never seen in training carry no
// weight, as in LIBLINEAR's predict); fewer columns are widened.
void fit_columns(data::CsrMatrix& x, std::int64_t dim) {
  if (x.cols <= dim) {
    x.cols = dim;
    return;
  }
  data::CsrMatrix out;
  out.cols = dim;
  out.rows = 0;
  std::vector<std::int32_t> idx;
  std::vector<float> val;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    idx.clear();
    val.clear();
    const auto ri = x.row_indices(r);
    const auto rv = x.row_values(r);
    for (std::size_t k = 0; k < ri.size(); ++k)
      if (ri[k] < dim) {
        idx.push_back(ri[k]);
        val.push_back(rv[k]);
      }
    out.add_row(idx, val);
  }
  x = std::move(out);
}

linear::LinearTask task_for(const std::string& model, const data::SparseDataset& train) {
  const std::int64_t classes = train.num_classes();
  if (model.empty() || model == "auto")
    return !train.is_classification() ? linear::LinearTask::squared
           : classes == 2             ? linear::LinearTask::logistic
                                      : linear::LinearTask::softmax;
  if (model == "logreg") {
    if (!train.is_classification()) throw UsageError("logreg is for class labels; use linreg", {"", 0, "model"});
    if (classes != 2)
      throw UsageError("logreg is binary but the data has " + std::to_string(classes) + " classes; use softmax",
                       {"", 0, "model"});
    return linear::LinearTask::logistic;
  }
  if (model == "softmax") {
    if (!train.is_classification()) throw UsageError("softmax is for class labels; use linreg", {"", 0, "model"});
    return linear::LinearTask::softmax;
  }
  if (model == "linreg") {
    if (train.is_classification()) throw UsageError("linreg needs numeric targets (LIBSVM data read as regression)", {"", 0, "model"});
    return linear::LinearTask::squared;
  }
  throw UsageError("unknown model '" + model + "' for sparse data (auto, logreg, softmax, linreg)", {"", 0, "model"});
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open the model file", {path, 0, "model"});
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("not a JSON model: ") + e.what(), {path, 0, "model"});
  }
}

}  // namespace

std::string resolve_format(const DataFlags& f) {
  if (f.format == "dense" || f.format == "libsvm" || f.format == "text-tsv") return f.format;
  if (f.format != "auto") throw UsageError("--format must be auto, dense, libsvm or text-tsv", {"", 0, "format"});
  if (is_text_builtin(f.data) || ends_with(f.data, ".tsv") || ends_with(f.data, ".tsv.gz")) return "text-tsv";
  for (const char* ext : {".svm", ".libsvm", ".svmlight", ".svm.gz", ".libsvm.gz"})
    if (ends_with(f.data, ext)) return "libsvm";
  return "dense";
}

int run_train_linear(const TrainFlags& f, const std::string& format) {
  const auto choices = resolve_optimizers(f.opt, OptimizerKind::linear);
  if (choices.size() != 1) throw UsageError("train takes one optimizer (use 'adakit compare' for several)", {"", 0, "optimizer"});
  if (f.opt.schedule != "constant" || f.opt.clip_norm != 0.0 || f.opt.clip_value != 0.0)
    throw UsageError("--schedule, --clip-norm and --clip-value apply to dense models, not to sparse linear ones",
                     {"", 0, "schedule"});
  if (f.on_nonfinite != "error" || f.dropout != 0.0)
    throw UsageError("--on-nonfinite and --dropout apply to dense models, not to sparse linear ones", {"", 0, "on-nonfinite"});
  if (f.validation_split > 0.0 || f.patience > 0)
    throw UsageError("--validation-split and --patience apply to dense models, not to sparse linear ones",
                     {"", 0, "validation-split"});
  if (!f.data.label_column.empty() || f.data.scale != "auto")
    throw UsageError("--label-column and --scale apply to CSV data, not to " + format, {"", 0, "label-column"});
  if (f.test_split <= 0.0 || f.test_split >= 1.0) throw UsageError("--test-split must be in (0, 1)", {"", 0, "test-split"});
  const bool text = format == "text-tsv";
  if (!text && (f.text.hash_bits != 0 || f.text.tfidf || f.text.binary || f.text.ngram != "1" || f.text.min_df != 1 ||
                f.text.max_features != 0))
    throw UsageError("--hash-bits, --ngram, --tfidf, --binary, --min-df and --max-features apply to text-tsv data",
                     {"", 0, "hash-bits"});

  // Data: the training file and a test file, or a seeded stratified split of the training file.
  data::SparseDataset train, test;
  std::optional<data::TextVectorizer> vectorizer;
  if (text) {
    data::TextDataset all = load_text(f.data.data, f.data.data_dir), train_text, test_text;
    if (!f.test_data.empty()) {
      train_text = std::move(all);
      test_text = load_text(f.test_data, f.data.data_dir);
      align_labels(test_text.labels, test_text.class_names, train_text.class_names, f.test_data);
    } else {
      const auto rows = data::split_rows(all.size(), all.labels, f.test_split, f.seed);
      train_text = all.subset(rows.train_rows);
      test_text = all.subset(rows.test_rows);
    }
    vectorizer.emplace(vectorizer_options(f.text));
    vectorizer->fit(train_text.texts);  // vocabulary and idf from the training split only
    train = to_sparse(train_text, *vectorizer);
    test = to_sparse(test_text, *vectorizer);
  } else {
    data::LibsvmOptions lo;
    // The linear model holds a dense weight row per column: 2^27 columns (KDD Cup 2012 has 5.5e7) is
    // 0.5 GiB of float32 per output before the optimizer's state. A larger index is an error naming its line.
    lo.max_index = std::int64_t{1} << 27;
    if (f.model == "linreg") lo.task = data::LibsvmOptions::Task::regression;
    else if (!f.model.empty() && f.model != "auto") lo.task = data::LibsvmOptions::Task::classification;
    data::SparseDataset all = data::read_libsvm(f.data.data, lo);
    if (!f.test_data.empty()) {
      train = std::move(all);
      test = data::read_libsvm(f.test_data, lo);
      if (train.is_classification() != test.is_classification())
        throw UsageError("the test file has " + std::string(test.is_classification() ? "class labels" : "numeric targets") +
                             ", the training file does not", {f.test_data, 0, "label"});
      const std::int64_t dim = std::max(train.features.cols, test.features.cols);
      train.features.cols = dim;
      test.features.cols = dim;
      if (test.is_classification()) align_labels(test.labels, test.class_names, train.class_names, f.test_data);
    } else {
      const auto rows = data::split_rows(all.size(), all.labels, f.test_split, f.seed);
      train = all.subset(rows.train_rows);
      test = all.subset(rows.test_rows);
    }
  }

  const auto task = task_for(f.model, train);
  linear::LinearModel model(task, std::max<std::int64_t>(1, train.features.cols),
                            task == linear::LinearTask::squared ? 2 : std::max<std::int64_t>(2, train.num_classes()));
  if (task != linear::LinearTask::squared) model.set_class_names(train.class_names);
  auto opt = linear::make_linear_optimizer(choices[0].name, choices[0].options);

  linear::FitOptions fo;
  fo.epochs = f.epochs;
  fo.batch_size = f.batch_size;
  fo.seed = f.seed;
  const bool talk = !f.quiet && !f.json;

  // Checkpoints, as for dense models: DIR/checkpoint.safetensors (a linear checkpoint: io/checkpoint.hpp),
  // every --checkpoint-every batches of the run (0: every epoch) and at the end; --resume DIR continues
  // from it and, without --checkpoint, keeps writing there.
  namespace fs = std::filesystem;
  const std::string checkpoint_dir = !f.checkpoint.empty() ? f.checkpoint : f.resume;
  if (f.checkpoint_every != 0 && checkpoint_dir.empty())
    throw UsageError("--checkpoint-every needs --checkpoint DIR", {"", 0, "checkpoint-every"});
  nlohmann::json run = {{"data", f.data.data},
                        {"format", format},
                        {"test-data", f.test_data},
                        {"test-split", optim::format_double(f.test_split)},
                        {"model", f.model},
                        {"optimizer", choices[0].name},
                        {"options", opt->option_map()},
                        {"batch-size", f.batch_size},
                        {"seed", f.seed},
                        {"training data (FNV-1a of the split)",
                         fingerprint({{train.features.indptr.data(), train.features.indptr.size() * sizeof(std::int64_t)},
                                      {train.features.indices.data(), train.features.indices.size() * sizeof(std::int32_t)},
                                      {train.features.values.data(), train.features.values.size() * sizeof(float)},
                                      {train.labels.data(), train.labels.size() * sizeof(std::int32_t)},
                                      {train.targets.data(), train.targets.size() * sizeof(float)}})}};
  if (text)
    run["text features"] = {{"ngram", f.text.ngram}, {"hash-bits", f.text.hash_bits}, {"tfidf", f.text.tfidf},
                            {"binary", f.text.binary}, {"min-df", optim::format_double(f.text.min_df)},
                            {"max-features", f.text.max_features}};
  std::optional<linear::FitState> resumed;
  if (!f.resume.empty()) {
    const fs::path path = checkpoint_to_resume(f.resume);
    const io::LinearCheckpoint c = io::read_linear_checkpoint(path);
    check_same_run(saved_run_identity(c.metadata, path.string()), run, path.string());
    if (c.model.config() != model.config())
      throw Error("the checkpoint's model differs from this one: saved " + c.model.config().dump() + ", this run builds " +
                      model.config().dump(),
                  {path.string(), 0, "adakit.architecture"});
    try {
      opt->load_state(model, c.state);
    } catch (const Error& e) {
      throw Error(e.message(), {path.string(), 0, "optim." + choices[0].name + "." + e.context().field});
    }
    std::copy(c.model.weights().begin(), c.model.weights().end(), model.weights().begin());
    std::copy(c.model.bias().begin(), c.model.bias().end(), model.bias().begin());
    resumed = c.fit;
    if (talk)
      std::fprintf(stderr, "resuming from %s: epoch %lld, row %lld of %lld (%lld optimizer steps done)\n",
                   path.string().c_str(), static_cast<long long>(c.fit.epoch), static_cast<long long>(c.fit.next),
                   static_cast<long long>(train.size()), static_cast<long long>(opt->steps()));
  }
  // Beside the run's identity, what `adakit predict --model DIR/checkpoint.safetensors` needs.
  std::map<std::string, std::string> checkpoint_meta{{"adakit.run", run.dump()}, {"adakit.input", text ? "text" : "libsvm"}};
  if (vectorizer) checkpoint_meta["adakit.vectorizer"] = vectorizer->to_json().dump();
  linear::FitCheckpoints checkpoints;
  std::int64_t checkpoints_written = 0;
  const fs::path checkpoint_path = checkpoint_dir.empty() ? fs::path() : fs::path(checkpoint_dir) / "checkpoint.safetensors";
  if (!checkpoint_dir.empty()) {
    make_checkpoint_dir(checkpoint_dir);
    checkpoints.every = f.checkpoint_every;
    checkpoints.save = [&](const linear::FitState& st) {
      io::save_linear_checkpoint(checkpoint_path, model, opt->name(), opt->option_map(), opt->state(model), st, f.seed,
                                 f.batch_size, checkpoint_meta);
      ++checkpoints_written;
    };
  }
  checkpoints.resume = resumed ? &*resumed : nullptr;
  train::ProgressPrinter progress(stderr);
  if (talk) {
    std::fprintf(stderr, "train %s (%s): %lld train / %lld test rows, %lld features (%lld nonzeros), %s, %s\n",
                 f.data.data.c_str(), format.c_str(), static_cast<long long>(train.size()),
                 static_cast<long long>(test.size()), static_cast<long long>(model.dim()),
                 static_cast<long long>(train.features.nnz()), std::string(linear::to_string(task)).c_str(),
                 choices[0].name.c_str());
    progress.on_train_begin(f.epochs, (train.size() + f.batch_size - 1) / f.batch_size);
  }
  auto on_epoch = [&](const linear::EpochReport& e) {
    if (talk) progress.on_epoch_end(e);
    return false;
  };
#if ADAKIT_HAS_MPI
  linear::FitResult result;
  if (dist::Environment::launched_by_mpirun()) {
    // Every rank reads the same data (same split) and trains its share of each global batch;
    // rank 0 gathers the model, evaluates, saves and reports (dist/sparse.hpp, docs/distributed.md).
    dist::Environment mpi(nullptr, nullptr);  // a no-op when main already initialised MPI
    dist::Comm comm = dist::Comm::world();
    auto over_mpi = dist::fit_linear(comm, model, *opt, train, fo, on_epoch, checkpoints);
    if (!over_mpi) return 0;  // rank 0 evaluates, saves and reports
    result = std::move(*over_mpi);
  } else {
    result = linear::fit(model, *opt, train, fo, on_epoch, checkpoints);
  }
#else
  const auto result = linear::fit(model, *opt, train, fo, on_epoch, checkpoints);
#endif
  if (talk) progress.on_train_end();
  const auto tm = linear::evaluate(model, train);
  const auto te = test.size() > 0 ? linear::evaluate(model, test) : linear::Metrics{};
  const std::int64_t nonzero = model.count_nonzero_weights();
  const std::int64_t weights = model.dim() * model.outputs();

  if (!f.save.empty()) {
    nlohmann::json doc = model.to_json();
    doc["input"] = text ? "text" : "libsvm";
    if (vectorizer) doc["vectorizer"] = vectorizer->to_json();
    io::write_file_atomic(f.save, doc.dump());
  }
  std::vector<double> epoch_seconds, x, loss, metric;
  double previous = 0.0;
  for (const auto& e : result.history) {
    epoch_seconds.push_back(e.seconds - previous);
    previous = e.seconds;
    x.push_back(static_cast<double>(e.epoch));
    loss.push_back(e.train.loss);
    metric.push_back(task == linear::LinearTask::squared ? e.train.mse : e.train.accuracy);
  }
  nlohmann::json j = {{"data", f.data.data},
                      {"format", format},
                      {"model", std::string(linear::to_string(task))},
                      {"optimizer", choices[0].name},
                      {"options", opt->option_map()},
                      {"epochs", static_cast<std::int64_t>(result.history.size())},
                      {"steps", result.steps},
                      {"seconds", result.seconds},
                      {"train_samples", train.size()},
                      {"test_samples", test.size()},
                      {"features", model.dim()},
                      {"weights", weights},
                      {"nonzero_weights", nonzero},
                      {"train_loss", metric_json(tm.loss)},
                      {"test_loss", metric_json(te.loss)},
                      {"epoch_seconds", epoch_seconds},
                      {"curve", curve_json("epoch", x,
                                           {{"train_loss", loss},
                                            {task == linear::LinearTask::squared ? "train_mse" : "train_accuracy", metric}})},
                      {"threads", num_threads()}};
  if (task == linear::LinearTask::squared) {
    j["train_mse"] = metric_json(tm.mse);
    j["test_mse"] = metric_json(te.mse);
  } else {
    j["train_accuracy"] = metric_json(tm.accuracy);
    j["test_accuracy"] = metric_json(te.accuracy);
  }
  if (!f.save.empty()) j["saved"] = f.save;
  if (resumed) j["resumed_from"] = {{"epoch", resumed->epoch}, {"row", resumed->next}};
  if (!checkpoint_dir.empty()) {
    j["checkpoint"] = checkpoint_path.string();
    j["checkpoints_written"] = checkpoints_written;
  }
  if (f.json) {
    std::cout << j.dump() << "\n";
  } else if (!f.quiet) {
    std::printf("epochs %lld in %.2fs, nonzero weights %lld of %lld (%.1f%%)\n",
                static_cast<long long>(result.history.size()), result.seconds, static_cast<long long>(nonzero),
                static_cast<long long>(weights), 100.0 * static_cast<double>(nonzero) / static_cast<double>(weights));
    if (task == linear::LinearTask::squared)
      std::printf("train mse %.6g  test mse %.6g\n", tm.mse, te.mse);
    else
      std::printf("train loss %.4f acc %.4f  test loss %.4f acc %.4f\n", tm.loss, tm.accuracy, te.loss, te.accuracy);
    if (!f.save.empty()) std::printf("saved %s\n", f.save.c_str());
    if (!checkpoint_dir.empty())
      std::printf("checkpoint %s (%lld written)\n", checkpoint_path.string().c_str(),
                  static_cast<long long>(checkpoints_written));
  }
  return 0;
}

namespace {

// A sparse run's checkpoint (safetensors whose header names the linear checkpoint format)? Reads the
// header only.
bool is_linear_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8] = {};
  if (!in.read(reinterpret_cast<char*>(len), 8)) return false;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | len[i];
  if (n == 0 || n > (std::uint64_t{1} << 24)) return false;
  std::string header(static_cast<std::size_t>(n), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) return false;
  const auto j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("__metadata__") && j["__metadata__"].is_object() &&
         j["__metadata__"].value("format", std::string()) == io::kLinearCheckpointFormat;
}

// What predict needs of a linear model file: the model, and for text its vectorizer.
struct LinearForPredict {
  linear::LinearModel model{linear::LinearTask::logistic, 1};
  bool text = false;
  std::optional<data::TextVectorizer> vectorizer;
};

data::TextVectorizer vectorizer_from(const nlohmann::json& j, const std::string& file, const std::string& field) {
  try {
    return data::TextVectorizer::from_json(j);
  } catch (const Error& e) {
    throw Error(e.message(), {file, 0, field + "." + e.context().field});
  }
}

// A model file saved by --save (JSON), or a checkpoint of a sparse run: its optimizer is rebuilt and
// synced, so that a lazy optimizer's weights are brought up to date before predicting.
LinearForPredict read_linear_for_predict(const std::string& path) {
  LinearForPredict out;
  if (is_linear_checkpoint_file(path)) {
    io::LinearCheckpoint c = io::read_linear_checkpoint(path);
    out.model = std::move(c.model);
    try {
      auto opt = linear::make_linear_optimizer(c.optimizer, c.options);
      opt->load_state(out.model, c.state);
      opt->sync(out.model);
    } catch (const Error& e) {
      throw Error(e.message(), {path, 0, "optim." + c.optimizer + "." + e.context().field});
    }
    const auto input = c.metadata.find("adakit.input");
    out.text = input != c.metadata.end() && input->second == "text";
    if (out.text) {
      const auto v = c.metadata.find("adakit.vectorizer");
      if (v == c.metadata.end()) throw Error("a text model without its vectorizer", {path, 0, "adakit.vectorizer"});
      const auto j = nlohmann::json::parse(v->second, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) throw Error("expected the vectorizer as JSON", {path, 0, "adakit.vectorizer"});
      out.vectorizer = vectorizer_from(j, path, "adakit.vectorizer");
    }
    return out;
  }
  const nlohmann::json doc = read_json_file(path);
  try {
    out.model = linear::LinearModel::from_json(doc);
  } catch (const Error& e) {
    throw Error(e.message(), {path, 0, e.context().field});
  }
  out.text = doc.value("input", std::string("libsvm")) == "text";
  if (out.text) {
    if (!doc.contains("vectorizer")) throw Error("a text model without its \"vectorizer\"", {path, 0, "vectorizer"});
    out.vectorizer = vectorizer_from(doc["vectorizer"], path, "vectorizer");
  }
  return out;
}

}  // namespace

bool is_linear_model_file(const std::string& path) {
  if (is_linear_checkpoint_file(path)) return true;
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c))
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c == '{';
  return false;
}

int run_predict_linear(const PredictFlags& f) {
  LinearForPredict loaded = read_linear_for_predict(f.model);
  linear::LinearModel& model = loaded.model;
  const bool text = loaded.text;
  std::optional<data::TextVectorizer>& vectorizer = loaded.vectorizer;
  if (!f.texts.empty() && !f.data.data.empty()) throw UsageError("give --text or --data, not both", {"", 0, "text"});
  if (f.texts.empty() && f.data.data.empty()) throw UsageError("give --data FILE or --text \"...\"", {"", 0, "data"});
  if (!f.texts.empty() && !text)
    throw UsageError("--text needs a model trained on text (this one was trained on LIBSVM features)", {"", 0, "text"});

  data::SparseDataset d;
  if (!f.texts.empty()) {
    d.name = "text";
    d.features = vectorizer->transform(f.texts);
  } else if (text) {
    const std::string format = resolve_format(f.data) == "dense" ? "text-tsv" : resolve_format(f.data);
    if (format != "text-tsv") throw UsageError("this text model reads text-tsv data", {"", 0, "format"});
    data::TextDataset t = load_text(f.data.data, f.data.data_dir);
    if (!model.class_names().empty()) align_labels(t.labels, t.class_names, model.class_names(), f.data.data);
    d = to_sparse(t, *vectorizer);
  } else {
    data::LibsvmOptions lo;
    lo.task = model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                           : data::LibsvmOptions::Task::classification;
    d = data::read_libsvm(f.data.data, lo);
    fit_columns(d.features, model.dim());
    if (d.is_classification() && !model.class_names().empty())
      align_labels(d.labels, d.class_names, model.class_names(), f.data.data);
  }
  const bool regression = model.task() == linear::LinearTask::squared;
  const Tensor scores = linear::decision_function(model, d.features);
  std::vector<std::int32_t> classes;
  Tensor probs;
  if (!regression) {
    classes = linear::predict(model, d.features);
    probs = linear::predict_proba(model, d.features);
  }
  const bool labelled = d.is_classification() && static_cast<std::int64_t>(d.labels.size()) == d.size() && d.size() > 0;
  std::int64_t correct = 0;
  double squared_error = 0.0;
  nlohmann::json rows = nlohmann::json::array();
  const std::int64_t k = model.classes();
  for (std::int64_t i = 0; i < d.size(); ++i) {
    nlohmann::json r = {{"index", i}};
    if (regression) {
      r["prediction"] = scores[i];
      if (static_cast<std::int64_t>(d.targets.size()) == d.size()) {
        const double e = scores[i] - d.targets[static_cast<std::size_t>(i)];
        squared_error += e * e;
      }
    } else {
      const auto c = classes[static_cast<std::size_t>(i)];
      r["class"] = c;
      if (static_cast<std::size_t>(c) < model.class_names().size()) r["label"] = model.class_names()[static_cast<std::size_t>(c)];
      if (f.probabilities) r["probabilities"] = std::vector<float>(probs.data() + i * k, probs.data() + (i + 1) * k);
      if (labelled) correct += d.labels[static_cast<std::size_t>(i)] == c ? 1 : 0;
    }
    rows.push_back(r);
  }
  const double accuracy = labelled ? static_cast<double>(correct) / static_cast<double>(d.size()) : linear::kNaN;
  const bool have_mse = regression && static_cast<std::int64_t>(d.targets.size()) == d.size() && d.size() > 0;
  const double mse = have_mse ? squared_error / static_cast<double>(d.size()) : linear::kNaN;
  if (f.json) {
    nlohmann::json j = {{"predictions", rows}};
    if (labelled && !regression) j["accuracy"] = accuracy;
    if (have_mse) j["mse"] = mse;
    std::cout << j.dump() << "\n";
    return 0;
  }
  for (const auto& r : rows) {
    std::printf("%lld\t%s", static_cast<long long>(r["index"]),
                r.contains("label") ? r["label"].get<std::string>().c_str()
                                    : (r.contains("prediction") ? r["prediction"] : r["class"]).dump().c_str());
    if (r.contains("probabilities")) std::printf("\t%s", r["probabilities"].dump().c_str());
    if (!f.texts.empty()) std::printf("\t%s", f.texts[static_cast<std::size_t>(r["index"].get<std::int64_t>())].c_str());
    std::printf("\n");
  }
  if (labelled && !regression)
    std::fprintf(stderr, "accuracy %.4f on %lld samples\n", accuracy, static_cast<long long>(d.size()));
  if (have_mse) std::fprintf(stderr, "mse %.6g on %lld samples\n", mse, static_cast<long long>(d.size()));
  return 0;
}

}  // namespace adakit::cli
