// Flags of `adakit train` / `adakit predict`, shared by the dense route (train.cpp: nn models on
// Dataset) and the sparse route (train_linear.cpp: linear models on LIBSVM or text data).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"

namespace adakit::cli {

struct DataFlags {
  std::string data, data_dir, label_column;
  std::string scale = "auto";
  std::string format = "auto";  // auto | dense | libsvm | text-tsv
};

// Text features (text-tsv data): see data::TextVectorizerOptions.
struct TextFlags {
  std::string ngram = "1";     // "1" or "1,2"
  std::int32_t hash_bits = 0;  // 0: a vocabulary; N: hashing trick into 2^N columns
  bool tfidf = false, binary = false;
  double min_df = 1;
  std::int64_t max_features = 0;
};

struct TrainFlags {
  DataFlags data;
  TextFlags text;
  OptimizerFlags opt;
  std::string test_data, model, activation = "relu", save, on_nonfinite = "error";
  std::string checkpoint, resume;  // directories (dense models)
  double test_split = 0.2, validation_split = 0.0, dropout = 0.0;
  std::int64_t epochs = 10, batch_size = 32, patience = 0, checkpoint_every = 0;
  std::uint64_t seed = 0;
  bool json = false, quiet = false;
};

struct PredictFlags {
  DataFlags data;
  std::string model;
  std::vector<std::string> texts;
  bool json = false, probabilities = false;
};

// The data format: --format when given, else text-tsv for a built-in text dataset or a .tsv file,
// libsvm for .svm/.libsvm/.svmlight files, dense otherwise. UsageError on an unknown format.
std::string resolve_format(const DataFlags& f);

// Sparse linear models (train_linear.cpp).
int run_train_linear(const TrainFlags& f, const std::string& format);
// True when `path` holds a linear model saved by run_train_linear (a JSON document).
bool is_linear_model_file(const std::string& path);
int run_predict_linear(const PredictFlags& f);

}  // namespace adakit::cli
