// Independent double-precision references for the matrix optimizers' tests: the cyclic Jacobi
// eigenvalue method (Golub & Van Loan, "Matrix Computations", 4th ed., Section 8.5) and symmetric
// matrix functions built on it. No LAPACK here, on purpose: adakit's kernels use dsyevd.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

namespace adakit_test {

using Matrix = std::vector<std::vector<double>>;

inline Matrix zeros(std::size_t n, std::size_t m) { return Matrix(n, std::vector<double>(m, 0.0)); }

// Eigenvalues w and eigenvectors (columns of v) of symmetric a: a = v diag(w) vᵀ.
inline void jacobi_eigen(Matrix a, std::vector<double>& w, Matrix& v) {
  const std::size_t n = a.size();
  v = zeros(n, n);
  for (std::size_t i = 0; i < n; ++i) v[i][i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, total = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) (i == j ? total : off) += a[i][j] * a[i][j];
    if (off <= 1e-30 * (total + off) || off == 0.0) break;
    for (std::size_t p = 0; p + 1 < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        if (a[p][q] == 0.0) continue;
        // Rotation zeroing a[p][q] (Golub & Van Loan, Algorithm 8.5.1, sym.schur2).
        const double theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // a = a J
          const double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // a = Jᵀ a
          const double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {  // v = v J
          const double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  w.resize(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = a[i][i];
}

// f(a) = Σ f(w_k) v_k v_kᵀ over the eigenvalues above n · 2⁻⁴⁶ · max w (a's numerical null space
// gets 0), as adakit documents for its kernels; 0 for a = 0.
inline Matrix symmetric_function(const Matrix& a, const std::function<double(double)>& f) {
  std::vector<double> w;
  Matrix v;
  jacobi_eigen(a, w, v);
  const std::size_t n = a.size();
  double top = 0.0;
  for (double x : w) top = std::max(top, x);
  Matrix out = zeros(n, n);
  if (top <= 0.0) return out;
  const double null_level = static_cast<double>(n) * std::ldexp(1.0, -46) * top;
  for (std::size_t k = 0; k < n; ++k) {
    if (w[k] <= null_level) continue;
    const double fk = f(w[k]);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) out[i][j] += v[i][k] * fk * v[j][k];
  }
  return out;
}

inline std::vector<double> matvec(const Matrix& a, const std::vector<double>& x) {
  std::vector<double> y(a.size(), 0.0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j) y[i] += a[i][j] * x[j];
  return y;
}

inline Matrix matmul(const Matrix& a, const Matrix& b) {
  Matrix c = zeros(a.size(), b.empty() ? 0 : b[0].size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < b.size(); ++k)
      for (std::size_t j = 0; j < b[0].size(); ++j) c[i][j] += a[i][k] * b[k][j];
  return c;
}

inline void add_outer(Matrix& a, const std::vector<double>& x) {
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < x.size(); ++j) a[i][j] += x[i] * x[j];
}

}  // namespace adakit_test
