#include "adakit/core/parameter.hpp"

#include <algorithm>
#include <atomic>
#include <numeric>

#include "adakit/core/error.hpp"

namespace adakit {
namespace {
std::atomic<std::uint64_t> next_id{1};
}

Parameter::Parameter(std::string name, Tensor value)
    : id_(next_id.fetch_add(1, std::memory_order_relaxed)),
      name_(std::move(name)),
      value_(std::move(value)),
      grad_(value_.shape(), 0.0f) {}

Parameter::Parameter(std::string name, Tensor value, Tensor grad)
    : id_(next_id.fetch_add(1, std::memory_order_relaxed)),
      name_(std::move(name)),
      value_(std::move(value)),
      grad_(std::move(grad)) {
  if (!grad_.empty() && grad_.shape() != value_.shape())
    throw UsageError("parameter '" + name_ + "': gradient of shape " + shape_to_string(grad_.shape()) +
                     " for a value of shape " + shape_to_string(value_.shape()));
}

std::int64_t Parameter::row_dim() const noexcept {
  return value_.rank() == 0 ? 1 : value_.shape().back();
}

void Parameter::zero_grad() noexcept {
  grad_.fill(0.0f);
  sparse_grad_.reset();
}

void coalesce_rows(std::span<const std::int64_t> indices, std::span<const float> values, std::int64_t dim,
                   std::int64_t rows, std::vector<std::int64_t>& unique_indices, std::vector<float>& summed) {
  if (dim <= 0) throw UsageError("row-sparse gradient: dim must be positive, got " + std::to_string(dim));
  const auto n = static_cast<std::int64_t>(indices.size());
  if (static_cast<std::int64_t>(values.size()) != n * dim)
    throw UsageError("row-sparse gradient: " + std::to_string(n) + " indices of dim " + std::to_string(dim) +
                     " need " + std::to_string(n * dim) + " values, got " + std::to_string(values.size()));
  for (std::int64_t i = 0; i < n; ++i) {
    if (indices[i] < 0 || indices[i] >= rows)
      throw UsageError("row-sparse gradient: index " + std::to_string(indices[i]) + " (position " +
                       std::to_string(i) + ") is out of range for a table of " + std::to_string(rows) + " rows");
  }
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return indices[a] < indices[b]; });
  unique_indices.clear();
  summed.clear();
  for (std::int64_t k = 0; k < n; ++k) {
    const auto src = order[static_cast<std::size_t>(k)];
    const float* row = values.data() + src * dim;
    if (unique_indices.empty() || unique_indices.back() != indices[src]) {
      unique_indices.push_back(indices[src]);
      summed.insert(summed.end(), row, row + dim);
    } else {
      float* dst = summed.data() + summed.size() - static_cast<std::size_t>(dim);
      for (std::int64_t j = 0; j < dim; ++j) dst[j] += row[j];
    }
  }
}

}  // namespace adakit
