// Autotune for sparse linear models (adakit train --autotune-validation FILE): a seeded random search
// for the optimizer's hyper-parameters, the epochs, the loss (softmax or logistic against the squared
// hinge) and (text) the n-gram length, the hash size and the term weights (counts or tf-idf), each trial
// trained on the training data and scored on a validation set, within a time budget and a model-size
// limit. The shape of the search follows fastText's autotune (facebookresearch/fastText,
// src/autotune.cc): the first trial is the configuration given, every later one a random step around
// the best so far, the steps narrowing as the search goes on; the code is our own.
//
//   linear::TuneSampler sampler(space, seed);              // deterministic: trial k's proposal depends
//   auto c = sampler.propose(k, best);                     // on (seed, k, best) only
//   auto r = linear::autotune(data, defaults, space, {.seconds = 60, .max_model_bytes = 2'000'000});
//   r.model, r.vectorizer                                  // the best trial's model, kept as trained
//
// Determinism: the steps narrow with the trial's number, not with the time spent, so for a given seed
// the search proposes the same sequence of configurations on every machine; the budget only decides
// how many of them run (a trial still running when the budget ends is stopped and discarded, except the
// first, which always completes: there is always a model; a trial predicted to run past the budget is
// skipped). Stopped and skipped trials never become the best, so they do not change the proposals.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::linear {

// A byte count with an optional suffix K, M or G (powers of 1000, as fastText's -autotune-modelsize;
// case-insensitive; "2M", "1.5M", "500K", "123456"). UsageError naming `field` on anything else or a
// size < 1 byte.
std::int64_t parse_byte_size(std::string_view text, const std::string& field = "autotune-model-size");

// One point of the search space.
struct TuneConfig {
  std::string optimizer = "adagrad";  // a linear registry name
  double lr = 0.01;                   // ftrl: alpha
  double l1 = 0.0, l2 = 0.0;
  double initial_accumulator = 0.0;   // adagrad, adagrad-l1: initial_accumulator_value; ftrl: beta
  std::int32_t ngram_min = 1, ngram_max = 1;  // text
  std::int32_t hash_bits = 0;                 // text: 0 = a vocabulary
  std::int64_t epochs = 5;
  // The model (LinearModel::for_dataset's task name: "logreg", "softmax", "squared_hinge", ...); empty:
  // TuneOptions::task.
  std::string task;
  data::TextWeighting weighting = data::TextWeighting::count;  // text
  optim::OptionMap extra;  // the optimizer's other options as given (eps, convention, ...), kept as they are

  // The optimizer's options: the searched values under its own keys (only those it has), plus `extra`.
  optim::OptionMap options() const;
  nlohmann::json to_json(bool text) const;
};

// What the search may change; a field set false keeps the first configuration's value.
struct TuneSpace {
  bool lr = true, l1 = true, l2 = true, initial_accumulator = true, epochs = true;
  bool ngram = false, hash_bits = false;  // text data only
  bool weighting = false;                 // text data only: counts or tf-idf (weightings)
  // The model: searched over `tasks` when there are two or more (the caller knows which fit the data:
  // for single-label classes, the automatic choice and "squared_hinge").
  bool task = false;
  std::vector<std::string> tasks;
  std::vector<data::TextWeighting> weightings = {data::TextWeighting::count, data::TextWeighting::tfidf};
  // The optimizer "adagrad", not chosen by the user: a trial with l1 or l2 > 0 runs "adagrad-l1"
  // (AdaGrad with L1/L2 by composite mirror descent), one with neither runs "adagrad".
  bool adagrad_l1_for_regularization = false;
  double lr_min = 1e-3, lr_max = 10.0;
  double reg_min = 1e-8, reg_max = 1e-2;   // l1, l2 when not 0
  // The initial accumulator when not 0. Up to 100: on the Debian descriptions a squared hinge did best
  // at s0 = 30 (bench/compare_text.py), a plain SGD step for a rare feature's first few updates.
  double acc_min = 1e-2, acc_max = 100.0;
  std::int64_t max_epochs = 50;
  std::int32_t max_ngram = 3;
  std::vector<std::int32_t> hash_bits_choices = {0, 18, 19, 20, 21, 22, 23, 24};
  // The steps shrink linearly from wide to narrow over this many trials, then stay narrow.
  std::int64_t narrowing_trials = 30;

  // The space for `optimizer` (its registry options decide which of lr, l1, l2 and the accumulator
  // exist), text or not, with the fields in `fixed` not searched: "lr" (ftrl: "alpha" too), "l1", "l2",
  // "initial_accumulator_value" (ftrl: "beta"), "epochs", "ngram", "hash-bits", "min-df",
  // "max-features" (these two fix the vocabulary: no hashing is searched), "tfidf" / "binary" (the term
  // weights), "model" (the loss: `task` is set unless it is fixed, and searched once `tasks` is filled).
  // `optimizer_given`: false allows adagrad → adagrad-l1 for regularised trials.
  static TuneSpace for_optimizer(std::string_view optimizer, bool text, bool optimizer_given,
                                 std::span<const std::string> fixed);
};

