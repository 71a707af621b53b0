// Data-parallel training of an nn::Sequential over MPI: every rank holds the whole model, computes its
// rows of every global batch (train::Replicas: contiguous blocks of the batch, the loss gradient scaled
// by the rank's share), and the ranks combine their gradients so that each step equals the step of one
// process on the whole batch. Two modes:
//
//   replicated  Gradients are averaged with in-place MPI_Iallreduce over buckets of about bucket_bytes,
//               each started inside backward as soon as its layers are done (the last layers first,
//               Sequential's backward hook), so communication overlaps the rest of the backward pass.
//               Every rank then runs the same optimizer step on the same gradient: the replicas stay
//               bit-equal, and every rank holds the whole optimizer state.
//   sharded     ZeRO stage 1 (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
//               Parameter Models", SC 2020): the gradients, flattened in parameter order into one buffer
//               of N floats, are reduce-scattered so that rank r owns the contiguous slice
//               [N*r/K, N*(r+1)/K); the rank runs the optimizer's kernel on its slice only (its state:
//               about 1/K of the whole), then the parameters are all-gathered. Needs an elementwise
//               optimizer (Optimizer::elementwise(): SGD, AdaGrad, Adam, RMSProp, Adadelta); clipping by
//               global norm takes the norm over all slices (one allreduce of a double).
//
// Per step and rank, the bytes each mode must send at least (ring algorithms, N parameters, K ranks):
//   replicated  allreduce                     2 (K-1)/K * 4N
//   sharded     reduce-scatter + allgather    (K-1)/K * 4N + (K-1)/K * 4N   (the same volume)
// Comm::traffic() counts what is handed to MPI; docs/distributed.md compares both with wire counts.
//
// Checkpoints stay ordinary checkpoints (io/checkpoint.hpp): CheckpointWriter below gathers a sharded
// state to rank 0, which writes the file atomically. A checkpoint from K ranks resumes on any number
// of ranks, and on one process without MPI: restore it into the model and the optimizer on every rank
// (io::restore_checkpoint), then build the DataParallel, which re-shards the optimizer's state.
//
//   dist::Environment mpi(&argc, &argv);
//   dist::Comm comm = dist::Comm::world();
//   auto model = nn::mlp(784, {256}, 10, "relu", "", seed);           // same seed on every rank
//   auto opt = optim::make_optimizer("adagrad", model.parameters(), {{"lr", "0.05"}});
//   dist::DataParallel dp(comm, model, *opt, {.mode = dist::Mode::sharded});
//   train::fit(model, *opt, data, nullptr, objective, {.batch_size = 256, .replicas = &dp});
//
// Every rank must make the same calls in the same order (fit() does). An exception on one rank leaves
// the others waiting in a collective: catch it and end the job with Comm::abort (the CLI does).
// Dropout: rank r > 0 draws its masks from a stream derived from rank 0's (so that ranks do not repeat
// each other's masks); a data-parallel run with dropout is therefore equal to a one-process run in
// distribution, not bit for bit, and a resumed one re-derives the streams of ranks r > 0.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::dist {

enum class Mode { replicated, sharded };
std::string_view to_string(Mode mode);
// "replicated" | "sharded"; UsageError otherwise.
Mode mode_from_string(std::string_view text);

struct DataParallelOptions {
  Mode mode = Mode::replicated;
  // replicated: gradient bucket size; a bucket closes once it holds at least this many bytes.
  std::int64_t bucket_bytes = std::int64_t{1} << 18;
  // replicated: start each bucket's allreduce inside backward (false: all of them after backward).
  bool overlap = true;
};

class DataParallel final : public train::Replicas {
 public:
  // Collective. Build it after restoring a checkpoint (if any) into model and optimizer: rank 0's
  // parameters are broadcast to all, and in sharded mode the optimizer's state moves into this rank's
  // shard (the optimizer itself then keeps none; it still holds the options, schedule and clipping,
  // and gather_state() fills it again for a checkpoint). The model's gradients are rebound to one flat
  // buffer owned here (given back on destruction): destroy the DataParallel before the model.
  // UsageError when ranks disagree on the parameter count, when the optimizer updates a parameter
  // that is not the model's, or in sharded mode when the optimizer is not elementwise.
  DataParallel(Comm& comm, nn::Sequential& model, optim::Optimizer& optimizer, DataParallelOptions options = {});
  ~DataParallel() override;
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const override { return comm_.rank(); }
  int size() const override { return comm_.size(); }
  bool reduce(std::span<double, 3> totals) override;
  // `optimizer` must be the one given to the constructor.
  void step(optim::Optimizer& optimizer) override;

