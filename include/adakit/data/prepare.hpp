// From a data source to the splits a model trains on: load, hold out a test split (or read a test file,
// its classes renumbered as the training data's), hold out a validation split, and fit preprocessing
// (the standard scaler; the text vectorizer) on the training split only. What `adakit train` does before
// it builds a model; dense data (Dataset: nn models) and sparse data (SparseDataset: linear models).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/dataset.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/readers.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"

namespace adakit::data {

// Renumbers class ids `labels` (indices into `class_names`) to follow `names` (the training data's
// classes) and sets class_names = names: a test file may hold fewer classes, or list them in another
// order. Error naming `source` and "label" on a class that is not in `names`.
// `label_sets` (multilabel data; may be null or empty) are renumbered the same way.
void align_labels(std::vector<std::int32_t>& labels, std::vector<std::string>& class_names,
                  const std::vector<std::string>& names, const std::string& source, LabelSets* label_sets = nullptr);

// The format a source's name suggests: "text-tsv" for a bundled text dataset or a .tsv / .tsv.gz file,
// "libsvm" for .svm, .libsvm, .svmlight, .svm.gz, .libsvm.gz, "dense" (a built-in or CSV) otherwise.
std::string_view guess_format(std::string_view name_or_path);
// `format` when it is "dense", "libsvm" or "text-tsv"; guess_format(name_or_path) when it is "auto".
// UsageError (field "format") otherwise: "--format must be auto, dense, libsvm or text-tsv".
std::string resolve_format(const std::string& format, std::string_view name_or_path);
// A bundled text dataset by name (text_builtin_names), else a `label<TAB>text` file
// (`label<TAB>weight<TAB>text` with weight_column).
TextDataset load_text(const std::string& name_or_path, const std::filesystem::path& data_dir = {},
                      bool weight_column = false, bool multilabel = false);
// Importance weights from a file, one number per line (LIBLINEAR's -W file), for a dataset of `rows`
// rows. Error naming the file and the line: a value that is not a finite number >= 0, fewer or more
// values than rows (blank lines are skipped).
std::vector<float> read_weights(const std::filesystem::path& path, std::int64_t rows);
// The texts of `t` through a fitted vectorizer, with t's labels and class names.
SparseDataset vectorize(const TextDataset& t, const TextVectorizer& vectorizer);
// Gives `x` exactly `dim` columns: entries in columns >= dim are dropped (a feature the model never saw
// carries no weight, as in LIBLINEAR's predict); fewer columns are widened.
void fit_columns(CsrMatrix& x, std::int64_t dim);
// Keeps the entries whose column `keep` accepts (rows rebuilt with CsrMatrix::add_row: canonical, no
// zeros), in a matrix of `cols` columns (every kept column must be below it).
void keep_columns(CsrMatrix& x, const std::function<bool(std::int32_t)>& keep, std::int64_t cols);

struct PrepareOptions {
  std::string data;       // a built-in name or a file
  std::string test_data;  // a test file; empty: the source's own test split, else test_split of `data`
  std::filesystem::path data_dir;
  double test_split = 0.2;  // seeded, stratified for class labels (split_rows)
  std::uint64_t seed = 0;   // the test split's; the validation split's is seed + 1
  // Dense data (prepare_data).
  CsvOptions csv;
  double validation_split = 0.0;  // of the training split (0: none)
  std::string scale = "auto";     // standard scaling: on | off | auto (on unless samples are images [C, H, W])
  // Sparse data (prepare_sparse_data): text-tsv when `text` is set (the vectorizer's options), else LIBSVM.
  std::optional<TextVectorizerOptions> text;
  LibsvmOptions libsvm;
  // Importance weights (sparse data): text lines carry a weight column (`label<TAB>weight<TAB>text`,
  // the test file's too), and/or a file of one weight per row of `data` (applied before the split;
  // LIBSVM files may carry `label:weight` instead — a file and in-line weights together are an error).
  bool weight_column = false;
  std::filesystem::path weights_file{};
  // Multilabel classification (adakit train --loss ova): a text line's label, like a LIBSVM line's, is a
  // comma-separated set of classes (read_text_tsv, LibsvmOptions::multilabel), in train and test data.
  bool multilabel = false;
  // Text, warm start (adakit train --init-model): continue this fitted vectorizer, a saved model's,
  // instead of fitting a new one. It grows with the training split's new terms when grow_vocabulary
  // is set and it can grow (TextVectorizer::grow), else it stays as saved. `text` is then ignored.
  std::optional<TextVectorizer> continue_vectorizer;
  bool grow_vocabulary = true;
  // Text: keep the training split's texts in PreparedSparseData::train_texts (for BucketTerms::collect).
  bool keep_train_texts = false;
  // false: a test file keeps its own class names instead of the training data's (a warm start numbers
  // every split as the saved model's classes, which the new training data may not all have). Dense and
  // sparse data alike.
  bool align_test_labels = true;
  // Text: keep the test split's texts in PreparedSparseData::test_texts (adakit train's autotune
  // vectorises them again with the best trial's vectoriser).
  bool keep_test_texts = false;
};

struct PreparedData {
  Dataset train, test, validation;  // test, validation: empty when there are none
  StandardScaler scaler;            // fitted on train and applied to every split; empty when not scaling
};
// load_data(data) (CsvOptions csv for a CSV file); UsageError on a --scale other than auto, on or off.
PreparedData prepare_data(const PrepareOptions& options);

struct PreparedSparseData {
  SparseDataset train, test;
  std::optional<TextVectorizer> vectorizer;  // text: fitted on the training split
  // A continued vectorizer that grew: the new column of each old one (TextVectorizer::grow); else empty.
  std::vector<std::int64_t> new_of_old;
  std::vector<std::string> train_texts;  // text with keep_train_texts: the training split's texts, in its order
  std::vector<std::string> test_texts;   // text with keep_test_texts: the test split's texts, in its order
};
// LIBSVM: a test file gets as many columns as the training file (the larger of both), and a test file
// with class labels where the training file has numeric targets (or the reverse) is a UsageError
// naming it.
PreparedSparseData prepare_sparse_data(const PrepareOptions& options);

}  // namespace adakit::data
