#include "adakit/linear/optimizer.hpp"

#include <string>

#include "adakit/core/error.hpp"

namespace adakit::linear {

void LinearOptimizer::reset(LinearModel& model) {
  dim_ = model.dim();
  outputs_ = model.outputs();
  steps_ = 0;
  touched_ = 0;
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
