#include "adakit/nn/kernels.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/logistic.hpp"
#include "adakit/core/parallel.hpp"
#include "util.hpp"

// Debian's cblas.h (OpenBLAS) declares these; another CBLAS header may not.
#ifndef OPENBLAS_THREAD
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
int openblas_get_parallel(void);
}
#endif

namespace adakit::nn {
namespace {

using detail::kParallelGrain;
using detail::min_items;

int blas_int(std::int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw UsageError(std::string("gemm: ") + what + " = " + std::to_string(v) + " is outside the BLAS int range");
  return static_cast<int>(v);
}

template <class Fn>
void elementwise(std::size_t n, Fn fn) {
  parallel_for(static_cast<std::int64_t>(n), kParallelGrain, [&](std::int64_t b, std::int64_t e) { fn(b, e); });
}

}  // namespace

// ---------------------------------------------------------------- BLAS

void sync_blas_threads() {
  // OpenBLAS runs each call on the calling thread; adakit's threads split the work (see gemm).
  static std::atomic<int> applied{-1};
  if (applied.exchange(1, std::memory_order_relaxed) != 1) openblas_set_num_threads(1);
}

namespace {

// How gemm splits its work, a function of (M, N, K) only: `blocks` pieces of `block` rows or columns
// of C, or of the inner dimension K (when C is too small to split and K is long, as a convolution's
// weight gradient: each piece then fills its own partial product, summed in a fixed order). Each
// piece is one single-threaded cblas_sgemm call, so results are bitwise identical for any thread
// count. (OpenBLAS's own threading blocks the K loop differently with one thread and with several.)
struct GemmPlan {
  enum class Axis { rows, cols, depth } axis = Axis::cols;
  std::int64_t blocks = 1, block = 0;
};

constexpr std::int64_t kGemmMaxBlocks = 16;
constexpr std::int64_t kGemmMinBlock = 64;          // rows or columns of C per piece
constexpr std::int64_t kGemmMinDepth = 2048;        // K per piece when splitting K
constexpr double kGemmMinFlopsPerBlock = 1 << 20;   // ~10 µs of work: more than a thread hand-off

std::int64_t power_of_two_at_most(std::int64_t limit) {
  std::int64_t n = 1;
  while (n * 2 <= limit) n *= 2;
  return n;
}

GemmPlan gemm_plan(std::int64_t M, std::int64_t N, std::int64_t K) {
  GemmPlan plan;
  plan.axis = M > N ? GemmPlan::Axis::rows : GemmPlan::Axis::cols;
  std::int64_t dim = std::max(M, N);
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const auto by_flops = static_cast<std::int64_t>(std::min(flops / kGemmMinFlopsPerBlock, 1e6));
  plan.blocks = power_of_two_at_most(std::min({kGemmMaxBlocks, dim / kGemmMinBlock, by_flops}));
  if (plan.blocks == 1) {
    const std::int64_t depth_blocks = power_of_two_at_most(std::min({kGemmMaxBlocks, K / kGemmMinDepth, by_flops}));
    if (depth_blocks > 1) {
      plan.axis = GemmPlan::Axis::depth;
      plan.blocks = depth_blocks;
      dim = K;
    }
  }
  plan.block = (dim + plan.blocks - 1) / plan.blocks;
  plan.blocks = (dim + plan.block - 1) / plan.block;
  return plan;
}

// Partial products of a depth split (grows, never shrinks; gemm runs on one thread at a time here).
thread_local std::vector<float> g_partials;

}  // namespace

void detail::gemm_one_call(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
                           const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
                           std::int64_t ldc) {
  if (M == 0 || N == 0 || K == 0) {
    gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);  // the edge cases
    return;
  }
  sync_blas_threads();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              blas_int(M, "M"), blas_int(N, "N"), blas_int(K, "K"), alpha, A, blas_int(lda, "lda"), B,
              blas_int(ldb, "ldb"), beta, C, blas_int(ldc, "ldc"));
}

