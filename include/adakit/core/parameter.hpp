// Parameter: a trainable tensor with a stable id, a name, a dense gradient and an optional
// row-sparse gradient (for embedding-like tables). Optimizer state is keyed by id, never by address.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "adakit/core/tensor.hpp"

namespace adakit {

// Gradient touching only some rows of a row-major [rows x dim] table. Duplicate indices are allowed
// and mean "sum these rows" (as PyTorch's uncoalesced sparse tensors).
struct RowSparseGrad {
  std::vector<std::int64_t> indices;  // row ids, in [0, rows)
  std::vector<float> values;          // indices.size() * dim values, row-major
};

class Parameter {
 public:
  Parameter(std::string name, Tensor value);
  // With the gradient's storage given (e.g. both borrowed: Tensor::borrow over another library's
  // arrays, rebound with grad() = ... before each step). `grad` has value's shape, or is empty: no
  // dense gradient yet (a dense step then fails on the size until one is set; a row-sparse step
  // does not read it). UsageError on another shape.
  Parameter(std::string name, Tensor value, Tensor grad);
  Parameter(const Parameter&) = delete;  // an id names one parameter
  Parameter& operator=(const Parameter&) = delete;
  Parameter(Parameter&&) noexcept = default;
  Parameter& operator=(Parameter&&) noexcept = default;

  std::uint64_t id() const noexcept { return id_; }
  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  Tensor& value() noexcept { return value_; }
  const Tensor& value() const noexcept { return value_; }
  Tensor& grad() noexcept { return grad_; }
  const Tensor& grad() const noexcept { return grad_; }
  const Shape& shape() const noexcept { return value_.shape(); }
  std::int64_t numel() const noexcept { return value_.numel(); }

  // Rows of a [rows x dim] view: dim is the last dimension (1 for a vector).
  std::int64_t row_dim() const noexcept;

  std::optional<RowSparseGrad>& sparse_grad() noexcept { return sparse_grad_; }
  const std::optional<RowSparseGrad>& sparse_grad() const noexcept { return sparse_grad_; }
  bool has_sparse_grad() const noexcept { return sparse_grad_.has_value(); }

  bool requires_grad() const noexcept { return requires_grad_; }
  void set_requires_grad(bool on) noexcept { requires_grad_ = on; }

  // Zeros the dense gradient and drops the sparse one.
  void zero_grad() noexcept;

 private:
  std::uint64_t id_;
  std::string name_;
  Tensor value_;
  Tensor grad_;
  std::optional<RowSparseGrad> sparse_grad_;
  bool requires_grad_ = true;
};

// Sums duplicate rows of a row-sparse gradient: unique indices in ascending order and their summed
// rows. Throws UsageError when an index is outside [0, rows) or the value count is not indices*dim.
// The sum of a row's duplicates runs in position order (sort_row_positions, sum_rows_in_order), as do
// the optimizers' sparse steps, so both give the same bits.
void coalesce_rows(std::span<const std::int64_t> indices, std::span<const float> values, std::int64_t dim,
                   std::int64_t rows, std::vector<std::int64_t>& unique_indices, std::vector<float>& summed);

// The positions 0..n-1 of `indices` ordered by row, equal rows in position order (a stable sort): the
// order in which a row's duplicates are summed. UsageError naming the first index outside [0, rows).
// A radix sort of packed (row, position) keys; a comparison sort when the two don't fit in 64 bits.
void sort_row_positions(std::span<const std::int64_t> indices, std::int64_t rows, std::vector<std::int64_t>& order);

// out[0, dim) = the sum of the rows `positions` of `values` (row-major, dim floats a row), added in the
// order given; one position copies its row. `out` must not overlap `values`.
void sum_rows_in_order(std::span<const float> values, std::int64_t dim, std::span<const std::int64_t> positions,
                       float* out);

}  // namespace adakit
