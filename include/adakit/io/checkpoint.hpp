// Checkpoints: a training run in one safetensors file — the model's parameters, the optimizer's whole
// state (every buffer, step counts, group options, schedule, clipping), fit()'s position
// (train::FitState: epoch, batch, shuffling Rng, running sums, early stopping, history), the layers'
// random streams and the caller's metadata — so that train::fit() continues the run bit for bit.
//
// Layout (Python's safetensors and numpy read every tensor; all metadata values are strings):
//   tensors   "<param>"                            model parameters, as in model files ("0.weight")
//             "optim.<optimizer>.<param>.<buffer>" optimizer buffers ("optim.adagrad.0.weight.sum")
//             "train.best.<param>"                 early stopping's best parameters, when kept
//   metadata  "format"                "adakit.checkpoint.v1"
//             "adakit.architecture"   the model's config (JSON), as in model files
//             "optim.name"            the optimizer's registry name
//             "optim.counter.<key>"   its integer counters ("optim.counter.optimizer.steps",
//                                     "optim.counter.0.weight.step")
//             "optim.meta.<key>"      its options ("optim.meta.group.0.lr"), schedule and clipping
//             "train.<field>"         the FitState's fields (integers and doubles as exact text,
//                                     "train.shuffle_rng" as 4 hex words + cached normal,
//                                     "train.history" as JSON)
//             "model.rng.<layer>"     a layer's random stream (dropout), same text as the shuffle Rng
//             anything else           the caller's entries (adakit train: "adakit.run", "adakit.task")
// plus the two checksums every adakit safetensors file carries (payload and header).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::io {

inline constexpr const char* kCheckpointFormat = "adakit.checkpoint.v1";

// A checkpoint as read, before it meets a model.
struct Checkpoint {
  std::string architecture;                        // the model's config, JSON text
  std::map<std::string, Tensor> parameters;        // by parameter name
  std::map<std::string, Rng::State> random_streams;  // by layer index
  optim::StateDict optimizer;                      // as Optimizer::state_dict() gives it
  train::FitState state;                           // best_weights empty: see best_weights
  std::map<std::string, Tensor> best_weights;      // by parameter name (empty: none kept)
  std::map<std::string, std::string> metadata;     // the caller's entries
};

// A dense optimizer as checkpoints and model files (save_model with an optimizer) keep it: its
// Optimizer::state_dict() as the tensors "optim.<name>.<key>" and the metadata "optim.name",
// "optim.counter.<key>" and "optim.meta.<key>" (the layout above).
struct SavedOptimizer {
  std::string name;        // its registry name (optim::make_optimizer)
  optim::StateDict state;  // as Optimizer::state_dict() gives it
};
void put_optimizer(TensorFile& file, const optim::Optimizer& optimizer);
// True when `file` keeps an optimizer (it has an "optim.name" entry).
bool has_optimizer(const TensorFile& file);
// Error naming `source` and the entry on a missing or malformed name or counter, or an "optim." tensor
// of another optimizer. The state itself is checked where it meets an optimizer (restore_optimizer).
SavedOptimizer read_optimizer(const TensorFile& file, const std::string& source);
// optimizer.load_state_dict(state): all or nothing, errors naming `source` and the entry ("optim.<key>").
void restore_optimizer(const optim::StateDict& state, optim::Optimizer& optimizer, const std::string& source);

// The layers' random streams (dropout) as checkpoints and model files keep them: "model.rng.<layer>".
void put_random_streams(TensorFile& file, nn::Sequential& model);
// By layer index; empty when the file keeps none. Error naming `source` and the entry on a malformed one.
std::map<std::string, Rng::State> read_random_streams(const TensorFile& file, const std::string& source);
// Sets `model`'s streams. Error naming `source` and the entry, before changing anything, unless `streams`
// are exactly the model's (one per layer that has one).
void restore_random_streams(const std::map<std::string, Rng::State>& streams, nn::Sequential& model,
                            const std::string& source);

// Writes atomically (a crash leaves the previous checkpoint or this one). UsageError when a metadata
// key of the caller's collides with the checkpoint's own ("format", "adakit.architecture", "optim.",
// "train.", "model.rng.").
void save_checkpoint(const std::filesystem::path& path, nn::Sequential& model, const optim::Optimizer& optimizer,
                     const train::FitState& state, const std::map<std::string, std::string>& metadata = {});

// Error naming the file and the entry (and what was expected) on a file that is not a checkpoint,
// truncated or corrupted (checksums), or whose entries are missing or malformed.
Checkpoint read_checkpoint(const std::filesystem::path& path);
// The same from a safetensors file already read; `source` names it in errors.
Checkpoint parse_checkpoint(const TensorFile& file, const std::string& source);