void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
          const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
          std::int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C (BLAS would reject lda = 0)
    for (std::int64_t i = 0; i < M; ++i) {
      float* row = C + i * ldc;
      for (std::int64_t j = 0; j < N; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return;
  }
  (void)blas_int(M, "M"), (void)blas_int(N, "N"), (void)blas_int(K, "K");
  const int ia = blas_int(lda, "lda"), ib = blas_int(ldb, "ldb"), ic = blas_int(ldc, "ldc");
  sync_blas_threads();
  const GemmPlan plan = gemm_plan(M, N, K);
  const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  const auto m = static_cast<int>(M), n = static_cast<int>(N);
  float* partials = nullptr;
  if (plan.axis == GemmPlan::Axis::depth) {
    const auto need = static_cast<std::size_t>(plan.blocks * M * N);
    if (g_partials.size() < need) g_partials.resize(need);
    partials = g_partials.data();
  }
  auto piece = [&](std::int64_t k) {
    const std::int64_t begin = k * plan.block;
    switch (plan.axis) {
      case GemmPlan::Axis::rows: {  // rows [begin, begin + size) of op(A) and C
        const auto size = static_cast<int>(std::min(plan.block, M - begin));
        const float* a = trans_a ? A + begin : A + begin * lda;
        cblas_sgemm(CblasRowMajor, ta, tb, size, n, static_cast<int>(K), alpha, a, ia, B, ib, beta, C + begin * ldc, ic);
        break;
      }
      case GemmPlan::Axis::cols: {  // columns [begin, begin + size) of op(B) and C
        const auto size = static_cast<int>(std::min(plan.block, N - begin));
        const float* b = trans_b ? B + begin * ldb : B + begin;
        cblas_sgemm(CblasRowMajor, ta, tb, m, size, static_cast<int>(K), alpha, A, ia, b, ib, beta, C + begin, ic);
        break;
      }
      case GemmPlan::Axis::depth: {  // inner indices [begin, begin + size): partial k = op(A)[:, ..] op(B)[.., :]
        const auto size = static_cast<int>(std::min(plan.block, K - begin));
        const float* a = trans_a ? A + begin * lda : A + begin;
        const float* b = trans_b ? B + begin : B + begin * ldb;
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, size, 1.0f, a, ia, b, ib, 0.0f, partials + k * M * N, n);
        break;
      }
    }
  };
  const int threads = static_cast<int>(std::min<std::int64_t>(num_threads(), plan.blocks));
  if (threads <= 1 || omp_in_parallel()) {
    for (std::int64_t k = 0; k < plan.blocks; ++k) piece(k);
  } else {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t k = 0; k < plan.blocks; ++k) piece(k);
  }
  if (plan.axis != GemmPlan::Axis::depth) return;
  // C = alpha * (partial 0 + partial 1 + ...) + beta * C, always summed in piece order.
  for (std::int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    for (std::int64_t j = 0; j < N; ++j) {
      float sum = 0.0f;
      for (std::int64_t k = 0; k < plan.blocks; ++k) sum += partials[(k * M + i) * N + j];
      row[j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * row[j]);
    }
  }
}

std::string blas_info() {
  // The config string starts "OpenBLAS 0.3.21 ..." followed by build flags; keep name and version.
  const std::string config = openblas_get_config();
  std::string name = config;
  const auto first = config.find(' ');
  if (first != std::string::npos) name = config.substr(0, config.find(' ', first + 1));
  const int parallel = openblas_get_parallel();
  const char* build = parallel == 0 ? "sequential" : parallel == 2 ? "openmp" : "pthread";
  return name + " (" + build + " build, " + openblas_get_corename() + " kernels; GEMM split by adakit over " +
         std::to_string(num_threads()) + " threads)";
}

