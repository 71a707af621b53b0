#include "adakit/linear/autotune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <tuple>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"

namespace adakit::linear {
namespace {

bool has_option(std::string_view optimizer, std::string_view key) {
  for (const auto& o : find_linear_optimizer(optimizer).options())
    if (o.key == key) return true;
  return false;
}

// The registry key each searched field goes under for `optimizer` (empty: it has none).
std::string lr_key(std::string_view optimizer) {
  return has_option(optimizer, "lr") ? "lr" : has_option(optimizer, "alpha") ? "alpha" : "";
}
std::string accumulator_key(std::string_view optimizer) {
  return has_option(optimizer, "initial_accumulator_value") ? "initial_accumulator_value"
         : has_option(optimizer, "beta")                      ? "beta"
                                                              : "";
}

double clamp_log(double v, double lo, double hi) { return std::clamp(v, lo, hi); }

// A log-uniform draw over [lo, hi].
double log_uniform(Rng& rng, double lo, double hi) { return std::exp(rng.uniform(std::log(lo), std::log(hi))); }

// A value that is 0 or in [lo, hi]: switched on (a log-uniform draw), off, or moved by 10^(N(0, sigma)).
double step_zero_or_log(Rng& rng, double v, double lo, double hi, double sigma, double p_on, double p_off) {
  if (v <= 0.0) return rng.bernoulli(p_on) ? log_uniform(rng, lo, hi) : 0.0;
  if (rng.bernoulli(p_off)) return 0.0;
  return clamp_log(v * std::pow(10.0, rng.normal(0.0, sigma)), lo, hi);
}

std::int64_t round_clamp(double v, std::int64_t lo, std::int64_t hi) {
  return std::clamp(static_cast<std::int64_t>(std::llround(v)), lo, hi);
}

}  // namespace

std::int64_t parse_byte_size(std::string_view text, const std::string& field) {
  const auto bad = [&] {
    return UsageError("'" + std::string(text) + "' is not a size in bytes (a number with an optional K, M or G: 2M)",
                      {"", 0, field});
  };
  if (text.empty()) throw bad();
  double scale = 1.0;
  std::string_view number = text;
  switch (text.back()) {
    case 'k': case 'K': scale = 1e3; break;
    case 'm': case 'M': scale = 1e6; break;
    case 'g': case 'G': scale = 1e9; break;
    default: break;
  }
  if (scale != 1.0) number.remove_suffix(1);
  if (number.empty() || !std::all_of(number.begin(), number.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) ||
      std::count(number.begin(), number.end(), '.') > 1 || number == ".")
    throw bad();
  const double v = std::stod(std::string(number)) * scale;
  if (!std::isfinite(v) || v < 1.0 || v > 9e18) throw bad();
  return static_cast<std::int64_t>(v);
}

optim::OptionMap TuneConfig::options() const {
  optim::OptionMap m = extra;
  if (const auto k = lr_key(optimizer); !k.empty()) m[k] = optim::format_double(lr);
  if (const auto k = accumulator_key(optimizer); !k.empty()) m[k] = optim::format_double(initial_accumulator);
  if (has_option(optimizer, "l1")) m["l1"] = optim::format_double(l1);
  if (has_option(optimizer, "l2")) m["l2"] = optim::format_double(l2);
  return m;
}

nlohmann::json TuneConfig::to_json(bool text) const {
  nlohmann::json j = {{"optimizer", optimizer}, {"epochs", epochs}};
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : options()) o[k] = v;
  j["options"] = o;
  if (!task.empty()) j["model"] = task;
  if (text) {
    j["ngram"] = std::to_string(ngram_min) + (ngram_max != ngram_min ? "," + std::to_string(ngram_max) : "");
    j["hash_bits"] = hash_bits;
    j["weighting"] = data::to_string(weighting);
  }
  return j;
}

