// LinearOptimizer: the interface of the lazy optimizers for sparse linear models. State is per
// coordinate of the model's W [dim x outputs] and bias; a step touches only the rows of the batch's
// features (plus the bias), so a step costs O(batch nonzeros · outputs), never O(dim).
//
// Protocol, per batch (linear::fit() follows it):
//   optimizer.prepare(model, batch.features);   // weights of those features brought to step t − 1
//   model.gradient(data, rows, batch, grad);     // reads those weights
//   optimizer.step(model, grad);                 // step t
// and optimizer.sync(model) (O(dim)) before reading all the weights (predict, save, count zeros).
//
// prepare() matters for the optimizers whose untouched weights still move: the L1/L2 proximal steps
// of adagrad-l1 and sgd (caught up in closed form, linear/prox.hpp), and adagrad-rda (weights are a
// function of the dual state and of t). For adagrad and ftrl it does nothing.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "adakit/linear/model.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::linear {

// Prefetch hint for `count` floats from `p`: one per 64-byte line. Touching memory early changes no value.
inline void prefetch_floats(const float* p, std::int64_t count) {
  for (std::int64_t i = 0; i < count; i += 16) __builtin_prefetch(p + i);
}

class LinearOptimizer {
 public:
  virtual ~LinearOptimizer() = default;
  virtual std::string_view name() const = 0;
  // The options as text, keyed as in the registry (linear/registry.hpp).
  virtual optim::OptionMap option_map() const = 0;

  // Sizes the state for `model` and zeroes it (steps() = 0). ftrl and adagrad-rda also zero the
  // model's weights and bias (theirs are a function of the state); the others start from them.
  void reset(LinearModel& model);
  // reset() on first use; afterwards UsageError when `model` has another shape than the state.
  void bind(LinearModel& model);
  bool bound() const noexcept { return dim_ >= 0; }

  // Brings the weights of `features` (and the bias) to their value after steps() steps.
  void prepare(LinearModel& model, std::span<const std::int64_t> features);
  // Step steps() + 1 with a batch's gradient: touches grad.features' rows and the bias only.
  void step(LinearModel& model, const SparseGradient& grad);
  // Brings every weight up to date: O(dim · outputs). Idempotent.
  void sync(LinearModel& model);
  // A hint that a coming step will touch `feature` (linear::fit gives it one batch ahead): asks the
  // CPU to bring that feature's state toward the cache. Changes no value; a no-op by default.
  virtual void prefetch(std::int64_t /*feature*/) const {}

  std::int64_t steps() const noexcept { return steps_; }
  // Instrumentation: coordinates of W and bias read or written by prepare() and step() since reset()
  // (not sync()). Equal for the same data whatever the model's dim.
  std::int64_t coordinates_touched() const noexcept { return touched_; }

 protected:
  virtual void on_reset(LinearModel& model) = 0;
  virtual void on_prepare(LinearModel& model, std::span<const std::int64_t> features) = 0;
  virtual void on_step(LinearModel& model, const SparseGradient& grad) = 0;  // steps() is the new t
  virtual void on_sync(LinearModel& model) = 0;
  // UsageError unless 0 <= feature < dim.
  void check_feature(std::int64_t feature) const;

  std::int64_t dim_ = -1, outputs_ = 0, steps_ = 0, touched_ = 0;

 private:
  void check_model(const LinearModel& model) const;
};

}  // namespace adakit::linear
