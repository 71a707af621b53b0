// The layers. Each one's math is a kernel in nn/kernels.hpp; see nn/layer.hpp for the contract.
//
// kind         per-sample shapes                    parameters
// linear       [..., in] -> [..., out]              weight [out, in], bias [out]   y = x Wᵀ + b
// conv2d       [C, H, W] -> [O, H', W']             weight [O, C, k, k], bias [O]  cross-correlation
//              H' = (H + 2 padding - k) / stride + 1 (as torch.nn.Conv2d)
// max_pool2d   [C, H, W] -> [C, H', W']             H' = (H - k) / stride + 1 (no padding, floor)
// avg_pool2d   [C, H, W] -> [C, H', W']             mean over the window
// flatten      [d1, d2, ...] -> [d1 * d2 * ...]
// dropout      any -> same                          inverted dropout: y = x * mask / (1 - p) when training
// relu / tanh / sigmoid  any -> same
// embedding    [...] ids (stored as floats) -> [..., dim]   weight [num, dim], grad row-sparse
//
// Weights are initialised at construction from `seed` (default init: PyTorch's, see nn/init.hpp).
//
// Computation: Linear is one GEMM forward (y = x·Wᵀ), two backward (dW += dyᵀ·x, dx = dy·W, the
// second skipped when input_grad() is off). Conv2d unfolds the batch into columns [C·k·k, B·H'·W']
// (im2col), computes y_b = W·cols_b per sample (samples over threads), and backward does one GEMM
// over the batch for dW += dY·colsᵀ and dx_b = col2im(Wᵀ·dy_b) per sample.
//
// Config keys (make_layer / config()): linear {in_features, out_features, bias, seed, init};
// conv2d {in_channels, out_channels, kernel_size, stride, padding, bias, seed, init};
// max_pool2d / avg_pool2d {kernel_size, stride}; dropout {p, seed}; embedding {num_embeddings,
// embedding_dim, seed}; flatten, relu, tanh, sigmoid {}. Optional on input: bias (true), seed (0),
// init ("torch_default"), stride (1 for conv2d, kernel_size for pools), padding (0).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/nn/init.hpp"
#include "adakit/nn/kernels.hpp"
#include "adakit/nn/layer.hpp"

namespace adakit::nn {

class Linear final : public Layer {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true, std::uint64_t seed = 0,
         Init init = Init::torch_default);
  std::string kind() const override { return "linear"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<Parameter*> parameters() override;
  nlohmann::json config() const override;

  std::int64_t in_features() const noexcept { return in_; }
  std::int64_t out_features() const noexcept { return out_; }
  Parameter& weight() noexcept { return weight_; }
  Parameter* bias() noexcept { return bias_ ? &*bias_ : nullptr; }

 private:
  std::int64_t in_, out_;
  std::uint64_t seed_;
  Init init_;
  Parameter weight_;
  std::optional<Parameter> bias_;
};

class Conv2d final : public Layer {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, std::int64_t stride = 1,
         std::int64_t padding = 0, bool bias = true, std::uint64_t seed = 0, Init init = Init::torch_default);
  std::string kind() const override { return "conv2d"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<Parameter*> parameters() override;
  nlohmann::json config() const override;

  Parameter& weight() noexcept { return weight_; }
  Parameter* bias() noexcept { return bias_ ? &*bias_ : nullptr; }

 private:
  Conv2dGeometry geometry(const Tensor& x) const;  // checks x is [B, in_channels, H, W]

  std::int64_t in_, out_, kernel_, stride_, padding_;
  std::uint64_t seed_;
  Init init_;
  Parameter weight_;
  std::optional<Parameter> bias_;
  // im2col of the whole batch, [C*k*k, B*H'*W'] (kept from forward for backward), and the output
  // gradient regrouped as [O, B*H'*W'] for the weight-gradient GEMM.
  Tensor cols_, grad_t_;
  bool cols_valid_ = false;  // cols_ holds the last forward's columns (backward overwrites them)
};

class MaxPool2d final : public Layer {
 public:
  explicit MaxPool2d(std::int64_t kernel_size, std::int64_t stride = 0);  // stride 0: = kernel_size
  std::string kind() const override { return "max_pool2d"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  nlohmann::json config() const override;

 private:
  std::int64_t kernel_, stride_;
  std::vector<std::int32_t> argmax_;
};

class AvgPool2d final : public Layer {
 public:
  explicit AvgPool2d(std::int64_t kernel_size, std::int64_t stride = 0);  // stride 0: = kernel_size
  std::string kind() const override { return "avg_pool2d"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  nlohmann::json config() const override;

 private:
  std::int64_t kernel_, stride_;
};

class Flatten final : public Layer {
 public:
  std::string kind() const override { return "flatten"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  nlohmann::json config() const override;
};

// Inverted dropout (Srivastava et al., JMLR 2014): when training, each element is kept with
// probability 1 - p and scaled by 1 / (1 - p); identity otherwise. Masks come from an Rng seeded
// with `seed` that advances with every training forward.
class Dropout final : public Layer {
 public:
  explicit Dropout(double p, std::uint64_t seed = 0);
  std::string kind() const override { return "dropout"; }
  Shape output_shape(const Shape& input) const override { return input; }
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  nlohmann::json config() const override;

  double p() const noexcept { return p_; }
  Rng& rng() noexcept { return rng_; }
  Rng* random_stream() noexcept override { return &rng_; }

 private:
  double p_;
  std::uint64_t seed_;
  Rng rng_;
  Tensor mask_;
  bool masked_ = false;  // the last forward applied mask_
};

// Elementwise activations: no parameters, output shape = input shape.
class Activation : public Layer {
 public:
  Shape output_shape(const Shape& input) const override { return input; }
  nlohmann::json config() const override;
};

class ReLU final : public Activation {
 public:
  std::string kind() const override { return "relu"; }
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
};

class Tanh final : public Activation {
 public:
  std::string kind() const override { return "tanh"; }
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
};

class Sigmoid final : public Activation {
 public:
  std::string kind() const override { return "sigmoid"; }
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
};

// A table of num rows of dim values (init N(0, 1), as torch.nn.Embedding). The input holds integer ids
// stored as floats; an id that is not an integer in [0, num) is a UsageError naming it and its position.
// backward() appends (ids, dy rows) to weight().sparse_grad() — duplicates allowed, the dense grad is
// untouched — and writes dx = 0 (ids have no gradient).
class Embedding final : public Layer {
 public:
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, std::uint64_t seed = 0);
  std::string kind() const override { return "embedding"; }
  Shape output_shape(const Shape& input) const override;
  void forward(const Tensor& x, Tensor& y, bool training) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<Parameter*> parameters() override { return {&weight_}; }
  nlohmann::json config() const override;

  Parameter& weight() noexcept { return weight_; }

 private:
  std::int64_t num_, dim_;
  std::uint64_t seed_;
  Parameter weight_;
};

}  // namespace adakit::nn
