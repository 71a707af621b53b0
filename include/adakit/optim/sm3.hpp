// SM3 — Anil, Gupta, Koren & Singer, "Memory-Efficient Adaptive Optimization", NeurIPS 2019,
// SM3-II (Algorithm 3) with the cover of a tensor by its slices (Section 4: for a matrix, its rows
// and its columns; for a rank-k tensor, the (k-1)-dimensional slices along every axis).
//
// A parameter of shape [d_0, ..., d_{k-1}] keeps one accumulator μ_a of length d_a per axis a
// (a scalar is [1]): Σ d_a floats instead of Π d_a (O(m + n) for an m x n matrix). At step t, for
// every coordinate x = (x_0, ..., x_{k-1}):
//   ν(x)    = min_a μ_a[x_a] + g(x)²
//   μ_a[i]  = max over x with x_a = i of ν(x)        (every axis, from the old μ's ν)
//   u(x)    = g(x) / sqrt(ν(x) + eps)                 (0 where ν + eps == 0)
//   m       = momentum · m + (1 - momentum) · u,  u = m     when momentum > 0 (EMA form of the
//             authors' TensorFlow SM3; buffer "momentum_buffer", the parameter's shape)
//   θ       = θ - lr · u
// For a vector each cover set is one coordinate, so SM3 is diagonal AdaGrad: ν = μ + g², μ = ν.
// State "acc_0", ..., "acc_{k-1}" (zeros), plus "momentum_buffer" when momentum > 0.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct Sm3Options {
  double lr = 0.1, momentum = 0.0, eps = 0.0;
  void validate() const;
};

// accumulators[a] has shape[a] values (a scalar: one accumulator of 1); momentum_buffer may be empty
// when momentum == 0.
void sm3_step(std::span<float> param, std::span<const float> grad, const Shape& shape,
              std::span<const std::span<float>> accumulators, std::span<float> momentum_buffer,
              const Sm3Options& options, std::int64_t step);

struct Sm3Rule {
  using Options = Sm3Options;
  static constexpr std::string_view name = "sm3";
  static std::span<const Field<Options>> fields();
  static std::vector<BufferSpec> state_spec(const Options& o, const Shape& shape);
  static void step(const Options& o, const TensorStep& s);
};
using Sm3 = RuleOptimizer<Sm3Rule>;

}  // namespace adakit::optim
