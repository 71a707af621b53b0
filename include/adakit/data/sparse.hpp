// Sparse data: a CSR matrix (rows of (index, value) pairs, LIBLINEAR-style) and a labelled sparse
// dataset. Text features, LIBSVM files and the sparse linear models all meet here.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "adakit/core/tensor.hpp"

namespace adakit::data {

// Compressed sparse rows. Row r holds indices[indptr[r] .. indptr[r+1]) with their values.
// Within a row, indices are strictly increasing (no duplicates) once `canonicalize()` has run.
struct CsrMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> indptr{0};  // rows + 1 entries
  std::vector<std::int32_t> indices;    // column ids in [0, cols)
  std::vector<float> values;

  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::span<const std::int32_t> row_indices(std::int64_t r) const {
    return {indices.data() + indptr[static_cast<std::size_t>(r)],
            static_cast<std::size_t>(indptr[static_cast<std::size_t>(r) + 1] - indptr[static_cast<std::size_t>(r)])};
  }
  std::span<const float> row_values(std::int64_t r) const {
    return {values.data() + indptr[static_cast<std::size_t>(r)],
            static_cast<std::size_t>(indptr[static_cast<std::size_t>(r) + 1] - indptr[static_cast<std::size_t>(r)])};
  }
  // Appends a row from (index, value) pairs in any order; duplicates are summed, zeros dropped
  // (also a sum of duplicates that cancels to zero). The stored row is canonical.
  // UsageError when the spans differ in length or an index is outside [0, cols).
  void add_row(std::span<const std::int32_t> idx, std::span<const float> val);
  // Sorts each row by index and sums duplicates. Explicit zeros already stored are kept.
  void canonicalize();
  // True when every row's indices are strictly increasing.
  bool is_canonical() const;
  // Copies the given rows, in order (repeats allowed). UsageError on a row outside [0, rows).
  CsrMatrix select_rows(std::span<const std::int64_t> rows) const;
  // UsageError naming the broken invariant: indptr size rows + 1, starting at 0, non-decreasing, ending
  // at nnz; as many values as indices; indices in [0, cols).
  void validate() const;
  // Dense [rows, cols] copy (duplicates summed). For tests and small matrices.
  Tensor to_dense() const;
};

struct SparseDataset {
  std::string name;
  CsrMatrix features;
  std::vector<std::int32_t> labels;  // classification: class ids; empty for regression
  std::vector<float> targets;        // regression: one target per row; empty for classification
  std::vector<std::string> class_names;
  std::int64_t size() const { return features.rows; }
  bool is_classification() const { return targets.empty(); }
  std::int64_t num_classes() const { return static_cast<std::int64_t>(class_names.size()); }
  // Copies the given rows (any order, repeats allowed), keeps names. UsageError on a row out of range or
  // when labels / targets do not have one entry per row.
  SparseDataset subset(std::span<const std::int64_t> rows) const;
};

}  // namespace adakit::data
