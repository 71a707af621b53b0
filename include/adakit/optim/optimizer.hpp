// Optimizer: parameter groups with per-group options, per-parameter state keyed by parameter id,
// step(), zero_grad(), a state dict and memory accounting. The update math is never here:
// RuleOptimizer<Rule> calls the rule's one kernel. Two kinds of rule (see docs/design.md):
//
// An elementwise rule (SGD, AdaGrad, Adam, ...) is a struct with
//   Options (with validate()), name, supports_rows, fields(), state_names(o) -> StateNames<N>,
//   initial_value(o, name), step(o, param, grad, state_buffers, t) and, when supports_rows,
//   step_rows(...) and optionally rows_supported(o) (false for options step_rows refuses).
// Its buffers have the parameter's shape, and a group's tensors are updated in one parallel region.
//
// A tensor rule (full-matrix AdaGrad, Shampoo, SM3, Adafactor, AdaGrad-Norm) sees whole tensors:
//   Options, name, fields(), state_spec(o, shape) -> buffers (name, shape, initial value),
//   step(o, const TensorStep&)
// and, for state shared by a group's parameters (AdaGrad-Norm's global mode),
//   group_state_spec(o), begin_group_step(o, grads, group_state)   (called before the group's steps).
#pragma once
#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/optim/clip.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/schedule.hpp"

namespace adakit::optim {

// Named tensors and counters: "<param>.<state>" (e.g. "fc1.weight.sum"), "<param>.step",
// "optimizer.steps"; metadata holds the optimizer name and each group's options as text.
struct StateDict {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, std::string> metadata;
};

using BufferMap = std::map<std::string, Tensor, std::less<>>;

// State of one parameter: its step count and its named buffers (PyTorch's names: sum, exp_avg, ...).
struct ParamState {
  std::int64_t step = 0;
  BufferMap buffers;
  const Tensor* buffer(std::string_view name) const {
    auto it = buffers.find(name);
    return it == buffers.end() ? nullptr : &it->second;
  }
};

// One state buffer an optimizer keeps for a parameter (or for a group): name, shape, initial value.
struct BufferSpec {
  std::string name;
  Shape shape;
  float initial = 0.0f;
};

// One parameter's step, as a tensor rule sees it.
struct TensorStep {
  std::span<float> param;
  const Shape& shape;  // the parameter's shape
  std::span<const float> grad;
  std::span<const std::span<float>> state;        // the rule's buffers, in state_spec order
  std::span<const std::span<float>> group_state;  // the group's buffers (group_state_spec), usually none
  std::int64_t step;                              // this parameter's step, from 1
};

// The names of an elementwise rule's state buffers under given options, at most N of them. N is part of
// the type state_names() returns, so the fused step holds a parameter's buffer slices in an array of
// exactly N, and a rule that lists more names than its N does not compile:
//   static StateNames<3> state_names(const Options& o) {
//     if (o.amsgrad) return {{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}};
//     return {{"exp_avg", "exp_avg_sq"}};
//   }
template <std::size_t N>
class StateNames {
 public:
  static constexpr std::size_t capacity = N;
  constexpr StateNames() = default;
  template <std::size_t M>
    requires(M <= N)
  constexpr StateNames(const std::string_view (&names)[M]) : size_(M) {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i < M; ++i) names_[i] = names[i];
  }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr const std::string_view* begin() const noexcept { return names_.data(); }
  constexpr const std::string_view* end() const noexcept { return names_.data() + size_; }
  constexpr std::span<const std::string_view> span() const noexcept { return {names_.data(), size_}; }

 private:
  std::array<std::string_view, N> names_{};
  std::size_t size_ = 0;
};

template <class T>
inline constexpr bool is_state_names = false;
template <std::size_t N>
inline constexpr bool is_state_names<StateNames<N>> = true;

template <class R>
concept ElementwiseRule = requires(const typename R::Options& o) {
  R::state_names(o);
  requires is_state_names<decltype(R::state_names(o))>;
  { R::initial_value(o, std::string_view{}) } -> std::convertible_to<float>;
};

template <class R>
concept TensorRule = requires(const typename R::Options& o, const Shape& shape, const TensorStep& t) {
  { R::state_spec(o, shape) } -> std::convertible_to<std::vector<BufferSpec>>;
  R::step(o, t);
};

