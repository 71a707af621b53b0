// Lazy AdaGrad for sparse linear models — exactly adakit's AdaGrad (optim/adagrad.hpp, PyTorch
// semantics; Duchi, Hazan & Singer, JMLR 2011):
//   clr = lr / (1 + (t − 1) lr_decay);  s += g²;  θ −= clr · g / (√s + eps)
// t is the global step count. The kernel is optim::adagrad_step_rows_interleaved over the model's
// table (each feature's row: its outputs weights, then their outputs sums s), and optim::adagrad_step
// over the bias; nothing is written again here.
//
// Lazy = exact: a coordinate whose gradient is 0 gets s += 0 and θ −= 0 in the dense update, so
// touching only the batch's features gives the dense trajectory bit for bit. For the same reason
// weight_decay (g += wd·θ makes every gradient nonzero) is refused: use adagrad-l1's l2.
#pragma once
#include <span>
#include <string_view>
#include <vector>

#include "adakit/linear/optimizer.hpp"
#include "adakit/optim/adagrad.hpp"

namespace adakit::linear {

class LazyAdagrad final : public LinearOptimizer {
 public:
  static constexpr std::string_view kName = "adagrad";
  // UsageError on invalid options or weight_decay != 0.
  explicit LazyAdagrad(const optim::AdagradOptions& options = {});
  // optim::AdagradRule's fields without weight_decay.
  static std::span<const optim::Field<optim::AdagradOptions>> fields();

  std::string_view name() const override { return kName; }
  optim::OptionMap option_map() const override;
  const optim::AdagradOptions& options() const noexcept { return options_; }
  // s of W, dim x outputs (a copy, from the model's rows). UsageError unless `model` holds this state.
  std::vector<float> sum(const LinearModel& model) const { return gather_state(model, outputs_, outputs_); }
  std::int64_t state_width(std::int64_t outputs) const override { return outputs; }
  std::int64_t mixing_sum_offset(std::int64_t outputs) const override { return outputs; }
  std::span<float> mixing_bias_sum() override { return bias_sum_; }

 protected:
  std::vector<RowField> row_fields(std::int64_t outputs) const override { return {{"sum", outputs, outputs}}; }
  std::vector<std::pair<std::string, std::vector<float>*>> bias_fields() override { return {{"sum", &bias_sum_}}; }
  void on_reset(LinearModel& model) override;
  void on_fresh_features(LinearModel& model, std::span<const std::int64_t> features) override;
  void on_prepare(LinearModel&, std::span<const std::int64_t>, std::int64_t) const override {}
  void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const override;
  void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) override;
  void on_sync(LinearModel&) override {}

 private:
  optim::AdagradOptions options_;
  std::vector<float> bias_sum_;
};

}  // namespace adakit::linear