void parallel_items(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn) {
  if (n <= 0) return;
  const std::int64_t chunks = std::min<std::int64_t>(num_threads(), n / std::max<std::int64_t>(1, grain));
  if (chunks <= 1 || omp_in_parallel()) {
    fn(0, n);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel num_threads(static_cast<int>(chunks))
  {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const std::int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    try {
      if (begin < end) fn(begin, end);
    } catch (...) {
#pragma omp critical(adakit_nn_parallel_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// ---------------------------------------------------------------- convolution

namespace {
// Output columns ow in [lo, hi) read an input column inside [0, width) for kernel offset j.
void valid_range(const Conv2dGeometry& g, std::int64_t j, std::int64_t out_w, std::int64_t& lo, std::int64_t& hi) {
  const std::int64_t s = g.stride, shift = g.padding - j;  // iw = ow * s - shift
  lo = shift <= 0 ? 0 : (shift + s - 1) / s;
  const std::int64_t last = g.width - 1 + shift;  // ow * s <= last
  hi = last < 0 ? 0 : std::min(out_w, last / s + 1);
  lo = std::min(lo, hi);
}
}  // namespace

void im2col(const float* image, const Conv2dGeometry& g, float* cols, std::int64_t ld_cols) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), k = g.kernel, s = g.stride;
  for (std::int64_t c = 0; c < g.channels; ++c) {
    const float* plane = image + c * g.height * g.width;
    for (std::int64_t i = 0; i < k; ++i) {
      for (std::int64_t j = 0; j < k; ++j) {
        float* row = cols + ((c * k + i) * k + j) * ld_cols;
        std::int64_t lo, hi;
        valid_range(g, j, OW, lo, hi);
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          float* out = row + oh * OW;
          const std::int64_t ih = oh * s - g.padding + i;
          if (ih < 0 || ih >= g.height) {
            std::fill_n(out, OW, 0.0f);
            continue;
          }
          const float* src = plane + ih * g.width - g.padding + j;  // src[ow * s] = input column ow*s-p+j
          std::fill_n(out, lo, 0.0f);
          if (s == 1) {
            std::memcpy(out + lo, src + lo, static_cast<std::size_t>(hi - lo) * sizeof(float));
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) out[ow] = src[ow * s];
          }
          std::fill(out + hi, out + OW, 0.0f);
        }
      }
    }
  }
}

void col2im(const float* cols, const Conv2dGeometry& g, std::int64_t ld_cols, float* image) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), k = g.kernel, s = g.stride;
  for (std::int64_t c = 0; c < g.channels; ++c) {
    float* plane = image + c * g.height * g.width;
    for (std::int64_t i = 0; i < k; ++i) {
      for (std::int64_t j = 0; j < k; ++j) {
        const float* row = cols + ((c * k + i) * k + j) * ld_cols;
        std::int64_t lo, hi;
        valid_range(g, j, OW, lo, hi);
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const std::int64_t ih = oh * s - g.padding + i;
          if (ih < 0 || ih >= g.height) continue;
          const float* in = row + oh * OW;
          float* dst = plane + ih * g.width - g.padding + j;
          if (s == 1) {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow] += in[ow];
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dst[ow * s] += in[ow];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- pooling

namespace {
// Planes per parallel chunk: enough work to cover the OpenMP start-up.
std::int64_t plane_grain(const Pool2dGeometry& g) { return min_items(g.plane()); }
}  // namespace

// Max pooling without data-dependent branches (random data mispredicts about half of them, which made
// the branchy loop 3-5x slower): the maximum through std::max (a max instruction), the first position
// equal to it through integer arithmetic on comparison results, NaN propagated through the bits.
void max_pool2d_forward(const float* x, std::int64_t planes, const Pool2dGeometry& g, float* y, std::int32_t* argmax) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), W = g.width, k = g.kernel, s = g.stride;
  const auto W32 = static_cast<std::int32_t>(W);
  parallel_items(planes, plane_grain(g), [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * g.plane();
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        float* __restrict out = y + p * g.out_plane() + oh * OW;
        std::int32_t* __restrict arg = argmax + p * g.out_plane() + oh * OW;
        const auto origin = static_cast<std::int32_t>(oh * s * W);
        if (k == 2 && s == 2) {
          const float* __restrict r0 = in + oh * s * W;
          const float* __restrict r1 = r0 + W;
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            const float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            const float m = std::max(std::max(a, b), std::max(c, d));
            const std::int32_t nan = (a != a) | (b != b) | (c != c) | (d != d);
            const std::int32_t not_a = a != m, not_b = b != m, not_c = c != m;
            const std::int32_t offset = not_a * (1 + not_b * (W32 - 1 + not_c));  // 0, 1, W or W + 1
            out[ow] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(m) | (static_cast<std::uint32_t>(-nan) & 0x7FC00000u));
            arg[ow] = origin + static_cast<std::int32_t>(2 * ow) + offset;
          }
          continue;
        }
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const float* w = in + oh * s * W + ow * s;
          float m = w[0];
          std::int32_t nan = 0;
          for (std::int64_t i = 0; i < k; ++i)
            for (std::int64_t j = 0; j < k; ++j) {
              const float v = w[i * W + j];
              m = std::max(m, v);
              nan |= v != v;
            }
          std::int32_t found = 0, offset = 0;  // the first position holding m (ties: first wins, as PyTorch)
          for (std::int64_t i = 0; i < k; ++i)
            for (std::int64_t j = 0; j < k; ++j) {
              const std::int32_t hit = (w[i * W + j] == m) & (1 - found);
              offset += hit * static_cast<std::int32_t>(i * W + j);
              found |= hit;
            }
          out[ow] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(m) | (static_cast<std::uint32_t>(-nan) & 0x7FC00000u));
          arg[ow] = origin + static_cast<std::int32_t>(ow * s) + offset;
        }
      }
    }
  });
}