template <class R>
concept GroupStateRule = TensorRule<R> && requires(const typename R::Options& o,
                                                   std::span<const std::span<const float>> grads,
                                                   std::span<const std::span<float>> group_state) {
  { R::group_state_spec(o) } -> std::convertible_to<std::vector<BufferSpec>>;
  R::begin_group_step(o, grads, group_state);
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string_view name() const = 0;
  // True when the rule updates each element from that element alone (SGD, AdaGrad, Adam, ...): then a
  // step over any slices of the parameters equals the whole step on those elements, which sharded
  // data parallelism relies on (dist/data_parallel.hpp). False for tensor rules (Shampoo, SM3, ...).
  virtual bool elementwise() const { return false; }
  // True when the parameters of `group` may carry a row-sparse gradient (Parameter::sparse_grad) under
  // the group's options: a rule with a rows kernel (AdaGrad, without weight_decay). Where it is false,
  // step() throws UsageError on such a gradient.
  virtual bool supports_rows(std::size_t group = 0) const {
    (void)group;
    return false;
  }

  // Clips (when set), scales lr by the schedule, then applies the rule to every parameter that
  // requires a gradient, dense or row-sparse.
  void step();
  void zero_grad();
  // Forgets all state and the step count: the next step() behaves like the first.
  void reset();
  std::int64_t steps() const noexcept { return steps_; }

  std::size_t num_groups() const noexcept { return groups_.size(); }
  std::span<Parameter* const> group_params(std::size_t group) const { return groups_.at(group); }
  std::vector<Parameter*> parameters() const;
  virtual void add_param_group(std::vector<Parameter*> params, const OptionMap& overrides) = 0;
  virtual OptionMap group_options(std::size_t group) const = 0;
  virtual void set_group_options(std::size_t group, const OptionMap& changes) = 0;
  virtual double lr(std::size_t group = 0) const = 0;
  virtual void set_lr(double lr, std::size_t group = 0) = 0;
  // lr actually used at the next step (schedule applied).
  double scheduled_lr(std::size_t group = 0) const { return lr(group) * schedule_.factor(steps_ + 1); }

  void set_schedule(const Schedule& schedule);
  const Schedule& schedule() const noexcept { return schedule_; }
  void set_clip(const ClipOptions& clip);
  const ClipOptions& clip() const noexcept { return clip_; }

  const ParamState* state(const Parameter& p) const;
  // The group's shared buffers (empty for most optimizers).
  const BufferMap& group_state(std::size_t group) const { return group_state_.at(group); }
  StateDict state_dict() const;
  // Restores state and group options saved by state_dict(); parameters are matched by name.
  // Error (naming the entry) on another optimizer, a missing or extra parameter, a buffer the
  // optimizer does not keep, a wrong shape, or a parameter whose state is incomplete.
  void load_state_dict(const StateDict& dict);

  // The buffers kept for a parameter of `shape` in `group` once it has taken a step.
  virtual std::vector<BufferSpec> state_spec(std::size_t group, const Shape& shape) const = 0;
  // Buffers shared by a group's parameters (AdaGrad-Norm's global accumulator); none by default.
  virtual std::vector<BufferSpec> group_state_spec(std::size_t) const { return {}; }
  // Memory accounting, from shapes only (nothing is allocated): bytes of state tensors once every
  // parameter has taken a step (step counters not counted). Equals the bytes actually held then.
  std::int64_t state_bytes() const;
  // The same for one parameter of `shape` under `group`'s options, without any such parameter.
  std::int64_t state_bytes(const Shape& shape, std::size_t group = 0) const;

 protected:
  void add_group_params(std::vector<Parameter*> params);
  // One group's step. The default applies step_param to each parameter in turn.
  virtual void step_group(std::size_t group, double lr_factor);
  virtual void step_param(std::size_t group, Parameter& p, ParamState& st, double lr_factor) = 0;

  std::vector<std::vector<Parameter*>> groups_;
  std::vector<BufferMap> group_state_;  // one per group
  std::unordered_map<std::uint64_t, ParamState> state_;
  std::int64_t steps_ = 0;
  Schedule schedule_;
  ClipOptions clip_;
};

