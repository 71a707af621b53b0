// Flags of `adakit train` / `adakit predict`, shared by the dense route (train.cpp: nn models on
// Dataset) and the sparse route (train_linear.cpp: linear models on LIBSVM or text data).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "adakit/data/prepare.hpp"
#include "adakit/train/fit.hpp"
#include "adakit/train/parallel.hpp"
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
  train::FitOptions fit;          // --epochs, --batch-size, --seed, --patience (written by CLI11)
  train::DataParallelChoice dist;  // --dist, --dist-bucket-kb: data parallel under mpirun
  std::string test_data, model, activation = "relu", save, on_nonfinite = "error";
  std::string checkpoint, resume;  // directories
  double test_split = 0.2, validation_split = 0.0, dropout = 0.0;
  std::int64_t checkpoint_every = 0;
  bool json = false, quiet = false, save_state = false;
};

struct PredictFlags {
  DataFlags data;
  std::string model;
  std::vector<std::string> texts;
  bool json = false, probabilities = false;
};

// Shared by the dense route (train.cpp) and the sparse one (train_linear.cpp).
// UsageError when a text flag (--hash-bits, --ngram, ...) is given.
void check_no_text_flags(const TextFlags& t);
// The one optimizer --optimizer names; UsageError for several.
OptimizerChoice one_optimizer(const TrainFlags& f, OptimizerKind kind);
// data::prepare_data's options from the flags; UsageError on a --test-split outside (0, 1).
data::PrepareOptions prepare_options(const TrainFlags& f);
// --checkpoint DIR, else --resume DIR (empty: no checkpoints); UsageError on --checkpoint-every without one.
std::string checkpoint_dir(const TrainFlags& f);
data::CsvOptions csv_options(const DataFlags& f);

// The data format of --format and --data (data::resolve_format).
inline std::string resolve_format(const DataFlags& f) { return data::resolve_format(f.format, f.data); }
// "resuming from DIR/checkpoint.safetensors: epoch E, <position> (S optimizer steps done)" on stderr.
void print_resumed(const std::string& dir, std::int64_t epoch, const std::string& position, std::int64_t steps);

// Sparse linear models (train_linear.cpp).
int run_train_linear(const TrainFlags& f, const std::string& format);
int run_predict_linear(const PredictFlags& f);

}  // namespace adakit::cli
