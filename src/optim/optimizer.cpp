#include "adakit/optim/optimizer.hpp"

#include <algorithm>
#include <set>

#include "adakit/core/parallel.hpp"

namespace adakit::optim {

std::vector<std::span<float>> prepare_buffers(ParamState& st, const Shape& shape,
                                              std::span<const std::string_view> names,
                                              const std::function<float(std::string_view)>& initial) {
  std::vector<std::span<float>> spans;
  spans.reserve(names.size());
  for (auto n : names) {
    auto it = st.buffers.find(n);
    if (it == st.buffers.end()) it = st.buffers.emplace(std::string(n), Tensor(shape, initial(n))).first;
    spans.push_back(it->second.span());
  }
  return spans;
}

std::vector<std::span<float>> prepare_state(BufferMap& buffers, const std::vector<BufferSpec>& specs) {
  std::vector<std::span<float>> spans;
  spans.reserve(specs.size());
  for (const auto& spec : specs) {
    auto it = buffers.find(spec.name);
    if (it == buffers.end()) {
      it = buffers.emplace(spec.name, Tensor(spec.shape, spec.initial)).first;
    } else if (it->second.shape() != spec.shape) {
      throw Error("state buffer '" + spec.name + "' has shape " + shape_to_string(it->second.shape()) +
                      " but the options now need " + shape_to_string(spec.shape) +
                      " (an option that sizes the state changed after the first step: reset() the optimizer)",
                  {"", 0, spec.name});
    }
    spans.push_back(it->second.span());
  }
  return spans;
}

void throw_no_sparse_support(std::string_view optimizer, const std::string& param) {
  throw UsageError(std::string(optimizer) + " does not support row-sparse gradients (parameter '" + param +
                   "'); use adagrad, or a dense gradient");
}

void Optimizer::add_group_params(std::vector<Parameter*> params) {
  std::set<std::string> names;
  for (const auto& g : groups_)
    for (const auto* p : g) names.insert(p->name());
  for (auto* p : params) {
    if (p == nullptr) throw UsageError("optimizer: null parameter");
    if (p->name().empty()) throw UsageError("optimizer: every parameter needs a name (state dicts use it)");
    if (!names.insert(p->name()).second)
      throw UsageError("optimizer: two parameters named '" + p->name() + "' (names must be unique)");
  }
  groups_.push_back(std::move(params));
  group_state_.emplace_back();
}

std::vector<Parameter*> Optimizer::parameters() const {
  std::vector<Parameter*> all;
  for (const auto& g : groups_) all.insert(all.end(), g.begin(), g.end());
  return all;
}

void Optimizer::step() {
  const auto params = parameters();
  if (clip_.enabled()) clip_gradients(params, clip_);
  const double factor = schedule_.factor(steps_ + 1);
  for (std::size_t g = 0; g < groups_.size(); ++g) step_group(g, factor);
  ++steps_;
}

void Optimizer::step_group(std::size_t g, double factor) {
  for (auto* p : groups_[g]) {
    if (!p->requires_grad()) continue;
    ParamState& st = state_[p->id()];
    ++st.step;
    try {
      step_param(g, *p, st, factor);
    } catch (...) {
      --st.step;
      throw;
    }
  }
}

void for_each_slice(std::span<const std::int64_t> sizes,
                    const std::function<void(std::size_t, std::int64_t, std::int64_t)>& fn) {
  std::vector<std::int64_t> start(sizes.size() + 1, 0);
  for (std::size_t i = 0; i < sizes.size(); ++i) start[i + 1] = start[i] + sizes[i];
  parallel_for(start.back(), 1 << 15, [&](std::int64_t b, std::int64_t e) {
    // First tensor that ends after b.
    auto i = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), b) - start.begin()) - 1;
    for (; i < sizes.size() && start[i] < e; ++i) {
      const std::int64_t lo = std::max(b, start[i]), hi = std::min(e, start[i + 1]);
      if (hi > lo) fn(i, lo - start[i], hi - lo);
    }
  });
}

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto* p : g) p->zero_grad();
}

void Optimizer::reset() {
  state_.clear();
  for (auto& g : group_state_) g.clear();
  steps_ = 0;
}

void Optimizer::set_schedule(const Schedule& schedule) {
  schedule.validate();
  schedule_ = schedule;
}

void Optimizer::set_clip(const ClipOptions& clip) {
  clip.validate();
  clip_ = clip;
}

const ParamState* Optimizer::state(const Parameter& p) const {
  auto it = state_.find(p.id());
  return it == state_.end() ? nullptr : &it->second;
}

StateDict Optimizer::state_dict() const {
  StateDict d;
  d.metadata["optimizer"] = std::string(name());
  d.metadata["groups"] = std::to_string(groups_.size());
  d.metadata["schedule"] = schedule_.to_string();
  d.metadata["clip.max_norm"] = format_double(clip_.max_norm);
  d.metadata["clip.max_value"] = format_double(clip_.max_value);
  d.counters["optimizer.steps"] = steps_;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "group." + std::to_string(g) + ".";
    std::string names;
    for (const auto* p : groups_[g]) names += (names.empty() ? "" : ",") + p->name();
    d.metadata[prefix + "params"] = names;
    for (const auto& [k, v] : group_options(g)) d.metadata[prefix + k] = v;
    for (const auto& [bn, t] : group_state_[g]) d.tensors[prefix + bn] = t;
    for (const auto* p : groups_[g]) {
      const ParamState* st = state(*p);
      if (st == nullptr) continue;
      d.counters[p->name() + ".step"] = st->step;
      for (const auto& [bn, t] : st->buffers) d.tensors[p->name() + "." + bn] = t;
    }
  }
  return d;
}

