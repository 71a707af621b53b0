// adakit::dist sparse part — sparse linear models (linear/model.hpp: logistic, softmax, squared over
// CSR rows) trained with any lazy linear optimizer (linear/registry.hpp: adagrad, adagrad-l1, ftrl,
// adagrad-rda, sgd) by K MPI ranks, as one process would with the same global batch.
//
// Every rank walks the same global batches (linear::fit's order: adakit::Rng(seed), one Fisher–Yates
// shuffle per epoch continuing one stream) and takes its contiguous share of each one
// (rank_share(): rows [r·B/K, (r+1)·B/K) of the batch), so the union of the shares is the 1-process
// batch. The gradient is the mean over the GLOBAL batch (dL/dz scaled by 1/B, as LinearModel::gradient
// does for one process), so the sum of the ranks' contributions is the 1-process gradient.
//
// Where the rows live: each rank keeps its rows in a linear::LinearModel of its own (the "shard"), in
// LinearModel's row layout (a feature's weights, then its optimizer state, one row), stepped by its own
// copy of the optimizer (make_linear_optimizer(name, option_map)). The optimizer does all the math:
// prepare() (the lazy catch-up of adagrad-l1 / sgd, adagrad-rda's weights from its dual state) and
// step(); no formula is written here. The bias and the optimizer's bias state and step count are
// replicated: every rank steps its copy with the same summed bias gradient.
//
// Two modes:
//   sharded     feature j belongs to rank feature_owner(j, K) = splitmix64(j) mod K, which keeps the
//               rows it owns as rows (slots) of its shard, found through a hash index (id -> slot),
//               created on first touch: memory per rank is (rows ever touched)/K, whatever dim (the
//               shard grows by doubling). One step, on rank r:
//                 1. the distinct features F of r's examples (linear::BatchFeatures), grouped by owner;
//                 2. alltoallv of their ids (int32) to the owners; each owner calls optimizer.prepare()
//                    on the rows asked of it (its share of the batch's features) and answers with their
//                    weights (alltoallv, `outputs` floats a row): nothing is cached between steps;
//                 3. forward and backward on r's rows (scores, linear::linear_loss, dL/dz / B);
//                 4. alltoallv of the gradient rows of F back to their owners, in the order of step 2
//                    (the owner kept the ids it was asked for, so no id travels twice);
//                 5. the bias gradient (outputs floats) is allgathered and summed in rank order;
//                 6. each owner sums the duplicates of a row (a row several ranks touched) in rank
//                    order (coalesce_rows: the order LazyAdagrad's kernel sums them in), and calls
//                    optimizer.step() on its shard with those rows and the bias gradient.
//               Bytes sent by rank r per step (Comm::traffic): 4 (id) + 4·outputs (gradient) for each
//               of its touched rows owned elsewhere, plus 4·outputs for each row it returns to another
//               rank, plus the bias — the minimum of any owner-computes scheme with float32 rows and
//               int32 ids. Everything per step is O(rows touched · outputs), nothing O(dim).
//   replicated  every rank's shard is the whole model (the simple baseline); each rank sends its
//               touched rows' (id, gradient) pairs to every other rank (alltoallv), and every rank
//               applies the identical step over all ranks' pairs summed in rank order. Bytes sent per
//               step: (K − 1)·|F|·(4 + 4·outputs) — still O(rows touched), not the 2·dim·outputs·4
//               of a dense allreduce.
//
// For AdaGrad the result is the one this trainer gave when it kept its own AdaGrad table (the same
// kernel, the same duplicate order). Against ONE process the only difference is the order of a
// gradient's sums (each rank sums its share, then the shares are added), i.e. float rounding.
//
// Checkpoints: gather() collects every rank's rows on one rank into an ordinary single-process model
// and optimizer (as linear::fit leaves them: LinearOptimizer::state() of it is what io's linear
// checkpoint files hold, io/checkpoint.hpp, "adakit.linear.checkpoint.v1"); scatter() re-shards such a
// model and optimizer over the current communicator, whatever K (or single process) it came from.
// fit_linear() does both around sparse_fit, as linear::fit takes checkpoints.
//
// All functions are collective over the trainer's Comm unless said otherwise: every rank calls them in
// the same order with the same arguments (its own rows for step()).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/data/sparse.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/run/callback.hpp"

