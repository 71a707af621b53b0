#include "adakit/optim/adafactor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "adakit/optim/clip.hpp"
#include "kernel_util.hpp"

namespace adakit::optim {

void AdafactorOptions::validate() const {
  require_finite_nonnegative("adafactor", "lr", lr);
  require_finite_positive("adafactor", "decay_rate", decay_rate);
  require_finite_nonnegative("adafactor", "clip_threshold", clip_threshold);
  require_finite_nonnegative("adafactor", "eps", eps);
  require_finite_nonnegative("adafactor", "eps2", eps2);
  require_in_range("adafactor", "beta1", beta1, 0.0, 1.0, false);
  require_at_least("adafactor", "min_dim_size_to_factor", min_dim_size_to_factor, 0);
}

AdafactorAxes adafactor_axes(const Shape& shape, const AdafactorOptions& o) {
  if (!o.factored || shape.size() < 2) return {};
  std::vector<std::size_t> order(shape.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return shape[a] < shape[b]; });
  const std::size_t d0 = order.back(), d1 = order[order.size() - 2];  // largest, second largest
  if (shape[d1] < o.min_dim_size_to_factor) return {};
  return {true, std::min(d0, d1), std::max(d0, d1)};
}

namespace {

Shape without(const Shape& shape, std::size_t axis) {
  Shape s = shape;
  s.erase(s.begin() + static_cast<std::ptrdiff_t>(axis));
  return s;
}

std::int64_t prod(const Shape& s, std::size_t from, std::size_t to) {
  std::int64_t n = 1;
  for (std::size_t i = from; i < to; ++i) n *= s[i];
  return n;
}

}  // namespace

void adafactor_step(std::span<float> param, std::span<const float> grad, const Shape& shape,
                    const AdafactorState& st, const AdafactorOptions& o, std::int64_t step) {
  detail::check_same_size("adafactor_step", "grad", grad.size(), param.size());
  detail::check_step("adafactor_step", step);
  if (shape_numel(shape) != static_cast<std::int64_t>(param.size()))
    throw UsageError("adafactor_step: shape " + shape_to_string(shape) + " does not match the parameter's size");
  const std::size_t n = param.size();
  const AdafactorAxes ax = adafactor_axes(shape, o);
  const double t = static_cast<double>(step);
  const double beta = 1.0 - std::pow(t, -o.decay_rate), keep = 1.0 - beta;
  const float* g = grad.data();

  // The tensor as [P, A, Q, B, R] with A, B the factored axes: runs of L = B·R contiguous elements
  // for each (p, a, q). Not factored: one run of n.
  std::int64_t P = 1, A = 1, Q = 1, B = static_cast<std::int64_t>(n), R = 1;
  if (ax.factored) {
    P = prod(shape, 0, ax.lo), A = shape[ax.lo], Q = prod(shape, ax.lo + 1, ax.hi), B = shape[ax.hi];
    R = prod(shape, ax.hi + 1, shape.size());
  }
  const std::int64_t L = B * R;
  // The unclipped update u, in scratch kept per calling thread (no allocation once warm).
  thread_local std::vector<float> u_scratch;
  std::vector<float>& u = u_scratch;
  u.resize(n);
  const auto eps1 = o.eps;
  if (ax.factored) {
    detail::check_same_size("adafactor_step", "v_row", st.v_row.size(), static_cast<std::size_t>(P * A * Q * R));
    detail::check_same_size("adafactor_step", "v_col", st.v_col.size(), static_cast<std::size_t>(P * Q * L));
    // Sums of q = g² + eps over B (for v_row) and over A (for v_col), in double.
    std::vector<double> row(st.v_row.size(), 0.0), col(st.v_col.size(), 0.0);
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t a = 0; a < A; ++a)
        for (std::int64_t q = 0; q < Q; ++q) {
          const float* gr = g + ((p * A + a) * Q + q) * L;
          double* colr = col.data() + (p * Q + q) * L;
          double* rowr = row.data() + ((p * A + a) * Q + q) * R;
          if (R == 1) {
            double sum = 0.0;
#pragma omp simd reduction(+ : sum)
            for (std::int64_t k = 0; k < L; ++k) {
              const double qk = static_cast<double>(gr[k]) * gr[k] + eps1;
              colr[k] += qk;
              sum += qk;
            }
            rowr[0] += sum;
          } else {
            for (std::int64_t k = 0; k < L; ++k) {
              const double qk = static_cast<double>(gr[k]) * gr[k] + eps1;
              colr[k] += qk;
              rowr[k % R] += qk;
            }
          }
        }
    for (std::size_t i = 0; i < row.size(); ++i)
      st.v_row[i] = static_cast<float>(beta * st.v_row[i] + keep * row[i] / static_cast<double>(B));
    for (std::size_t i = 0; i < col.size(); ++i)
      st.v_col[i] = static_cast<float>(beta * st.v_col[i] + keep * col[i] / static_cast<double>(A));
    // V̂ = v_row v_col / (mean over A of v_row), per (p, q, r): u = g · √(mean / v_row) · (1 / √v_col).
    std::vector<float> row_scale(st.v_row.size()), col_scale(st.v_col.size());
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t q = 0; q < Q; ++q)
        for (std::int64_t r = 0; r < R; ++r) {
          double mean = 0.0;
          for (std::int64_t a = 0; a < A; ++a) mean += st.v_row[static_cast<std::size_t>(((p * A + a) * Q + q) * R + r)];
          mean /= static_cast<double>(A);
          for (std::int64_t a = 0; a < A; ++a) {
            const auto i = static_cast<std::size_t>(((p * A + a) * Q + q) * R + r);
            row_scale[i] = st.v_row[i] > 0.0f ? static_cast<float>(std::sqrt(mean / st.v_row[i])) : 0.0f;
          }
        }
    for (std::size_t i = 0; i < col_scale.size(); ++i)
      col_scale[i] = st.v_col[i] > 0.0f ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(st.v_col[i]))) : 0.0f;
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t a = 0; a < A; ++a)
        for (std::int64_t q = 0; q < Q; ++q) {
          const std::int64_t base = ((p * A + a) * Q + q) * L;
          const float* __restrict gr = g + base;
          const float* __restrict rs = row_scale.data() + ((p * A + a) * Q + q) * R;
          const float* __restrict cs = col_scale.data() + (p * Q + q) * L;
          float* __restrict ur = u.data() + base;
          if (R == 1) {
            const float r0 = rs[0];
#pragma omp simd
            for (std::int64_t k = 0; k < L; ++k) ur[k] = gr[k] * r0 * cs[k];
          } else {
            for (std::int64_t k = 0; k < L; ++k) ur[k] = gr[k] * rs[k % R] * cs[k];
          }
        }
  } else {
    detail::check_same_size("adafactor_step", "v", st.v.size(), n);
    float* __restrict v = st.v.data();
    float* __restrict ur = u.data();
    const auto fb = static_cast<float>(beta), fk = static_cast<float>(keep), fe = static_cast<float>(eps1);
    constexpr float kTiny = std::numeric_limits<float>::min();
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
      const float vi = fb * v[i] + fk * (g[i] * g[i] + fe);
      v[i] = vi;
      // v == 0 only where g == 0 (v >= (1 - β̂) g², 1 - β̂ > 0): 0 / tiny = 0, no branch.
      ur[i] = g[i] / std::sqrt(vi > kTiny ? vi : kTiny);
    }
  }
  const bool momentum = o.beta1 > 0.0;
  if (momentum) detail::check_same_size("adafactor_step", "exp_avg", st.exp_avg.size(), n);

  const double sum_u2 = sum_of_squares(u);
  double clip = 1.0;
  if (o.clip_threshold > 0.0) clip = std::max(1.0, std::sqrt(sum_u2 / static_cast<double>(n)) / o.clip_threshold);
  const double rho = o.relative_step ? std::min(o.lr, 1.0 / std::sqrt(t)) : o.lr;
  double alpha = rho;
  if (o.scale_parameter) alpha = std::max(o.eps2, std::sqrt(sum_of_squares(param) / static_cast<double>(n))) * rho;
  const auto scale = static_cast<float>(alpha / clip);
  const auto b1 = static_cast<float>(o.beta1), b1c = static_cast<float>(1.0 - o.beta1);
  float* __restrict th = param.data();
  const float* __restrict ur = u.data();
  if (momentum) {
    float* __restrict m = st.exp_avg.data();
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + b1c * (scale * ur[i]);
      th[i] -= m[i];
    }
  } else {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) th[i] -= scale * ur[i];
  }
}