TuneSpace TuneSpace::for_optimizer(std::string_view optimizer, bool text, bool optimizer_given,
                                   std::span<const std::string> fixed) {
  const auto is_fixed = [&](std::string_view k) { return std::find(fixed.begin(), fixed.end(), k) != fixed.end(); };
  TuneSpace s;
  s.adagrad_l1_for_regularization = !optimizer_given && optimizer == "adagrad";
  const std::string_view reg = s.adagrad_l1_for_regularization ? std::string_view("adagrad-l1") : optimizer;
  s.lr = !lr_key(optimizer).empty() && !is_fixed("lr") && !is_fixed("alpha");
  s.initial_accumulator = !accumulator_key(optimizer).empty() && !is_fixed("initial_accumulator_value") && !is_fixed("beta");
  s.l1 = has_option(reg, "l1") && !is_fixed("l1");
  s.l2 = has_option(reg, "l2") && !is_fixed("l2");
  s.epochs = !is_fixed("epochs");
  s.ngram = text && !is_fixed("ngram");
  s.hash_bits = text && !is_fixed("hash-bits") && !is_fixed("min-df") && !is_fixed("max-features");
  s.weighting = text && !is_fixed("tfidf") && !is_fixed("binary");
  s.task = !is_fixed("model");
  return s;
}

TuneConfig TuneSampler::propose(std::int64_t trial, const TuneConfig& best) const {
  if (trial <= 0) return best;
  const TuneSpace& s = space_;
  // One stream per trial: the proposal depends on (seed, trial, best), not on what ran before.
  Rng rng(seed_ ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(trial)) ^ 0xa070u);
  const double t = std::min(1.0, static_cast<double>(trial - 1) / static_cast<double>(std::max<std::int64_t>(1, s.narrowing_trials)));
  const auto sigma = [t](double wide, double narrow) { return wide - (wide - narrow) * t; };
  const bool explore = rng.bernoulli(0.2 - 0.15 * t);  // now and then a fresh draw over the whole range
  TuneConfig c = best;
  if (s.lr) {
    c.lr = explore ? log_uniform(rng, s.lr_min, s.lr_max)
                   : clamp_log(best.lr * std::pow(2.0, rng.normal(0.0, sigma(2.0, 0.5))), s.lr_min, s.lr_max);
  }
  if (s.initial_accumulator) {
    c.initial_accumulator = explore ? (rng.bernoulli(0.2) ? 0.0 : log_uniform(rng, s.acc_min, s.acc_max))
                                    : step_zero_or_log(rng, best.initial_accumulator, s.acc_min, s.acc_max,
                                                       sigma(1.0, 0.25), 0.5, sigma(0.2, 0.05));
  }
  for (auto [on, field] : {std::pair{s.l1, &TuneConfig::l1}, std::pair{s.l2, &TuneConfig::l2}}) {
    if (!on) continue;
    c.*field = explore ? (rng.bernoulli(0.5) ? 0.0 : log_uniform(rng, s.reg_min, s.reg_max))
                       : step_zero_or_log(rng, best.*field, s.reg_min, s.reg_max, sigma(1.5, 0.3), sigma(0.3, 0.1),
                                          sigma(0.3, 0.1));
  }
  if (s.epochs) {
    c.epochs = explore ? round_clamp(log_uniform(rng, 1.0, static_cast<double>(s.max_epochs)), 1, s.max_epochs)
                       : round_clamp(static_cast<double>(best.epochs) * std::pow(2.0, rng.normal(0.0, sigma(1.2, 0.4))), 1,
                                     s.max_epochs);
  }
  if (s.ngram) {
    const std::int32_t hi = std::max(s.max_ngram, best.ngram_min);
    c.ngram_max = static_cast<std::int32_t>(
        explore ? best.ngram_min + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hi - best.ngram_min + 1)))
                : round_clamp(best.ngram_max + rng.normal(0.0, sigma(1.2, 0.5)), best.ngram_min, hi));
  }
  if (s.hash_bits && !s.hash_bits_choices.empty()) {
    const auto& ch = s.hash_bits_choices;
    const auto it = std::find(ch.begin(), ch.end(), best.hash_bits);
    const std::int64_t at = it == ch.end() ? 0 : it - ch.begin(), n = static_cast<std::int64_t>(ch.size());
    const std::int64_t i = explore ? static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n)))
                                   : round_clamp(static_cast<double>(at) + rng.normal(0.0, sigma(2.0, 0.7)), 0, n - 1);
    c.hash_bits = ch[static_cast<std::size_t>(i)];
  }
  // The loss and the term weights: now and then another of the choices (every one alike when exploring).
  const auto switch_among = [&](const auto& choices, auto& value) {
    if (choices.size() < 2) return;
    if (!explore && !rng.bernoulli(sigma(0.3, 0.1))) return;
    auto others = choices;
    if (!explore) others.erase(std::remove(others.begin(), others.end(), value), others.end());
    if (!others.empty()) value = others[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(others.size())))];
  };
  if (s.task) switch_among(s.tasks, c.task);
  if (s.weighting) switch_among(s.weightings, c.weighting);
  if (s.adagrad_l1_for_regularization) c.optimizer = c.l1 > 0.0 || c.l2 > 0.0 ? "adagrad-l1" : "adagrad";
  return c;
}

