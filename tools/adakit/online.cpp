// adakit train --init-model (continue a saved sparse model on new data) and --data - (one pass over
// stdin). The library does the work: io::read_linear_model, data::prepare_sparse_data with a continued
// vectorizer, LinearModel::remap_features, linear::OnlineLearner, data::LineChunks,
// run::ProgressiveValidation; this file checks the flags against the saved model and wires the rest.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/data/lines.hpp"
#include "adakit/linear/online.hpp"
#include "adakit/linear/registry.hpp"
#include "train.hpp"

namespace adakit::cli {
namespace {

std::string task_flag(linear::LinearTask t) {  // the --model that builds a model of task t
  if (t == linear::LinearTask::squared) return "linreg";
  if (t == linear::LinearTask::logistic) return "logreg";
  return std::string(linear::to_string(t));  // softmax, ova, squared_hinge
}

// UsageError when a flag given contradicts the saved model: its loss, its input, its text features.
void check_meaning(const TrainFlags& f, const std::string& format, const io::LinearModelFile& m) {
  const auto refuse = [&](const std::string& flag, const std::string& what) {
    throw UsageError(f.init_model + " " + what + "; --" + flag + " would change what the model means (leave it out "
                     "to continue the model as saved)", {"", 0, flag});
  };
  const std::string input = m.vectorizer ? "text-tsv" : "libsvm";
  if (format != input) refuse("format", "was trained on " + input + " data, not " + format);
  if (f.was_given("model") && f.model != "auto" && f.model != task_flag(m.model.task()))
    refuse("model", std::string("is a ") + task_flag(m.model.task()) + " model");
  if (f.was_given("classes")) refuse("classes", "has its classes");
  if (!m.vectorizer) return;
  const auto& saved = m.vectorizer->options();
  const data::TextVectorizerOptions given = vectorizer_options(f.text);
  if (f.was_given("ngram") && (given.ngram_min != saved.ngram_min || given.ngram_max != saved.ngram_max))
    refuse("ngram", "uses n-grams " + std::to_string(saved.ngram_min) + "," + std::to_string(saved.ngram_max));
  if (f.was_given("hash-bits") && given.hash_bits != saved.hash_bits)
    refuse("hash-bits", "has hash-bits " + std::to_string(saved.hash_bits));
  if ((f.was_given("tfidf") || f.was_given("binary")) && given.weighting != saved.weighting)
    refuse(f.was_given("tfidf") ? "tfidf" : "binary", "has other term weights");
  if (f.was_given("min-df") && !(given.min_df == saved.min_df)) refuse("min-df", "has another min-df");
  if (f.was_given("max-features") && given.max_features != saved.max_features)
    refuse("max-features", "has another max-features");
}

// Reading the whole process's peak resident memory (for the stream's report).
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

io::LinearModelFile read_init_model(const TrainFlags& f, const std::string& format) {
  if (!f.resume.empty() || !f.checkpoint.empty())
    throw UsageError("--init-model starts a new run from a saved model; --resume and --checkpoint belong to one run: "
                     "give one or the other", {"", 0, "init-model"});
  std::error_code ec;
  if (!std::filesystem::is_regular_file(f.init_model, ec))
    throw UsageError(f.init_model + ": cannot open the model file", {f.init_model, 0, "init-model"});
  if (!io::is_linear_model_file(f.init_model))
    throw UsageError(f.init_model + " is not a sparse model file (adakit train --save on LIBSVM or text data)",
                     {f.init_model, 0, "init-model"});
  io::LinearModelFile m = io::read_linear_model(f.init_model, /*sync_weights=*/false);
  if (m.predict_only)
    throw UsageError(f.init_model + " is a compact model of adakit export (pruned, quantized weights): it predicts "
                     "but cannot be trained on; give --init-model the model it was exported from",
                     {f.init_model, 0, "init-model"});
  check_meaning(f, format.empty() ? (m.vectorizer ? "text-tsv" : "libsvm") : format, m);
  return m;
}

OptimizerChoice warm_optimizer(const TrainFlags& f, const io::LinearModelFile& init) {
  if (!init.optimizer) {
    OptimizerChoice c = one_optimizer(f, OptimizerKind::linear);
    if (c.name == "ftrl" || c.name == "adagrad-rda")
      throw UsageError(f.init_model + " keeps no optimizer state, and " + c.name +
                       "'s weights are a function of it: save with --save-state to continue", {"", 0, "init-model"});
    return c;
  }
  const std::string saved(init.optimizer->name());
  if (f.was_given("optimizer") && f.opt.optimizer != saved)
    throw UsageError(f.init_model + " keeps the state of " + saved + "; continuing it with " + f.opt.optimizer +
                     " is another model: leave --optimizer out, or start afresh", {"", 0, "optimizer"});
  const optim::OptionMap options = init.optimizer->option_map();
  std::map<std::string, std::string> values(options.begin(), options.end());
  for (const auto& [k, v] : f.opt.values) values[k] = v;
  return std::move(train::resolve_optimizers(saved, values, OptimizerKind::linear).front());
}

std::unique_ptr<linear::LinearOptimizer> continued_optimizer(const OptimizerChoice& choice, io::LinearModelFile& init,
                                                             linear::LinearModel& model) {
  if (init.optimizer && init.optimizer->option_map() == choice.options) return std::move(init.optimizer);
  auto opt = linear::make_linear_optimizer(choice.name, choice.options);
  if (init.optimizer) opt->load_state(model, init.optimizer->state(model));  // new options, the saved state
  return opt;
}

WarmStart continue_on(const TrainFlags& f, linear::LinearModel& model, linear::LinearOptimizer& opt,
                      data::PreparedSparseData& d) {
  WarmStart w;
  w.features_before = model.dim();
  w.state_kept = opt.bound();
  if (d.vectorizer)
    w.vocabulary = d.vectorizer->options().hash_bits > 0                   ? "hashed"
                   : (!f.freeze_vocabulary && d.vectorizer->can_grow()) ? "grown"
                                                                          : "frozen";
  const std::int64_t dim = d.vectorizer ? d.vectorizer->num_features()
                                        : std::max({model.dim(), d.train.features.cols, d.test.features.cols});
  model.remap_features(dim, d.new_of_old);
  if (opt.bound()) opt.regrow(model, d.new_of_old);
  w.features_added = model.dim() - w.features_before;
  for (auto* s : {&d.train, &d.test}) {
    data::fit_columns(s->features, model.dim());
    if (model.task() != linear::LinearTask::squared && s->size() > 0)
      linear::number_classes(*s, model.class_names(), !d.vectorizer, s == &d.train ? f.data.data : f.test_data);
  }
  return w;
}

nlohmann::json warm_json(const WarmStart& w, const std::string& path) {
  nlohmann::json j = {{"path", path}, {"features_before", w.features_before}, {"features_added", w.features_added},
                      {"optimizer_state", w.state_kept}};
  if (!w.vocabulary.empty()) j["vocabulary"] = w.vocabulary;
  return j;
}

void print_warm_start(const std::string& path, const WarmStart& w, std::int64_t steps) {
  std::fprintf(stderr, "continuing %s: %lld features (+%lld new%s), %s\n", path.c_str(),
               static_cast<long long>(w.features_before + w.features_added), static_cast<long long>(w.features_added),
               w.vocabulary.empty() ? "" : (", vocabulary " + w.vocabulary).c_str(),
               w.state_kept ? ("optimizer state kept (" + std::to_string(steps) + " steps done)").c_str()
                            : "no optimizer state in the file (saved without --save-state): the optimizer starts afresh");
}

std::function<void(const run::ProgressReport&)> progress_sink(bool talk) {
  if (!talk) return {};
  const bool tty = ::isatty(::fileno(stderr)) != 0;
  return [tty](const run::ProgressReport& r) {
    std::fprintf(stderr, "%sprogressive %s\n", tty ? "\r\033[K" : "", run::to_text(r).c_str());
  };
}

nlohmann::json progressive_json(const run::ProgressiveValidation& p) {
  nlohmann::json reports = nlohmann::json::array();
  for (const auto& r : p.reports()) reports.push_back(run::to_json(r));
  const run::ProgressReport now = p.current();
  nlohmann::json j = {{"examples", now.examples}, {"reports", reports}};
  j["loss"] = run::to_json(now)["loss"];
  if (now.since_start.accuracy == now.since_start.accuracy) j["accuracy"] = now.since_start.accuracy;
  if (now.since_start.mse == now.since_start.mse) j["mse"] = now.since_start.mse;
  return j;
}

namespace {

// UsageError on the flags a one-pass stream has no use for.
void check_stream_flags(const TrainFlags& f) {
  for (const char* flag : {"test-split", "epochs", "resume", "checkpoint", "checkpoint-every", "seed"})
    if (f.was_given(flag) && !(std::string(flag) == "epochs" && f.fit.epochs == 1))
      throw UsageError(std::string("--data - reads the stream once, in order: --") + flag + " does not apply",
                       {"", 0, flag});
  if (train::mpirun_world_size() > 0) throw UsageError("--data - runs in one process, not under mpirun", {"", 0, "data"});
}

// A stream's format: the saved model's (`init`), else --format's (libsvm or text-tsv).
std::string stream_format(const TrainFlags& f, const io::LinearModelFile* init) {
  if (init != nullptr && !f.was_given("format")) return init->vectorizer ? "text-tsv" : "libsvm";
  if (f.data.format != "libsvm" && f.data.format != "text-tsv")
    throw UsageError("--data - (stdin) needs --format libsvm or --format text-tsv", {"", 0, "format"});
  return f.data.format;
}

// A fresh model for a stream: its classes from --classes (sorted as a file's would be), dim 1 to grow.
linear::LinearModel fresh_stream_model(const TrainFlags& f, const std::string& format) {
  if (f.model == "linreg") {
    if (format == "text-tsv") throw UsageError("text models classify: --model linreg needs LIBSVM data", {"", 0, "model"});
    return linear::LinearModel(linear::LinearTask::squared, 1);
  }
  std::vector<std::string> names;
  for (std::size_t at = 0; at <= f.classes.size();) {
    const auto comma = std::min(f.classes.find(',', at), f.classes.size());
    if (comma > at) names.push_back(f.classes.substr(at, comma - at));
    at = comma + 1;
  }
  if (names.size() < 2)
    throw UsageError("a stream without --init-model needs its classes: --classes A,B[,...] (or --model linreg)",
                     {"", 0, "classes"});
  if (format == "libsvm") {
    for (const auto& n : names)
      if (!std::isfinite(optim::parse_double("classes", n)))
        throw UsageError("LIBSVM labels are numbers: '" + n + "'", {"", 0, "classes"});
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      return optim::parse_double("classes", a) < optim::parse_double("classes", b);
    });
  } else {
    std::sort(names.begin(), names.end());
  }
  if (std::adjacent_find(names.begin(), names.end()) != names.end())
    throw UsageError("--classes names a class twice", {"", 0, "classes"});
  const auto k = static_cast<std::int64_t>(names.size());
  if (f.model == "logreg" && k != 2) throw UsageError("--model logreg takes 2 classes", {"", 0, "model"});
  const linear::LinearTask task = f.model == "ova" || f.model == "squared_hinge" ? linear::linear_task_from_string(f.model)
                                  : k == 2 && f.model != "softmax"              ? linear::LinearTask::logistic
                                                                                : linear::LinearTask::softmax;
  linear::LinearModel m(task, 1, k);
  m.set_class_names(std::move(names));
  return m;
}

// A stream's vectorizer when none is saved: --ngram, --hash-bits, --binary; tf-idf and pruning need the
// whole corpus before the first step.
data::TextVectorizer fresh_stream_vectorizer(const TrainFlags& f) {
  const data::TextVectorizerOptions o = vectorizer_options(f.text);
  if (o.weighting == data::TextWeighting::tfidf || o.min_df != data::DfThreshold::count(1) || o.max_features != 0)
    throw UsageError("--tfidf, --min-df and --max-features need every document before the first step: fit them on a "
                     "file (adakit train --save-state), then stream with --init-model", {"", 0, "tfidf"});
  return data::TextVectorizer(o);
}

// On a terminal, a stream's running state redrawn in place (at most 10 times a second) between the
// report lines; nothing when piped.
class StreamStatus final : public run::Callback {
 public:
  explicit StreamStatus(const run::ProgressiveValidation& pv) : pv_(pv) {}
  void on_batch_end(const run::BatchReport&) override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const run::ProgressReport r = pv_.current();
    std::fprintf(stderr, "\r\033[Kexamples %lld  loss %.4f (%.0f/s)", static_cast<long long>(r.examples),
                 r.since_start.loss, r.seconds > 0 ? static_cast<double>(r.examples) / r.seconds : 0.0);
    std::fflush(stderr);
  }
  void on_train_end() override {}

