// Internal linear algebra for the matrix optimizers (full-matrix AdaGrad, Shampoo): symmetric matrix
// functions by eigendecomposition (LAPACK dsyevd, from OpenBLAS), float products through CBLAS, and
// a block loop over adakit's threads. Not a public header: the kernels are the public surface.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

namespace adakit::optim::detail {

// Statistics Σ g gᵀ are kept as float pairs (hi + lo, about 48 significant bits): their condition
// number is the square of the problem's (1e8 for a condition of 1e4), beyond float32's 24 bits.
inline double pair_value(float hi, float lo) { return static_cast<double>(hi) + static_cast<double>(lo); }
inline void pair_add(float& hi, float& lo, double add) {
  const double x = pair_value(hi, lo) + add;
  hi = static_cast<float>(x);
  lo = static_cast<float>(x - static_cast<double>(hi));
}
// Relative level below which a statistic's eigenvalues are rounding (of the pairs and the sums).
inline constexpr double kPairRounding = 0x1p-46;

// f applied to a symmetric positive semi-definite n x n matrix M (row-major double, consumed),
// returned row-major in double:
//   out = Σ_k f(λ_k) v_k v_kᵀ  over the eigenpairs with λ_k > n · kPairRounding · λ_max,
// by LAPACK's dsyevd (double). The eigenvalues at or below that level are M's numerical null space
// (exact zeros made noisy by rounding) and get 0, not f: a statistic Σ g gᵀ holds every gradient in
// its range, so an exact update has no component there, and f(≈0) would blow a gradient's
// rounding-level component up (and make out's entries span more than float can hold). out = 0 when
// M = 0.
std::vector<double> symmetric_function(std::vector<double> m, std::int64_t n, const std::function<double(double)>& f);

// (M + eps I)^(-1/p) on M's range (Shampoo's roots) of the float-pair statistic (hi, lo), rounded
// to float (a root's condition is the p-th root of the statistic's).
void inverse_root(std::span<const float> hi, std::span<const float> lo, std::int64_t n, double eps, double p,
                  std::span<float> out);

// The float-pair statistic (hi, lo) as one double matrix.
std::vector<double> pair_matrix(std::span<const float> hi, std::span<const float> lo);

// C (m x n, ldc) = alpha · op(A) op(B) + beta · C in double (dgemm), for statistics increments.
void dgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
           std::int64_t lda, const double* b, std::int64_t ldb, double* c, std::int64_t ldc);

// C (m x n, ldc) = alpha · op(A) op(B) + beta · C, row-major, one single-threaded cblas_sgemm call.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);

// fn(i) for i in [0, count) on adakit's threads (num_threads()), independent blocks, so results do
// not depend on the thread count; inline when `work` (about the flops of all blocks) is too small
// to pay for waking threads. The first exception is rethrown.
void for_each_block(std::int64_t count, double work, const std::function<void(std::int64_t)>& fn);

// Block sizes of a dimension split into blocks of at most `block` (all equal but the last).
inline std::int64_t block_count(std::int64_t dim, std::int64_t block) { return (dim + block - 1) / block; }
inline std::int64_t block_len(std::int64_t dim, std::int64_t block, std::int64_t i) {
  return i + 1 < block_count(dim, block) ? block : dim - i * block;
}

}  // namespace adakit::optim::detail
