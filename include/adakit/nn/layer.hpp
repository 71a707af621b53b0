// Layer: one differentiable step of a model. The arithmetic lives in nn/kernels.hpp; a layer holds
// its parameters, checks shapes, sizes its outputs and calls the kernels.
//
// Contract:
//   - Shapes are per sample in output_shape() (no batch dimension); tensors passed to forward and
//     backward carry the batch first: x is [B, ...input], y becomes [B, ...output].
//   - forward() resizes y only when its shape changes (no allocation per batch in steady state).
//   - backward(x, y, dy, dx) must follow the forward() that produced y from x (dropout masks, pooling
//     argmax and convolution columns are kept from it). It writes dx (same shape as x) and ADDS the
//     parameter gradients into Parameter::grad() (Embedding: into Parameter::sparse_grad()).
//   - set_input_grad(false): backward() may leave dx untouched (a Sequential does this for its first
//     layer, whose input needs no gradient; saves Linear/Conv2d one GEMM).
//   - Parameters are named "weight" / "bias"; a Sequential renames them "<index>.weight".
//   - Errors: UsageError (naming the layer and the shapes) on a shape mismatch or a bad argument.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"

namespace adakit::nn {

class Layer {
 public:
  virtual ~Layer() = default;
  virtual std::string kind() const = 0;  // "linear", "conv2d", ... (the make_layer name)
  virtual Shape output_shape(const Shape& input) const = 0;
  virtual void forward(const Tensor& x, Tensor& y, bool training) = 0;
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) = 0;
  virtual std::vector<Parameter*> parameters() { return {}; }
  // The layer's own random stream (dropout masks), nullptr when it has none. Checkpoints save and
  // restore its state, so a resumed run draws the masks the uninterrupted run would have drawn.
  virtual Rng* random_stream() noexcept { return nullptr; }
  // {"kind": ..., hyper-parameters..., "seed": ...}: make_layer(config()) builds the same layer with
  // the same initial weights (trained weights travel with the parameters, not the config).
  virtual nlohmann::json config() const = 0;

  std::int64_t num_parameters() const;
  bool input_grad() const noexcept { return input_grad_; }
  void set_input_grad(bool on) noexcept { input_grad_ = on; }

 private:
  bool input_grad_ = true;
};

// Inverse of Layer::config(). Error (with the field) on an unknown kind, a missing, mistyped, unknown
// or out-of-range field.
std::unique_ptr<Layer> make_layer(const nlohmann::json& config);
// The parameter elements a layer config declares (weights and biases), without building it: 0 for a
// malformed config (make_layer names the problem), the int64 maximum on overflow. Lets a reader
// refuse an architecture larger than its file before allocating it.
std::int64_t declared_parameters(const nlohmann::json& config);
// Every kind make_layer knows, in table order.
std::span<const std::string_view> layer_kinds();

}  // namespace adakit::nn