class TuneSampler {
 public:
  TuneSampler(TuneSpace space, std::uint64_t seed) : space_(std::move(space)), seed_(seed) {}
  // Trial 0 is `best` itself (the configuration given: the baseline). Trial k > 0 is a random step
  // from `best` in every searched field (lr, the accumulator and the epochs multiplicatively, l1 / l2
  // on or off or multiplicatively, n-grams and the hash size by a few places, the loss and the term
  // weights switched now and then), or, with a small
  // probability, a fresh uniform draw over the whole range; the step sizes narrow with k. A function of
  // (seed, k, best) only.
  TuneConfig propose(std::int64_t trial, const TuneConfig& best) const;
  const TuneSpace& space() const { return space_; }

 private:
  TuneSpace space_;
  std::uint64_t seed_;
};

// What the search trains on: text (raw texts, vectorised per trial with `text`, its ngram range and
// hash_bits replaced by the trial's) or LIBSVM features (used as they are). Labels: class ids of the
// same class names in both splits (the validation set's renumbered as the training set's).
struct TuneData {
  const data::TextDataset* train_text = nullptr;
  const data::TextDataset* validation_text = nullptr;
  data::TextVectorizerOptions text;
  const data::SparseDataset* train = nullptr;
  const data::SparseDataset* validation = nullptr;
  bool is_text() const { return train_text != nullptr; }
};

struct TuneOptions {
  double seconds = 300.0;          // the time budget (fastText's default)
  std::int64_t max_trials = 0;     // 0: as many as the budget allows
  std::int64_t max_model_bytes = 0;  // 0: no limit (estimated_file_bytes of the model)
  // Hashed trials: at most this many weights (2^bits × outputs), so that a trial cannot take gigabytes.
  std::int64_t max_table_entries = std::int64_t{1} << 25;
  std::uint64_t seed = 0;          // the sampler's and every trial's training seed
  std::string task = "auto";       // LinearModel::for_dataset's task
  std::int64_t batch_size = 1;
  bool shuffle = true;
  std::vector<float> class_weights{};  // FitOptions::class_weights, the same for every trial
  std::int64_t threads = 0;            // FitOptions::threads, the same for every trial
  // Seconds on a monotonic clock, read for the budget, the trials' times and the skip prediction; empty:
  // std::chrono::steady_clock. Tests pass a clock that ticks by call, which makes the budget's effects
  // (which trials are stopped or skipped) exact.
  std::function<double()> clock{};
};

struct TuneTrial {
  std::int64_t index = 0;
  TuneConfig config;        // as trained (after the size constraint)
  // ok | rejected (over the size limit) | stopped (the budget ended during it). A trial predicted to
  // run past the budget (the median seconds per epoch × nonzero × output of the trials done, times its
  // own) is skipped: counted in TuneResult::skipped, not listed; 50 in a row end the search.
  std::string status = "ok";
  std::string constrained;  // what the size or memory limit changed ("hash-bits 22 -> 19"), else empty
  double metric = 0.0;      // the validation accuracy (classification) or mse (regression)
  double seconds = 0.0;     // vectorising (text) + training + scoring
  std::int64_t features = 0, nonzero_weights = 0, model_bytes = 0;
  nlohmann::json to_json(bool text, bool regression) const;
};

struct TuneResult {
  std::vector<TuneTrial> trials;
  std::int64_t best = 0;       // position in `trials` (trials[best].index is its trial number)
  std::int64_t skipped = 0;    // trials skipped as predicted to run past the budget (not in `trials`)
  bool regression = false;     // metric: mse (lower is better), else accuracy (higher)
  double seconds = 0.0;
  std::optional<LinearModel> model;                 // the best trial's, as trained (synced)
  std::unique_ptr<LinearOptimizer> optimizer;       // and its optimizer, with its state
  std::optional<data::TextVectorizer> vectorizer;   // text: the best trial's
};

// The search. Each trial: (text) fit the vectoriser on the training texts; apply the size limits
// before training — a hashed trial's bits are lowered, a vocabulary is cut to its most frequent terms
// (max_features), until the largest file the model could be (every feature nonzero) fits both
// max_model_bytes and max_table_entries (`constrained` says what changed; a trial that cannot fit is
// "rejected" untrained); train with linear::fit; score on the validation set. The best is the first
// trial of the highest accuracy (lowest mse). `on_trial` hears each trial when it ends. UsageError on
// data that do not fit (no validation set, class labels in one split and targets in the other).
TuneResult autotune(const TuneData& data, const TuneConfig& first, const TuneSpace& space, const TuneOptions& options,
                    const std::function<void(const TuneTrial&)>& on_trial = {});

// An upper estimate of the binary model file io::save_linear_model writes (the nonzero weight rows,
// the bias, a text model's vocabulary and idf tables, and a header allowance); within a few hundred
// bytes above the file's size (tests/linear/autotune_test.cpp checks it against the writer).
std::int64_t estimated_file_bytes(const LinearModel& model, const data::TextVectorizer* vectorizer);

}  // namespace adakit::linear