namespace adakit::dist {

enum class SparseMode { replicated, sharded };
std::string_view to_string(SparseMode mode);
SparseMode sparse_mode_from_string(std::string_view text);  // "replicated" | "sharded"; UsageError otherwise

// The rank that owns feature j's rows among `ranks`: splitmix64's finaliser of j, mod ranks (so the
// frequent low ids of a Zipf law spread evenly). Not collective.
int feature_owner(std::int64_t feature, int ranks);
// Rank `rank`'s contiguous share of a global batch: [rank·B/ranks, (rank+1)·B/ranks). Not collective.
std::span<const std::int64_t> rank_share(std::span<const std::int64_t> batch, int rank, int ranks);

// What one step did on this rank (counters; Comm::traffic has the bytes).
struct SparseStepCounters {
  std::int64_t examples = 0;      // this rank's rows of the batch
  std::int64_t rows_touched = 0;  // distinct features of those rows
  std::int64_t rows_remote = 0;   // of which owned by another rank (sharded; replicated: 0)
  std::int64_t rows_served = 0;   // rows this rank returned to (and received gradients from) other ranks
  // The analytic minimum this rank must send for the rows of the step (see the top; the bias's
  // allgather of 4·outputs bytes comes on top). Equal to Comm::traffic().alltoall_bytes's increase.
  std::uint64_t minimum_bytes = 0;
  double comm_seconds = 0.0;  // wall time inside this step's MPI calls (waiting for the others included)
};

namespace detail {
// Feature id -> slot of a rank's owned rows: open addressing with linear probing over a power-of-two
// table of (int32 key, int32 slot) pairs, at most half full (8 bytes an entry: a std::unordered_map
// node costs ~4x that, and a cache miss per lookup). Index = the HIGH bits of splitmix64(id): the
// owner is its value mod K, so the low bits are the same for all the ids a rank holds.
class RowSlots {
 public:
  std::int32_t find(std::int32_t feature) const noexcept;  // -1 when absent
  // The slot of `feature`, inserting `next` when absent; `inserted` tells which.
  std::int32_t find_or_insert(std::int32_t feature, std::int32_t next, bool& inserted);
  void clear() noexcept;
  // A hint: brings the cell where `feature`'s probe starts toward the cache (changes nothing).
  void prefetch(std::int32_t feature) const noexcept;

 private:
  void grow();
  std::vector<std::int64_t> cells_;  // (key + 1) << 32 | slot; 0 = empty
  std::int64_t size_ = 0;
  int shift_ = 64;
};
}  // namespace detail

class SparseLinearTrainer {
 public:
  // The model starts as a new LinearModel (weights and bias zero) under a fresh copy of `optimizer`'s
  // configuration (its name and option_map(); its state, if any, is not read: see scatter()).
  // classes: as LinearModel's (2 for squared). UsageError on a bad shape or dim outside [1, 2^31].
  SparseLinearTrainer(Comm& comm, SparseMode mode, linear::LinearTask task, std::int64_t dim, std::int64_t classes,
                      bool fit_bias, const linear::LinearOptimizer& optimizer);

  // One step t = steps() + 1 with the global batch whose share on this rank is `rows` (rows of d,
  // which every rank holds or at least those rows of); global_batch = B, the sum of the shares.
  // Returns the forward pass of this rank's rows (before the step).
  linear::BatchStats step(const data::SparseDataView& d, std::span<const std::int64_t> rows, std::int64_t global_batch);

  // The whole state into `model` and `optimizer` on `root` (ignored elsewhere; may be null there),
  // which must be bound to each other (LinearOptimizer::bind) with the trainer's shape and optimizer:
  // the optimizer then holds what a single process would after steps() steps (a lazy optimizer's
  // weights as they are, not synced; coordinates_touched() is left as it was). O(dim) on root.
  void gather(linear::LinearModel* model, linear::LinearOptimizer* optimizer, int root = 0);
  // Replaces the state with `model` and `optimizer`'s (bound to each other), given on `root`: re-shards
  // it over this communicator (only rows that differ from a fresh one travel). UsageError on every
  // rank when root's model or optimizer differ from the trainer's.
  void scatter(const linear::LinearModel* model, const linear::LinearOptimizer* optimizer, int root = 0);

  SparseMode mode() const noexcept { return mode_; }
  std::int64_t steps() const noexcept { return optimizer_->steps(); }
  std::int64_t dim() const noexcept { return dim_; }
  std::int64_t outputs() const noexcept { return outputs_; }
  // Rows of W this rank keeps in memory (replicated: dim; sharded: the owned rows touched so far).
  std::int64_t rows_held() const noexcept;
  const SparseStepCounters& last_step() const noexcept { return counters_; }
  const linear::LinearOptimizer& optimizer() const noexcept { return *optimizer_; }
  Comm& comm() noexcept { return comm_; }

 private:
  std::int64_t slot_for(std::int32_t feature);  // sharded: inserts a fresh row when absent
  void grow(std::int64_t rows);                 // sharded: the shard holds at least `rows` rows
  void reset_shard();
  std::int64_t row_floats() const noexcept { return outputs_ + optimizer_->state_width(outputs_); }
  std::vector<std::byte> exchange(std::span<const std::byte> send, std::span<const int> counts, std::vector<int>& recv_counts);
  void fetch_rows();
  void push_gradients();

