// Private helpers of src/nn: buffer sizing and shape checks.
#pragma once
#include <cstdint>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/tensor.hpp"

namespace adakit::nn::detail {

// Least work (float operations, roughly) worth handing to one more thread: an OpenMP fork/join costs
// a few µs, and small models (the digits ConvNet, iris) run faster on one thread than split finely.
inline constexpr std::int64_t kParallelGrain = 1 << 16;

// Items per thread chunk so that each chunk does at least kParallelGrain work of `work_per_item`.
inline std::int64_t min_items(std::int64_t work_per_item) {
  return work_per_item <= 0 ? kParallelGrain : (kParallelGrain + work_per_item - 1) / work_per_item;
}

// The same for GEMM-like work counted in flops: at least ~1 Mflop (~10-20 µs) per chunk.
inline constexpr std::int64_t kParallelFlops = 1 << 20;
inline std::int64_t min_items_for_flops(std::int64_t flops_per_item) {
  return flops_per_item <= 0 ? kParallelFlops : (kParallelFlops + flops_per_item - 1) / flops_per_item;
}

// Gives t the shape, reallocating only when the element count changes.
inline void ensure_shape(Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return;
  if (t.numel() == shape_numel(shape) && t.data() != nullptr) {
    t.reshape(shape);
  } else {
    t = Tensor(shape);
  }
}

// A flat scratch buffer of at least n elements (grows, never shrinks).
inline float* scratch(Tensor& t, std::int64_t n) {
  if (t.numel() < n) t = Tensor({n});
  return t.data();
}

// x's shape without its batch dimension; UsageError when x has none.
inline Shape sample_shape(const Tensor& x, const char* layer) {
  if (x.rank() == 0)
    throw UsageError(std::string(layer) + ": input needs a batch dimension, got a scalar");
  return Shape(x.shape().begin() + 1, x.shape().end());
}

// One cblas_sgemm call on the calling thread (no split): for GEMMs made per sample inside a
// parallel loop. Deterministic like gemm(): the call never depends on the thread count.
void gemm_one_call(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                   const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                   std::int64_t ldc);

// [batch, ...sample]
inline Shape with_batch(std::int64_t batch, const Shape& sample) {
  Shape s;
  s.reserve(sample.size() + 1);
  s.push_back(batch);
  s.insert(s.end(), sample.begin(), sample.end());
  return s;
}

inline void check_same_shape(const Tensor& a, const Tensor& b, const char* what_a, const char* what_b,
                             const char* where) {
  if (a.shape() != b.shape())
    throw UsageError(std::string(where) + ": " + what_a + " " + shape_to_string(a.shape()) + " and " + what_b +
                     " " + shape_to_string(b.shape()) + " differ");
}

}  // namespace adakit::nn::detail