std::int64_t estimated_file_bytes(const LinearModel& model, const data::TextVectorizer* vectorizer) {
  const std::int64_t out = model.outputs();
  std::int64_t bytes = model.count_nonzero_features() * (8 + 4 * out) + 4 * out;
  std::int64_t names = 0;
  for (const auto& n : model.class_names()) names += static_cast<std::int64_t>(n.size()) + 4;
  bytes += 2048 + names;  // the safetensors header and its metadata (config, vectoriser options, classes)
  if (vectorizer != nullptr) {
    bytes += static_cast<std::int64_t>(vectorizer->terms().size()) + 8 * static_cast<std::int64_t>(vectorizer->term_offsets().size()) +
             8 * static_cast<std::int64_t>(vectorizer->idf().size()) + 4 * static_cast<std::int64_t>(vectorizer->idf_columns().size());
  }
  return bytes;
}

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A trial's features: the vectoriser (text) and both splits through it.
struct Features {
  std::optional<data::TextVectorizer> vectorizer;
  data::SparseDataset train, validation;
};

// The largest file a model over `features` columns could be: every row nonzero, plus the vocabulary.
std::int64_t worst_bytes(std::int64_t features, std::int64_t outputs, const data::TextVectorizer* v, std::int64_t names) {
  std::int64_t b = features * (8 + 4 * outputs) + 4 * outputs + 2048 + names;
  if (v != nullptr)
    b += static_cast<std::int64_t>(v->terms().size()) + 8 * static_cast<std::int64_t>(v->term_offsets().size()) +
         8 * static_cast<std::int64_t>(v->idf().size()) + 4 * static_cast<std::int64_t>(v->idf_columns().size());
  return b;
}

// Stops a trial (not the first) when the budget is spent.
struct Deadline : run::Callback {
  std::function<double()> now;
  double end = 0.0;
  bool active = true, hit = false;
  bool wants_batches() const override { return false; }
  bool on_epoch_end(const run::EpochReport&) override {
    if (active && now() >= end) hit = true;
    return hit;
  }
};

}  // namespace

