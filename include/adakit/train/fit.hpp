// The training loop: seeded minibatches, a loss chosen from the task, train/validation metrics per
// epoch, early stopping on a patience, callbacks. Deterministic for a given seed and thread count.
//
//   auto model = nn::mlp(4, {5}, 1, "tanh", "", seed);
//   optim::Adagrad opt(model.parameters(), {.lr = 0.01});
//   auto result = train::fit(model, opt, split.train, &split.test, train::Objective::binary_logistic,
//                            {.epochs = 100, .batch_size = 16, .seed = seed});
//
// Objectives (nn/loss.hpp has the formulas):
//   softmax_ce       logits [B, C], integer labels            (multi-class)
//   binary_logistic  one logit per sample, labels 0/1          (BCE with logits: the tutorial's
//                    sigmoid output + log loss, computed stably)
//   mse              outputs [B, k] against regression targets
//
// Resuming: fit() keeps everything its future depends on, besides the model's parameters and the
// optimizer's state, in a FitState (position, shuffling Rng, running sums, early-stopping counters,
// history). Callbacks see it after every batch (Callback::on_state); io/checkpoint.hpp saves it with
// the model and the optimizer. Passing a saved FitState back to fit() continues the run from that
// batch, and ends with the parameters an uninterrupted run ends with, bit for bit (same data, options
// and seed; any thread count, since kernels split deterministically).
#pragma once
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/rng.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/run/callback.hpp"
#include "adakit/run/predictions.hpp"
#include "adakit/run/report.hpp"

