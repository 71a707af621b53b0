// A training run's identity, which its checkpoints carry so that a resumed run can be checked against
// the saved one: a JSON object of everything that decides the result besides the number of epochs
// (the caller's settings, the optimizer with its options, a fingerprint of the training data), kept in
// the checkpoint's "adakit.run" metadata entry. And the checkpoint directory of `adakit train
// --checkpoint DIR / --resume DIR`: DIR/checkpoint.safetensors.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "adakit/data/dataset.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/optimizer.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/train/parallel.hpp"

namespace adakit::io {

// The metadata key of a run's identity in a checkpoint.
inline constexpr const char* kRunKey = "adakit.run";
// The key under which run_identity() puts the data fingerprint.
inline constexpr const char* kFingerprintKey = "training data (FNV-1a of the split)";

// FNV-1a 64 (io/safetensors.hpp) over the training data's arrays, in hex: dense, the features, then
// the labels, then the targets; sparse, indptr, indices, values, labels, targets.
std::string data_fingerprint(const data::Dataset& d);
std::string data_fingerprint(const data::SparseDataset& d);

// `settings` (the caller's: data source, model, batch size, seed, ...) plus "optimizer" (its name),
// "options" (group 0's options), "schedule", "clip-norm", "clip-value" and the data fingerprint.
nlohmann::json run_identity(nlohmann::json settings, const optim::Optimizer& optimizer, const data::Dataset& train);
// `settings` plus "optimizer", "options" and the data fingerprint.
nlohmann::json run_identity(nlohmann::json settings, const linear::LinearOptimizer& optimizer,
                            const data::SparseDataset& train);

// The saved identity: the "adakit.run" entry of a checkpoint's metadata. Error naming `file` and the
// entry when it is missing, not JSON or not an object.
nlohmann::json saved_run_identity(const std::map<std::string, std::string>& metadata, const std::string& file);
// UsageError naming `file` and "adakit.run", listing every difference between the saved run and this
// one: a setting as "--key: checkpoint 'a', this run 'b'" (an option as "--lr: checkpoint a, this run b";
// the options are not compared when the optimizer differs), the fingerprint under its own name.
void check_same_run(const nlohmann::json& saved, const nlohmann::json& now, const std::string& file);

// DIR/checkpoint.safetensors.
std::filesystem::path checkpoint_file(const std::string& dir);
// DIR/checkpoint.safetensors for --resume DIR: UsageError when DIR is not a directory, Error naming
// DIR when the file is missing.
std::filesystem::path checkpoint_to_resume(const std::string& dir);
// Creates --checkpoint DIR (and its parents); Error naming it when that fails.
void make_checkpoint_dir(const std::string& dir);

// --resume DIR: DIR's checkpoint (checkpoint_to_resume), checked against this run's identity `run`
// (check_same_run) and put into `model` and `optimizer` (restore_checkpoint / restore_linear_checkpoint);
// returns the position to continue from.
train::FitState resume_run(const std::string& dir, const nlohmann::json& run, nn::Sequential& model,
                           optim::Optimizer& optimizer);
linear::FitState resume_run(const std::string& dir, const nlohmann::json& run, linear::LinearModel& model,
                            linear::LinearOptimizer& optimizer);

// A dense run's checkpoints in DIR (adakit train --checkpoint DIR): DIR/checkpoint.safetensors every
// `every_batches` batches (CheckpointWriter's schedule), written by a CheckpointWriter, or under data
// parallelism by the session's gathering writer (rank 0 creates DIR and writes). Nothing when DIR is
// empty. Build it after the session's attach().
class RunCheckpoints {
 public:
  RunCheckpoints(const std::string& dir, nn::Sequential& model, optim::Optimizer& optimizer, std::int64_t every_batches,
                 std::map<std::string, std::string> metadata, train::DataParallelSession* parallel = nullptr);
  // The callback fit() takes; nullptr without checkpoints.
  train::Callback* callback() const noexcept { return callback_; }
  std::int64_t written() const;

 private:
  std::optional<CheckpointWriter> writer_;
  train::Callback* callback_ = nullptr;
  train::DataParallelSession* parallel_;
};

// A sparse run's checkpoints in DIR (empty: none; else created): linear::FitCheckpoints whose save()
// writes DIR/checkpoint.safetensors (save_linear_checkpoint: the model, the optimizer's state, `seed`,
// `batch_size`, `metadata`) and counts the saves in `written`; `resume` is passed through.
linear::FitCheckpoints linear_run_checkpoints(const std::string& dir, std::int64_t every, const linear::LinearModel& model,
                                              const linear::LinearOptimizer& optimizer, std::uint64_t seed,
                                              std::int64_t batch_size, std::map<std::string, std::string> metadata,
                                              std::int64_t& written, const linear::FitState* resume = nullptr);

}  // namespace adakit::io
