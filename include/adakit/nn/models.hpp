// Model builders. Layer i's weights come from layer_seed(seed, i), so one seed fixes the whole model.
//
// mlp(in, {h1, h2}, out, "relu", "", seed):
//   0 linear(in→h1), 1 relu, 2 linear(h1→h2), 3 relu, 4 linear(h2→out) [, 5 sigmoid]
//   Input [B, in] (reshape image batches [B, 1, 28, 28] to [B, 784] first: Tensor::reshape is free).
//   activation: "relu" | "tanh" | "sigmoid"; output_activation: "" (logits) | "sigmoid".
//   dropout > 0 adds dropout(p) (seeded from layer_seed) after each hidden activation.
//   Fashion-MNIST MLP: mlp(784, {256}, 10); iris: mlp(4, {16}, 3).
//
// cnn(input = {C, H, W}, classes, channels, seed, hidden):
//   per entry c of channels: conv2d(3x3, padding 1, → c) + relu + max_pool2d(2)   (H, W halve, floor)
//   then flatten, and linear(→hidden) + relu + linear(hidden→classes) when hidden > 0,
//   else one linear(→classes).
//   image_cnn  = cnn(input, classes, {32, 64}, seed, 128): the tutorial's image model
//                (28x28 Fashion-MNIST: 64·7·7 = 3136 → 128 → classes; 32x32 CIFAR: 4096 → 128 → classes)
//   digits_cnn = cnn(input, classes, {16}, seed, 0): the 8x8 digits ConvNet (16·4·4 = 256 → classes)
// All output logits; pair with softmax_cross_entropy_loss.
//
// build_model(spec, train): a model for a dataset from a short spec (adakit train --model):
//   "mlp:H[,H...]"  mlp(sample_size, {H...}, outputs, activation, "", seed, dropout)
//   "logreg"        mlp(sample_size, {}, outputs)          classification
//   "softmax"       mlp(sample_size, {}, classes)          classification
//   "linreg"        mlp(sample_size, {}, outputs)          regression
//   "cnn"           digits_cnn for samples of height <= 8, else image_cnn   image classification
//   "cnn:C[,C...][/H]"  cnn(sample_shape, classes, {C...}, seed, H)
// outputs: 1 for two classes (binary logistic), the class count for more, the targets per sample for
// regression. All but cnn take flat samples [sample_size] (model_input_shape; data::flatten_features).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/core/tensor.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/nn/sequential.hpp"

namespace adakit::nn {

// The seed of layer `index` in a model built from `seed` (SplitMix64 of both).
std::uint64_t layer_seed(std::uint64_t seed, std::size_t index);

Sequential mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
               const std::string& activation = "relu", const std::string& output_activation = "",
               std::uint64_t seed = 0, double dropout = 0.0);

Sequential cnn(const Shape& input, std::int64_t classes, const std::vector<std::int64_t>& channels,
               std::uint64_t seed = 0, std::int64_t hidden = 0);
Sequential image_cnn(const Shape& input, std::int64_t classes, std::uint64_t seed = 0);
Sequential digits_cnn(const Shape& input, std::int64_t classes, std::uint64_t seed = 0);

struct ModelOptions {
  std::string activation = "relu";  // hidden activation of mlp
  double dropout = 0.0;             // mlp only
  std::uint64_t seed = 0;
};
// UsageError naming the field ("model", or "dropout" when dropout is given for another kind than mlp)
// on an unknown kind, a malformed size, or a kind that does not fit the data (cnn on flat samples or
// regression, logreg / softmax on regression, linreg on classes).
Sequential build_model(std::string_view spec, const data::Dataset& train, const ModelOptions& options = {});
// The per-sample shape the model of `spec` takes: sample_shape for cnn, [product of it] otherwise.
Shape model_input_shape(std::string_view spec, const Shape& sample_shape);

}  // namespace adakit::nn
