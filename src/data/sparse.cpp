// CsrMatrix and SparseDataset: building rows, canonical form, row selection.
#include "adakit/data/sparse.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"

namespace adakit::data {
namespace {

std::size_t z(std::int64_t i) { return static_cast<std::size_t>(i); }

// Sorts the entries [begin, end) of indices/values by index (stable) and sums runs of equal indices,
// writing the result from `out` on (out <= begin). Drops a sum of zero when `drop_zeros`.
// Returns the new end.
std::int64_t sort_and_sum(std::vector<std::int32_t>& indices, std::vector<float>& values, std::int64_t begin,
                          std::int64_t end, std::int64_t out, bool drop_zeros) {
  const std::int64_t n = end - begin;
  std::vector<std::int64_t> order(z(n));
  std::iota(order.begin(), order.end(), begin);
  bool sorted = true;
  for (std::int64_t i = begin + 1; i < end && sorted; ++i) sorted = indices[z(i - 1)] < indices[z(i)];
  if (!sorted)
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return indices[z(a)] < indices[z(b)]; });
  std::vector<std::int32_t> idx(z(n));
  std::vector<float> val(z(n));
  for (std::int64_t i = 0; i < n; ++i) {
    idx[z(i)] = indices[z(order[z(i)])];
    val[z(i)] = values[z(order[z(i)])];
  }
  for (std::int64_t i = 0; i < n;) {
    std::int64_t j = i;
    double sum = 0.0;
    for (; j < n && idx[z(j)] == idx[z(i)]; ++j) sum += val[z(j)];
    const bool keep = !drop_zeros || sum != 0.0;
    if (keep) {
      indices[z(out)] = idx[z(i)];
      // A single entry keeps its exact value (including -0.0 and NaN); sums go through double.
      values[z(out)] = j - i == 1 ? val[z(i)] : static_cast<float>(sum);
      ++out;
    }
    i = j;
  }
  return out;
}

}  // namespace

void CsrMatrix::add_row(std::span<const std::int32_t> idx, std::span<const float> val) {
  if (idx.size() != val.size())
    throw UsageError("add_row: " + std::to_string(idx.size()) + " indices but " + std::to_string(val.size()) +
                     " values");
  for (auto i : idx)
    if (i < 0 || i >= cols)
      throw UsageError("add_row: column " + std::to_string(i) + " outside [0, " + std::to_string(cols) + ")");
  if (indptr.empty()) indptr.push_back(0);
  const auto begin = static_cast<std::int64_t>(indices.size());
  indices.insert(indices.end(), idx.begin(), idx.end());
  values.insert(values.end(), val.begin(), val.end());
  const std::int64_t end = sort_and_sum(indices, values, begin, begin + static_cast<std::int64_t>(idx.size()), begin,
                                        /*drop_zeros=*/true);
  indices.resize(z(end));
  values.resize(z(end));
  indptr.push_back(end);
  ++rows;
}

void CsrMatrix::canonicalize() {
  validate();
  std::int64_t out = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t begin = indptr[z(r)], end = indptr[z(r) + 1];
    indptr[z(r)] = out;
    out = sort_and_sum(indices, values, begin, end, out, /*drop_zeros=*/false);
  }
  indptr[z(rows)] = out;
  indices.resize(z(out));
  values.resize(z(out));
}

bool CsrMatrix::is_canonical() const {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = indptr[z(r)] + 1; k < indptr[z(r) + 1]; ++k)
      if (indices[z(k - 1)] >= indices[z(k)]) return false;
  return true;
}

CsrMatrix CsrMatrix::select_rows(std::span<const std::int64_t> which) const {
  validate();
  for (auto r : which)
    if (r < 0 || r >= rows)
      throw UsageError("select_rows: row " + std::to_string(r) + " outside [0, " + std::to_string(rows) + ")");
  CsrMatrix out;
  out.rows = static_cast<std::int64_t>(which.size());
  out.cols = cols;
  out.indptr.reserve(which.size() + 1);
  std::int64_t total = 0;
  for (auto r : which) total += indptr[z(r) + 1] - indptr[z(r)];
  out.indices.reserve(z(total));
  out.values.reserve(z(total));
  for (auto r : which) {
    const auto b = static_cast<std::ptrdiff_t>(indptr[z(r)]), e = static_cast<std::ptrdiff_t>(indptr[z(r) + 1]);
    out.indices.insert(out.indices.end(), indices.begin() + b, indices.begin() + e);
    out.values.insert(out.values.end(), values.begin() + b, values.begin() + e);
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
  }
  return out;
}