  // Collective. Puts the whole optimizer state into the optimizer on `root` (sharded mode; replicated:
  // every rank has it already), ready for io::save_checkpoint there. release_gathered_state() drops it
  // again (call it on every rank; it only acts on root).
  void gather_state(int root = 0);
  void release_gathered_state(int root = 0);

  Mode mode() const noexcept { return options_.mode; }
  Comm& comm() noexcept { return comm_; }
  std::int64_t numel() const noexcept { return numel_; }
  // This rank's slice of the flat parameters [begin, begin + size) (sharded; replicated: all).
  std::int64_t shard_begin() const noexcept { return lo_; }
  std::int64_t shard_size() const noexcept { return hi_ - lo_; }
  // Bytes of optimizer state this rank holds once every parameter has stepped (Optimizer::state_bytes).
  std::int64_t state_bytes() const;
  // Optimizer steps taken (the shard's in sharded mode).
  std::int64_t steps() const;
  std::size_t buckets() const noexcept { return buckets_.size(); }
  // Seconds spent in reduce() (waiting for the gradients, after backward) and in step() (sharded:
  // the slice's update and the allgather), summed over steps.
  double reduce_seconds() const noexcept { return reduce_seconds_; }
  double step_seconds() const noexcept { return step_seconds_; }
  // Collective: true when every rank holds bit-equal parameters (a check for tests and the CLI).
  bool replicas_equal();

 private:
  struct Bucket {
    std::size_t trigger_layer;  // its lowest layer with parameters: start once that layer's backward is done
    std::size_t first_param, end_param;
    std::int64_t begin, end;  // flat range
    Request request;
    bool started = false;
  };
  // A parameter's piece inside this rank's slice (sharded).
  struct Segment {
    std::size_t param;
    std::int64_t begin, length;  // within the parameter
    std::int64_t slice_offset;   // within this rank's slice
    std::size_t group;           // the optimizer group; npos when the optimizer does not update it
    Parameter* shard = nullptr;  // the shard optimizer's parameter over this piece
  };

  void bind_grad(std::size_t i);
  void on_layer_done(std::size_t layer);
  void start_bucket(Bucket& b);
  bool reduce_replicated(std::span<double, 3> totals);
  bool reduce_sharded(std::span<double, 3> totals);
  void step_sharded();
  void build_shard();
  void import_state();
  std::vector<Segment> segments_of(int rank) const;
  std::int64_t slice_begin(int rank) const;
  void decorrelate_streams();

  Comm& comm_;
  nn::Sequential& model_;
  optim::Optimizer& optimizer_;
  DataParallelOptions options_;
  std::vector<Parameter*> params_;      // model.parameters(), flat order
  std::vector<std::int64_t> offsets_;   // flat offset of each
  std::vector<std::size_t> group_of_;   // optimizer group of each (npos: not in the optimizer)
  std::int64_t numel_ = 0;
  Tensor grads_;                        // the flat gradient buffer the parameters' grads borrow from
  std::vector<Bucket> buckets_;
  // sharded
  std::int64_t lo_ = 0, hi_ = 0;
  std::vector<int> counts_;
  std::vector<Segment> segments_;
  std::vector<std::unique_ptr<Parameter>> shard_params_;
  std::unique_ptr<optim::Optimizer> shard_;
  Tensor slice_grads_, slice_values_, all_values_;
  double reduce_seconds_ = 0.0, step_seconds_ = 0.0;
  double norm_ = 0.0;  // global norm of the (value-clipped) gradient, from the last reduce
};

// Checkpoints of a data-parallel run, on the schedule of io::CheckpointWriter (every `every_batches`
// batches over the whole run, or each epoch's end when 0, and at the end). Collective: every rank runs
// it at the same points (fit() calls it there); rank 0 writes one ordinary checkpoint, atomically.
class CheckpointWriter : public train::Callback {
 public:
  CheckpointWriter(std::filesystem::path path, DataParallel& parallel, nn::Sequential& model,
                   optim::Optimizer& optimizer, std::int64_t every_batches,
                   std::map<std::string, std::string> metadata = {});
  void on_state(const train::FitState& state, train::StatePoint point) override;
  std::int64_t saves() const noexcept { return saves_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  DataParallel& parallel_;
  nn::Sequential& model_;
  optim::Optimizer& optimizer_;
  std::int64_t every_;
  std::map<std::string, std::string> metadata_;
  std::int64_t saves_ = 0;
};

}  // namespace adakit::dist
