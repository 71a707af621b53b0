// adakit::dist sparse part — sparse linear models (linear/model.hpp: logistic, softmax, squared over
// CSR rows) trained with lazy AdaGrad (linear/adagrad.hpp) by K MPI ranks, as one process would with
// the same global batch.
//
// Every rank walks the same global batches (linear::fit's order: adakit::Rng(seed), one Fisher–Yates
// shuffle per epoch continuing one stream) and takes its contiguous share of each one
// (rank_share(): rows [r·B/K, (r+1)·B/K) of the batch), so the union of the shares is the 1-process
// batch. The gradient is the mean over the GLOBAL batch (dL/dz scaled by 1/B, as LinearModel::gradient
// does for one process), so the sum of the ranks' contributions is the 1-process gradient.
//
// Two modes:
//   sharded     the weight table W [dim x outputs] and its AdaGrad accumulator s are split by row:
//               feature j belongs to rank feature_owner(j, K) = splitmix64(j) mod K, which keeps the
//               rows it owns in a hash table (id -> slot), created on first update — memory per rank is
//               (rows ever touched)/K, whatever dim. One step, on rank r:
//                 1. the distinct features F of r's examples (linear::BatchFeatures), grouped by owner;
//                 2. alltoallv of their ids (int32) to the owners; the owners answer with the rows'
//                    current weights (alltoallv, `outputs` floats a row): the owner returns fresh rows
//                    on demand, nothing is cached between steps;
//                 3. forward and backward on r's rows (scores, linear::linear_loss, dL/dz / B);
//                 4. alltoallv of the gradient rows of F back to their owners, in the order of step 2
//                    (the owner kept the ids it was asked for, so no id travels twice);
//                 5. each owner applies optim::adagrad_step_rows — the same kernel as LazyAdagrad —
//                    to the rows it received, packed in rank order: the kernel sums the duplicates of
//                    a row in order of appearance, i.e. in rank order, so the result is deterministic;
//                 6. the bias gradient (outputs floats) is allgathered, summed in rank order, and every
//                    rank applies the same optim::adagrad_step to its copy of the bias.
//               Bytes sent by rank r per step (Comm::traffic): 4 (id) + 4·outputs (gradient) for each
//               of its touched rows owned elsewhere, plus 4·outputs for each row it returns to another
//               rank, plus the bias — the minimum of any owner-computes scheme with float32 rows and
//               int32 ids. Everything per step is O(rows touched · outputs), nothing O(dim).
//   replicated  every rank holds the whole table and accumulator (the simple baseline); each rank sends
//               its touched rows' (id, gradient) pairs to every other rank (alltoallv), and every rank
//               applies the identical adagrad_step_rows over all ranks' pairs in rank order. Bytes sent
//               per step: (K − 1)·|F|·(4 + 4·outputs) — still O(rows touched), not the 2·dim·outputs·4
//               of a dense allreduce.
//
// Checkpoints: gather() collects every rank's rows on one rank into the ordinary single-process state
// (LinearAdagradState: a linear::LinearModel with dim rows, and s, bias s, step count as LazyAdagrad
// keeps them); scatter() re-shards such a state over the current communicator, whatever K it came
// from. save_sparse_checkpoint / read_sparse_checkpoint put it, with the position in the run, in one
// file of io's linear checkpoint format (io/checkpoint.hpp, "adakit.linear.checkpoint.v1": "weight",
// "bias", "optim.adagrad.weight.sum", "optim.adagrad.bias.sum" tensors), the format single-process
// sparse runs write, written atomically.
//
// All functions are collective over the trainer's Comm unless said otherwise: every rank calls them in
// the same order with the same arguments (its own rows for step()).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/data/sparse.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/adagrad.hpp"
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

// The single-process state of a sparse linear model under lazy AdaGrad (what LazyAdagrad holds).
struct LinearAdagradState {
  linear::LinearModel model;
  std::vector<float> sum;       // s of W, dim x outputs (LazyAdagrad::sum())
  std::vector<float> bias_sum;  // s of the bias, outputs
  std::int64_t steps = 0;       // AdaGrad's t
};

