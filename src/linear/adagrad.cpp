#include "adakit/linear/adagrad.hpp"

#include <algorithm>
#include <vector>

#include "adakit/core/error.hpp"

namespace adakit::linear {

LazyAdagrad::LazyAdagrad(const optim::AdagradOptions& options) : options_(options) {
  options_.validate();
  if (options_.weight_decay != 0.0)
    throw UsageError("adagrad (linear): weight_decay would touch every coordinate at every step; "
                     "use adagrad-l1 with l2 instead",
                     {"", 0, "weight_decay"});
}

std::span<const optim::Field<optim::AdagradOptions>> LazyAdagrad::fields() {
  static const std::vector<optim::Field<optim::AdagradOptions>> table = [] {
    std::vector<optim::Field<optim::AdagradOptions>> t;
    for (const auto& f : optim::AdagradRule::fields())
      if (f.key != "weight_decay") t.push_back(f);
    return t;
  }();
  return table;
}

optim::OptionMap LazyAdagrad::option_map() const { return optim::options_to_map(options_, fields()); }

void LazyAdagrad::on_fresh_features(LinearModel& model, std::span<const std::int64_t> features) {
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  if (s0 != 0.0f)
    for (const std::int64_t j : features) std::fill_n(row(model, j) + outputs_, outputs_, s0);
}

void LazyAdagrad::on_reset(LinearModel& model) {
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  if (s0 != 0.0f)
    for (std::int64_t j = 0; j < dim_; ++j) std::fill_n(row(model, j) + outputs_, outputs_, s0);
  bias_sum_.assign(model.bias().size(), s0);
}

void LazyAdagrad::on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const {
  // The kernel validates the feature ids (rows) and sums duplicates.
  optim::adagrad_step_rows_interleaved(model.table(), model.row_stride(), outputs_, outputs_, grad.features,
                                       grad.values, options_, t);
}

void LazyAdagrad::on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) {
  optim::adagrad_step(model.bias(), grad, bias_sum_, options_, t);
}

}  // namespace adakit::linear