void CsrMatrix::validate() const {
  if (rows < 0 || cols < 0)
    throw UsageError("CsrMatrix: negative shape " + std::to_string(rows) + " x " + std::to_string(cols));
  if (indptr.size() != z(rows) + 1)
    throw UsageError("CsrMatrix: indptr has " + std::to_string(indptr.size()) +
                     " entries, expected rows + 1 = " + std::to_string(rows + 1));
  if (indices.size() != values.size())
    throw UsageError("CsrMatrix: " + std::to_string(indices.size()) + " indices but " + std::to_string(values.size()) +
                     " values");
  if (indptr.front() != 0) throw UsageError("CsrMatrix: indptr[0] is " + std::to_string(indptr.front()) + ", not 0");
  for (std::int64_t r = 0; r < rows; ++r)
    if (indptr[z(r) + 1] < indptr[z(r)]) throw UsageError("CsrMatrix: indptr decreases at row " + std::to_string(r));
  if (indptr.back() != nnz())
    throw UsageError("CsrMatrix: indptr ends at " + std::to_string(indptr.back()) + " but there are " +
                     std::to_string(nnz()) + " entries");
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = indptr[z(r)]; k < indptr[z(r) + 1]; ++k)
      if (indices[z(k)] < 0 || indices[z(k)] >= cols)
        throw UsageError("CsrMatrix: row " + std::to_string(r) + " has column " + std::to_string(indices[z(k)]) +
                         " outside [0, " + std::to_string(cols) + ")");
}

void CsrView::validate() const {
  if (rows < 0 || cols < 0)
    throw UsageError("CSR view: negative shape " + std::to_string(rows) + " x " + std::to_string(cols));
  const std::size_t n_ptr = indptr32.empty() ? indptr.size() : indptr32.size();
  if (!indptr.empty() && !indptr32.empty()) throw UsageError("CSR view: both an int64 and an int32 indptr");
  if (n_ptr != z(rows) + 1)
    throw UsageError("CSR view: indptr has " + std::to_string(n_ptr) + " entries, expected rows + 1 = " +
                     std::to_string(rows + 1));
  if (indices.size() != values.size())
    throw UsageError("CSR view: " + std::to_string(indices.size()) + " indices but " + std::to_string(values.size()) +
                     " values");
  if (row_begin(0) != 0) throw UsageError("CSR view: indptr[0] is " + std::to_string(row_begin(0)) + ", not 0");
  for (std::int64_t r = 0; r < rows; ++r)
    if (row_begin(r + 1) < row_begin(r)) throw UsageError("CSR view: indptr decreases at row " + std::to_string(r));
  if (row_begin(rows) != nnz())
    throw UsageError("CSR view: indptr ends at " + std::to_string(row_begin(rows)) + " but there are " +
                     std::to_string(nnz()) + " entries");
  for (std::int64_t r = 0; r < rows; ++r)
    for (const auto c : row_indices(r))
      if (c < 0 || c >= cols)
        throw UsageError("CSR view: row " + std::to_string(r) + " has column " + std::to_string(c) + " outside [0, " +
                         std::to_string(cols) + ")");
}

Tensor CsrMatrix::to_dense() const {
  validate();
  Tensor out({rows, cols});
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = indptr[z(r)]; k < indptr[z(r) + 1]; ++k) out[r * cols + indices[z(k)]] += values[z(k)];
  return out;
}

