// Training and using sparse linear models.
//
//   auto model = linear::LinearModel::for_dataset(train);           // logistic / softmax / squared
//   auto opt = linear::make_linear_optimizer("ftrl", {{"l1", "1"}});
//   auto result = linear::fit(model, *opt, train, {.epochs = 5, .batch_size = 1, .seed = 1});
//   auto m = linear::evaluate(model, test);                         // loss, accuracy or mse
//
// Weighted rows (importance weights in the data, FitOptions::class_weights): the minibatch gradient
// becomes (1/B) Σ_r w_r ∇L_r — the batch's sum counts a row of weight w as w copies of it; LIBLINEAR's
// C·w_i and scikit-learn's sample_weight scale each example's loss the same way. The progressive
// metrics stay unweighted: they describe the rows, the weights change only the objective.
//
// fit() walks the rows in seeded-shuffled order (adakit::Rng, Fisher–Yates, one shuffle per epoch
// continuing one stream), batch by batch (the last batch may be smaller): prepare, gradient (mean
// over the batch), step. Per-epoch metrics are PROGRESSIVE: each batch's loss and accuracy measured
// before its own step, averaged over the epoch's rows (as McMahan et al. 2013 report) — so an epoch
// costs O(its nonzeros), never O(dim). fit() calls optimizer.sync(model) before each epoch's callbacks
// and before returning, so the model is ready to predict and save.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/run/callback.hpp"
#include "adakit/run/predictions.hpp"
#include "adakit/run/report.hpp"

namespace adakit::linear {

struct FitOptions {
  std::int64_t epochs = 5;
  std::int64_t batch_size = 1;
  std::uint64_t seed = 0;
  bool shuffle = true;
  // true: fit() syncs the optimizer before each epoch's callbacks and before returning (see the top).
  // false: never; the weights are left as the lazy optimizers left them (sync before reading them all).
  // A sync applies a feature's missed L1/L2 shrinks in closed form at that point, which rounds
  // differently from applying them later in one piece: without syncs, fit(A) then fit(B) (warm start,
  // stream chunks) ends bit-identical to one fit over A then B for every optimizer.
  bool sync = true;
  // Class weights (classification), one per class: row r's loss counts class_weights[label_r] times
  // (times its importance weight, SparseDataView::weights, when it has one) — LIBLINEAR's -wi,
  // scikit-learn's class_weight. Empty: every class weighs 1. See balanced_class_weights.
  std::vector<float> class_weights{};
  // Parameter mixing over `workers` shards (1: the plain loop above). Each epoch's shuffled order is cut
  // into `workers` contiguous shards; worker k trains its own copy of the model and optimizer on shard
  // k, from the state the previous epoch ended with, in parallel (at most adakit::num_threads() at a
  // time); then the copies are mixed feature by feature: a feature only one worker saw keeps that
  // worker's row (weights and AdaGrad sums) exactly; a feature several saw gets the mean of the copies'
  // rows (src/linear/fit_workers.cpp, with the rules measured against it). Iterative parameter mixing: McDonald, Hall & Mann 2010, "Distributed
  // Training Strategies for the Structured Perceptron". The result depends on `workers` (reproducible
  // for a seed and a worker count), never on the thread count; it is not one learner's result
  // (docs/sparse.md, "Two cores").
  // For optimizers that keep a sum of squared gradients per coordinate
  // (LinearOptimizer::mixing_sum_offset: adagrad); no checkpoints; batch callbacks are not called
  // (epoch callbacks are).
  std::int64_t workers = 1;
  // Threads for one learner (with workers = 1): every model and loss trains on `threads` threads, each
  // owning one of the two feature shards (model.hpp: the order of a score's sum), whose rows of the
  // model it alone reads and writes; the threads meet once a batch to add up the scores.
  // The model, the optimizer's state and the metrics are bit for bit one thread's, whatever the count
  // (src/linear/fit_threads.cpp). It pays on models larger than the cache, whose rows each thread then
  // fetches only its share of; no copy of the model is made (on two threads, a copy of the data split by
  // shard: memory of its nonzeros once more). Batch callbacks (progress only) come a run of batches
  // (4,096 rows) at a time on two threads.
  // 0: 2 when num_threads() >= 2 and the model has 8 outputs or more, else 1; otherwise 1 or 2.
  std::int64_t threads = 0;
  // UsageError naming the field: epochs >= 0, batch_size >= 1, class weights finite and >= 0, workers in [1, 16],
  // threads in [0, 2] ("fit_threads"), not threads > 1 with workers > 1.
  void validate() const;
};

// scikit-learn's class_weight="balanced" (sklearn.utils.class_weight.compute_class_weight):
// n / (classes · count_c) for each class c of `labels` (ids in [0, classes)), so that every class carries
// the same total weight; a class without rows gets 1. Rows are counted, not their importance weights
// (as scikit-learn does).
std::vector<float> balanced_class_weights(std::span<const std::int32_t> labels, std::int64_t classes);
// Each row's weight for training: class_weights[label] (1 when class_weights is empty) times the row's
// importance weight (1 when d has none). UsageError naming "class_weight" when class_weights is not
// empty and the data are not labelled or a label is outside it.
std::vector<float> row_weights(const data::SparseDataView& d, std::span<const float> class_weights);

// The run layer's reports (run/report.hpp), under their old names. fit() fills Metrics' loss, accuracy
// (classification) or mse (regression: mean (z − y)² = 2 × the squared loss) and samples; EpochReport's
// epoch, epochs, train (progressive, see above), steps (optimizer steps so far), seconds (since fit()
// started) and epoch_seconds (seconds since the previous report).
using run::kNaN;
using Metrics = run::Metrics;
using EpochReport = run::EpochReport;

struct FitResult {
  std::vector<EpochReport> history;  // a resumed run's includes the epochs before it
  std::int64_t steps = 0;
  double seconds = 0.0;              // a resumed run's includes the time before it
  bool stopped_early = false;
  std::int64_t threads = 1;          // the threads it trained on (FitOptions::threads)
};

// fit()'s row order: 0..n-1, shuffled (Fisher–Yates) at the start of every epoch by one seeded
// adakit::Rng stream that continues across epochs. dist::sparse_fit walks the same order.
class EpochOrder {
 public:
  EpochOrder(std::int64_t rows, std::uint64_t seed, bool shuffle);
  void next_epoch();  // the next epoch's order (the first call gives the first epoch's)
  std::span<const std::int64_t> rows() const noexcept { return order_; }

