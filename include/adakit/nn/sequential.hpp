// Sequential: layers applied in order, with the activations kept for backward.
//
//   nn::Sequential model = nn::mlp(784, {256}, 10, "relu", "", /*seed=*/1);
//   const Tensor& logits = model.forward(x, /*training=*/true);     // x: [B, 784]
//   double loss = nn::softmax_cross_entropy_loss(logits, labels, dlogits);
//   model.zero_grad();            // or the optimizer's zero_grad()
//   model.backward(dlogits);      // ADDS into every parameter's grad()
//   optimizer.step();
//
// Buffers (activations, gradients, layer scratch) are reused across calls: after the first batch of
// a given shape nothing is allocated (except an Embedding's sparse gradient). The returned reference
// stays valid until the next forward(). forward() copies x, so x may change or die afterwards.
// The first layer does not compute the gradient of the model's input unless set_input_grad(true).
// Parameters are renamed "<layer index>.<name>" ("0.weight", "0.bias", "2.weight"), as torch.nn.Sequential.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/core/parameter.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/nn/layer.hpp"

namespace adakit::nn {

class Sequential {
 public:
  Sequential() = default;
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;
  Sequential(const Sequential&) = delete;
  Sequential& operator=(const Sequential&) = delete;

  void add(std::unique_ptr<Layer> layer);
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *layer;
    add(std::move(layer));
    return ref;
  }
  std::size_t size() const noexcept { return layers_.size(); }
  Layer& layer(std::size_t i) { return *layers_.at(i); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }

  // x: [B, ...input]. Returns the output [B, ...output]. training turns dropout on.
  const Tensor& forward(const Tensor& x, bool training);
  // dloss: gradient of the loss w.r.t. the last forward()'s output (same shape). Gradients accumulate.
  void backward(const Tensor& dloss);
  // Called by backward() right after layer i's backward (i from size()-1 down to 0): layer i's
  // parameter gradients are final for this backward from then on. Data parallelism starts reducing
  // them there, while the layers below still compute (dist/data_parallel.hpp). Empty: none.
  using BackwardHook = std::function<void(std::size_t layer)>;
  void set_backward_hook(BackwardHook hook) { backward_hook_ = std::move(hook); }
  // Also compute the gradient w.r.t. the model input (off by default); read it after backward().
  void set_input_grad(bool on);
  const Tensor& input_grad() const noexcept { return grads_.empty() ? empty_ : grads_.front(); }

  std::vector<Parameter*> parameters();
  // The layers' random streams (Layer::random_stream), named by layer index ("1" for a dropout at index 1).
  std::vector<std::pair<std::string, Rng*>> random_streams();
  std::int64_t num_parameters() const;
  void zero_grad();

  // Per-sample output shape for a per-sample input shape (UsageError naming the layer on a mismatch).
  Shape output_shape(const Shape& input) const;
  // {"kind": "sequential", "layers": [layer configs...]}
  nlohmann::json config() const;
  // Accepts that object or a bare array of layer configs. Error naming the layer index on a bad one,
  // and (before allocating anything) when the layers declare more than max_parameters values.
  static Sequential from_config(const nlohmann::json& config,
                                std::int64_t max_parameters = std::numeric_limits<std::int64_t>::max());
  // A table: index, layer (kind and hyper-parameters), output shape, parameter count; then the total.
  std::string summary(const Shape& input) const;

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Tensor> acts_;   // acts_[0]: copy of the input; acts_[i + 1]: output of layer i
  std::vector<Tensor> grads_;  // grads_[i]: gradient w.r.t. acts_[i] (grads_[n] unused: dloss is read in place)
  BackwardHook backward_hook_;
  bool input_grad_ = false;
  bool ready_ = false;  // a forward() completed since the last change
  Tensor empty_;
};

}  // namespace adakit::nn
