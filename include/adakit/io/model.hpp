// Model files: a safetensors file holding every parameter under its name ("0.weight", ...) and, in
// the metadata, the architecture (the Sequential's config) and what prediction needs: the objective,
// class names, the per-sample input shape and the standard scaler fitted on the training data.
// Python's safetensors / numpy read the weights; adakit rebuilds the model from the file alone.
// Saved with an optimizer (adakit train --save-state), the file also keeps the optimizer's state and
// the layers' random streams, as checkpoints keep them (io/checkpoint.hpp), so that `adakit train
// --init-model FILE` continues training where it stopped (io/warm_start.hpp); readers that only
// predict skip those entries.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "adakit/core/tensor.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"

namespace adakit::io {

struct ModelInfo {
  std::string objective;                 // "softmax_ce" | "binary_logistic" | "mse"
  Shape input_shape;                     // per sample
  std::vector<std::string> class_names;  // classification
  std::vector<std::string> feature_names;
  std::vector<float> scaler_mean, scaler_scale;  // empty: no scaling
  std::string dataset;                   // where it was trained (informative)
};

// The info of a model trained on `d` to `objective` (train::to_string): d.train's sample shape, class
// and feature names, d's scaler, and `dataset`.
ModelInfo model_info(const data::PreparedData& d, std::string objective, std::string dataset);

// `optimizer` (optional): keep its state (put_optimizer) and the model's random streams
// (put_random_streams) too. The format stays "adakit.model.v1".
void save_model(const std::filesystem::path& path, nn::Sequential& model, const ModelInfo& info,
                const optim::Optimizer* optimizer = nullptr);
// The "adakit.task" metadata entry of a model file (also carried by adakit train's checkpoints).
std::string task_json(const ModelInfo& info);

struct LoadedModel {
  nn::Sequential model;
  ModelInfo info;
};
// Error naming the file and entry on a missing tensor, a shape mismatch or a bad header. Also reads
// the model out of a checkpoint (io/checkpoint.hpp) that carries "adakit.task".
LoadedModel load_model(const std::filesystem::path& path);
// The same from a safetensors file already read; `source` names it in errors.
LoadedModel model_from_tensor_file(const TensorFile& file, const std::string& source);

// Makes `d` what the model of `info` takes: samples reshaped to info.input_shape (UsageError naming
// `source` and "features" when their size differs), standardised with the training data's scaler, and
// class ids numbered as the model's classes (data::align_labels).
void fit_to_model(data::Dataset& d, const ModelInfo& info, const std::string& source);

}  // namespace adakit::io