// The state as LazyAdagrad::state() names it ("weight.sum" [dim, outputs], "bias.sum" [outputs]; its
// steps), and back: UsageError naming the tensor when one is missing or of another shape. Not collective.
linear::LinearOptimizerState to_optimizer_state(const LinearAdagradState& state);
LinearAdagradState from_optimizer_state(linear::LinearModel model, const linear::LinearOptimizerState& state);

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
  // Weights and bias start at zero, accumulators at options.initial_accumulator_value (as a new
  // LinearModel and LazyAdagrad). UsageError on bad options or weight_decay != 0 (as LazyAdagrad).
  SparseLinearTrainer(Comm& comm, SparseMode mode, linear::LinearTask task, std::int64_t dim, std::int64_t classes,
                      bool fit_bias, const optim::AdagradOptions& options);

  // One AdaGrad step t = steps() + 1 with the global batch whose share on this rank is `rows` (rows of
  // d, which every rank holds or at least those rows of); global_batch = B, the sum of the shares.
  // Returns the forward pass of this rank's rows (before the step).
  linear::BatchStats step(const data::SparseDataView& d, std::span<const std::int64_t> rows, std::int64_t global_batch);

  // The whole state, on `root` (std::nullopt on the other ranks). O(dim) on root.
  std::optional<LinearAdagradState> gather(int root = 0);
  // Replaces the state with `state`, given on `root` (ignored elsewhere; may be null there): re-shards
  // it over this communicator. Error when its task, dim, outputs or bias differ from the trainer's.
  void scatter(const LinearAdagradState* state, int root = 0);

  SparseMode mode() const noexcept { return mode_; }
  std::int64_t steps() const noexcept { return steps_; }
  std::int64_t dim() const noexcept { return dim_; }
  std::int64_t outputs() const noexcept { return outputs_; }
  // Rows of W this rank keeps in memory (replicated: dim; sharded: the owned rows updated so far).
  std::int64_t rows_held() const noexcept;
  const SparseStepCounters& last_step() const noexcept { return counters_; }
  const optim::AdagradOptions& options() const noexcept { return options_; }
  Comm& comm() noexcept { return comm_; }

 private:
  std::int64_t slot_for_update(std::int32_t feature);  // sharded: inserts a fresh row when absent
  std::vector<std::byte> exchange(std::span<const std::byte> send, std::span<const int> counts, std::vector<int>& recv_counts);
  void fetch_rows();
  void push_gradients();
  void step_bias();

  Comm& comm_;
  SparseMode mode_;
  linear::LinearTask task_;
  std::int64_t dim_, classes_, outputs_;
  bool fit_bias_;
  optim::AdagradOptions options_;
  std::int64_t steps_ = 0;
  std::vector<float> table_, sum_;  // replicated: dim x outputs; sharded: slots x outputs
  std::vector<float> bias_, bias_sum_;
  detail::RowSlots slot_;                                // sharded: feature -> slot
  std::vector<std::int32_t> slot_feature_;                // sharded: slot -> feature

  // Per-step buffers (reused; sized by the rows touched).
  linear::BatchFeatures batch_;
  std::vector<float> rows_, grads_, z_, dz_, bias_grad_;
  std::vector<int> owner_, send_counts_, recv_counts_;
  std::vector<std::int64_t> packed_;        // sharded: position in batch_.features of each packed id
  std::vector<std::int32_t> requested_;     // sharded: ids asked of this rank this step, in rank order
  std::vector<int> requested_counts_;       // sharded: how many per rank
  std::vector<std::byte> send_;
  std::vector<std::int64_t> indices_;
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

// ---- checkpoints (not collective: call on the rank that holds the state) ----

struct SparseCheckpoint {
  LinearAdagradState state;
  optim::AdagradOptions options;
  SparsePosition position;
  std::uint64_t seed = 0;
  std::int64_t batch_size = 1;
};

// Atomic write (io::write_safetensors). The layout is at the top of this file.
void save_sparse_checkpoint(const std::filesystem::path& path, const SparseCheckpoint& checkpoint);
// adakit::Error naming the file and the entry on a file that is not such a checkpoint or is damaged.
SparseCheckpoint read_sparse_checkpoint(const std::filesystem::path& path);

}  // namespace adakit::dist