 private:
  const run::ProgressiveValidation& pv_;
  std::chrono::steady_clock::time_point last_{};
};

// What a stream's run reports.
nlohmann::json stream_json(const TrainFlags& f, const std::string& format, const linear::LinearOptimizer& opt,
                           const linear::LinearModel& model, const linear::OnlineLearner& learner,
                           const run::ProgressiveValidation& pv, double seconds, const std::optional<linear::Metrics>& test) {
  nlohmann::json j = {{"data", "-"}, {"format", format}, {"model", std::string(linear::to_string(model.task()))},
                      {"optimizer", std::string(opt.name())}, {"options", opt.option_map()},
                      {"examples", learner.examples_seen()}, {"steps", opt.steps()}, {"seconds", seconds},
                      {"features", model.dim()}, {"features_added", learner.features_added()},
                      {"nonzero_weights", model.count_nonzero_weights()}, {"progressive", progressive_json(pv)},
                      {"peak_rss_mb", peak_rss_mb()}, {"threads", num_threads()}};
  if (test) add_scores(j, model.task() == linear::LinearTask::squared, {}, {test->loss, test->accuracy, test->mse});
  if (test) j.erase("train_loss"), j.erase("train_accuracy"), j.erase("train_mse");
  if (!f.save.empty()) j["saved"] = f.save;
  if (!f.init_model.empty()) j["init_model"] = f.init_model;
  return j;
}

