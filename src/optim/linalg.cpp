#include "linalg.hpp"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"

// LAPACK's symmetric divide-and-conquer eigensolver, Fortran symbol (OpenBLAS carries LAPACK; the
// trailing lengths are gfortran's hidden string-length arguments).
extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w,
                        double* work, const int* lwork, int* iwork, const int* liwork, int* info, std::size_t jobz_len,
                        std::size_t uplo_len);
#ifndef OPENBLAS_THREAD
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace adakit::optim::detail {
namespace {

// OpenBLAS runs each call on the calling thread; adakit's threads split the work by blocks
// (the same choice as nn/kernels.cpp, for the same reasons: determinism and no competing pools).
void single_threaded_blas() {
  static std::atomic<bool> applied{false};
  if (!applied.exchange(true, std::memory_order_relaxed)) openblas_set_num_threads(1);
}

int blas_int(std::int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw UsageError(std::string("linalg: ") + what + " = " + std::to_string(v) + " is outside the BLAS int range");
  return static_cast<int>(v);
}

}  // namespace

std::vector<double> symmetric_function(std::vector<double> a, std::int64_t n, const std::function<double(double)>& f) {
  single_threaded_blas();
  const int ni = blas_int(n, "n");
  const auto nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  if (a.size() != nn) throw UsageError("symmetric_function: matrix size does not match n");
  if (n == 0) return {};
  // Symmetric: row-major and column-major are the same matrix. After dsyevd (column-major), the
  // eigenvector of w[k] is the contiguous run a[k n .. k n + n), i.e. row k of our row-major view.
  std::vector<double> w(static_cast<std::size_t>(n));
  const int lwork = 1 + 6 * ni + 2 * ni * ni, liwork = 3 + 5 * ni;
  std::vector<double> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  int info = 0;
  dsyevd_("V", "U", &ni, a.data(), &ni, w.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  if (info != 0) throw Error("dsyevd failed (info " + std::to_string(info) + ") on a " + std::to_string(n) + "x" +
                             std::to_string(n) + " matrix: non-finite gradients?");
  const double top = w.back();  // ascending order
  if (!(top > 0.0)) return std::vector<double>(nn, 0.0);
  const double null_level = static_cast<double>(n) * kPairRounding * top;
  // Scaled rows s_k = f(λ_k) v_k; out = Vᵀ S, i.e. out_ij = Σ_k v_k[i] f(λ_k) v_k[j].
  std::vector<double> s(a.size());
  for (std::int64_t k = 0; k < n; ++k) {
    const double lam = w[static_cast<std::size_t>(k)];
    const double fk = lam > null_level ? f(lam) : 0.0;
    const double* v = a.data() + k * n;
    double* sk = s.data() + k * n;
    for (std::int64_t j = 0; j < n; ++j) sk[j] = fk * v[j];
  }
  std::vector<double> r(a.size());
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ni, ni, ni, 1.0, a.data(), ni, s.data(), ni, 0.0, r.data(), ni);
  return r;
}

std::vector<double> pair_matrix(std::span<const float> hi, std::span<const float> lo) {
  std::vector<double> m(hi.size());
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = pair_value(hi[i], lo[i]);
  return m;
}

void inverse_root(std::span<const float> hi, std::span<const float> lo, std::int64_t n, double eps, double p,
                  std::span<float> out) {
  const auto r = symmetric_function(pair_matrix(hi, lo), n, [eps, p](double lam) { return std::pow(lam + eps, -1.0 / p); });
  for (std::size_t i = 0; i < r.size(); ++i) out[i] = static_cast<float>(r[i]);
}

void dgemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const double* a,
           std::int64_t lda, const double* b, std::int64_t ldb, double* c, std::int64_t ldc) {
  single_threaded_blas();
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              blas_int(m, "m"), blas_int(n, "n"), blas_int(k, "k"), 1.0, a, blas_int(lda, "lda"), b,
              blas_int(ldb, "ldb"), 0.0, c, blas_int(ldc, "ldc"));
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              blas_int(m, "m"), blas_int(n, "n"), blas_int(k, "k"), alpha, a, blas_int(lda, "lda"), b,
              blas_int(ldb, "ldb"), beta, c, blas_int(ldc, "ldc"));
}

void for_each_block(std::int64_t count, double work, const std::function<void(std::int64_t)>& fn) {
  if (count <= 0) return;
  constexpr double kMinWork = 1 << 20;  // ~ a millisecond of scalar flops: below, one thread
  const int threads = static_cast<int>(std::min<std::int64_t>(num_threads(), count));
  if (threads <= 1 || work < kMinWork || omp_in_parallel()) {
    for (std::int64_t i = 0; i < count; ++i) fn(i);
    return;
  }
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (std::int64_t i = 0; i < count; ++i) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      fn(i);
    } catch (...) {
#pragma omp critical(adakit_block_error)
      if (!failed.exchange(true)) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace adakit::optim::detail
