// Flags of `adakit train` / `adakit predict`, shared by the dense route (train.cpp: nn models on
// Dataset) and the sparse route (train_linear.cpp: linear models on LIBSVM or text data).
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/data/prepare.hpp"
#include "adakit/nn/sequential.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/train/fit.hpp"
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
  std::string checkpoint, resume;  // directories
  std::string dist = "replicated";  // data-parallel mode under mpirun: replicated | sharded
  std::int64_t dist_bucket_kb = 256;
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

// Data-parallel training under mpirun (train_dist.cpp; adakit::dist when built with MPI). The CLI's
// view of it, free of MPI types, so that train.cpp reads the same with and without MPI.
class TrainParallel {
 public:
  virtual ~TrainParallel() = default;
  // nullptr when this process was not started by mpirun (or by mpirun -np 1 without MPI support).
  // Initialises MPI otherwise. UsageError on a bad --dist, or under mpirun with several processes
  // when adakit was built without MPI.
  static std::unique_ptr<TrainParallel> start(const TrainFlags& flags);
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Collective: data parallelism over `model` and `optimizer` (already restored from a checkpoint,
  // if resuming). Returns what train::FitOptions::replicas takes; owned here.
  virtual train::Replicas* attach(nn::Sequential& model, optim::Optimizer& optimizer) = 0;
  // Lets go of the model and the optimizer (before they are destroyed): drops what attach() and
  // checkpoint_writer() made.
  virtual void detach() = 0;
  // A checkpoint writer for the attached run (collective; rank 0 writes). Owned here.
  virtual train::Callback* checkpoint_writer(const std::filesystem::path& path, nn::Sequential& model,
                                             optim::Optimizer& optimizer, std::int64_t every_batches,
                                             std::map<std::string, std::string> metadata) = 0;
  virtual std::int64_t checkpoints_written() const = 0;
  // Optimizer state bytes this rank holds.
  virtual std::int64_t state_bytes() const = 0;
  // Ranks, mode, bytes this rank handed to MPI per step against the analytic minimum, state bytes.
  virtual nlohmann::json report() const = 0;
  // Ends every rank of the job with this message (rank and count prefixed) and exit code.
  [[noreturn]] virtual void abort(const std::string& why, int code) = 0;
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

// The data format: --format when given, else text-tsv for a built-in text dataset or a .tsv file,
// libsvm for .svm/.libsvm/.svmlight files, dense otherwise. UsageError on an unknown format.
std::string resolve_format(const DataFlags& f);

// Sparse linear models (train_linear.cpp).
int run_train_linear(const TrainFlags& f, const std::string& format);
int run_predict_linear(const PredictFlags& f);

}  // namespace adakit::cli