namespace adakit::train {

enum class Objective { softmax_ce, binary_logistic, mse };
std::string_view to_string(Objective o);
Objective objective_from_string(std::string_view s);
// classification + one output → binary_logistic; classification + C outputs → softmax_ce;
// regression → mse. UsageError when the output size does not fit the task.
Objective pick_objective(const data::Dataset& d, std::int64_t model_outputs);

// The run layer's reports (run/report.hpp), under their old names.
using run::kNaN;
using Metrics = run::Metrics;

// Loss and accuracy (or mse) over a whole dataset, in evaluation mode (no dropout), by batches.
Metrics evaluate(nn::Sequential& model, const data::Dataset& d, Objective objective, std::int64_t batch_size = 256);

using BatchReport = run::BatchReport;
// fit() fills epoch, epochs, train (running means over the epoch's batches, in training mode),
// validation (evaluate() on the validation set; NaN fields without one), epoch_seconds, seconds and
// skipped_steps (steps skipped because the loss or a gradient was not finite).
using EpochReport = run::EpochReport;

enum class NonFinite { error, skip };

// Data parallelism, as fit() sees it: K replicas (processes) run fit() with the same arguments; each
// computes its rows of every global batch (a contiguous block of the batch's rows: rank r of K takes
// rows [B*r/K, B*(r+1)/K)), with its loss gradient scaled by its share b_r/B, so that the replicas'
// gradients sum to the gradient of the whole batch's mean loss. Replicas combines them and steps; every
// replica ends each step with the same parameters. fit() knows nothing of the transport:
// dist/data_parallel.hpp implements this over MPI.
class Replicas {
 public:
  virtual ~Replicas() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // After this replica's backward. totals = {loss x rows, correct predictions, rows} of this replica;
  // on return, their sums over the replicas. Returns whether the combined loss and gradient are finite
  // (the same answer on every replica).
  virtual bool reduce(std::span<double, 3> totals) = 0;
  // The optimizer step on the combined gradient (after a true reduce()).
  virtual void step(optim::Optimizer& optimizer) = 0;
};

struct FitResult {
  std::vector<EpochReport> history;
  std::int64_t epochs_run = 0;
  std::int64_t best_epoch = 0;
  bool stopped_early = false;
  double seconds = 0.0;
  std::int64_t skipped_steps = 0;
};

// Where a fit() run stands. Shuffling: each epoch visits the samples in a fresh Fisher–Yates
// permutation of 0..n-1 drawn from the shuffling Rng (as PyTorch's RandomSampler draws a fresh
// randperm per epoch), so the epoch's order is a function of that Rng's state at the epoch's start.
struct FitState {
  std::int64_t epoch = 1;              // the epoch in progress (1-based); epochs + 1 when all are done
  std::int64_t batch = 0;              // batches of this epoch done (skipped ones included)
  std::int64_t samples = 0;            // training samples and batches per epoch: a resumed run must match
  std::int64_t batches_per_epoch = 0;  // (0 in a state that fit() has not started yet)
  Rng::State shuffle_rng{};            // the shuffling Rng at the start of `epoch`, before its permutation
  // This epoch's running sums over its finished, non-skipped batches (its EpochReport's train metrics).
  double loss_sum = 0.0;
  std::int64_t correct_sum = 0, seen = 0, skipped = 0;
  // Early stopping: the best watched loss so far, epochs since it, the parameters then (restore_best).
  double best = std::numeric_limits<double>::infinity();
  std::int64_t since_best = 0;
  std::vector<Tensor> best_weights;  // in model.parameters() order; empty until the first improvement
  bool stopped = false;              // early stopping or a callback ended the run: nothing is left to do
  FitResult result;                  // history so far (result.seconds: training time so far)
};

// Hooks (run/callback.hpp); implement only those you need. on_epoch_end returns true to stop training.
// on_state gets the whole position, at a point where the run can be resumed from it: after every
// batch (skipped ones too; state.batch batches of state.epoch done), after each epoch's end
// (state.batch = 0 of the next epoch), and once more at the end of training (after restore_best).
// Checkpoints hook there (run::CheckpointSchedule says when one is due).
using StatePoint = run::StatePoint;
using Callback = run::StateCallback<FitState>;

struct FitOptions {
  std::int64_t epochs = 10;
  std::int64_t batch_size = 32;
  std::uint64_t seed = 0;
  bool shuffle = true;
  // Early stopping on the validation loss (training loss without a validation set): stop after
  // `patience` epochs without an improvement of more than min_delta, and restore the best weights.
  std::int64_t patience = 0;  // 0 = off
  double min_delta = 0.0;
  bool restore_best = true;
  // A non-finite loss or gradient: error (throws adakit::Error) or skip the step, leaving
  // parameters and optimizer state untouched.
  NonFinite on_nonfinite = NonFinite::error;
  // Data parallel: this process is one of replicas->size() (nullptr: it is alone). Not owned.
  Replicas* replicas = nullptr;
  // Classification: one weight per class (finite, >= 0), the training loss the class-weighted mean of
  // nn/loss.hpp (torch.nn.CrossEntropyLoss(weight=...)); empty: unweighted. The epoch's training loss
  // is then that weighted objective; evaluation and validation losses stay plain means over the rows.
  // Not with replicas (each replica would normalise by its own rows' weights): UsageError naming
  // "class_weight".
  std::vector<float> class_weights{};
};

// `resume`: continue the run from this state (saved by a checkpoint, with the model and the optimizer
// restored from the same one). Error when it does not fit this run (another number of samples or
// batches per epoch, a position outside the epoch, best weights that do not match the parameters).
// A state whose epoch is past options.epochs, or that stopped, returns at once; raising epochs
// continues a finished run.
FitResult fit(nn::Sequential& model, optim::Optimizer& optimizer, const data::Dataset& train,
              const data::Dataset* validation, Objective objective, const FitOptions& options,
              std::span<Callback* const> callbacks = {}, const FitState* resume = nullptr);

// Predicted classes (classification) for every sample, by batches in evaluation mode.
std::vector<std::int32_t> predict(nn::Sequential& model, const data::Dataset& d, std::int64_t batch_size = 256);
// Outputs (logits, or regression values) for every sample: [n, outputs].
Tensor predict_outputs(nn::Sequential& model, const data::Dataset& d, std::int64_t batch_size = 256);
// What `adakit predict` reports for `d` (run/predictions.hpp): classification, the classes and, when
// `probabilities`, softmax's or, binary, (1 − p, p) with p = sigmoid_direct(logit) in double, and the
// accuracy when d has labels (correct over d.size()); regression (mse), the outputs [n, k].
run::Predictions predictions(nn::Sequential& model, const data::Dataset& d, Objective objective,
                             const std::vector<std::string>& class_names, bool probabilities);

}  // namespace adakit::train
