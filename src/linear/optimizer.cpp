#include "adakit/linear/optimizer.hpp"

#include <atomic>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::linear {

void LinearOptimizer::reset(LinearModel& model) {
  static std::atomic<std::uint64_t> next_owner{1};
  model.reserve_state(state_width(model.outputs()), next_owner.fetch_add(1));
  dim_ = model.dim();
  outputs_ = model.outputs();
  steps_ = 0;
  touched_ = 0;
  owner_ = model.state_owner();
  on_reset(model);
}

void LinearOptimizer::bind(LinearModel& model) {
  if (!bound()) reset(model);
  else check_model(model);
}

void LinearOptimizer::check_model(const LinearModel& model) const {
  if (!bound())
    throw UsageError(std::string(name()) + ": no state yet; call reset(model) or bind(model) first");
  if (model.dim() != dim_ || model.outputs() != outputs_)
    throw UsageError(std::string(name()) + ": the state is for a [" + std::to_string(dim_) + " x " +
                     std::to_string(outputs_) + "] model, this one is [" + std::to_string(model.dim()) + " x " +
                     std::to_string(model.outputs()) + "]; call reset(model)");
  if (model.state_owner() != owner_)
    throw UsageError(std::string(name()) + ": this model does not hold this optimizer's state (another optimizer "
                     "was bound to it since, or the state was bound to another model); call reset(model)");
}

std::vector<float> LinearOptimizer::gather_state(const LinearModel& model, std::int64_t offset,
                                                 std::int64_t count) const {
  check_model(model);
  std::vector<float> out(static_cast<std::size_t>(dim_ * count));
  const float* t = model.table().data();
  for (std::int64_t j = 0; j < dim_; ++j)
    std::memcpy(out.data() + j * count, t + j * model.row_stride() + offset, static_cast<std::size_t>(count) * sizeof(float));
  return out;
}

void LinearOptimizer::check_feature(std::int64_t feature) const {
  if (feature < 0 || feature >= dim_)
    throw UsageError(std::string(name()) + ": feature " + std::to_string(feature) + " is outside [0, " +
                     std::to_string(dim_) + ")");
}

void LinearOptimizer::prepare(LinearModel& model, std::span<const std::int64_t> features) {
  check_model(model);
  on_prepare(model, features);
}

void LinearOptimizer::step(LinearModel& model, const SparseGradient& grad) {
  check_model(model);
  if (grad.outputs != outputs_ || grad.values.size() != grad.features.size() * static_cast<std::size_t>(outputs_) ||
      grad.bias.size() != static_cast<std::size_t>(outputs_))
    throw UsageError(std::string(name()) + ": gradient of " + std::to_string(grad.features.size()) + " rows x " +
                     std::to_string(grad.outputs) + " outputs (" + std::to_string(grad.values.size()) +
                     " values, bias of " + std::to_string(grad.bias.size()) + ") does not fit a model with " +
                     std::to_string(outputs_) + " outputs");
  ++steps_;
  on_step(model, grad);
}

void LinearOptimizer::sync(LinearModel& model) {
  check_model(model);
  on_sync(model);
}

}  // namespace adakit::linear
