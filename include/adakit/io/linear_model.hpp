// Sparse linear model files (adakit train --save on LIBSVM or text data): one JSON document, the model
// (LinearModel::to_json: only the features with a nonzero weight, so L1-sparse models stay small) plus
// what its input was and, for text, the fitted vectorizer:
//   {"format": "adakit.linear", ...model..., "input": "libsvm" | "text", "vectorizer": {...}}
// A linear checkpoint (io/checkpoint.hpp) predicts too: it carries the same two entries as metadata,
// "adakit.input" and "adakit.vectorizer" (JSON text).
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/optimizer.hpp"

namespace adakit::io {

// Writes the model file atomically; `vectorizer`: a text model's (nullptr for LIBSVM input).
void save_linear_model(const std::filesystem::path& path, const linear::LinearModel& model,
                       const data::TextVectorizer* vectorizer = nullptr);

struct LinearModelFile {
  linear::LinearModel model{linear::LinearTask::logistic, 1};
  std::optional<data::TextVectorizer> vectorizer;  // a text model's: present exactly for text input
};
// A model file, or a linear checkpoint (its optimizer is rebuilt and synced, so that a lazy optimizer's
// weights are brought up to date). Error naming the file and the field on a file that cannot be read
// or parsed, a malformed model or vectorizer, or a text model without its vectorizer.
LinearModelFile read_linear_model(const std::filesystem::path& path);

// True for a file read_linear_model takes: a linear checkpoint or a JSON document (its first
// non-blank byte is '{'). Reads the start of the file only.
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
