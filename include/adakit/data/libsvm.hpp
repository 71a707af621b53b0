// LIBSVM / SVMlight sparse text files: a strict reader into a SparseDataset, and a writer.
//
// Format, one sample per line:  <label>[:<weight>] [qid:<int>] <index>:<value> <index>:<value> ... [# comment]
// An optional importance weight follows the label after a colon (finite, >= 0; lines without one weigh 1).
// Indices are 1-based and strictly increasing within a line; tokens are separated by spaces or tabs.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "adakit/data/sparse.hpp"

namespace adakit::data {

struct LibsvmOptions {
  enum class Task { auto_detect, classification, regression };
  // Columns of the result: 0 = the largest index in the file; else this many (a larger index is an error).
  std::int64_t n_features = 0;
  // With n_features = 0: the largest index accepted (at most 2^31 - 1). A model over the file's columns
  // is sized by its largest index, so a caller that allocates one caps it (adakit train: 2^27), and a
  // corrupted index is an error naming its line instead of a huge allocation.
  std::int64_t max_index = 2147483647;
  // auto_detect: classification when every label is an integer, else regression.
  // Classification maps the distinct label values, sorted by value, to class ids 0, 1, ...; each class is
  // named by the label's text where the value first occurs ("+1", "-1", "3"). Regression: targets.
  Task task = Task::auto_detect;
  // Multilabel lines (the LIBSVM multi-label datasets' form, `1,3,5 idx:val ...`, with an optional
  // `:weight`): every line's label is a comma-separated set of integer class values, kept in
  // SparseDataset::label_sets (classification, whatever `task` says). An empty set, or a value that is
  // not an integer, is an error naming the line.
  bool multilabel = false;
};

// Reads a LIBSVM file (plain or gzip-compressed). name = the file stem. The rows keep the file's pairs as
// written (explicit zeros included), so they are canonical. Blank and comment-only lines are skipped;
// `qid:N` after the label is accepted and ignored; a CR before the newline and a UTF-8 byte-order mark
// are ignored. Errors (adakit::Error) name the file, the line, the column (1-based byte offset of the
// token) and quote the token: a line without a label or a label that is not a finite number, a token
// without ':', an index that is not a positive integer or exceeds 2^31 - 1 (or n_features), an index
// not above the previous one, a value that is not a finite number (or out of float range), a misplaced
// or repeated qid, a file without any sample. UsageError on n_features < 0.
SparseDataset read_libsvm(const std::filesystem::path& path, const LibsvmOptions& options = {});
// The same over text in memory; `source` names it in errors.
SparseDataset parse_libsvm(std::string_view text, const std::string& source, const LibsvmOptions& options = {});

// The dataset in LIBSVM format: one line per row, "label idx:val ...", 1-based increasing indices (a
// copy is canonicalized if needed), values and regression targets in the shortest text that reads back
// to the same float; `label:weight` when the dataset has weights. Classification labels are written as their class names when every name is a
// finite number (so they read back as the same classes), else as the class ids; a multilabel row's set
// comma-separated (1,3,5: read back with LibsvmOptions::multilabel).
// UsageError when labels / targets do not match the rows or a label is outside the class names.
std::string to_libsvm(const SparseDataset& d);
// Writes to_libsvm(d) to path atomically: a temporary file in the same directory, flushed to disk, then
// renamed over path. Error naming the file on failure.
void write_libsvm(const std::filesystem::path& path, const SparseDataset& d);

}  // namespace adakit::data
