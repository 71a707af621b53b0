#include "adakit/optim/adafactor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
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

  // The tensor as [P, A, Q, B, R] with A, B the factored axes (P = A = Q = 1 when not factored).
  std::int64_t P = 1, A = 1, Q = 1, B = static_cast<std::int64_t>(n), R = 1;
  std::vector<float> row_scale, col_scale;  // u = g · row_scale[row index] · col_scale[col index]
  if (ax.factored) {
    P = prod(shape, 0, ax.lo), A = shape[ax.lo], Q = prod(shape, ax.lo + 1, ax.hi), B = shape[ax.hi];
    R = prod(shape, ax.hi + 1, shape.size());
    detail::check_same_size("adafactor_step", "v_row", st.v_row.size(), static_cast<std::size_t>(P * A * Q * R));
    detail::check_same_size("adafactor_step", "v_col", st.v_col.size(), static_cast<std::size_t>(P * Q * B * R));
    std::vector<double> row(st.v_row.size(), 0.0), col(st.v_col.size(), 0.0);
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t a = 0; a < A; ++a)
        for (std::int64_t q = 0; q < Q; ++q)
          for (std::int64_t b = 0; b < B; ++b)
            for (std::int64_t r = 0; r < R; ++r) {
              const double gi = g[(((p * A + a) * Q + q) * B + b) * R + r];
              const double qi = gi * gi + o.eps;
              row[static_cast<std::size_t>(((p * A + a) * Q + q) * R + r)] += qi;
              col[static_cast<std::size_t>(((p * Q + q) * B + b) * R + r)] += qi;
            }
    for (std::size_t i = 0; i < row.size(); ++i)
      st.v_row[i] = static_cast<float>(beta * st.v_row[i] + keep * row[i] / static_cast<double>(B));
    for (std::size_t i = 0; i < col.size(); ++i)
      st.v_col[i] = static_cast<float>(beta * st.v_col[i] + keep * col[i] / static_cast<double>(A));
    // V̂ = v_row v_col / mean over A of v_row (per (p, q, r)); u = g / √V̂.
    row_scale.resize(st.v_row.size());
    col_scale.resize(st.v_col.size());
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
  } else {
    detail::check_same_size("adafactor_step", "v", st.v.size(), n);
    for (std::size_t i = 0; i < n; ++i)
      st.v[i] = static_cast<float>(beta * st.v[i] + keep * (static_cast<double>(g[i]) * g[i] + o.eps));
  }
  const bool momentum = o.beta1 > 0.0;
  if (momentum) detail::check_same_size("adafactor_step", "exp_avg", st.exp_avg.size(), n);

  // Two passes over u (recomputed, not stored): RMS(u) for the clipping, then the update.
  auto each_u = [&](auto&& fn) {
    if (!ax.factored) {
      for (std::size_t i = 0; i < n; ++i)
        fn(i, st.v[i] > 0.0f ? static_cast<float>(g[i] / std::sqrt(static_cast<double>(st.v[i]))) : 0.0f);
      return;
    }
    for (std::int64_t p = 0; p < P; ++p)
      for (std::int64_t a = 0; a < A; ++a)
        for (std::int64_t q = 0; q < Q; ++q) {
          const float* rs = row_scale.data() + ((p * A + a) * Q + q) * R;
          for (std::int64_t b = 0; b < B; ++b) {
            const float* cs = col_scale.data() + ((p * Q + q) * B + b) * R;
            const auto base = static_cast<std::size_t>((((p * A + a) * Q + q) * B + b) * R);
            for (std::int64_t r = 0; r < R; ++r) fn(base + static_cast<std::size_t>(r), g[base + static_cast<std::size_t>(r)] * rs[r] * cs[r]);
          }
        }
  };
  double sum_u2 = 0.0;
  each_u([&](std::size_t, float u) { sum_u2 += static_cast<double>(u) * u; });
  double clip = 1.0;
  if (o.clip_threshold > 0.0) clip = std::max(1.0, std::sqrt(sum_u2 / static_cast<double>(n)) / o.clip_threshold);
  const double rho = o.relative_step ? std::min(o.lr, 1.0 / std::sqrt(t)) : o.lr;
  double alpha = rho;
  if (o.scale_parameter) alpha = std::max(o.eps2, std::sqrt(sum_of_squares(param) / static_cast<double>(n))) * rho;
  const auto scale = static_cast<float>(alpha / clip);
  const auto b1 = static_cast<float>(o.beta1), b1c = static_cast<float>(1.0 - o.beta1);
  float* th = param.data();
  if (momentum) {
    float* m = st.exp_avg.data();
    each_u([&](std::size_t i, float u) {
      m[i] = b1 * m[i] + b1c * (scale * u);
      th[i] -= m[i];
    });
  } else {
    each_u([&](std::size_t i, float u) { th[i] -= scale * u; });
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
