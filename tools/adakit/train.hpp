// Flags of `adakit train` / `adakit predict`, shared by the dense route (train.cpp: nn models on
// Dataset) and the sparse route (train_linear.cpp: linear models on LIBSVM or text data).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/run/progressive.hpp"
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

// --autotune-*: search the optimizer's options, the epochs and the text features on a validation file
// (linear/autotune.hpp; autotune.cpp).
struct AutotuneFlags {
  std::string validation;  // --autotune-validation FILE
  std::string model_size;  // --autotune-model-size 2M (empty: no limit)
  double duration = 300;   // --autotune-duration SECONDS
  std::int64_t trials = 0;  // --autotune-trials N (0: as many as the time allows)
};

struct TrainFlags {
  DataFlags data;
  TextFlags text;
  AutotuneFlags autotune;
  OptimizerFlags opt;
  train::FitOptions fit;          // --epochs, --batch-size, --seed, --patience (written by CLI11)
  train::DataParallelChoice dist;  // --dist, --dist-bucket-kb: data parallel under mpirun
  std::string test_data, model, activation = "relu", save, on_nonfinite = "error";
  std::string checkpoint, resume;  // directories
  std::string init_model;          // --init-model FILE: continue a saved model on new data (warm start)
  std::string classes;             // --classes A,B,...: the class names of a stream without a model
  std::string loss;                // --loss: a sparse model's loss (model_for_loss maps it to its --model)
  std::string class_weight;        // --class-weight balanced | NAME:W,...
  std::string weights;             // --weights FILE: one importance weight per training row
  std::string write_features;      // --write-features DIR: the prepared sparse splits as LIBSVM files
  std::string calibrate;           // --calibrate platt | isotonic (empty: none)
  std::string calibration_data;    // --calibration-data FILE: rows to fit the calibrator on
  double calibration_split = 0.1;  // --calibration-split F: else this fraction of the training rows
  bool weight_column = false;      // --weight-column: text lines are label<TAB>weight<TAB>text
  double test_split = 0.2, validation_split = 0.0, dropout = 0.0;
  std::int64_t checkpoint_every = 0;
  std::int64_t progress_every = 0;  // --progress-every N: progressive validation loss every N examples
  std::int64_t workers = 1;         // --workers N: parameter mixing over N shards (linear::FitOptions::workers)
  std::int64_t fit_threads = 0;     // --fit-threads N: one learner on N threads (linear::FitOptions::threads)
  bool json = false, quiet = false, save_state = false;
  bool no_shuffle = false, freeze_vocabulary = false;
  bool keep_bucket_names = false;  // --keep-bucket-names: a hashed text model's file keeps the terms of each column
  std::set<std::string> given;      // the long names of the flags given on the command line ("lr", "model", ...)
  bool was_given(const std::string& name) const { return given.count(name) > 0; }
};

struct PredictFlags {
  DataFlags data;
  std::string model;
  std::vector<std::string> texts;
  bool json = false, probabilities = false;
  std::int64_t top_k = -1;  // --top-k K (-1: not given)
  double threshold = -1.0;  // --threshold T (-1: not given)
};

// Shared by the dense route (train.cpp) and the sparse one (train_linear.cpp).
// --class-weight: empty, 'balanced' (linear::balanced_class_weights over `labels`) or NAME:W,... over
// the class `names` (classes not named weigh 1). UsageError naming the flag.
std::vector<float> parse_class_weights(const std::string& spec, std::span<const std::int32_t> labels,
                                       const std::vector<std::string>& names, std::int64_t classes, bool regression);