namespace {

// Checks one saved buffer set against the optimizer's layout: every buffer known, of the right shape,
// and none missing (a step creates all of them).
void check_buffers(const BufferMap& saved, const std::vector<BufferSpec>& specs, const std::string& prefix) {
  for (const auto& [name, t] : saved) {
    const std::string& key = name;  // a lambda may not capture a structured binding before clang 16
    auto it = std::find_if(specs.begin(), specs.end(), [&](const BufferSpec& s) { return s.name == key; });
    if (it == specs.end()) {
      std::string valid;
      for (const auto& s : specs) valid += (valid.empty() ? "" : ", ") + s.name;
      throw Error("state buffer not kept by this optimizer with these options (it keeps: " +
                      (valid.empty() ? std::string("none") : valid) + ")",
                  {"", 0, prefix + name});
    }
    if (t.shape() != it->shape)
      throw Error("shape " + shape_to_string(t.shape()) + " does not match the expected " + shape_to_string(it->shape),
                  {"", 0, prefix + name});
  }
  for (const auto& s : specs)
    if (!saved.contains(s.name)) throw Error("state dict lacks this buffer", {"", 0, prefix + s.name});
}

}  // namespace

void Optimizer::load_state_dict(const StateDict& d) {
  auto meta = [&](const std::string& key) -> const std::string& {
    auto it = d.metadata.find(key);
    if (it == d.metadata.end()) throw Error("state dict has no entry", {"", 0, key});
    return it->second;
  };
  if (meta("optimizer") != name())
    throw Error("state dict is for optimizer '" + meta("optimizer") + "', this optimizer is '" +
                    std::string(name()) + "'",
                {"", 0, "optimizer"});
  if (meta("groups") != std::to_string(groups_.size()))
    throw Error("state dict has " + meta("groups") + " parameter groups, the optimizer has " +
                    std::to_string(groups_.size()),
                {"", 0, "groups"});
  // Check everything before changing anything: a failed load leaves the optimizer as it was. The
  // options come first (the state's layout depends on them) and are restored on any failure.
  std::vector<OptionMap> new_options(groups_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "group." + std::to_string(g) + ".";
    std::string names;
    for (const auto* p : groups_[g]) names += (names.empty() ? "" : ",") + p->name();
    if (meta(prefix + "params") != names)
      throw Error("parameters differ: state dict has [" + meta(prefix + "params") + "], optimizer has [" + names + "]",
                  {"", 0, prefix + "params"});
    for (const auto& [k, v] : group_options(g)) new_options[g][k] = meta(prefix + k);
  }
  Schedule schedule = Schedule::parse(meta("schedule"));
  ClipOptions clip{parse_double("clip.max_norm", meta("clip.max_norm")),
                   parse_double("clip.max_value", meta("clip.max_value"))};
  clip.validate();
  auto steps = d.counters.find("optimizer.steps");
  if (steps == d.counters.end()) throw Error("state dict has no entry", {"", 0, "optimizer.steps"});

  std::vector<OptionMap> old_options;
  for (std::size_t g = 0; g < groups_.size(); ++g) old_options.push_back(group_options(g));
  auto restore = [&] {
    for (std::size_t g = 0; g < groups_.size(); ++g) set_group_options(g, old_options[g]);
  };
  std::unordered_map<std::uint64_t, ParamState> new_state;
  std::vector<BufferMap> new_group_state(groups_.size());
  try {
    for (std::size_t g = 0; g < groups_.size(); ++g) set_group_options(g, new_options[g]);
    std::set<std::string> used;
    // Tensors "<prefix><buffer>" (no further '.', which would belong to a longer name).
    auto collect = [&](const std::string& prefix) {
      BufferMap out;
      for (auto it = d.tensors.lower_bound(prefix); it != d.tensors.end() && it->first.starts_with(prefix); ++it) {
        const std::string buffer = it->first.substr(prefix.size());
        if (buffer.find('.') != std::string::npos) continue;
        out.emplace(buffer, it->second);
        used.insert(it->first);
      }
      return out;
    };
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      const std::string prefix = "group." + std::to_string(g) + ".";
      BufferMap shared = collect(prefix);
      if (!shared.empty()) check_buffers(shared, group_state_spec(g), prefix);
      new_group_state[g] = std::move(shared);
      for (const auto* p : groups_[g]) {
        auto c = d.counters.find(p->name() + ".step");
        if (c == d.counters.end()) continue;
        ParamState st;
        st.step = c->second;
        st.buffers = collect(p->name() + ".");
        check_buffers(st.buffers, state_spec(g, p->shape()), p->name() + ".");
        new_state.emplace(p->id(), std::move(st));
      }
    }
    for (const auto& [k, t] : d.tensors)
      if (!used.contains(k)) throw Error("state dict entry matches no parameter of this optimizer", {"", 0, k});
  } catch (...) {
    restore();
    throw;
  }
  state_ = std::move(new_state);
  group_state_ = std::move(new_group_state);
  schedule_ = schedule;
  clip_ = clip;
  steps_ = steps->second;
}

std::int64_t Optimizer::state_bytes(const Shape& shape, std::size_t group) const {
  std::int64_t n = 0;
  for (const auto& s : state_spec(group, shape)) n += shape_numel(s.shape);
  return n * static_cast<std::int64_t>(sizeof(float));
}

std::int64_t Optimizer::state_bytes() const {
  std::int64_t n = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (const auto& s : group_state_spec(g)) n += shape_numel(s.shape) * static_cast<std::int64_t>(sizeof(float));
    for (const auto* p : groups_[g])
      if (p->requires_grad()) n += state_bytes(p->shape(), g);
  }
  return n;
}

}  // namespace adakit::optim
