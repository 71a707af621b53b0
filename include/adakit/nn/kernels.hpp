// Neural-network math as free functions over raw memory: the only place each formula is written.
// Layers, losses and benchmarks call these; nothing here allocates except where noted.
//
// Layouts: matrices are row-major; images are NCHW (one image = channels planes of height x width).
// Functions named *_backward ACCUMULATE into their gradient output only where the comment says so;
// otherwise they overwrite it.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace adakit::nn {

// ---------------------------------------------------------------- BLAS

// C[M x N] = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ (cblas_sgemm underneath).
// op(A) is M x K, op(B) is K x N; lda/ldb/ldc are the row strides of A, B, C as stored.
// Threads: adakit splits the product into blocks chosen from (M, N, K) alone (rows or columns of C;
// or, for a small C with a long K such as a convolution's weight gradient, slices of K whose partial
// products are summed in a fixed order) and runs one single-threaded OpenBLAS call per block over
// num_threads() threads: the result is bitwise the same for any thread count (OpenBLAS's own
// threading is not: it blocks K differently with 1 and with 2+ threads). Safe to call inside a
// parallel region (the blocks then run on the calling thread).
void gemm(bool trans_a, bool trans_b, std::int64_t M, std::int64_t N, std::int64_t K, float alpha,
          const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C,
          std::int64_t ldc);

// "OpenBLAS 0.3.21 (pthread build, Haswell kernels; GEMM split by adakit over 2 threads)".
std::string blas_info();
// Makes OpenBLAS follow adakit's threading: OpenBLAS runs each call on the calling thread and
// adakit::set_num_threads() decides how many threads share a GEMM (see gemm): one thread pool, no
// OpenBLAS threads spinning against OpenMP ones. Cheap (acts once); gemm() and Sequential call it.
void sync_blas_threads();

// Calls fn(begin, end) over an even, contiguous split of [0, n) into at most num_threads() chunks of
// at least `grain` items; inline when one chunk or already inside a parallel region. For loops
// over independent items (samples, planes), whose results do not depend on the split.
void parallel_items(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

// ---------------------------------------------------------------- convolution (NCHW)

// One image's convolution geometry: square kernel, equal stride and zero padding on both axes.
// Output size (as PyTorch, floor mode): (size + 2 * padding - kernel) / stride + 1.
struct Conv2dGeometry {
  std::int64_t channels = 1, height = 1, width = 1;
  std::int64_t kernel = 1, stride = 1, padding = 0;

  std::int64_t out_height() const noexcept { return (height + 2 * padding - kernel) / stride + 1; }
  std::int64_t out_width() const noexcept { return (width + 2 * padding - kernel) / stride + 1; }
  std::int64_t out_plane() const noexcept { return out_height() * out_width(); }
  std::int64_t col_rows() const noexcept { return channels * kernel * kernel; }
};

// Unfolds one image [channels, height, width] into columns: row (c * k + i) * k + j, column
// oh * out_width + ow holds image[c][oh * stride - padding + i][ow * stride - padding + j], 0 outside.
// The column matrix has col_rows() rows of out_plane() values, consecutive rows ld_cols apart
// (ld_cols = out_plane() for one image; larger to place several images side by side).
void im2col(const float* image, const Conv2dGeometry& g, float* cols, std::int64_t ld_cols);
// The adjoint of im2col: ADDS each column entry into the image position it was read from
// (overlapping windows sum; padding positions are dropped). Zero the image first for a plain fold.
void col2im(const float* cols, const Conv2dGeometry& g, std::int64_t ld_cols, float* image);

// ---------------------------------------------------------------- pooling (NCHW, no padding)

// One plane's pooling geometry. Output size (floor mode): (size - kernel) / stride + 1.
struct Pool2dGeometry {
  std::int64_t height = 1, width = 1, kernel = 2, stride = 2;

  std::int64_t out_height() const noexcept { return (height - kernel) / stride + 1; }
  std::int64_t out_width() const noexcept { return (width - kernel) / stride + 1; }
  std::int64_t plane() const noexcept { return height * width; }
  std::int64_t out_plane() const noexcept { return out_height() * out_width(); }
};

// y = max over each window, for `planes` consecutive planes; argmax[o] = the input index (within
// its plane) of the maximum (the first one on ties, as PyTorch). A NaN in a window makes its output
// NaN (as PyTorch); its gradient then goes to the window's first element.
void max_pool2d_forward(const float* x, std::int64_t planes, const Pool2dGeometry& g, float* y,
                        std::int32_t* argmax);
// dx = 0, then dx[argmax[o]] += dy[o] in each plane.
void max_pool2d_backward(const float* dy, const std::int32_t* argmax, std::int64_t planes,
                         const Pool2dGeometry& g, float* dx);
// y = mean over each window (divisor kernel², PyTorch's AvgPool2d without padding).
void avg_pool2d_forward(const float* x, std::int64_t planes, const Pool2dGeometry& g, float* y);
// dx = 0, then every input in the window of output o gets dy[o] / kernel².
void avg_pool2d_backward(const float* dy, std::int64_t planes, const Pool2dGeometry& g, float* dx);

// ---------------------------------------------------------------- elementwise activations

// relu:    y = max(x, 0);            dx = dy where x > 0, else 0
// tanh:    y = tanh(x);              dx = dy * (1 - y²)
// sigmoid: y = 1 / (1 + exp(-x));    dx = dy * y * (1 - y)   (torch's float form; the losses use core/logistic.hpp)
// Spans have equal sizes; y may alias x, dx may alias dy.
void relu_forward(std::span<const float> x, std::span<float> y);
void relu_backward(std::span<const float> x, std::span<const float> dy, std::span<float> dx);
void tanh_forward(std::span<const float> x, std::span<float> y);
void tanh_backward(std::span<const float> y, std::span<const float> dy, std::span<float> dx);
void sigmoid_forward(std::span<const float> x, std::span<float> y);
void sigmoid_backward(std::span<const float> y, std::span<const float> dy, std::span<float> dx);

// Inverted dropout with a precomputed mask (0 or 1 / (1 - p)): out = in * mask. Used both ways.
void mul_elementwise(std::span<const float> in, std::span<const float> mask, std::span<float> out);

// ---------------------------------------------------------------- bias

// y[r][c] += bias[c] for a [rows x cols] matrix.
void bias_add_rows(float* y, const float* bias, std::int64_t rows, std::int64_t cols);
// dbias[c] += Σ_r dy[r][c]  (column sums).
void bias_grad_rows(const float* dy, std::int64_t rows, std::int64_t cols, float* dbias);
// y[b][c][p] += bias[c] for [batch x channels x plane] (NCHW with plane = H * W).
void bias_add_planes(float* y, const float* bias, std::int64_t batch, std::int64_t channels, std::int64_t plane);
// dbias[c] += Σ_b Σ_p dy[b][c][p].
void bias_grad_planes(const float* dy, std::int64_t batch, std::int64_t channels, std::int64_t plane, float* dbias);

// ---------------------------------------------------------------- softmax

// y[r] = softmax(x[r]) = exp(x - max) / Σ exp(x - max), per row of [rows x cols]. y may alias x.
void softmax_rows(const float* x, std::int64_t rows, std::int64_t cols, float* y);
// y[r] = log_softmax(x[r]) = x - max - log Σ exp(x - max). y may alias x.
void log_softmax_rows(const float* x, std::int64_t rows, std::int64_t cols, float* y);

}  // namespace adakit::nn