void max_pool2d_backward(const float* dy, const std::int32_t* argmax, std::int64_t planes, const Pool2dGeometry& g,
                         float* dx) {
  parallel_items(planes, plane_grain(g), [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p) {
      float* out = dx + p * g.plane();
      std::fill_n(out, g.plane(), 0.0f);
      const float* grad = dy + p * g.out_plane();
      const std::int32_t* arg = argmax + p * g.out_plane();
      for (std::int64_t o = 0; o < g.out_plane(); ++o) out[arg[o]] += grad[o];
    }
  });
}

void avg_pool2d_forward(const float* x, std::int64_t planes, const Pool2dGeometry& g, float* y) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), W = g.width, k = g.kernel, s = g.stride;
  const float scale = 1.0f / static_cast<float>(k * k);
  parallel_items(planes, plane_grain(g), [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * g.plane();
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        float* out = y + p * g.out_plane() + oh * OW;
        std::fill_n(out, OW, 0.0f);
        for (std::int64_t i = 0; i < k; ++i)
          for (std::int64_t j = 0; j < k; ++j) {
            const float* r = in + (oh * s + i) * W + j;
            for (std::int64_t ow = 0; ow < OW; ++ow) out[ow] += r[ow * s];
          }
        for (std::int64_t ow = 0; ow < OW; ++ow) out[ow] *= scale;
      }
    }
  });
}

void avg_pool2d_backward(const float* dy, std::int64_t planes, const Pool2dGeometry& g, float* dx) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), W = g.width, k = g.kernel, s = g.stride;
  const float scale = 1.0f / static_cast<float>(k * k);
  parallel_items(planes, plane_grain(g), [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p) {
      float* out = dx + p * g.plane();
      std::fill_n(out, g.plane(), 0.0f);
      const float* grad = dy + p * g.out_plane();
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          const float v = grad[oh * OW + ow] * scale;
          for (std::int64_t i = 0; i < k; ++i) {
            float* r = out + (oh * s + i) * W + ow * s;
            for (std::int64_t j = 0; j < k; ++j) r[j] += v;
          }
        }
      }
    }
  });
}

// ---------------------------------------------------------------- elementwise

void relu_forward(std::span<const float> x, std::span<float> y) {
  elementwise(x.size(), [&](std::int64_t b, std::int64_t e) {
    const float* in = x.data();
    float* out = y.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
  });
}

void relu_backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx) {
  elementwise(x.size(), [&](std::int64_t b, std::int64_t e) {
    const float* in = x.data();
    const float* g = dy.data();
    float* out = dx.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) out[i] = in[i] > 0.0f ? g[i] : 0.0f;
  });
}

void tanh_forward(std::span<const float> x, std::span<float> y) {
  elementwise(x.size(), [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) y[static_cast<std::size_t>(i)] = std::tanh(x[static_cast<std::size_t>(i)]);
  });
}