// The --test-data file as the streamed model reads it.
linear::Metrics evaluate_file(const TrainFlags& f, const linear::LinearModel& model, const data::TextVectorizer* v) {
  data::SparseDataset d;
  if (v != nullptr) {
    d = data::vectorize(data::load_text(f.test_data, f.data.data_dir), *v);
  } else {
    data::LibsvmOptions o;
    o.task = model.task() == linear::LinearTask::squared ? data::LibsvmOptions::Task::regression
                                                         : data::LibsvmOptions::Task::classification;
    d = data::read_libsvm(f.test_data, o);
  }
  data::fit_columns(d.features, model.dim());
  if (model.task() != linear::LinearTask::squared) linear::number_classes(d, model.class_names(), v == nullptr, f.test_data);
  return linear::evaluate(model, d);
}

}  // namespace

int run_train_stream(const TrainFlags& f, const std::string&) {
  check_stream_flags(f);
  std::optional<io::LinearModelFile> init;  // read once; its kind is the stream's format unless --format says
  if (!f.init_model.empty()) init = read_init_model(f, f.was_given("format") ? f.data.format : "");
  const std::string format = stream_format(f, init ? &*init : nullptr);
  check_sparse_flags(f, format);
  const OptimizerChoice choice = init ? warm_optimizer(f, *init) : one_optimizer(f, OptimizerKind::linear);
  linear::LinearModel model = init ? std::move(init->model) : fresh_stream_model(f, format);
  auto opt = init ? continued_optimizer(choice, *init, model) : linear::make_linear_optimizer(choice.name, choice.options);
  const bool state_kept = opt->bound();
  opt->bind(model);  // an empty stream still saves a model with its (fresh) state
  std::optional<data::TextVectorizer> vectorizer;
  if (init) vectorizer = std::move(init->vectorizer);
  else if (format == "text-tsv") vectorizer = fresh_stream_vectorizer(f);
  const bool talk = !f.quiet && !f.json;
  if (talk && init) print_warm_start(f.init_model, {model.dim(), 0, state_kept, ""}, opt->steps());
  linear::OnlineLearner learner(model, *opt, vectorizer ? &*vectorizer : nullptr,
                                {.batch_size = f.fit.batch_size, .grow = !f.freeze_vocabulary});
  const std::int64_t every = f.progress_every > 0 ? f.progress_every : 100000;
  run::ProgressiveValidation pv(every, model.task() != linear::LinearTask::squared, progress_sink(talk));
  data::LineChunks chunks(stdin, {.batch_size = f.fit.batch_size, .every = every, .comment = format == "libsvm" ? '#' : '\0'});
  std::string chunk;
  std::int64_t first_line = 0;
  const auto t0 = std::chrono::steady_clock::now();
  StreamStatus status(pv);
  std::vector<run::Callback*> callbacks{&pv};
  if (talk && ::isatty(::fileno(stderr)) != 0) callbacks.push_back(&status);
  while (chunks.next(chunk, first_line)) learner.learn(chunk, "stdin", first_line, callbacks);
  pv.finish();
  if (callbacks.size() > 1) std::fprintf(stderr, "\r\033[K");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto* v = vectorizer ? &*vectorizer : nullptr;
  const auto* names = init && init->bucket_terms ? &*init->bucket_terms : nullptr;  // a hashed model's, carried on
  if (!f.save.empty() && f.save_state) io::save_linear_model(f.save, model, v, opt.get(), names);
  opt->sync(model);
  if (!f.save.empty() && !f.save_state) io::save_linear_model(f.save, model, v, nullptr, names);
  std::optional<linear::Metrics> test;
  if (!f.test_data.empty()) test = evaluate_file(f, model, v);
  const nlohmann::json j = stream_json(f, format, *opt, model, learner, pv, seconds, test);
  if (f.json) std::cout << j.dump() << "\n";
  else if (!f.quiet)
    std::printf("examples %lld in %.2fs, progressive loss %s, %lld features%s%s\n",
                static_cast<long long>(learner.examples_seen()), seconds, format_number(pv.current().since_start.loss).c_str(),
                static_cast<long long>(model.dim()), test ? (", test loss " + format_number(test->loss)).c_str() : "",
                f.save.empty() ? "" : (", saved " + f.save).c_str());
  return 0;
}

}  // namespace adakit::cli
