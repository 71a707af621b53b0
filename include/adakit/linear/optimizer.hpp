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
//
// Where the state lives: the per-feature state (accumulators, last step seen, ...) is kept IN THE
// MODEL's table, state_width() floats after each feature's weights (LinearModel::reserve_state), so
// that a touched feature's weights and state share one cache line; the bias's state and the step
// count stay here. reset() lays the model out for this optimizer and marks it with this state's id:
// the features' state then travels with the model (a copy of the model copies it), and stepping a
// model that holds another optimizer's state (or none) is a UsageError asking for reset(model).
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adakit/linear/model.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::linear {
namespace detail {
class FitThreads;
}

// A step count kept in two float slots of a model row (a bit copy, never read as a float).
inline std::int64_t load_step(const float* slot) {
  std::int64_t v;
  std::memcpy(&v, slot, sizeof v);
  return v;
}
inline void store_step(float* slot, std::int64_t v) { std::memcpy(slot, &v, sizeof v); }
inline constexpr std::int64_t kStepSlots = 2;

// An optimizer's whole state, for checkpoints (exact: bit copies). Tensors by name:
//   "weight.<field>"  [dim, count]  a field of every feature's state, as kept in its model row
//                                   (AdaGrad "weight.sum"; FTRL "weight.z", "weight.n"; ...). The lazy
//                                   L1/L2 optimizers' "weight.last_step" is [dim, 2]: an int64 step count
//                                   per feature stored as the raw bits of two float32 (numpy: .view(int64)).
//   "bias.<field>"    [outputs]     the bias's state (AdaGrad "bias.sum", ...)
// The names are those of dist's sparse checkpoints for AdaGrad ("optim.adagrad." + name in a file).
struct LinearOptimizerState {
  std::map<std::string, Tensor> tensors;
  std::int64_t steps = 0;    // steps()
  std::int64_t touched = 0;  // coordinates_touched()
};

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
  // After model.remap_features(new_dim, new_of_old) grew the model this state lives in: the state
  // follows it (its rows moved with the weights) and every new feature's state is what reset() gives
  // a feature (AdaGrad's initial accumulator), so that it trains as in a model that had it from the
  // start. UsageError unless `model` holds this state, grown, and new_of_old is the mapping it was
  // grown with (empty: the old features kept their ids).
  void regrow(LinearModel& model, std::span<const std::int64_t> new_of_old = {});

  // Brings the weights of `features` (and the bias) to their value after steps() steps.
  void prepare(LinearModel& model, std::span<const std::int64_t> features);
  // prepare() for reading only (a prediction), not counted in coordinates_touched(). Changes nothing a
  // step from here would not: that step's prepare() finds these weights up to date.
  void refresh(LinearModel& model, std::span<const std::int64_t> features);
  // Step steps() + 1 with a batch's gradient: touches grad.features' rows and the bias only.
  void step(LinearModel& model, const SparseGradient& grad);
  // Brings every weight up to date: O(dim · outputs). Idempotent.
  void sync(LinearModel& model);
  // Whether prepare() changes weights (a lazy L1/L2 shrink, or RDA's weights as a function of the
  // state): then a weight read without prepare() may be stale.
  virtual bool lazy() const { return false; }
  // Floats of per-feature state this optimizer keeps in the rows of a model with `outputs` outputs.
  virtual std::int64_t state_width(std::int64_t outputs) const = 0;

  // The state (see LinearOptimizerState). UsageError unless `model` holds it. The model's weights are
  // saved with it as they are (a lazy optimizer brings a weight up to date when it next touches it).
  LinearOptimizerState state(const LinearModel& model) const;
  // Binds to `model` (as reset()) and puts `state` in, leaving the model's weights and bias as they
  // are: load the weights saved with the state into the model, before or after. All or nothing:
  // UsageError naming the entry when a tensor is missing, unknown or of the wrong shape, or a counter
  // is negative; the optimizer and the model are then unchanged.
  void load_state(LinearModel& model, const LinearOptimizerState& state);

  // Parameter mixing (linear::fit with FitOptions::workers > 1): where a feature's row keeps the sum of
  // squared gradients of each output (floats from the row's start; -1: this optimizer keeps none and
  // cannot be mixed), and the bias's sums (outputs floats; empty without a bias state).
  virtual std::int64_t mixing_sum_offset(std::int64_t /*outputs*/) const { return -1; }
  virtual std::span<float> mixing_bias_sum() { return {}; }
  // Parameter mixing: the counters after merging the workers' runs (steps() and coordinates_touched()
  // summed over the workers' epochs).
  void set_counters(std::int64_t steps, std::int64_t touched) noexcept {
    steps_ = steps;
    touched_ = touched;
  }

  std::int64_t steps() const noexcept { return steps_; }
  // Instrumentation: coordinates of W and bias read or written by prepare() and step() since reset()
  // (not sync()). Equal for the same data whatever the model's dim.
  std::int64_t coordinates_touched() const noexcept { return touched_; }

 protected:
  virtual void on_reset(LinearModel& model) = 0;
  // prepare() and step() in parts, at step count t (prepare: the steps done; step: the new count). on_prepare
  // and on_step touch only their features' rows (and read the options): linear::fit on several threads
  // calls them from each thread on its own features at once (detail::FitThreads). The bias hooks, and
  // the counters, are one thread's.
  virtual void on_prepare(LinearModel& model, std::span<const std::int64_t> features, std::int64_t t) const = 0;
  virtual void on_prepare_bias(LinearModel& /*model*/, std::int64_t /*t*/) {}
  virtual void on_step(LinearModel& model, const SparseGradient& grad, std::int64_t t) const = 0;
  virtual void on_step_bias(LinearModel& model, std::span<const float> grad, std::int64_t t) = 0;
  // Coordinates of W and bias a prepare() of `features` features reads or writes (coordinates_touched):
  // affine in features.
  virtual std::int64_t prepare_touches(const LinearModel& /*model*/, std::int64_t features) const {
    return lazy() ? features * outputs_ : 0;
  }
  virtual void on_sync(LinearModel& model) = 0;
  // A feature's state as reset() leaves it, for `features` (rows of zeros): what is not zero.
  virtual void on_fresh_features(LinearModel&, std::span<const std::int64_t>) {}
  // The layout of the state, for state() and load_state(): each field of a feature's state in the row
  // of a model with `outputs` outputs (offset from the row's start, floats), and the optimizer's own
  // vectors of outputs floats (the bias's state). The row fields cover [outputs, outputs + state_width).
  struct RowField {
    std::string name;
    std::int64_t offset, count;
    bool step = false;  // an int64 step count in kStepSlots floats: load_state checks 0 <= it <= steps
  };
  virtual std::vector<RowField> row_fields(std::int64_t outputs) const = 0;
  virtual std::vector<std::pair<std::string, std::vector<float>*>> bias_fields() { return {}; }
  // UsageError unless 0 <= feature < dim.
  void check_feature(std::int64_t feature) const;
  // UsageError unless `model` has the state's shape and holds this state.
  void check_model(const LinearModel& model) const;
  // Feature j's row in the model's table: outputs_ weights, then this optimizer's state.
  static float* row(LinearModel& model, std::int64_t feature) {
    return model.table().data() + feature * model.row_stride();
  }
  // The state at `offset` (from the row's start) of every feature, `count` floats each: dim x count.
  std::vector<float> gather_state(const LinearModel& model, std::int64_t offset, std::int64_t count) const;
  // The same into `out` (dim x count floats), unchecked.
  void copy_state(const LinearModel& model, std::int64_t offset, std::int64_t count, float* out) const;

  std::int64_t dim_ = -1, outputs_ = 0, steps_ = 0, touched_ = 0;
  std::uint64_t owner_ = 0;  // the id reset() gave this state (LinearModel::state_owner)

 private:
  friend class detail::FitThreads;  // the parts above, from several threads, and the counters
};

}  // namespace adakit::linear
