// Copies between two row-major float tables of the same number of rows and different strides: a model
// and its output slices (LinearModel::output_slice, put_output_slice), an optimizer's state and a
// slice's share of it (LinearOptimizer::slice_state, put_slice_state). Not installed.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "adakit/core/parallel.hpp"

namespace adakit::linear::detail {

// `count` floats at `from` in a source row go to `to` in the destination row.
struct ColumnCopy {
  std::int64_t from, to, count;
};

// For each of `rows` rows: every ColumnCopy of `columns`, src row r (r · src_stride floats in) to dst
// row r; with `zero_rest`, the destination row is zeroed first (a fresh table written once). The rows
// are split over the threads (parallel_for): bit copies, any split the same table, and each thread
// first-touches its share of a fresh table's pages.
inline void copy_columns(const float* src, std::int64_t src_stride, float* dst, std::int64_t dst_stride,
                         std::int64_t rows, std::span<const ColumnCopy> columns, bool zero_rest = false) {
  constexpr std::int64_t kGrain = 4096;  // rows a thread takes at least
  parallel_for(rows, kGrain, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      float* d = dst + r * dst_stride;
      const float* s = src + r * src_stride;
      if (zero_rest) std::fill(d, d + dst_stride, 0.0f);
      for (const ColumnCopy& c : columns)
        std::memcpy(d + c.to, s + c.from, static_cast<std::size_t>(c.count) * sizeof(float));
    }
  });
}

}  // namespace adakit::linear::detail
