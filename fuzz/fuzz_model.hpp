// The small models, data and fit options shared by the checkpoint fuzz targets (fuzz_checkpoint.cpp,
// fuzz_linear_checkpoint.cpp) and make_seeds.cpp, so that the seed checkpoints restore into the fuzz
// targets' models.
#pragma once
#include "adakit/data/dataset.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/fit.hpp"
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

// Sparse: 9 rows over 6 features, 3 classes (a softmax model), and its fit options.
inline data::SparseDataset tiny_sparse_dataset() {
  data::SparseDataset d;
  d.name = "tiny-sparse";
  d.features.rows = 9;
  d.features.cols = 6;
  d.features.indptr = {0, 2, 3, 5, 6, 8, 9, 11, 12, 14};
  d.features.indices = {0, 3, 1, 2, 5, 4, 0, 1, 3, 2, 4, 5, 0, 5};
  d.features.values = {1.f, 0.5f, 2.f, 1.f, -1.f, 0.25f, 1.f, 1.f, -0.5f, 3.f, 1.f, 1.f, 0.5f, 2.f};
  d.labels = {0, 1, 2, 0, 1, 2, 0, 1, 2};
  d.class_names = {"a", "b", "c"};
  return d;
}
inline linear::FitOptions tiny_linear_fit_options() { return {.epochs = 3, .batch_size = 2, .seed = 5}; }

}  // namespace adakit::fuzz
