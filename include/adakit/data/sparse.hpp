// Sparse data: a CSR matrix (rows of (index, value) pairs, LIBLINEAR-style) and a labelled sparse
// dataset. Text features, LIBSVM files and the sparse linear models all meet here. The models read
// them through views (CsrView, SparseDataView), so arrays owned elsewhere (scipy.sparse's, through
// the Python bindings) are used in place; a CsrMatrix or SparseDataset converts to its view for free.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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

// A read-only view of CSR arrays owned by someone else: nothing is copied; the owner keeps them alive
// while the view is used. indptr comes as int64 (CsrMatrix) or int32 (scipy.sparse while nnz < 2^31):
// exactly one of indptr / indptr32 holds rows + 1 entries.
struct CsrView {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::span<const std::int64_t> indptr;
  std::span<const std::int32_t> indptr32;
  std::span<const std::int32_t> indices;
  std::span<const float> values;

  CsrView() = default;
  CsrView(const CsrMatrix& m)  // NOLINT(google-explicit-constructor): a matrix is usable as its view
      : rows(m.rows), cols(m.cols), indptr(m.indptr), indices(m.indices), values(m.values) {}

  std::int64_t row_begin(std::int64_t r) const {
    return indptr32.empty() ? indptr[static_cast<std::size_t>(r)] : indptr32[static_cast<std::size_t>(r)];
  }
  std::int64_t nnz() const { return static_cast<std::int64_t>(indices.size()); }
  std::span<const std::int32_t> row_indices(std::int64_t r) const {
    const std::int64_t b = row_begin(r);
    return indices.subspan(static_cast<std::size_t>(b), static_cast<std::size_t>(row_begin(r + 1) - b));
  }
  std::span<const float> row_values(std::int64_t r) const {
    const std::int64_t b = row_begin(r);
    return values.subspan(static_cast<std::size_t>(b), static_cast<std::size_t>(row_begin(r + 1) - b));
  }
  // The invariants CsrMatrix::validate() checks (rows + 1 indptr entries from 0, non-decreasing, ending
  // at nnz; as many values as indices; indices in [0, cols)): O(rows + nnz), nothing copied.
  void validate() const;
};

// Multilabel classification (comma-separated labels, adakit train --loss ova): each row's set of class
// ids, increasing and without repeats, in CSR form. Row r's classes are ids[offsets[r] .. offsets[r+1]).
// Empty (no offsets): the data are single-label, one class id per row in `labels`.
struct LabelSets {
  std::vector<std::int64_t> offsets;  // rows + 1 entries from 0, or none
  std::vector<std::int32_t> ids;
  bool empty() const { return offsets.empty(); }
  std::int64_t rows() const { return offsets.empty() ? 0 : static_cast<std::int64_t>(offsets.size()) - 1; }
  std::span<const std::int32_t> row(std::int64_t r) const {
    const auto b = offsets[static_cast<std::size_t>(r)], e = offsets[static_cast<std::size_t>(r) + 1];
    return {ids.data() + b, static_cast<std::size_t>(e - b)};
  }
  // Appends a row: sorted, repeats dropped.
  void add_row(std::span<const std::int32_t> classes);
  // Appends one row per entry of `ends`: row i holds classes[ends[i-1] .. ends[i]) (from 0), sorted, repeats
  // dropped; each row's first (smallest) class is appended to `first` (SparseDataset::labels).
  void add_rows(std::span<const std::int32_t> classes, std::span<const std::size_t> ends, std::vector<std::int32_t>& first);
  // Every class id c becomes new_id[c] (the readers' ids to a model's), each row sorted again;
  // first[r] = row r's first class. UsageError on an id outside new_id or a first of another size.
  void renumber(std::span<const std::int32_t> new_id, std::vector<std::int32_t>& first);
  // These rows, in this order (repeats allowed). UsageError on a row out of range.
  LabelSets subset(std::span<const std::int64_t> rows) const;
};

struct SparseDataset {
  std::string name;
  CsrMatrix features;
  std::vector<std::int32_t> labels;  // classification: class ids; empty for regression
  std::vector<float> targets;        // regression: one target per row; empty for classification
  std::vector<std::string> class_names;
  // Importance weights, one per row (LIBSVM `label:weight`, a weight column in TSV, adakit train
  // --weights): each row's loss counts this many times. Empty: every row weighs 1.
  std::vector<float> weights;
  // Multilabel data: every row's classes (labels[r] is then the first of them, for what wants one class
  // a row: stratified splits). Empty for single-label data.
  LabelSets label_sets;
  std::int64_t size() const { return features.rows; }
  bool is_classification() const { return targets.empty(); }
  bool is_multilabel() const { return !label_sets.empty(); }
  std::int64_t num_classes() const { return static_cast<std::int64_t>(class_names.size()); }
  // Copies the given rows (any order, repeats allowed), keeps names, weights and label sets. UsageError on
  // a row out of range or when labels / targets / weights / label sets do not have one entry per row.
  SparseDataset subset(std::span<const std::int64_t> rows) const;
};

// Checks importance weights for `rows` rows: empty, or one per row, each finite and >= 0. UsageError
// naming `source`, the row (1-based) and the field "weight".
void check_weights(std::span<const float> weights, std::int64_t rows, const std::string& source);

// A labelled sparse dataset over arrays owned elsewhere (the view the sparse linear models train on).
struct SparseDataView {
  std::string_view name;
  CsrView features;
  std::span<const std::int32_t> labels;  // classification: class ids; empty for regression
  std::span<const float> targets;        // regression: one target per row; empty for classification
  std::span<const float> weights;        // one importance weight per row (finite, >= 0); empty: all 1
  // Multilabel data (LabelSets): rows + 1 offsets into label_ids; both empty for single-label data.
  std::span<const std::int64_t> label_offsets;
  std::span<const std::int32_t> label_ids;

  SparseDataView() = default;
  SparseDataView(const SparseDataset& d)  // NOLINT(google-explicit-constructor)
      : name(d.name), features(d.features), labels(d.labels), targets(d.targets), weights(d.weights),
        label_offsets(d.label_sets.offsets), label_ids(d.label_sets.ids) {}
  std::int64_t size() const { return features.rows; }
  bool is_classification() const { return targets.empty(); }
  bool is_multilabel() const { return !label_offsets.empty(); }
  // Row r's classes: its label set (multilabel data) or its one label.
  std::span<const std::int32_t> row_labels(std::int64_t r) const {
    const auto i = static_cast<std::size_t>(r);
    if (label_offsets.empty()) return labels.subspan(i, 1);
    return label_ids.subspan(static_cast<std::size_t>(label_offsets[i]),
                             static_cast<std::size_t>(label_offsets[i + 1] - label_offsets[i]));
  }
};

}  // namespace adakit::data
