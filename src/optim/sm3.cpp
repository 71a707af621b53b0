#include "adakit/optim/sm3.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "adakit/core/parallel.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void Sm3Options::validate() const {
  require_finite_nonnegative("sm3", "lr", lr);
  require_in_range("sm3", "momentum", momentum, 0.0, 1.0, false);
  require_finite_nonnegative("sm3", "eps", eps);
}

namespace {

Shape cover_shape(const Shape& shape) { return shape.empty() ? Shape{1} : shape; }

// One row of the last axis: ν = min(row_min, μ_last[j]) + g², the new μ_last (max into `next`),
// the update. Returns the row's max ν (for the leading axes' accumulators).
template <bool kMomentum>
float sm3_row(float* __restrict p, const float* __restrict g, float* __restrict m, const float* __restrict last,
              float* __restrict next, std::int64_t n, float row_min, float lr, float eps, float beta, float one_minus_beta) {
  constexpr float kTiny = std::numeric_limits<float>::min();
  float row_max = 0.0f;
#pragma omp simd reduction(max : row_max)
  for (std::int64_t j = 0; j < n; ++j) {
    // Values, not std::min/max (their references to row_min or last[j] keep GCC 12 from vectorising).
    const float lj = last[j], gj = g[j], prev = next[j];
    const float nu = (lj < row_min ? lj : row_min) + gj * gj;
    next[j] = prev < nu ? nu : prev;
    row_max = row_max < nu ? nu : row_max;
    // ν + eps == 0 only where g == 0 (ν >= g²): the floor then gives 0 / tiny = 0, without a branch.
    const float d = nu + eps;
    float u = gj / std::sqrt(d > kTiny ? d : kTiny);
    if constexpr (kMomentum) {
      u = beta * m[j] + one_minus_beta * u;
      m[j] = u;
    }
    p[j] -= lr * u;
  }
  return row_max;
}

}  // namespace

void sm3_step(std::span<float> param, std::span<const float> grad, const Shape& shape,
              std::span<const std::span<float>> acc, std::span<float> momentum_buffer, const Sm3Options& o,
              std::int64_t step) {
  detail::check_same_size("sm3_step", "grad", grad.size(), param.size());
  detail::check_step("sm3_step", step);
  const Shape dims = cover_shape(shape);
  if (shape_numel(dims) != static_cast<std::int64_t>(param.size()))
    throw UsageError("sm3_step: shape " + shape_to_string(shape) + " does not match the parameter's size");
  const std::size_t k = dims.size();
  if (acc.size() != k) throw UsageError("sm3_step: needs one accumulator per axis");
  for (std::size_t a = 0; a < k; ++a)
    detail::check_same_size("sm3_step", "accumulator", acc[a].size(), static_cast<std::size_t>(dims[a]));
  const bool momentum = o.momentum > 0.0;
  if (momentum) detail::check_same_size("sm3_step", "momentum_buffer", momentum_buffer.size(), param.size());

  // [rows x cols] with cols the last axis; a row's index along each leading axis by an odometer.
  const std::int64_t cols = dims.back(), rows = static_cast<std::int64_t>(param.size()) / std::max<std::int64_t>(cols, 1);
  if (rows * cols == 0) return;
  std::vector<std::int64_t> acc_offset(k + 1, 0);  // accumulators side by side in one array
  for (std::size_t a = 0; a < k; ++a) acc_offset[a + 1] = acc_offset[a] + dims[a];
  std::vector<float> merged(static_cast<std::size_t>(acc_offset[k]), 0.0f);
  std::mutex merge_mutex;
  const auto lr = static_cast<float>(o.lr), eps = static_cast<float>(o.eps);
  const auto beta = static_cast<float>(o.momentum), one_minus_beta = static_cast<float>(1.0 - o.momentum);
  const float* last = acc[k - 1].data();

  parallel_for(rows, std::max<std::int64_t>(1, detail::kGrain / cols), [&](std::int64_t r0, std::int64_t r1) {
    // New accumulators of this chunk, merged by max (exact and order-free: any split gives the same).
    std::vector<float> part(merged.size(), 0.0f);
    float* part_last = part.data() + acc_offset[k - 1];
    std::vector<std::int64_t> idx(k, 0);
    std::int64_t rem = r0;  // row r0's indices along the leading axes
    for (std::int64_t a = static_cast<std::int64_t>(k) - 2; a >= 0; --a) {
      idx[static_cast<std::size_t>(a)] = rem % dims[static_cast<std::size_t>(a)];
      rem /= dims[static_cast<std::size_t>(a)];
    }
    for (std::int64_t r = r0; r < r1; ++r) {
      float row_min = std::numeric_limits<float>::infinity();
      for (std::size_t a = 0; a + 1 < k; ++a) row_min = std::min(row_min, acc[a][static_cast<std::size_t>(idx[a])]);
      const auto off = static_cast<std::size_t>(r * cols);
      float* m = momentum ? momentum_buffer.data() + off : nullptr;
      const float row_max =
          momentum ? sm3_row<true>(param.data() + off, grad.data() + off, m, last, part_last, cols, row_min, lr, eps, beta,
                                   one_minus_beta)
                   : sm3_row<false>(param.data() + off, grad.data() + off, m, last, part_last, cols, row_min, lr, eps,
                                    beta, one_minus_beta);
      for (std::size_t a = 0; a + 1 < k; ++a) {
        float& slot = part[static_cast<std::size_t>(acc_offset[a] + idx[a])];
        slot = std::max(slot, row_max);
      }
      for (std::int64_t a = static_cast<std::int64_t>(k) - 2; a >= 0; --a) {  // next row's indices
        auto& i = idx[static_cast<std::size_t>(a)];
        if (++i < dims[static_cast<std::size_t>(a)]) break;
        i = 0;
      }
    }
    std::lock_guard<std::mutex> lock(merge_mutex);
    for (std::size_t i = 0; i < merged.size(); ++i) merged[i] = std::max(merged[i], part[i]);
  });
  for (std::size_t a = 0; a < k; ++a)
    std::copy_n(merged.data() + acc_offset[a], dims[a], acc[a].data());
}

std::span<const Field<Sm3Options>> Sm3Rule::fields() {
  using O = Sm3Options;
  static const std::array<Field<O>, 3> table{{
      {"lr", &O::lr, "learning rate"},
      {"momentum", &O::momentum, "momentum factor"},
      {"eps", &O::eps, "added to the denominator"},
  }};
  return table;
}

std::vector<BufferSpec> Sm3Rule::state_spec(const Options& o, const Shape& shape) {
  const Shape dims = cover_shape(shape);
  std::vector<BufferSpec> out;
  for (std::size_t a = 0; a < dims.size(); ++a) out.push_back({"acc_" + std::to_string(a), {dims[a]}, 0.0f});
  if (o.momentum > 0.0) out.push_back({"momentum_buffer", shape, 0.0f});
  return out;
}

void Sm3Rule::step(const Options& o, const TensorStep& s) {
  const std::size_t k = cover_shape(s.shape).size();
  sm3_step(s.param, s.grad, s.shape, s.state.subspan(0, k), o.momentum > 0.0 ? s.state[k] : std::span<float>{}, o,
           s.step);
}

}  // namespace adakit::optim