 private:
  std::vector<std::int64_t> order_;
  Rng rng_;
  bool shuffle_;
};

// Where a run stands, for checkpoints: `epoch` epochs started (their shuffles applied), and the next
// batch of the current one begins at row `next` of its order ({0, 0}: nothing done yet); the current
// epoch's progressive sums so far, the reports of the epochs done and the seconds spent, so that a
// resumed run reports what an uninterrupted one does.
struct FitState {
  std::int64_t epoch = 0, next = 0;
  BatchStats partial;
  std::vector<EpochReport> history;
  double seconds = 0.0;
};

// Checkpointing (adakit train --checkpoint / --resume). `save` gets the run's state when
// run::CheckpointSchedule(every, batches per epoch) says a checkpoint is due: at the end of every
// `every`-th batch of the run (counted over epochs; 0: at the end of every epoch), and once more at the
// end of training; the model and the optimizer then hold exactly what that state continues from (save
// their state() with it; a lazy optimizer's weights are saved as they are, not synced).
// `resume`: continue from such a state, the model and optimizer restored as they were saved and the
// same data, options and seed; fit() replays the shuffles of the epochs started (O(rows · epochs)).
// The run then ends bit for bit as the uninterrupted one.
struct FitCheckpoints {
  std::int64_t every = 0;
  std::function<void(const FitState&)> save;
  const FitState* resume = nullptr;
};

// Binds the optimizer to the model on first use (optimizer.bind), so calling fit() again continues
// training. UsageError when the data do not fit the model (columns > dim, labels out of range, no
// targets for regression) or a resumed state does not fit the data. `callbacks` (run/callback.hpp: a
// list of run::Callback, or one function of the EpochReport): on_train_begin, on_epoch_end after each
// epoch (true stops; fit() syncs the optimizer before, when there are callbacks), on_train_end.
FitResult fit(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& train,
              const FitOptions& options = {}, const run::Callbacks& callbacks = {},
              const FitCheckpoints& checkpoints = {});

// Over the whole dataset, with the model's current weights.
Metrics evaluate(const LinearModel& model, const data::SparseDataView& d);
// Scores z = Wᵀx + b: [rows, outputs] (regression: the predictions).
Tensor decision_function(const LinearModel& model, const data::CsrView& x);
// Classes (logistic: z > 0; softmax: first argmax; a calibrated model: the first argmax of
// predict_proba, as scikit-learn's CalibratedClassifierCV). UsageError for a regression model.
std::vector<std::int32_t> predict(const LinearModel& model, const data::CsrView& x);
// Class probabilities [rows, classes]: the model's calibrator's when it has one (linear/calibrate.hpp),
// else uncalibrated_proba. UsageError for regression.
Tensor predict_proba(const LinearModel& model, const data::CsrView& x);
// The model's own probabilities, its calibrator ignored (logistic and a two-class squared hinge:
// (1 − σ(z), σ(z)); softmax(z); ova and a one-vs-rest squared hinge: σ(z_c) for each class on its own,
// which need not sum to 1).
Tensor uncalibrated_proba(const LinearModel& model, const data::CsrView& x);
// What `adakit predict` reports for `d` (run/predictions.hpp): classification, the classes, their
// probabilities when `probabilities` (predict_proba) and the accuracy when every row has a label;
// regression, one prediction per row (outputs [rows]) and the mse when every row has a target.
run::Predictions predictions(const LinearModel& model, const data::SparseDataView& d, bool probabilities);

}  // namespace adakit::linear