void tanh_backward(std::span<const float> y, std::span<const float> dy, std::span<float> dx) {
  elementwise(y.size(), [&](std::int64_t b, std::int64_t e) {
    const float* out = y.data();
    const float* g = dy.data();
    float* d = dx.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) d[i] = g[i] * (1.0f - out[i] * out[i]);
  });
}

void sigmoid_forward(std::span<const float> x, std::span<float> y) {
  elementwise(x.size(), [&](std::int64_t b, std::int64_t e) {
    const float* in = x.data();
    float* out = y.data();
    for (std::int64_t i = b; i < e; ++i) out[i] = sigmoid_direct(in[i]);
  });
}

void sigmoid_backward(std::span<const float> y, std::span<const float> dy, std::span<float> dx) {
  elementwise(y.size(), [&](std::int64_t b, std::int64_t e) {
    const float* out = y.data();
    const float* g = dy.data();
    float* d = dx.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) d[i] = g[i] * out[i] * (1.0f - out[i]);
  });
}

void mul_elementwise(std::span<const float> in, std::span<const float> mask, std::span<float> out) {
  elementwise(in.size(), [&](std::int64_t b, std::int64_t e) {
    const float* a = in.data();
    const float* m = mask.data();
    float* o = out.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) o[i] = a[i] * m[i];
  });
}

// ---------------------------------------------------------------- bias

void bias_add_rows(float* y, const float* bias, std::int64_t rows, std::int64_t cols) {
  parallel_items(rows, min_items(cols),
               [&](std::int64_t r0, std::int64_t r1) {
                 for (std::int64_t r = r0; r < r1; ++r) {
                   float* row = y + r * cols;
#pragma omp simd
                   for (std::int64_t c = 0; c < cols; ++c) row[c] += bias[c];
                 }
               });
}

void bias_grad_rows(const float* dy, std::int64_t rows, std::int64_t cols, float* dbias) {
  // Split over columns so that each sum has one fixed order, whatever the thread count.
  parallel_for(cols, std::max<std::int64_t>(16, min_items(rows)),
               [&](std::int64_t c0, std::int64_t c1) {
                 for (std::int64_t r = 0; r < rows; ++r) {
                   const float* row = dy + r * cols;
#pragma omp simd
                   for (std::int64_t c = c0; c < c1; ++c) dbias[c] += row[c];
                 }
               });
}

void bias_add_planes(float* y, const float* bias, std::int64_t batch, std::int64_t channels, std::int64_t plane) {
  parallel_items(batch * channels, min_items(plane),
               [&](std::int64_t q0, std::int64_t q1) {
                 for (std::int64_t q = q0; q < q1; ++q) {
                   float* p = y + q * plane;
                   const float b = bias[q % channels];
#pragma omp simd
                   for (std::int64_t i = 0; i < plane; ++i) p[i] += b;
                 }
               });
}

void bias_grad_planes(const float* dy, std::int64_t batch, std::int64_t channels, std::int64_t plane, float* dbias) {
  parallel_items(channels, min_items(batch * plane), [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      double sum = 0.0;
      for (std::int64_t b = 0; b < batch; ++b) {
        const float* p = dy + (b * channels + c) * plane;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (std::int64_t i = 0; i < plane; ++i) s += p[i];
        sum += s;
      }
      dbias[c] += static_cast<float>(sum);
    }
  });
}

// ---------------------------------------------------------------- softmax

namespace {
float row_max(const float* in, std::int64_t cols) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::int64_t c = 0; c < cols; ++c) m = std::max(m, in[c]);
  return m;
}
}  // namespace

void softmax_rows(const float* x, std::int64_t rows, std::int64_t cols, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    const float m = row_max(in, cols);
    double sum = 0.0;
    for (std::int64_t c = 0; c < cols; ++c) {
      out[c] = std::exp(in[c] - m);
      sum += out[c];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (std::int64_t c = 0; c < cols; ++c) out[c] *= inv;
  }
}

void log_softmax_rows(const float* x, std::int64_t rows, std::int64_t cols, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    const float shift = shifted_exp_sum<float>({in, static_cast<std::size_t>(cols)}).log_sum_exp();
    for (std::int64_t c = 0; c < cols; ++c) out[c] = in[c] - shift;
  }
}

}  // namespace adakit::nn
