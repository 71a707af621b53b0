#include "adakit/nn/kernels.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <string>

#include "adakit/core/error.hpp"
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

// How gemm splits C: `blocks` pieces of `block` rows (split_rows) or columns, a function of the
// sizes only. Each piece is one single-threaded cblas_sgemm call, so every element of C is computed
// by the same call whatever the thread count: results are bitwise identical for any thread count.
// (OpenBLAS's own threading blocks the K loop differently with one thread and with several.)
struct GemmPlan {
  bool split_rows = false;
  std::int64_t blocks = 1, block = 0;
};

constexpr std::int64_t kGemmMaxBlocks = 16;
constexpr std::int64_t kGemmMinBlock = 32;          // rows or columns per piece
constexpr double kGemmMinFlopsPerBlock = 1 << 20;   // ~10 µs of work: more than a thread hand-off

GemmPlan gemm_plan(std::int64_t M, std::int64_t N, std::int64_t K) {
  GemmPlan plan;
  plan.split_rows = M > N;
  const std::int64_t dim = plan.split_rows ? M : N;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const auto by_flops = static_cast<std::int64_t>(std::min(flops / kGemmMinFlopsPerBlock, 1e6));
  const std::int64_t limit = std::min({kGemmMaxBlocks, dim / kGemmMinBlock, by_flops});
  while (plan.blocks * 2 <= limit) plan.blocks *= 2;
  plan.block = (dim + plan.blocks - 1) / plan.blocks;
  plan.blocks = (dim + plan.block - 1) / plan.block;
  return plan;
}

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
  auto piece = [&](std::int64_t k) {
    const std::int64_t begin = k * plan.block;
    const std::int64_t size = std::min(plan.block, (plan.split_rows ? M : N) - begin);
    if (plan.split_rows) {  // rows [begin, begin + size) of op(A) and C
      const float* a = trans_a ? A + begin : A + begin * lda;
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(size), static_cast<int>(N), static_cast<int>(K), alpha, a,
                  ia, B, ib, beta, C + begin * ldc, ic);
    } else {  // columns [begin, begin + size) of op(B) and C
      const float* b = trans_b ? B + begin * ldb : B + begin;
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(M), static_cast<int>(size), static_cast<int>(K), alpha, A,
                  ia, b, ib, beta, C + begin, ic);
    }
  };
  const int threads = static_cast<int>(std::min<std::int64_t>(num_threads(), plan.blocks));
  if (threads <= 1 || omp_in_parallel()) {
    for (std::int64_t k = 0; k < plan.blocks; ++k) piece(k);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::int64_t k = 0; k < plan.blocks; ++k) piece(k);
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

void max_pool2d_forward(const float* x, std::int64_t planes, const Pool2dGeometry& g, float* y, std::int32_t* argmax) {
  const std::int64_t OH = g.out_height(), OW = g.out_width(), W = g.width, k = g.kernel, s = g.stride;
  parallel_items(planes, plane_grain(g), [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p) {
      const float* in = x + p * g.plane();
      for (std::int64_t oh = 0; oh < OH; ++oh) {
        float* out = y + p * g.out_plane() + oh * OW;
        std::int32_t* arg = argmax + p * g.out_plane() + oh * OW;
        // Whole output rows at a time, window positions in row-major order: branch-free, vectorisable.
        // A later element wins only when strictly greater (first maximum on ties) or NaN (propagates).
        const std::int64_t first = oh * s * W;
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          out[ow] = in[first + ow * s];
          arg[ow] = static_cast<std::int32_t>(first + ow * s);
        }
        for (std::int64_t i = 0; i < k; ++i) {
          for (std::int64_t j = i == 0 ? 1 : 0; j < k; ++j) {
            const std::int64_t base = (oh * s + i) * W + j;
            const float* r = in + base;
            for (std::int64_t ow = 0; ow < OW; ++ow) {
              const float v = r[ow * s];
              const bool take = v > out[ow] || v != v;
              out[ow] = take ? v : out[ow];
              arg[ow] = take ? static_cast<std::int32_t>(base + ow * s) : arg[ow];
            }
          }
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
    for (std::int64_t i = b; i < e; ++i) out[i] = 1.0f / (1.0f + std::exp(-in[i]));
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
  for (std::int64_t c = 0; c < channels; ++c) {
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
}

// ---------------------------------------------------------------- softmax

void softmax_rows(const float* x, std::int64_t rows, std::int64_t cols, float* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    float m = -std::numeric_limits<float>::infinity();
    for (std::int64_t c = 0; c < cols; ++c) m = std::max(m, in[c]);
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
    float m = -std::numeric_limits<float>::infinity();
    for (std::int64_t c = 0; c < cols; ++c) m = std::max(m, in[c]);
    double sum = 0.0;
    for (std::int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(in[c] - m));
    const float shift = m + static_cast<float>(std::log(sum));
    for (std::int64_t c = 0; c < cols; ++c) out[c] = in[c] - shift;
  }
}

}  // namespace adakit::nn
