// Warm start (adakit train --init-model FILE): a saved dense model trained further on new data. FILE is
// a model file (save_model), with the optimizer's state and the layers' random streams when it was
// saved with an optimizer (--save-state), or a dense checkpoint (its model, task, optimizer and streams;
// its position in the run is not used). The new data is made what the model takes: the saved scaler
// (not one refitted on the new data) and the saved class names. The optimizer continues where it
// stopped: its buffers, options, schedule, clipping and step counts (Adam's bias correction, the
// schedule's position), so that
//
//   train A, save with the optimizer; warm start on B      ==  train A then B in one run
//
// bit for bit, when one epoch visits the rows in file order and batch boundaries fall alike (docs/robustness.md,
// "Warm start"). The CLI wires it; tests/io/warm_start_test.cpp checks it.
#pragma once
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/model.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"

namespace adakit::io {

struct WarmStart {
  nn::Sequential model;                     // its weights loaded, and its random streams when kept
  ModelInfo info;                           // objective, input shape, classes, features, scaler
  std::optional<SavedOptimizer> optimizer;  // none: the file keeps no optimizer
};
// Error naming the file and the entry on a damaged file or a malformed entry (as load_model);
// UsageError naming the file and "init-model" for a missing file or a sparse linear model or checkpoint.
WarmStart read_warm_start(const std::filesystem::path& path);

// The splits of `options` as data::prepare_data loads and splits them, made what the model of `info`
// takes and fitting nothing: a CSV is read with the model's task (classification or regression), and
// every split goes through fit_to_model (the model's input shape, the saved scaler, the model's class
// ids); options.scale is not used, PreparedData::scaler is the saved one. UsageError naming
// `model_source` and "init-model" when the data is of another task than the model's objective, and
// naming the data file and "label" (its message names `model_source`) for a class the model does not
// have, and "features" for named columns other than the model's.
data::PreparedData prepare_for_model(const data::PrepareOptions& options, const ModelInfo& info,
                                     const std::string& model_source);

// What a run asks of the saved optimizer: only what its flags give (empty: take the saved one).
struct OptimizerRequest {
  std::optional<std::string> name;
  optim::OptionMap options;                     // option key -> text, as given
  std::optional<std::string> schedule;          // optim::Schedule::parse's spec
  std::optional<double> clip_norm, clip_value;
};
// The saved optimizer over `params` (the model's, by name), its whole state restored. UsageError naming
// `source` and "init-model", listing each difference ("--optimizer: saved 'adam', this run 'sgd'",
// "--lr: saved 0.01, this run 0.1", "--schedule", "--clip-norm", "--clip-value"), when `asked`
// differs from what was saved; Error naming `source` and the entry when the state does not fit `params`.
std::unique_ptr<optim::Optimizer> continue_optimizer(const SavedOptimizer& saved, std::vector<Parameter*> params,
                                                     const OptimizerRequest& asked, const std::string& source);

// UsageError naming `source` and "model" when `built` (the model the flags describe) is another
// architecture than `saved` (Sequential::config()); the layers' seeds are not compared (they only
// draw initial weights, which the file replaces).
void check_same_architecture(const nlohmann::json& saved, const nlohmann::json& built, const std::string& source);

}  // namespace adakit::io