TuneResult autotune(const TuneData& data, const TuneConfig& first, const TuneSpace& space, const TuneOptions& options,
                    const std::function<void(const TuneTrial&)>& on_trial) {
  const bool text = data.is_text();
  if (text ? data.validation_text == nullptr : (data.train == nullptr || data.validation == nullptr))
    throw UsageError("autotune needs training data and a validation set", {"", 0, "autotune-validation"});
  if (!(options.seconds > 0.0)) throw UsageError("the time budget must be > 0 seconds", {"", 0, "autotune-duration"});
  const auto& class_names = text ? data.train_text->class_names : data.train->class_names;
  const bool regression = !text && !data.train->is_classification();
  if (!text && data.train->is_classification() != data.validation->is_classification())
    throw UsageError("the validation file has " +
                         std::string(data.validation->is_classification() ? "class labels" : "numeric targets") +
                         ", the training data do not",
                     {"", 0, "autotune-validation"});
  std::int64_t names = 0;
  for (const auto& n : class_names) names += static_cast<std::int64_t>(n.size()) + 4;
  const std::int64_t outputs = regression || class_names.size() <= 2 ? 1 : static_cast<std::int64_t>(class_names.size());

  const std::function<double()> now = options.clock ? options.clock : std::function<double()>(steady_seconds);
  const auto seconds_since = [&](double from) { return now() - from; };
  const double t0 = now();
  Deadline deadline;
  deadline.now = now;
  deadline.end = t0 + options.seconds;
  TuneSampler sampler(space, options.seed);
  TuneResult result;
  result.regression = regression;
  TuneConfig best_config = first;
  bool have_best = false;
  std::vector<double> unit_seconds;  // each trial's training seconds per (epoch × nonzero × output)
  std::int64_t skipped_in_a_row = 0;
  // Text features by (ngram_max, hash_bits, max_features, weighting): a configuration met again is not
  // vectorised again.
  std::map<std::tuple<std::int32_t, std::int32_t, std::int64_t, data::TextWeighting>, std::shared_ptr<const Features>> cache;
  const auto features_for = [&](const data::TextVectorizerOptions& o) {
    auto& slot = cache[{o.ngram_max, o.hash_bits, o.max_features, o.weighting}];
    if (!slot) {
      auto f = std::make_shared<Features>();
      f->vectorizer.emplace(o);
      f->vectorizer->fit(data.train_text->texts);
      f->train = data::vectorize(*data.train_text, *f->vectorizer);
      f->validation = data::vectorize(*data.validation_text, *f->vectorizer);
      slot = std::move(f);
    }
    return slot;
  };
  std::shared_ptr<const Features> libsvm;
  if (!text) {
    auto f = std::make_shared<Features>();
    f->train = *data.train;
    f->validation = *data.validation;
    const std::int64_t dim = std::max(f->train.features.cols, f->validation.features.cols);
    f->train.features.cols = dim;
    f->validation.features.cols = dim;
    libsvm = std::move(f);
  }

  for (std::int64_t k = 0; options.max_trials <= 0 || k < options.max_trials; ++k) {
    if (k > 0 && now() >= deadline.end) break;
    const double start = now();
    TuneTrial trial;
    trial.index = k;
    trial.config = sampler.propose(k, best_config);
    TuneConfig& c = trial.config;
    std::shared_ptr<const Features> feats = libsvm;
    if (text) {
      data::TextVectorizerOptions o = data.text;
      o.ngram_min = c.ngram_min;
      o.ngram_max = c.ngram_max;
      o.hash_bits = c.hash_bits;
      o.weighting = c.weighting;
      if (c.hash_bits > 0) o.min_df = data::DfThreshold::count(1), o.max_df = data::DfThreshold::fraction(1.0), o.max_features = 0;
      const auto fits = [&](std::int64_t cols, const data::TextVectorizer* v) {
        return cols * outputs <= options.max_table_entries &&
               (options.max_model_bytes <= 0 || worst_bytes(cols, outputs, v, names) <= options.max_model_bytes);
      };
      if (o.hash_bits > 0) {  // lower the bits until the table fits
        const std::int32_t asked = o.hash_bits;
        while (o.hash_bits > 1 && !fits(std::int64_t{1} << o.hash_bits, nullptr)) --o.hash_bits;
        if (o.hash_bits != asked) trial.constrained = "hash-bits " + std::to_string(asked) + " -> " + std::to_string(o.hash_bits);
        c.hash_bits = o.hash_bits;
        if (!fits(std::int64_t{1} << o.hash_bits, nullptr)) trial.status = "rejected";
        else feats = features_for(o);
      } else {
        feats = features_for(o);
        // Cut the vocabulary to its most frequent terms until the largest model fits.
        for (int tries = 0; tries < 30 && !fits(feats->vectorizer->num_features(), &*feats->vectorizer); ++tries) {
          const std::int64_t n = feats->vectorizer->num_features();
          const double over = options.max_model_bytes > 0
                                  ? static_cast<double>(worst_bytes(n, outputs, &*feats->vectorizer, names)) /
                                        static_cast<double>(options.max_model_bytes)
                                  : 1.0;
          const double table = static_cast<double>(n * outputs) / static_cast<double>(options.max_table_entries);
          o.max_features = static_cast<std::int64_t>(static_cast<double>(n) / std::max({over, table, 1.0}) * 0.97);
          if (o.max_features < 1) break;
          feats = features_for(o);
        }
        if (o.max_features > 0 && o.max_features != data.text.max_features)
          trial.constrained = "max-features " + std::to_string(o.max_features);
        if (o.max_features < 0 || !fits(feats->vectorizer->num_features(), &*feats->vectorizer)) trial.status = "rejected";
      }
    }
    // A trial the time left cannot hold is skipped: its predicted time (the median seconds per epoch,
    // nonzero and output of the trials done, times its own) runs past the budget. A stopped or skipped
    // trial never becomes the best, so the proposals stay the same either way.
    if (trial.status == "ok" && k > 0 && !unit_seconds.empty()) {
      std::vector<double> sorted = unit_seconds;
      std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
      const double seconds_per_unit = sorted[sorted.size() / 2];
      const double units = static_cast<double>(c.epochs) * static_cast<double>(std::max<std::int64_t>(1, feats->train.features.nnz())) *
                           static_cast<double>(outputs);
      if (now() + units * seconds_per_unit > deadline.end)
        trial.status = "skipped";
    }
    std::optional<LinearModel> model;
    std::unique_ptr<LinearOptimizer> opt;
    if (trial.status == "ok") {
      model.emplace(LinearModel::for_dataset(feats->train, std::max<std::int64_t>(1, feats->train.features.cols),
                                             c.task.empty() ? options.task : c.task));
      if (feats->vectorizer) {  // a vocabulary's columns train in their terms' shards, as adakit train's
        auto shards = feats->vectorizer->feature_shards();
        if (static_cast<std::int64_t>(shards.size()) == model->dim()) model->set_feature_shards(std::move(shards));
      }
      opt = make_linear_optimizer(c.optimizer, c.options());
      deadline.active = k > 0;
      deadline.hit = false;
      const FitOptions fo{.epochs = c.epochs, .batch_size = options.batch_size, .seed = options.seed,
                          .shuffle = options.shuffle, .sync = true, .class_weights = options.class_weights,
                          .threads = options.threads};
      std::vector<run::Callback*> callbacks{&deadline};
      const double fit_start = now();
      fit(*model, *opt, feats->train, fo, callbacks);
      const double units = static_cast<double>(c.epochs) * static_cast<double>(std::max<std::int64_t>(1, feats->train.features.nnz())) *
                           static_cast<double>(outputs);
      if (!deadline.hit && c.epochs > 0) unit_seconds.push_back(seconds_since(fit_start) / units);
      if (deadline.hit) {
        trial.status = "stopped";
      } else {
        const Metrics m = evaluate(*model, feats->validation);
        trial.metric = regression ? m.mse : m.accuracy;
        trial.features = model->dim();
        trial.nonzero_weights = model->count_nonzero_weights();
        trial.model_bytes = estimated_file_bytes(*model, feats->vectorizer ? &*feats->vectorizer : nullptr);
        if (options.max_model_bytes > 0 && trial.model_bytes > options.max_model_bytes) trial.status = "rejected";
      }
    }
    trial.seconds = seconds_since(start);
    if (trial.status == "skipped") {  // counted, not listed; the search ends when nothing fits any more
      ++result.skipped;
      if (++skipped_in_a_row >= 50) break;
      continue;
    }
    skipped_in_a_row = 0;
    const bool better = trial.status == "ok" && std::isfinite(trial.metric) &&
                        (!have_best || (regression ? trial.metric < result.trials[static_cast<std::size_t>(result.best)].metric
                                                   : trial.metric > result.trials[static_cast<std::size_t>(result.best)].metric));
    if (better) {
      have_best = true;
      result.best = static_cast<std::int64_t>(result.trials.size());  // its place in `trials` (skipped ones are not listed)
      best_config = c;
      result.model = std::move(model);
      result.optimizer = std::move(opt);
      result.vectorizer = feats->vectorizer;
    }
    result.trials.push_back(trial);
    if (on_trial) on_trial(trial);
  }
  if (!have_best)
    throw Error("autotune: no trial gave a model within the limits (the first: " + result.trials.front().status +
                    (result.trials.front().constrained.empty() ? "" : ", " + result.trials.front().constrained) + ")",
                {"", 0, "autotune-model-size"});
  result.seconds = seconds_since(t0);
  return result;
}

nlohmann::json TuneTrial::to_json(bool text, bool regression) const {
  nlohmann::json j = {{"trial", index}, {"status", status}, {"config", config.to_json(text)}, {"seconds", seconds}};
  if (features > 0) {  // trained and scored
    j[regression ? "validation_mse" : "validation_accuracy"] = metric;
    j["features"] = features;
    j["nonzero_weights"] = nonzero_weights;
    j["model_bytes"] = model_bytes;
  }
  if (!constrained.empty()) j["constrained"] = constrained;
  return j;
}

}  // namespace adakit::linear
