#include "adakit/optim/optimizer.hpp"

#include <algorithm>
#include <set>

#include "adakit/core/parallel.hpp"

namespace adakit::optim {

std::vector<std::span<float>> prepare_buffers(ParamState& st, const Shape& shape,
                                              const std::vector<std::string_view>& names,
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
    for (const auto* p : groups_[g]) {
      const ParamState* st = state(*p);
      if (st == nullptr) continue;
      d.counters[p->name() + ".step"] = st->step;
      for (const auto& [bn, t] : st->buffers) d.tensors[p->name() + "." + bn] = t;
    }
  }
  return d;
}

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
  // Check everything before changing anything: a failed load leaves the optimizer as it was.
  std::vector<OptionMap> new_options(groups_.size());
  std::unordered_map<std::uint64_t, ParamState> new_state;
  std::set<std::string> used;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "group." + std::to_string(g) + ".";
    std::string names;
    for (const auto* p : groups_[g]) names += (names.empty() ? "" : ",") + p->name();
    if (meta(prefix + "params") != names)
      throw Error("parameters differ: state dict has [" + meta(prefix + "params") + "], optimizer has [" + names + "]",
                  {"", 0, prefix + "params"});
    for (const auto& [k, v] : group_options(g)) new_options[g][k] = meta(prefix + k);
    for (const auto* p : groups_[g]) {
      auto c = d.counters.find(p->name() + ".step");
      if (c == d.counters.end()) continue;
      ParamState st;
      st.step = c->second;
      const std::string pp = p->name() + ".";
      for (auto it = d.tensors.lower_bound(pp); it != d.tensors.end() && it->first.starts_with(pp); ++it) {
        const std::string buffer = it->first.substr(pp.size());
        if (buffer.find('.') != std::string::npos) continue;  // belongs to a longer name, e.g. "w.x.sum"
        if (it->second.shape() != p->shape())
          throw Error("shape " + shape_to_string(it->second.shape()) + " does not match parameter shape " +
                          shape_to_string(p->shape()),
                      {"", 0, it->first});
        st.buffers.emplace(buffer, it->second);
        used.insert(it->first);
      }
      new_state.emplace(p->id(), std::move(st));
    }
  }
  for (const auto& [k, t] : d.tensors)
    if (!used.contains(k)) throw Error("state dict entry matches no parameter of this optimizer", {"", 0, k});
  Schedule schedule = Schedule::parse(meta("schedule"));
  ClipOptions clip{parse_double("clip.max_norm", meta("clip.max_norm")),
                   parse_double("clip.max_value", meta("clip.max_value"))};
  clip.validate();
  auto steps = d.counters.find("optimizer.steps");
  if (steps == d.counters.end()) throw Error("state dict has no entry", {"", 0, "optimizer.steps"});
  std::vector<OptionMap> old_options;
  for (std::size_t g = 0; g < groups_.size(); ++g) old_options.push_back(group_options(g));
  try {
    for (std::size_t g = 0; g < groups_.size(); ++g) set_group_options(g, new_options[g]);
  } catch (...) {
    for (std::size_t g = 0; g < groups_.size(); ++g) set_group_options(g, old_options[g]);
    throw;
  }
  state_ = std::move(new_state);
  schedule_ = schedule;
  clip_ = clip;
  steps_ = steps->second;
}

}  // namespace adakit::optim