// Puts the checkpoint into `model` and `optimizer` (built as for the saved run) and returns the
// FitState to resume from (best weights in model.parameters() order). Error naming `source` and the
// entry when the architecture, a parameter, a random stream or the optimizer (name, groups, option
// keys, buffer shapes) do not match. All or nothing: on an error, model and optimizer are unchanged.
train::FitState restore_checkpoint(const Checkpoint& checkpoint, nn::Sequential& model, optim::Optimizer& optimizer,
                                   const std::string& source = "");

// The checkpoint schedule of CheckpointWriter (and of dist's gathering writer): run::CheckpointSchedule
// at the state's position — true at the end of every `every_batches`-th batch of the run (counted over
// epochs, skipped batches included), at each epoch's end when every_batches is 0, and always at the end
// of training.
bool checkpoint_due(const train::FitState& st, train::StatePoint point, std::int64_t every_batches);

// A train::Callback that saves a checkpoint every `every_batches` batches, counted over the whole run
// (skipped batches included), or at the end of every epoch when every_batches is 0, and once more
// at the end of training.
class CheckpointWriter : public train::Callback {
 public:
  CheckpointWriter(std::filesystem::path path, nn::Sequential& model, const optim::Optimizer& optimizer,
                   std::int64_t every_batches, std::map<std::string, std::string> metadata = {});
  void on_state(const train::FitState& state, train::StatePoint point) override;
  std::int64_t saves() const noexcept { return saves_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  nn::Sequential& model_;
  const optim::Optimizer& optimizer_;
  std::int64_t every_;
  std::map<std::string, std::string> metadata_;
  std::int64_t saves_ = 0;
};

// ---- sparse linear runs (linear::fit; adakit train --checkpoint on LIBSVM or text data) ----
//
// One safetensors file for every linear optimizer, single process or under mpirun:
//   tensors   "weight" [dim, outputs], "bias" [outputs]   the model (LinearModel::tensors), as the
//                                                        optimizer holds it (a lazy one's weights unsynced)
//             "optim.<optimizer>.<name>"                 its LinearOptimizerState ("optim.adagrad.weight.sum",
//                                                        "optim.ftrl.weight.z", "optim.sgd.weight.last_step")
//   metadata  "format"                        "adakit.linear.checkpoint.v1"
//             "adakit.architecture"           the model's config (JSON)
//             "optim.name", "optim.meta.<option>", "optim.counter.optimizer.steps" / ".touched"
//             "train.epoch", "train.next"     linear::FitState's position
//             "train.seed", "train.batch_size"
//             "train.partial"                 the epoch's progressive sums (JSON, doubles as exact text)
//             "train.history", "train.seconds"
//             anything else                   the caller's entries
// Runs under mpirun write it too (dist::fit_linear gathers to rank 0, which saves); files without the
// counters, sums or history of later writers read too (counted from zero, no history).
inline constexpr const char* kLinearCheckpointFormat = "adakit.linear.checkpoint.v1";

struct LinearCheckpoint {
  linear::LinearModel model{linear::LinearTask::logistic, 1};
  std::string optimizer;  // its registry name (linear::make_linear_optimizer)
  optim::OptionMap options;
  linear::LinearOptimizerState state;
  linear::FitState fit;
  std::uint64_t seed = 0;
  std::int64_t batch_size = 1;
  std::map<std::string, std::string> metadata;  // the caller's entries
};

// A linear optimizer as checkpoints and model files keep it: its name, options and state, stored as
// the tensors "optim.<name>.<field>" and the metadata "optim.name", "optim.meta.<option>",
// "optim.counter.optimizer.steps" / ".touched".
struct SavedLinearOptimizer {
  std::string name;  // its registry name (linear::make_linear_optimizer)
  optim::OptionMap options;
  linear::LinearOptimizerState state;
};
void put_linear_optimizer(TensorFile& file, std::string_view optimizer, const optim::OptionMap& options,
                          const linear::LinearOptimizerState& state);
// Moves the optimizer's tensors out of `file`. Error naming `source` and the entry on a missing or
// malformed name or counter. The name and options are read, not checked (make_linear_optimizer and
// LinearOptimizer::load_state check them).
SavedLinearOptimizer take_linear_optimizer(TensorFile& file, const std::string& source);

// Atomic write. UsageError when a caller's metadata key collides with the format's own.
void save_linear_checkpoint(const std::filesystem::path& path, const linear::LinearModel& model,
                            std::string_view optimizer, const optim::OptionMap& options,
                            const linear::LinearOptimizerState& state, const linear::FitState& fit, std::uint64_t seed,
                            std::int64_t batch_size, const std::map<std::string, std::string>& metadata = {});
// Error naming the file and the entry on a file that is not such a checkpoint, is damaged, or holds a
// malformed entry. The optimizer's name and options are read, not checked: make_linear_optimizer and
// LinearOptimizer::load_state check them.
LinearCheckpoint read_linear_checkpoint(const std::filesystem::path& path);
// The same from a safetensors file already read (its tensors are moved out); `source` names it in errors.
LinearCheckpoint parse_linear_checkpoint(TensorFile file, const std::string& source);

}  // namespace adakit::io