// Collects the state buffers a rule needs for `o`, creating missing ones at their initial value.
std::vector<std::span<float>> prepare_buffers(ParamState& st, const Shape& shape,
                                              std::span<const std::string_view> names,
                                              const std::function<float(std::string_view)>& initial);
// The same for a tensor rule's layout; a buffer present with another shape (options changed after
// the first step, e.g. block_size) is an Error naming it.
std::vector<std::span<float>> prepare_state(BufferMap& buffers, const std::vector<BufferSpec>& specs);
[[noreturn]] void throw_no_sparse_support(std::string_view optimizer, const std::string& param);
// Multi-tensor split: treats the tensors of `sizes` as one concatenated range, splits it into one
// contiguous chunk per thread by element count (one parallel region for the whole group), and calls
// fn(tensor index, offset, length) for every piece of a tensor inside a chunk.
void for_each_slice(std::span<const std::int64_t> sizes,
                    const std::function<void(std::size_t, std::int64_t, std::int64_t)>& fn);

template <class Rule>
class RuleOptimizer final : public Optimizer {
 public:
  using Options = typename Rule::Options;

  explicit RuleOptimizer(std::vector<Parameter*> params, Options defaults = {}) : defaults_(defaults) {
    defaults_.validate();
    add_param_group(std::move(params), defaults_);
  }
  RuleOptimizer(std::vector<Parameter*> params, const OptionMap& options) : defaults_(options_from(options)) {
    add_param_group(std::move(params), defaults_);
  }

  static Options options_from(const OptionMap& map, Options base = {}) {
    apply_options<Options>(base, Rule::fields(), map, Rule::name);
    base.validate();
    return base;
  }

  std::string_view name() const override { return Rule::name; }
  bool elementwise() const override { return ElementwiseRule<Rule>; }
  bool supports_rows(std::size_t group = 0) const override {
    [[maybe_unused]] const Options& o = options_.at(group);
    if constexpr (!ElementwiseRule<Rule>) return false;
    else if constexpr (!Rule::supports_rows) return false;
    else if constexpr (requires { Rule::rows_supported(o); }) return Rule::rows_supported(o);
    else return true;
  }

  void add_param_group(std::vector<Parameter*> params, Options options) {
    options.validate();
    add_group_params(std::move(params));
    options_.push_back(options);
  }
  void add_param_group(std::vector<Parameter*> params, const OptionMap& overrides) override {
    add_param_group(std::move(params), options_from(overrides, defaults_));
  }
  OptionMap group_options(std::size_t group) const override {
    return options_to_map<Options>(options_.at(group), Rule::fields());
  }
  void set_group_options(std::size_t group, const OptionMap& changes) override {
    options_.at(group) = options_from(changes, options_.at(group));
  }
  double lr(std::size_t group = 0) const override { return options_.at(group).lr; }
  void set_lr(double lr, std::size_t group = 0) override {
    Options o = options_.at(group);
    o.lr = lr;
    o.validate();
    options_.at(group) = o;
  }
  const Options& options(std::size_t group = 0) const { return options_.at(group); }
  void set_options(const Options& o, std::size_t group = 0) {
    o.validate();
    options_.at(group) = o;
  }

  std::vector<BufferSpec> state_spec(std::size_t group, const Shape& shape) const override {
    const Options& o = options_.at(group);
    if constexpr (ElementwiseRule<Rule>) {
      std::vector<BufferSpec> out;
      for (auto n : Rule::state_names(o)) out.push_back({std::string(n), shape, Rule::initial_value(o, n)});
      return out;
    } else {
      return Rule::state_spec(o, shape);
    }
  }
  std::vector<BufferSpec> group_state_spec(std::size_t group) const override {
    if constexpr (GroupStateRule<Rule>) return Rule::group_state_spec(options_.at(group));
    else return {};
  }