std::span<const Field<AdafactorOptions>> AdafactorRule::fields() {
  using O = AdafactorOptions;
  static const std::array<Field<O>, 10> table{{
      {"lr", &O::lr, "learning rate"},
      {"relative_step", &O::relative_step, "adafactor: step min(lr, 1/sqrt(t)) (the paper's relative step size)"},
      {"scale_parameter", &O::scale_parameter, "adafactor: scale the step by max(eps2, RMS(param))"},
      {"decay_rate", &O::decay_rate, "adafactor: second-moment decay 1 - t^(-decay_rate)"},
      {"clip_threshold", &O::clip_threshold, "adafactor: update clipping threshold d (0 = off)"},
      {"eps", &O::eps, "added to the denominator"},
      {"eps2", &O::eps2, "adafactor: smallest parameter scale"},
      {"beta1", &O::beta1, "first-moment decay"},
      {"factored", &O::factored, "adafactor: factor the second moments of matrices"},
      {"min_dim_size_to_factor", &O::min_dim_size_to_factor, "adafactor: factor only when the second-largest dimension is at least this"},
  }};
  return table;
}

std::vector<BufferSpec> AdafactorRule::state_spec(const Options& o, const Shape& shape) {
  const AdafactorAxes ax = adafactor_axes(shape, o);
  std::vector<BufferSpec> out;
  if (ax.factored) {
    out.push_back({"v_row", without(shape, ax.hi), 0.0f});
    out.push_back({"v_col", without(shape, ax.lo), 0.0f});
  } else {
    out.push_back({"v", shape, 0.0f});
  }
  if (o.beta1 > 0.0) out.push_back({"exp_avg", shape, 0.0f});
  return out;
}

void AdafactorRule::step(const Options& o, const TensorStep& s) {
  const bool factored = adafactor_axes(s.shape, o).factored;
  AdafactorState st;
  if (factored) {
    st.v_row = s.state[0];
    st.v_col = s.state[1];
  } else {
    st.v = s.state[0];
  }
  if (o.beta1 > 0.0) st.exp_avg = s.state[factored ? 2 : 1];
  adafactor_step(s.param, s.grad, s.shape, st, o, s.step);
}

}  // namespace adakit::optim
