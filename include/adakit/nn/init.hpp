// Weight initialisers, from a seeded adakit::Rng (same seed, same numbers on every platform).
//
// Fans, as PyTorch's _calculate_fan_in_and_fan_out, for a weight of shape [out, in, k...]:
//   receptive = Π k...,  fan_in = in * receptive,  fan_out = out * receptive  (rank >= 2).
//
//   xavier_uniform   U(-a, a),  a = gain * sqrt(6 / (fan_in + fan_out))      Glorot & Bengio, AISTATS 2010
//   xavier_normal    N(0, σ²),  σ = gain * sqrt(2 / (fan_in + fan_out))
//   kaiming_uniform  U(-a, a),  a = gain * sqrt(3 / fan_in)                  He et al., ICCV 2015
//   kaiming_normal   N(0, σ²),  σ = gain / sqrt(fan_in)
//   torch_default    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight AND bias: nn.Linear / nn.Conv2d's
//                    reset_parameters (kaiming_uniform with a = sqrt(5), which gives exactly that bound)
// gain("relu") = sqrt(2), gain("tanh") = 5/3, gain("linear"/"sigmoid") = 1 (torch.nn.init.calculate_gain).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"

namespace adakit::nn {

// How a layer with weights initialises them. Biases are zero except under torch_default.
enum class Init { torch_default, xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal };

// "torch_default", "xavier_uniform", ... (the enumerator's name); parse_init throws UsageError on another.
std::string_view init_name(Init init);
Init parse_init(std::string_view name);
std::span<const std::string_view> init_names();

struct Fans {
  std::int64_t fan_in = 1, fan_out = 1;
};
// UsageError for a shape of rank < 2 or an empty one.
Fans compute_fans(const Shape& weight_shape);

// "linear", "sigmoid", "conv2d" → 1; "tanh" → 5/3; "relu" → sqrt(2); "leaky_relu" → sqrt(2 / (1 + slope²)).
double gain(std::string_view nonlinearity, double negative_slope = 0.01);

void xavier_uniform(Tensor& weight, Rng& rng, double gain = 1.0);
void xavier_normal(Tensor& weight, Rng& rng, double gain = 1.0);
void kaiming_uniform(Tensor& weight, Rng& rng, double gain = 1.41421356237309515);  // sqrt(2): relu
void kaiming_normal(Tensor& weight, Rng& rng, double gain = 1.41421356237309515);
void zeros(Tensor& t);
// PyTorch's default for Linear / Conv2d; bias may be null.
void torch_default(Tensor& weight, Tensor* bias, Rng& rng);

// The weight with `init`; the bias (may be null) zero, or U(±1/sqrt(fan_in)) under torch_default.
void initialize(Init init, Tensor& weight, Tensor* bias, Rng& rng);

}  // namespace adakit::nn