 protected:
  void step_group(std::size_t group, double lr_factor) override {
    if constexpr (ElementwiseRule<Rule>) {
      step_group_fused(group, lr_factor);
    } else {
      if constexpr (GroupStateRule<Rule>) {
        // Shared state first (from every gradient of the group), then each parameter's step.
        std::vector<std::span<const float>> grads;
        for (auto* p : groups_[group]) {
          if (!p->requires_grad()) continue;
          if (p->has_sparse_grad()) throw_no_sparse_support(Rule::name, p->name());
          grads.push_back(p->grad().span());
        }
        Options o = options_[group];
        o.lr *= lr_factor;
        const auto shared = prepare_state(group_state_[group], Rule::group_state_spec(o));
        Rule::begin_group_step(o, grads, shared);
      }
      Optimizer::step_group(group, lr_factor);
    }
  }

  // Elementwise rules update all dense parameters of a group in one parallel region, split by element
  // counts, so a model of many small tensors pays one thread start per step, not one per tensor. The
  // kernel is the same; it is called on slices (and runs inline inside the region).
  void step_group_fused(std::size_t group, double lr_factor) {
    const auto& params = groups_[group];
    bool dense = true;
    for (const auto* p : params) dense = dense && !p->has_sparse_grad();
    if (!dense || params.size() < 2) {
      Optimizer::step_group(group, lr_factor);
      return;
    }
    Options o = options_[group];
    o.lr *= lr_factor;
    const auto names = Rule::state_names(o);
    using Names = decltype(Rule::state_names(o));
    struct Segment {
      Parameter* p;
      std::vector<std::span<float>> buffers;
      std::int64_t step;
    };
    std::vector<Segment> segs;
    std::vector<std::int64_t> sizes;
    for (auto* p : params) {
      if (!p->requires_grad()) continue;
      ParamState& st = state_[p->id()];
      ++st.step;
      segs.push_back({p, prepare_buffers(st, p->shape(), names.span(), [&](std::string_view n) { return Rule::initial_value(o, n); }),
                      st.step});
      sizes.push_back(p->numel());
    }
    for_each_slice(sizes, [&](std::size_t i, std::int64_t off, std::int64_t len) {
      const Segment& s = segs[i];
      const auto u = static_cast<std::size_t>(off), n = static_cast<std::size_t>(len);
      // One slice per buffer: prepare_buffers gave one per name, and there are at most Names::capacity.
      std::array<std::span<float>, Names::capacity> sub{};
      for (std::size_t k = 0; k < s.buffers.size(); ++k) sub[k] = s.buffers[k].subspan(u, n);
      Rule::step(o, s.p->value().span().subspan(u, n), std::span<const float>(s.p->grad().span()).subspan(u, n),
                 std::span<const std::span<float>>(sub.data(), s.buffers.size()), s.step);
    });
  }

  void step_param(std::size_t group, Parameter& p, ParamState& st, double lr_factor) override {
    Options o = options_[group];
    o.lr *= lr_factor;
    if constexpr (ElementwiseRule<Rule>) step_elementwise(o, p, st);
    else step_tensor(group, o, p, st);
  }

  void step_tensor(std::size_t group, const Options& o, Parameter& p, ParamState& st) {
    if (p.has_sparse_grad()) throw_no_sparse_support(Rule::name, p.name());
    const auto buffers = prepare_state(st.buffers, Rule::state_spec(o, p.shape()));
    std::vector<std::span<float>> shared;
    if constexpr (GroupStateRule<Rule>) {
      for (const auto& spec : Rule::group_state_spec(o)) shared.push_back(group_state_[group].find(spec.name)->second.span());
    }
    Rule::step(o, TensorStep{p.value().span(), p.shape(), p.grad().span(), buffers, shared, st.step});
  }

  void step_elementwise(const Options& o, Parameter& p, ParamState& st) {
    const auto names = Rule::state_names(o);
    auto buffers = prepare_buffers(st, p.shape(), names.span(),
                                   [&](std::string_view n) { return Rule::initial_value(o, n); });
    if (p.has_sparse_grad()) {
      if constexpr (Rule::supports_rows) {
        const auto& sg = *p.sparse_grad();
        Rule::step_rows(o, p.value().span(), p.row_dim(), sg.indices, sg.values, buffers, st.step);
      } else {
        throw_no_sparse_support(Rule::name, p.name());
      }
    } else {
      Rule::step(o, p.value().span(), p.grad().span(), buffers, st.step);
    }
  }

 private:
  Options defaults_;
  std::vector<Options> options_;
};

}  // namespace adakit::optim
