// The small model, data and fit options shared by fuzz_checkpoint.cpp and make_seeds.cpp, so that the
// seed checkpoints restore into the fuzz target's model.
#pragma once
#include "adakit/data/dataset.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/train/fit.hpp"

namespace adakit::fuzz {

// 2 features, 3 classes, 7 samples.
inline data::Dataset tiny_dataset() {
  data::Dataset d;
  d.name = "tiny";
  d.features = Tensor::from({7, 2}, {0.f, 1.f, 1.f, 0.f, 0.5f, 0.5f, -1.f, 2.f, 2.f, -1.f, 0.f, 0.f, 1.f, 1.f});
  d.labels = {0, 1, 2, 0, 1, 2, 0};
  d.class_names = {"a", "b", "c"};
  return d;
}
// Linear, tanh, dropout, linear: parameters "0.weight", "0.bias", "3.weight", "3.bias"; stream "2".
inline nn::Sequential tiny_model() { return nn::mlp(2, {3}, 3, "tanh", "", 1, 0.25); }
inline train::FitOptions tiny_fit_options() { return {.epochs = 4, .batch_size = 2, .seed = 5, .patience = 2}; }

}  // namespace adakit::fuzz
