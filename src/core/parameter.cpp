#include "adakit/core/parameter.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
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

namespace {

// LSD radix sort of packed keys (row << pos_bits | position) on the row bits only. Each pass is stable
// and the keys start in position order, so equal rows stay in position order.
void radix_sort_rows(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& tmp, int pos_bits, int row_bits) {
  constexpr int kMaxDigit = 11;  // at most 2048 counters (16 KiB): they stay in L1
  const int passes = (row_bits + kMaxDigit - 1) / kMaxDigit;
  const int digit = (row_bits + passes - 1) / passes;
  const std::uint64_t mask = (std::uint64_t{1} << digit) - 1;
  std::array<std::size_t, (1u << kMaxDigit) + 1> count{};
  tmp.resize(keys.size());
  for (int p = 0; p < passes; ++p) {
    const int shift = pos_bits + p * digit;
    std::fill(count.begin(), count.begin() + static_cast<std::ptrdiff_t>(mask + 2), std::size_t{0});
    for (const std::uint64_t k : keys) ++count[((k >> shift) & mask) + 1];
    if (count[((keys[0] >> shift) & mask) + 1] == keys.size()) continue;  // one digit value: nothing to move
    for (std::uint64_t d = 0; d <= mask; ++d) count[d + 1] += count[d];
    for (const std::uint64_t k : keys) tmp[count[(k >> shift) & mask]++] = k;
    keys.swap(tmp);
  }
}

[[noreturn]] void throw_index_out_of_range(std::span<const std::int64_t> indices, std::int64_t rows) {
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= rows)
      throw UsageError("row-sparse gradient: index " + std::to_string(indices[i]) + " (position " + std::to_string(i) +
                       ") is out of range for a table of " + std::to_string(rows) + " rows");
  }
  throw UsageError("row-sparse gradient: an index is out of range");  // not reached
}

}  // namespace

void sort_row_positions(std::span<const std::int64_t> indices, std::int64_t rows, std::vector<std::int64_t>& order) {
  const std::size_t n = indices.size();
  order.resize(n);
  if (n == 0) return;
  // Rows and positions packed in one word when they fit: the sort then moves 8 bytes a key and compares
  // nothing but integers. Range check fused with the packing (a negative index is a huge unsigned one).
  const int pos_bits = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(n - 1)));
  const int row_bits = rows > 0 ? static_cast<int>(std::bit_width(static_cast<std::uint64_t>(rows - 1))) : 0;
  if (pos_bits + row_bits > 64) {
    for (const std::int64_t r : indices)
      if (r < 0 || r >= rows) throw_index_out_of_range(indices, rows);
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return indices[static_cast<std::size_t>(a)] < indices[static_cast<std::size_t>(b)];
    });
    return;
  }
  thread_local std::vector<std::uint64_t> keys_scratch, tmp_scratch;
  std::vector<std::uint64_t>& keys = keys_scratch;
  // Indices already in non-decreasing order (the sparse linear models' gradients, grouped by feature)
  // are their own stable order: the sort would return 0, 1, ..., n - 1, whatever the table's size.
  bool ascending = static_cast<std::uint64_t>(indices[0]) < static_cast<std::uint64_t>(rows);
  for (std::size_t i = 1; i < n && ascending; ++i)
    ascending = indices[i] >= indices[i - 1] && indices[i] < rows;
  if (ascending) {
    std::iota(order.begin(), order.end(), std::int64_t{0});
    return;
  }
  keys.resize(n);
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<std::uint64_t>(indices[i]);
    bad |= static_cast<std::uint64_t>(r >= static_cast<std::uint64_t>(rows));
    keys[i] = r << pos_bits | i;
  }
  if (bad != 0 || rows <= 0) throw_index_out_of_range(indices, rows);
  // Keys are distinct (they hold the position), so any sort gives the stable order. A one-row table
  // (row_bits 0) needs none: the keys are already in position order.
  if (row_bits > 0 && n < 256) std::sort(keys.begin(), keys.end());
  else if (row_bits > 0) radix_sort_rows(keys, tmp_scratch, pos_bits, row_bits);
  const std::uint64_t pos_mask = pos_bits == 0 ? 0 : ~std::uint64_t{0} >> (64 - pos_bits);
  for (std::size_t k = 0; k < n; ++k) order[k] = static_cast<std::int64_t>(keys[k] & pos_mask);
}

void sum_rows_in_order(std::span<const float> values, std::int64_t dim, std::span<const std::int64_t> positions,
                       float* __restrict out) {
  if (positions.empty()) return;
  const float* first = values.data() + positions[0] * dim;
  std::copy(first, first + dim, out);
  for (std::size_t k = 1; k < positions.size(); ++k) {
    const float* __restrict row = values.data() + positions[k] * dim;
#pragma omp simd
    for (std::int64_t j = 0; j < dim; ++j) out[j] += row[j];
  }
}

void coalesce_rows(std::span<const std::int64_t> indices, std::span<const float> values, std::int64_t dim,
                   std::int64_t rows, std::vector<std::int64_t>& unique_indices, std::vector<float>& summed) {
  if (dim <= 0) throw UsageError("row-sparse gradient: dim must be positive, got " + std::to_string(dim));
  const auto count = static_cast<std::int64_t>(indices.size());
  if (static_cast<std::int64_t>(values.size()) != count * dim)
    throw UsageError("row-sparse gradient: " + std::to_string(count) + " indices of dim " + std::to_string(dim) +
                     " need " + std::to_string(count * dim) + " values, got " + std::to_string(values.size()));
  bool ascending = true;  // strictly: already coalesced (the sparse linear models' gradients)
  for (std::int64_t i = 0; i < count && ascending; ++i)
    ascending = indices[static_cast<std::size_t>(i)] >= 0 && indices[static_cast<std::size_t>(i)] < rows &&
                (i == 0 || indices[static_cast<std::size_t>(i)] > indices[static_cast<std::size_t>(i - 1)]);
  if (ascending) {  // what the sort below would return, without its work
    unique_indices.assign(indices.begin(), indices.end());
    summed.assign(values.begin(), values.end());
    return;
  }
  thread_local std::vector<std::int64_t> order_scratch;
  std::vector<std::int64_t>& order = order_scratch;
  sort_row_positions(indices, rows, order);
  unique_indices.clear();
  summed.clear();
  const std::size_t n = order.size();
  for (std::size_t k = 0; k < n;) {
    const std::int64_t row = indices[static_cast<std::size_t>(order[k])];
    std::size_t end = k + 1;
    while (end < n && indices[static_cast<std::size_t>(order[end])] == row) ++end;
    unique_indices.push_back(row);
    const std::size_t at = summed.size();
    summed.resize(at + static_cast<std::size_t>(dim));
    sum_rows_in_order(values, dim, std::span(order).subspan(k, end - k), summed.data() + at);
    k = end;
  }
}

}  // namespace adakit
