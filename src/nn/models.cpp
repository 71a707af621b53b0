#include "adakit/nn/models.hpp"

#include "adakit/core/error.hpp"
#include "adakit/nn/layers.hpp"

namespace adakit::nn {
namespace {

std::unique_ptr<Layer> make_activation(const std::string& name, const char* field) {
  if (name == "relu") return std::make_unique<ReLU>();
  if (name == "tanh") return std::make_unique<Tanh>();
  if (name == "sigmoid") return std::make_unique<Sigmoid>();
  throw UsageError(std::string(field) + " must be relu, tanh or sigmoid, got '" + name + "'", {"", 0, field});
}

}  // namespace

std::uint64_t layer_seed(std::uint64_t seed, std::size_t index) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<std::uint64_t>(index) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Sequential mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
               const std::string& activation, const std::string& output_activation, std::uint64_t seed,
               double dropout) {
  (void)make_activation(activation, "activation");  // validate before building
  if (!(dropout >= 0.0 && dropout < 1.0))
    throw UsageError("dropout must be in [0, 1), got " + std::to_string(dropout), {"", 0, "dropout"});
  if (!output_activation.empty() && output_activation != "sigmoid")
    throw UsageError("output_activation must be empty or sigmoid, got '" + output_activation + "'",
                     {"", 0, "output_activation"});
  Sequential model;
  std::int64_t width = in;
  for (std::int64_t h : hidden) {
    model.add(std::make_unique<Linear>(width, h, true, layer_seed(seed, model.size())));
    model.add(make_activation(activation, "activation"));
    if (dropout > 0.0) model.add(std::make_unique<Dropout>(dropout, layer_seed(seed, model.size())));
    width = h;
  }
  model.add(std::make_unique<Linear>(width, out, true, layer_seed(seed, model.size())));
  if (output_activation == "sigmoid") model.add(std::make_unique<Sigmoid>());
  return model;
}

Sequential cnn(const Shape& input, std::int64_t classes, const std::vector<std::int64_t>& channels,
               std::uint64_t seed, std::int64_t hidden) {
  if (input.size() != 3) throw UsageError("cnn: input must be [C, H, W], got " + shape_to_string(input));
  Sequential model;
  std::int64_t c = input[0];
  for (std::int64_t out : channels) {
    model.add(std::make_unique<Conv2d>(c, out, 3, 1, 1, true, layer_seed(seed, model.size())));
    model.add(std::make_unique<ReLU>());
    model.add(std::make_unique<MaxPool2d>(2));
    c = out;
  }
  model.add(std::make_unique<Flatten>());
  const Shape features = model.output_shape(input);  // UsageError when the image is too small
  std::int64_t width = features.at(0);
  if (hidden > 0) {
    model.add(std::make_unique<Linear>(width, hidden, true, layer_seed(seed, model.size())));
    model.add(std::make_unique<ReLU>());
    width = hidden;
  }
  model.add(std::make_unique<Linear>(width, classes, true, layer_seed(seed, model.size())));
  return model;
}

Sequential image_cnn(const Shape& input, std::int64_t classes, std::uint64_t seed) {
  return cnn(input, classes, {32, 64}, seed, 128);
}

Sequential digits_cnn(const Shape& input, std::int64_t classes, std::uint64_t seed) {
  return cnn(input, classes, {16}, seed, 0);
}

}  // namespace adakit::nn
