// Sparse linear model files (adakit train --save on LIBSVM or text data). Two encodings of one model:
//
// Binary (any name but *.json; "adakit.linear.model.v1"): a safetensors file (io/safetensors.hpp),
// read in one pass, that Python's safetensors and numpy read too:
//   tensors   "weight.rows"    I64 [k]           the features with a nonzero weight, increasing
//             "weight.values"  F32 [k, outputs]  their weights (L1-sparse models stay small)
//             "bias"           F32 [outputs]
//             text models: "vectorizer.terms" U8 [bytes] (the vocabulary's UTF-8 terms in column order,
//             end to end), "vectorizer.term_offsets" I64 [terms + 1] (term c is bytes [o[c], o[c+1])),
//             "vectorizer.idf" F64, "vectorizer.idf_columns" I32 (TextVectorizer::Tables)
//             kept optimizer: "optim.<name>.<field>" F32, as in linear checkpoints (io/checkpoint.hpp)
//             hashed text models with bucket terms (optional; data/bucket_terms.hpp, its Tables):
//             "bucket_terms.columns" I32, "bucket_terms.starts" I64, "bucket_terms.terms" U8,
//             "bucket_terms.term_offsets" I64, "bucket_terms.counts" I64
//   metadata  "format"               "adakit.linear.model.v1"
//             "adakit.architecture"  the model's config (LinearModel::config, JSON)
//             "adakit.input"         "text" | "libsvm"
//             "adakit.vectorizer"    text models: TextVectorizer::to_json(false) (options, counts)
//             kept optimizer: "optim.name", "optim.meta.<option>", "optim.counter.optimizer.steps" / ".touched"
//             bucket terms: "adakit.bucket_terms" {"per_bucket": N}; present exactly when its five tensors are
//             (files without them, all written before, read as before)
//             calibrated models (optional): "adakit.calibration" linear::Calibrator::to_json (JSON)
//
// JSON (*.json, for people who want to read the model; what adakit wrote before the binary file):
//   {"format": "adakit.linear", ...LinearModel::to_json..., "input": "libsvm" | "text", "vectorizer": {...},
//    "bucket_terms": {...} (optional: BucketTerms::to_json), "calibration": {...} (optional: Calibrator::to_json)}
//
// A linear checkpoint (io/checkpoint.hpp) predicts too: it carries "adakit.input" and "adakit.vectorizer"
// (JSON text) as metadata.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adakit/data/bucket_terms.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"

namespace adakit::io {

inline constexpr const char* kLinearModelFormat = "adakit.linear.model.v1";

// True when `path` names a JSON model file (its extension is .json, in any case).
bool is_json_model_path(const std::filesystem::path& path);

// Writes the model file atomically: JSON for a *.json path, else binary. `vectorizer`: a text model's
// (nullptr for LIBSVM input). `optimizer` (binary files only; UsageError with a .json path): keep its
// state beside the weights, to continue training later; it must hold `model`'s state, and the weights
// are saved as they are (sync the optimizer first). `bucket_terms`: a hashed text model's (adakit train
// --keep-bucket-names); UsageError naming "keep-bucket-names" without a hashing `vectorizer`.
void save_linear_model(const std::filesystem::path& path, const linear::LinearModel& model,
                       const data::TextVectorizer* vectorizer = nullptr,
                       const linear::LinearOptimizer* optimizer = nullptr,
                       const data::BucketTerms* bucket_terms = nullptr);

struct LinearModelFile {
  linear::LinearModel model{linear::LinearTask::logistic, 1};
  std::optional<data::TextVectorizer> vectorizer;  // a text model's: present exactly for text input
  // A binary file's kept optimizer, or a checkpoint's: made from its name and options, its state
  // loaded into `model` and synced (unless read with sync_weights = false). Null when the file keeps none.
  std::unique_ptr<linear::LinearOptimizer> optimizer;
  // A hashed text model's terms per column, when kept at training time (checked against the vectorizer).
  std::optional<data::BucketTerms> bucket_terms{};
  // A compact file of adakit export (io/compact_model.hpp): pruned, dequantized weights that predict
  // but do not train (train --init-model and serve --learn / --save refuse it).
  bool predict_only = false;
};
// A model file of either encoding, a compact file of adakit export (kCompactModelFormat: predict_only),
// or a linear checkpoint. Error naming the file and the field on a
// file that cannot be read or parsed, a truncated or corrupted one, a malformed model, vectorizer or
// optimizer state, or a text model without its vectorizer or whose vectorizer has another number of
// features than the model. Allocates what the file's header declares: the model's dim x outputs
// weights (at most linear::kMaxLinearTable floats) and tables no larger than the file.
// sync_weights = false (a warm start: adakit train --init-model): a kept optimizer's lazily updated
// weights stay as saved, so that training continues exactly as an uninterrupted run.
LinearModelFile read_linear_model(const std::filesystem::path& path, bool sync_weights = true);
// The same over bytes in memory; `source` names them in errors. verify_checksums = false reads a
// binary file whose checksums do not match (for the fuzzers).
LinearModelFile parse_linear_model(std::string_view bytes, const std::string& source, bool verify_checksums = true,
                                   bool sync_weights = true);

// True for a file read_linear_model takes: a safetensors file whose header names kLinearModelFormat,
// kCompactModelFormat or kLinearCheckpointFormat, or a JSON document (its first non-blank byte is '{'). Reads the start
// of the file only.
bool is_linear_model_file(const std::filesystem::path& path);
// True for a safetensors file whose header names kLinearCheckpointFormat. Reads the header only.
bool is_linear_checkpoint_file(const std::filesystem::path& path);

// A data file as `file`'s model takes it: a text model's text-tsv file (a bundled name or a path; see
// data::load_text) through its vectorizer, or a LIBSVM file cut or widened to the model's columns
// (data::fit_columns); class ids numbered as the model's classes.
data::SparseDataset read_for_model(const LinearModelFile& file, const std::string& name_or_path,
                                   const std::filesystem::path& data_dir = {});

// The metadata a linear checkpoint carries for read_linear_model: "adakit.input" and, for a text
// model, "adakit.vectorizer".
std::map<std::string, std::string> linear_model_metadata(const data::TextVectorizer* vectorizer);

// Puts the checkpoint into `model` and `optimizer` (built as for the saved run) and returns the fit
// position to resume from. Error naming `source` and the entry when the model's config differs
// ("adakit.architecture") or the optimizer's state does not fit ("optim.<name>.<field>").
linear::FitState restore_linear_checkpoint(const LinearCheckpoint& checkpoint, linear::LinearModel& model,
                                           linear::LinearOptimizer& optimizer, const std::string& source);

}  // namespace adakit::io
