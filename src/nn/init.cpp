#include "adakit/nn/init.hpp"

#include <array>
#include <cmath>

#include "adakit/core/error.hpp"

namespace adakit::nn {
namespace {

constexpr std::array<std::string_view, 5> kInitNames = {"torch_default", "xavier_uniform", "xavier_normal",
                                                        "kaiming_uniform", "kaiming_normal"};
static_assert(kInitNames.size() == static_cast<std::size_t>(Init::kaiming_normal) + 1,
              "one name per Init enumerator");

}  // namespace

std::string_view init_name(Init init) { return kInitNames.at(static_cast<std::size_t>(init)); }

Init parse_init(std::string_view name) {
  for (std::size_t i = 0; i < kInitNames.size(); ++i)
    if (kInitNames[i] == name) return static_cast<Init>(i);
  std::string known;
  for (auto n : kInitNames) known += (known.empty() ? "" : ", ") + std::string(n);
  throw UsageError("unknown init '" + std::string(name) + "' (known: " + known + ")", {"", 0, "init"});
}

std::span<const std::string_view> init_names() { return kInitNames; }

Fans compute_fans(const Shape& shape) {
  if (shape.size() < 2)
    throw UsageError("fan in/out need a weight of rank >= 2, got shape " + shape_to_string(shape));
  std::int64_t receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  Fans f{shape[1] * receptive, shape[0] * receptive};
  if (f.fan_in <= 0 || f.fan_out <= 0) throw UsageError("fan in/out of an empty weight " + shape_to_string(shape));
  return f;
}

double gain(std::string_view nonlinearity, double negative_slope) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "conv2d" || nonlinearity == "identity")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  throw UsageError("unknown nonlinearity '" + std::string(nonlinearity) + "' for gain");
}

void xavier_uniform(Tensor& weight, Rng& rng, double g) {
  const Fans f = compute_fans(weight.shape());
  const double a = g * std::sqrt(6.0 / static_cast<double>(f.fan_in + f.fan_out));
  rng.fill_uniform(weight.span(), -a, a);
}

void xavier_normal(Tensor& weight, Rng& rng, double g) {
  const Fans f = compute_fans(weight.shape());
  rng.fill_normal(weight.span(), 0.0, g * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out)));
}

void kaiming_uniform(Tensor& weight, Rng& rng, double g) {
  const Fans f = compute_fans(weight.shape());
  const double a = g * std::sqrt(3.0 / static_cast<double>(f.fan_in));
  rng.fill_uniform(weight.span(), -a, a);
}

void kaiming_normal(Tensor& weight, Rng& rng, double g) {
  const Fans f = compute_fans(weight.shape());
  rng.fill_normal(weight.span(), 0.0, g / std::sqrt(static_cast<double>(f.fan_in)));
}

void zeros(Tensor& t) { t.fill(0.0f); }

void torch_default(Tensor& weight, Tensor* bias, Rng& rng) {
  const Fans f = compute_fans(weight.shape());
  const double bound = 1.0 / std::sqrt(static_cast<double>(f.fan_in));
  rng.fill_uniform(weight.span(), -bound, bound);
  if (bias != nullptr) rng.fill_uniform(bias->span(), -bound, bound);
}

void initialize(Init init, Tensor& weight, Tensor* bias, Rng& rng) {
  switch (init) {
    case Init::torch_default: torch_default(weight, bias, rng); return;
    case Init::xavier_uniform: xavier_uniform(weight, rng); break;
    case Init::xavier_normal: xavier_normal(weight, rng); break;
    case Init::kaiming_uniform: kaiming_uniform(weight, rng); break;
    case Init::kaiming_normal: kaiming_normal(weight, rng); break;
  }
  if (bias != nullptr) zeros(*bias);
}

}  // namespace adakit::nn