SparseDataset SparseDataset::subset(std::span<const std::int64_t> which) const {
  const std::int64_t n = size();
  if (is_classification() ? static_cast<std::int64_t>(labels.size()) != n
                          : static_cast<std::int64_t>(targets.size()) != n)
    throw UsageError("subset: dataset '" + name + "' has " + std::to_string(n) + " rows but " +
                     std::to_string(is_classification() ? labels.size() : targets.size()) +
                     (is_classification() ? " labels" : " targets"));
  SparseDataset out;
  out.name = name;
  out.class_names = class_names;
  out.features = features.select_rows(which);
  if (is_classification()) {
    out.labels.reserve(which.size());
    for (auto r : which) out.labels.push_back(labels[z(r)]);
  } else {
    out.targets.reserve(which.size());
    for (auto r : which) out.targets.push_back(targets[z(r)]);
  }
  if (!weights.empty()) {
    if (static_cast<std::int64_t>(weights.size()) != n)
      throw UsageError("subset: dataset '" + name + "' has " + std::to_string(n) + " rows but " +
                       std::to_string(weights.size()) + " weights");
    out.weights.reserve(which.size());
    for (auto r : which) out.weights.push_back(weights[z(r)]);
  }
  if (!label_sets.empty()) {
    if (label_sets.rows() != n)
      throw UsageError("subset: dataset '" + name + "' has " + std::to_string(n) + " rows but " +
                       std::to_string(label_sets.rows()) + " label sets");
    out.label_sets = label_sets.subset(which);
  }
  return out;
}

void LabelSets::add_row(std::span<const std::int32_t> classes) {
  if (offsets.empty()) offsets.push_back(0);
  const auto begin = static_cast<std::ptrdiff_t>(ids.size());
  ids.insert(ids.end(), classes.begin(), classes.end());
  std::sort(ids.begin() + begin, ids.end());
  ids.erase(std::unique(ids.begin() + begin, ids.end()), ids.end());
  offsets.push_back(static_cast<std::int64_t>(ids.size()));
}

void LabelSets::add_rows(std::span<const std::int32_t> classes, std::span<const std::size_t> ends,
                         std::vector<std::int32_t>& first) {
  for (std::size_t i = 0, begin = 0; i < ends.size(); begin = ends[i++]) {
    add_row(classes.subspan(begin, ends[i] - begin));
    first.push_back(row(rows() - 1).front());
  }
}

void LabelSets::renumber(std::span<const std::int32_t> new_id, std::vector<std::int32_t>& first) {
  if (static_cast<std::int64_t>(first.size()) != rows())
    throw UsageError("label sets: " + std::to_string(first.size()) + " first labels for " + std::to_string(rows()) + " rows");
  std::vector<std::int32_t> mapped;
  mapped.reserve(ids.size());
  for (const std::int32_t c : ids) {
    if (c < 0 || static_cast<std::size_t>(c) >= new_id.size())
      throw UsageError("label sets: class " + std::to_string(c) + " has no new id");
    mapped.push_back(new_id[static_cast<std::size_t>(c)]);
  }
  std::vector<std::size_t> ends(offsets.begin() + 1, offsets.end());
  *this = {};
  first.clear();
  add_rows(mapped, ends, first);
}

LabelSets LabelSets::subset(std::span<const std::int64_t> which) const {
  LabelSets out;
  out.offsets.reserve(which.size() + 1);
  out.offsets.push_back(0);
  for (const auto r : which) {
    if (r < 0 || r >= rows())
      throw UsageError("subset: row " + std::to_string(r) + " is outside the " + std::to_string(rows()) + " label sets");
    const auto classes = row(r);
    out.ids.insert(out.ids.end(), classes.begin(), classes.end());
    out.offsets.push_back(static_cast<std::int64_t>(out.ids.size()));
  }
  return out;
}

void check_weights(std::span<const float> weights, std::int64_t rows, const std::string& source) {
  if (weights.empty()) return;
  if (static_cast<std::int64_t>(weights.size()) != rows)
    throw UsageError(std::to_string(weights.size()) + " weights for " + std::to_string(rows) + " rows",
                     {source, 0, "weight"});
  for (std::size_t r = 0; r < weights.size(); ++r)
    if (!std::isfinite(weights[r]) || weights[r] < 0.0f)
      throw UsageError("weight " + format_printf("%g", static_cast<double>(weights[r])) + " is not a finite number >= 0",
                       {source, static_cast<std::int64_t>(r) + 1, "weight"});
}

}  // namespace adakit::data