  Comm& comm_;
  SparseMode mode_;
  linear::LinearTask task_;
  std::int64_t dim_, classes_, outputs_;
  bool fit_bias_;
  std::unique_ptr<linear::LinearOptimizer> optimizer_;  // bound to shard_
  linear::LinearModel shard_;                           // replicated: dim rows; sharded: slots
  std::vector<float> fresh_row_;                        // a row as the optimizer's reset() lays it out
  linear::LinearOptimizerState fresh_state_;            // the state of a fresh 1-row model (sharded)
  detail::RowSlots slot_;                               // sharded: feature -> slot
  std::vector<std::int32_t> slot_feature_;              // sharded: slot -> feature

  // Per-step buffers (reused; sized by the rows touched).
  linear::BatchFeatures batch_;
  linear::SparseGradient grad_;                          // the step's rows (slots) and bias, summed
  std::vector<float> rows_, grads_, z_, dz_, bias_grad_;
  std::vector<int> owner_, send_counts_, recv_counts_;
  std::vector<std::int64_t> packed_;        // sharded: position in batch_.features of each packed id
  std::vector<std::int32_t> requested_;     // sharded: ids asked of this rank this step, in rank order
  std::vector<std::int64_t> slots_;         // the shard rows of requested_ (replicated: of the ids)
  std::vector<int> requested_counts_;       // sharded: how many per rank
  std::vector<std::byte> send_;
  SparseStepCounters counters_;
};

// ---- the training loop ----

struct SparseFitOptions {
  std::int64_t epochs = 1;
  std::int64_t batch_size = 1;  // global B
  std::uint64_t seed = 0;
  bool shuffle = true;
  std::int64_t max_steps = -1;  // stop after this many steps of this call (-1: run to the last epoch)
  void validate() const;        // UsageError naming the field
};

// Where a run stands: `epoch` epochs have been started (their shuffles applied), and the next batch
// of the current one begins at row `next` of its order. {0, 0}: nothing done yet. `partial`: the
// current epoch's progressive sums so far over all ranks (so that an epoch run in several calls, or
// resumed, reports its whole rows).
struct SparsePosition {
  std::int64_t epoch = 0;
  std::int64_t next = 0;
  linear::BatchStats partial;
};

struct SparseFitResult {
  // One report per epoch that ENDED in this call, with progressive metrics over all ranks' rows (as
  // linear::fit measures them; an epoch begun before this call counts from its position's partial
  // sums). seconds is 0.
  std::vector<linear::EpochReport> history;
  std::int64_t steps = 0;                    // steps of this call
  SparsePosition position;                   // where to resume
  bool stopped = false;                      // a callback's on_epoch_end asked to stop
};

// linear::fit's loop, distributed: from `position` (a resumed run replays the shuffles of the epochs
// already started, O(rows · epochs)), step by step to the end of the last epoch or max_steps, or the end
// of an epoch whose on_epoch_end returned true (run/callback.hpp; every rank calls its callbacks with
// the same report, and must answer alike; a run may take several calls, so sparse_fit calls only
// on_epoch_end). Collective.
SparseFitResult sparse_fit(SparseLinearTrainer& trainer, const data::SparseDataView& train, const SparseFitOptions& options,
                           SparsePosition position = {}, const run::Callbacks& callbacks = {});

// linear::fit under MPI: `model` and `optimizer` on rank 0 are the run's start (bound on first use, as
// linear::fit does; on a resume, restored from the checkpoint) and, on return, its end (synced, ready
// to predict and save); on the other ranks they give only the shape and the optimizer's configuration.
// The rows are re-sharded from rank 0 (scatter), trained by sparse_fit in `mode`, and gathered to rank
// 0 at each checkpoint and at the end. on_epoch runs on rank 0 only (the model is not gathered for it;
// its return value, true to stop, is rank 0's for all). checkpoints as linear::fit's: `save` runs on
// rank 0 with `model` and `optimizer` holding the state to save (unsynced; synced at the end), every
// `every` global batches of the run (0: each epoch's end) and at the end; `resume` (needed on every
// rank) continues a saved run, from a single process or any number of ranks. Returns the run on rank 0
// (steps: the optimizer's, as linear::fit), std::nullopt on the others.
std::optional<linear::FitResult> fit_linear(Comm& comm, linear::LinearModel& model, linear::LinearOptimizer& optimizer,
                                            const data::SparseDataView& train, const linear::FitOptions& options = {},
                                            const std::function<bool(const linear::EpochReport&)>& on_epoch = {},
                                            const linear::FitCheckpoints& checkpoints = {},
                                            SparseMode mode = SparseMode::sharded);

}  // namespace adakit::dist
