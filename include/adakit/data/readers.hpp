// Readers: CSV, IDX (MNIST / Fashion-MNIST) and CIFAR-10 binary files into a Dataset.
// Every reader returns a Dataset or throws adakit::Error naming the file (and the line and column, or
// the record, where there is one). Files may be plain or gzip-compressed; zlib tells which.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "adakit/core/error.hpp"
#include "adakit/data/dataset.hpp"

namespace adakit::data {

// A dataset whose files are not where adakit looked; what() says how to get them.
class MissingDataError : public Error {
 public:
  using Error::Error;
};

// ---------------------------------------------------------------- CSV

struct CsvOptions {
  enum class Header { auto_detect, yes, no };
  enum class Task { auto_detect, classification, regression };

  // The label (target) column: a header name, or a 0-based index (negative counts from the end,
  // -1 = last). A header name wins over an index that happens to look the same. Empty = last column.
  std::string label_column;
  // auto_detect: the first row is a header when any cell outside the label column is not a number,
  // or when `label_column` names one of its cells.
  Header header = Header::auto_detect;
  char delimiter = ',';
  // auto_detect: classification when any label is not a number, or when every label is an integer
  // and there are at most kCsvMaxAutoClasses distinct values; regression otherwise.
  Task task = Task::auto_detect;
};

inline constexpr std::int64_t kCsvMaxAutoClasses = 50;

// Reads a delimited text file: one sample per line, every other column a numeric feature.
// - Fields may be quoted ("a,b"; "" is a quote inside quotes; a quoted field may span lines).
//   Spaces and tabs around a field are trimmed. Blank lines are skipped; a UTF-8 BOM is ignored.
// - Class names: text labels sorted as strings; numeric labels sorted by value (1 and 1.0 are one class;
//   an integer class is named by its integer text).
// - Features: [n, columns - 1] float32, feature_names from the header (else empty). name = file stem.
// Errors name the file, the line (1-based, where the record starts) and the column (header name, else
// "column J", 1-based): an empty file, a row with a different cell count, a missing or non-numeric or
// non-finite or out-of-float-range cell, a missing label, an unterminated quote.
Dataset read_csv(const std::filesystem::path& path, const CsvOptions& options = {});
// The same over text in memory; `source` names it in errors (and gives the dataset its name).
Dataset parse_csv(std::string_view text, const std::string& source, const CsvOptions& options = {});

// ---------------------------------------------------------------- IDX

// MNIST-style IDX files: images magic 0x00000803 (unsigned bytes, 3 dims: n, rows, cols, big-endian
// int32), labels magic 0x00000801 (1 dim: n). Features [n, 1, rows, cols] = pixel / 255; labels int32;
// class_names "0".."max label". name = images file stem. Errors (naming the file): missing file,
// bad magic, truncated header or data, trailing bytes, image and label counts that differ.
Dataset read_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path);

// ---------------------------------------------------------------- CIFAR-10

// The standard CIFAR-10 class names, in label order.
inline constexpr const char* kCifar10ClassNames[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                       "dog",      "frog",       "horse", "ship", "truck"};

// One CIFAR-10 binary batch: records of 1 label byte + 3072 pixel bytes (1024 red, 1024 green,
// 1024 blue, each 32x32 row-major). Features [n, 3, 32, 32] = byte / 255, standard class names.
// Errors: missing or empty file, a truncated record (its 0-based index), a label byte above 9.
Dataset read_cifar10_batch(const std::filesystem::path& path);

// The batches of an extracted cifar-10-batches-bin directory: train = data_batch_1..5.bin (50000),
// test = test_batch.bin (10000). Class names from batches.meta.txt when present, else the standard ones.
// A missing batch file throws MissingDataError.
Dataset read_cifar10(const std::filesystem::path& dir, bool train);

}  // namespace adakit::data
