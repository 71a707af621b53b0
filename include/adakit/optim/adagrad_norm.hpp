// AdaGrad-Norm — Ward, Wu & Bottou, "AdaGrad stepsizes: sharp convergence over nonconvex
// landscapes", ICML 2019 (JMLR 21, 2020), Algorithm 1: one scalar step size for a whole tensor.
//
// One step, for step t = 1, 2, ... (b² starts at b0²):
//   b² = b² + ‖g‖²                 (‖·‖ the L2 norm over the tensor, accumulated in double)
//   θ  = θ - lr · g / b            (no update while b == 0, i.e. b0 = 0 and g = 0 so far)
// Modes: per tensor (default: one b per parameter, state "sum_sq" of shape [1]) or global = true
// (one b for all parameters of a parameter group: ‖g‖² summed over them first, group state
// "sum_sq"), the paper's form for a model seen as one vector.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

struct AdagradNormOptions {
  double lr = 1.0;    // η (the paper's experiments use η = 1)
  double b0 = 1e-2;   // initial b (b² starts at b0²)
  bool global = false;
  void validate() const;
};

// b² += ‖g‖², returned (float state, double sum).
float adagrad_norm_accumulate(std::span<const float> grad, float sum_sq);
// θ -= lr · g / sqrt(sum_sq); nothing when sum_sq == 0.
void adagrad_norm_apply(std::span<float> param, std::span<const float> grad, float sum_sq, double lr);

struct AdagradNormRule {
  using Options = AdagradNormOptions;
  static constexpr std::string_view name = "adagrad-norm";
  static std::span<const Field<Options>> fields();
  static std::vector<BufferSpec> state_spec(const Options& o, const Shape& shape);
  static std::vector<BufferSpec> group_state_spec(const Options& o);
  static void begin_group_step(const Options& o, std::span<const std::span<const float>> grads,
                               std::span<const std::span<float>> group_state);
  static void step(const Options& o, const TensorStep& s);
};
using AdagradNorm = RuleOptimizer<AdagradNormRule>;

}  // namespace adakit::optim
