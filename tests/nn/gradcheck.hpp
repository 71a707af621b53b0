// Numerical gradient checks for nn tests: central differences of the scalar objective
// L = Σ y · r (r fixed, random), evaluated in double from the float forward pass.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/nn/layer.hpp"
#include "adakit/nn/sequential.hpp"

namespace nn_test {

using adakit::Parameter;
using adakit::Rng;
using adakit::Shape;
using adakit::Tensor;

inline Tensor random_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Tensor t(shape);
  Rng rng(seed);
  rng.fill_uniform(t.span(), lo, hi);
  return t;
}

// Values in ±[lo, hi]: away from 0, so that relu's kink is never crossed by a step below lo.
inline Tensor away_from_zero(const Shape& shape, std::uint64_t seed, double lo = 0.1, double hi = 1.0) {
  Tensor t(shape);
  Rng rng(seed);
  for (float& v : t.span()) v = static_cast<float>(rng.uniform(lo, hi) * (rng.bernoulli(0.5) ? 1.0 : -1.0));
  return t;
}

// Distinct values spaced `gap` apart in a random order: no ties within any window.
inline Tensor distinct_values(const Shape& shape, std::uint64_t seed, double gap = 0.05) {
  Tensor t(shape);
  const auto n = t.numel();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  Rng rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
  for (std::int64_t i = 0; i < n; ++i)
    t[i] = static_cast<float>((static_cast<double>(order[static_cast<std::size_t>(i)]) - static_cast<double>(n) / 2) * gap);
  return t;
}

inline double dot(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (std::int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

struct GradCheck {
  double h = 1e-2;
  double rtol = 1e-2;
  double atol = 1e-3;
  bool training = false;
  bool check_input = true;
  std::function<void()> before_forward;  // e.g. rewind a dropout Rng so every forward draws the same mask
};

// Dense view of a parameter's gradient: grad() plus the rows of its sparse gradient.
inline std::vector<double> total_grad(const Parameter& p) {
  std::vector<double> g(p.grad().span().begin(), p.grad().span().end());
  if (p.sparse_grad()) {
    const auto dim = p.row_dim();
    const auto& s = *p.sparse_grad();
    for (std::size_t k = 0; k < s.indices.size(); ++k)
      for (std::int64_t j = 0; j < dim; ++j)
        g[static_cast<std::size_t>(s.indices[k] * dim + j)] += s.values[k * static_cast<std::size_t>(dim) + static_cast<std::size_t>(j)];
  }
  return g;
}

// Central difference of objective() w.r.t. *value, using the float steps actually taken.
inline double numeric_derivative(float* value, double h, const std::function<double()>& objective) {
  const float saved = *value;
  const float up = static_cast<float>(saved + h), down = static_cast<float>(saved - h);
  *value = up;
  const double lp = objective();
  *value = down;
  const double lm = objective();
  *value = saved;
  return (lp - lm) / (static_cast<double>(up) - static_cast<double>(down));
}

inline void expect_close(const std::vector<double>& analytic, const std::vector<double>& numeric,
                         const GradCheck& o, const std::string& what) {
  ASSERT_EQ(analytic.size(), numeric.size()) << what;
  int reported = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    const double tol = o.atol + o.rtol * std::abs(numeric[i]);
    if (!(std::abs(analytic[i] - numeric[i]) <= tol)) {
      ++bad;
      if (reported++ < 5)
        ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << " vs numeric " << numeric[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << analytic.size() << " gradients differ";
}

// Checks a layer's input gradient and every parameter gradient.
inline void check_layer(adakit::nn::Layer& layer, Tensor x, const GradCheck& o = {}) {
  auto forward = [&](Tensor& y) {
    if (o.before_forward) o.before_forward();
    layer.forward(x, y, o.training);
  };
  Tensor y;
  forward(y);
  const Tensor r = random_tensor(y.shape(), 4242);
  for (Parameter* p : layer.parameters()) p->zero_grad();
  Tensor dx;
  layer.backward(x, y, r, dx);

  Tensor y2;
  auto objective = [&] {
    forward(y2);
    return dot(y2, r);
  };
  if (o.check_input) {
    ASSERT_EQ(dx.shape(), x.shape());
    std::vector<double> analytic(dx.span().begin(), dx.span().end()), numeric;
    for (std::int64_t i = 0; i < x.numel(); ++i) numeric.push_back(numeric_derivative(&x[i], o.h, objective));
    expect_close(analytic, numeric, o, layer.kind() + " input");
  }
  for (Parameter* p : layer.parameters()) {
    const std::vector<double> analytic = total_grad(*p);
    std::vector<double> numeric;
    for (std::int64_t i = 0; i < p->numel(); ++i) numeric.push_back(numeric_derivative(&p->value()[i], o.h, objective));
    expect_close(analytic, numeric, o, layer.kind() + " " + p->name());
  }
}

// The same for a whole model (input gradient switched on).
inline void check_model(adakit::nn::Sequential& model, Tensor x, const GradCheck& o = {}) {
  model.set_input_grad(true);
  const Tensor y = model.forward(x, o.training);
  const Tensor r = random_tensor(y.shape(), 777);
  model.zero_grad();
  model.backward(r);
  const Tensor dx = model.input_grad();
  auto objective = [&] { return dot(model.forward(x, o.training), r); };
  if (o.check_input) {
    std::vector<double> analytic(dx.span().begin(), dx.span().end()), numeric;
    for (std::int64_t i = 0; i < x.numel(); ++i) numeric.push_back(numeric_derivative(&x[i], o.h, objective));
    expect_close(analytic, numeric, o, "model input");
  }
  for (Parameter* p : model.parameters()) {
    const std::vector<double> analytic = total_grad(*p);
    std::vector<double> numeric;
    for (std::int64_t i = 0; i < p->numel(); ++i) numeric.push_back(numeric_derivative(&p->value()[i], o.h, objective));
    expect_close(analytic, numeric, o, p->name());
  }
}

}  // namespace nn_test