// --json's "class_weights": {class name (or id past the names): weight}.
nlohmann::json class_weights_json(std::span<const float> weights, const std::vector<std::string>& names);
// UsageError when a text flag (--hash-bits, --ngram, ...) is given.
void check_no_text_flags(const TextFlags& t);
// The one optimizer --optimizer names; UsageError for several.
OptimizerChoice one_optimizer(const TrainFlags& f, OptimizerKind kind);
// data::prepare_data's options from the flags; UsageError on a --test-split outside (0, 1).
data::PrepareOptions prepare_options(const TrainFlags& f);
// --checkpoint DIR, else --resume DIR (empty: no checkpoints); UsageError on --checkpoint-every without one.
std::string checkpoint_dir(const TrainFlags& f);
data::CsvOptions csv_options(const DataFlags& f);
// --write-features DIR: DIR/train.svm and DIR/test.svm (data::write_libsvm: atomic) of the prepared
// sparse splits, the features a text run trains on. Creates DIR; UsageError on an empty name.
void write_features(const std::string& dir, const data::PreparedSparseData& d);

// The data format of --format and --data (data::resolve_format).
inline std::string resolve_format(const DataFlags& f) { return data::resolve_format(f.format, f.data); }
// "resuming from DIR/checkpoint.safetensors: epoch E, <position> (S optimizer steps done)" on stderr.
void print_resumed(const std::string& dir, std::int64_t epoch, const std::string& position, std::int64_t steps);

// Sparse linear models (train_linear.cpp).
int run_train_linear(const TrainFlags& f, const std::string& format);
// --loss auto | logistic | softmax | ova | squared_hinge | squared: the sparse --model it names (auto,
// logreg, softmax, ova, squared_hinge, linreg). UsageError naming "loss" for dense data, an unknown
// loss, or a --model given that names another.
std::string model_for_loss(const TrainFlags& f, const std::string& format);
int run_predict_linear(const PredictFlags& f);
data::TextVectorizerOptions vectorizer_options(const TextFlags& t);
// UsageError on a flag of dense models, a text flag without text data, or --classes without a stream.
void check_sparse_flags(const TrainFlags& f, const std::string& format);

// Continuing a saved sparse model, and streams (online.cpp).
struct WarmStart {
  std::int64_t features_before = 0, features_added = 0;
  bool state_kept = false;  // the optimizer continues from the saved state (else it starts afresh)
  std::string vocabulary;   // text models: "grown" | "frozen" | "hashed"; LIBSVM: ""
};
// --init-model FILE read for training (lazy weights as saved), after checking that no flag given
// changes the model's meaning (--model, the text flags, `format`: the data's, empty for the model's
// own): UsageError naming the flag.
io::LinearModelFile read_init_model(const TrainFlags& f, const std::string& format);
// The optimizer of a warm start: the saved one (its options, overridden by the option flags given),
// else --optimizer's. UsageError on another --optimizer than the saved state's.
OptimizerChoice warm_optimizer(const TrainFlags& f, const io::LinearModelFile& init);
// That optimizer, holding the saved state in `model` (moved out of init) when there is one.
std::unique_ptr<linear::LinearOptimizer> continued_optimizer(const OptimizerChoice& choice, io::LinearModelFile& init,
                                                             linear::LinearModel& model);
// Grows the model (and the optimizer's state) to d's columns, d's classes numbered as the model's.
WarmStart continue_on(const TrainFlags& f, linear::LinearModel& model, linear::LinearOptimizer& opt,
                      data::PreparedSparseData& d);
nlohmann::json warm_json(const WarmStart& w, const std::string& path);
void print_warm_start(const std::string& path, const WarmStart& w, std::int64_t steps);
// Progressive validation's reports: printed on stderr when `talk`, and their JSON.
std::function<void(const run::ProgressReport&)> progress_sink(bool talk);
nlohmann::json progressive_json(const run::ProgressiveValidation& p);
// adakit train --autotune-validation FILE (autotune.cpp): UsageError on an autotune flag without it, or
// with a flag it cannot go with (checked first by check_autotune_flags).
void check_autotune_flags(const TrainFlags& f, const std::string& format);
int run_train_autotune(const TrainFlags& f, const std::string& format);
// adakit train --data -: one pass over stdin.
int run_train_stream(const TrainFlags& f, const std::string& format);

}  // namespace adakit::cli
