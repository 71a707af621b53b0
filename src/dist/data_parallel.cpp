// adakit::dist::DataParallel: see include/adakit/dist/data_parallel.hpp.
#include "adakit/dist/data_parallel.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/optim/clip.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::dist {
namespace {

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Adds the seconds of its lifetime to `total`.
struct Timer {
  double& total;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  ~Timer() { total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }
};

std::size_t as_size(std::int64_t v) { return static_cast<std::size_t>(v); }

void copy_floats(float* dst, const float* src, std::int64_t n) {
  if (n > 0) std::memcpy(dst, src, as_size(n) * sizeof(float));
}

}  // namespace

std::string_view to_string(Mode mode) { return mode == Mode::sharded ? "sharded" : "replicated"; }

Mode mode_from_string(std::string_view text) {
  if (text == "replicated") return Mode::replicated;
  if (text == "sharded") return Mode::sharded;
  throw UsageError("unknown data-parallel mode '" + std::string(text) + "' (replicated, sharded)", {"", 0, "dist"});
}

DataParallel::DataParallel(Comm& comm, nn::Sequential& model, optim::Optimizer& optimizer, DataParallelOptions options)
    : comm_(comm), model_(model), optimizer_(optimizer), options_(options) {
  if (options_.bucket_bytes < 1) throw UsageError("data parallel: bucket_bytes must be >= 1", {"", 0, "bucket_bytes"});
  params_ = model_.parameters();
  group_of_.assign(params_.size(), kNone);
  for (std::size_t g = 0; g < optimizer_.num_groups(); ++g)
    for (Parameter* p : optimizer_.group_params(g)) {
      auto it = std::find(params_.begin(), params_.end(), p);
      if (it == params_.end())
        throw UsageError("data parallel: the optimizer updates '" + p->name() + "', which is not a parameter of the model");
      group_of_[static_cast<std::size_t>(it - params_.begin())] = g;
    }
  for (Parameter* p : params_) {
    offsets_.push_back(numel_);
    numel_ += p->numel();
  }
  // Every rank must hold the same model: compare parameter counts (max of n and of -n).
  std::array<std::int64_t, 4> shape{numel_, -numel_, static_cast<std::int64_t>(params_.size()),
                                    -static_cast<std::int64_t>(params_.size())};
  comm_.allreduce_max(shape);
  if (shape[0] != -shape[1] || shape[2] != -shape[3])
    throw UsageError("data parallel: ranks hold different models (" + std::to_string(-shape[1]) + " to " +
                     std::to_string(shape[0]) + " parameter values)");
  if (numel_ > std::numeric_limits<int>::max())
    throw UsageError("data parallel: " + std::to_string(numel_) + " parameter values exceed MPI's int count");
  if (options_.mode == Mode::sharded && !optimizer_.elementwise())
    throw UsageError("sharded data parallelism needs an elementwise optimizer (sgd, adagrad, adam, adamw, rmsprop, "
                     "adadelta); '" + std::string(optimizer_.name()) + "' updates whole tensors: use --dist replicated",
                     {"", 0, "dist"});

  // Replicas start equal: rank 0's parameters everywhere.
  all_values_ = Tensor({numel_});
  for (std::size_t i = 0; i < params_.size(); ++i) copy_floats(all_values_.data() + offsets_[i], params_[i]->value().data(), params_[i]->numel());
  if (comm_.size() > 1 && numel_ > 0) {
    comm_.broadcast(all_values_.span(), 0);
    for (std::size_t i = 0; i < params_.size(); ++i) copy_floats(params_[i]->value().data(), all_values_.data() + offsets_[i], params_[i]->numel());
  }

  grads_ = Tensor({numel_});
  for (std::size_t i = 0; i < params_.size(); ++i) bind_grad(i);
  decorrelate_streams();

  if (options_.mode == Mode::replicated) {
    lo_ = 0;
    hi_ = numel_;
    // Buckets from the last layer down: a bucket closes once it holds bucket_bytes.
    std::vector<std::size_t> first_param(model_.size() + 1, 0);
    {
      std::size_t k = 0;
      for (std::size_t l = 0; l < model_.size(); ++l) {
        first_param[l] = k;
        k += model_.layer(l).parameters().size();
      }
      first_param[model_.size()] = k;
    }
    std::size_t end_param = params_.size();
    std::int64_t bytes = 0;
    for (std::size_t l = model_.size(); l-- > 0;) {
      const std::size_t lo = first_param[l], hi = first_param[l + 1];
      for (std::size_t i = lo; i < hi; ++i) bytes += params_[i]->numel() * static_cast<std::int64_t>(sizeof(float));
      if (lo == hi) continue;
      if (bytes >= options_.bucket_bytes || lo == 0) {
        Bucket b;
        b.trigger_layer = l;
        b.first_param = lo;
        b.end_param = end_param;
        b.begin = offsets_[lo];
        b.end = end_param == params_.size() ? numel_ : offsets_[end_param];
        buckets_.push_back(std::move(b));
        end_param = lo;
        bytes = 0;
      }
    }
    if (options_.overlap) model_.set_backward_hook([this](std::size_t layer) { on_layer_done(layer); });
  } else {
    build_shard();
    import_state();
  }
}

DataParallel::~DataParallel() {
  model_.set_backward_hook({});
  for (auto& b : buckets_) {
    try {
      b.request.wait();  // none is in flight unless an exception left backward half done
    } catch (const Error&) {
    }
  }
  // The parameters get gradients of their own again (with the current values).
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i]->grad().data() == grads_.data() + offsets_[i]) params_[i]->grad() = Tensor(params_[i]->grad());
}

// Rank r > 0: a stream of its own for each layer's random stream (dropout), derived from rank 0's.
void DataParallel::decorrelate_streams() {
  if (comm_.rank() == 0) return;
  for (auto& [name, rng] : model_.random_streams()) {
    const Rng::State st = rng->state();
    Rng derived(st.s[0] ^ (st.s[2] << 1) ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(comm_.rank())));
    rng->set_state(derived.state());
  }
}

// The parameter's gradient lives in the flat buffer (rebinding it, with its values, if someone replaced it).
void DataParallel::bind_grad(std::size_t i) {
  Parameter& p = *params_[i];
  float* at = grads_.data() + offsets_[i];
  if (p.grad().data() == at) return;
  if (p.grad().numel() == p.numel()) copy_floats(at, p.grad().data(), p.numel());
  else std::fill_n(at, p.numel(), 0.0f);
  p.grad() = Tensor::borrow(p.shape(), at);
}

void DataParallel::start_bucket(Bucket& b) {
  for (std::size_t i = b.first_param; i < b.end_param; ++i) bind_grad(i);
  b.request = comm_.iallreduce_sum(grads_.span().subspan(as_size(b.begin), as_size(b.end - b.begin)));
  b.started = true;
}

void DataParallel::on_layer_done(std::size_t layer) {
  for (auto& b : buckets_)
    if (!b.started && b.trigger_layer == layer) start_bucket(b);
  // Open MPI progresses nonblocking collectives inside MPI calls: poke the ones in flight.
  for (auto& b : buckets_)
    if (b.started && b.request.active()) b.request.test();
}

bool DataParallel::reduce(std::span<double, 3> totals) {
  for (Parameter* p : params_)
    if (p->has_sparse_grad())
      throw UsageError("data parallel: '" + p->name() + "' has a row-sparse gradient; this trainer averages dense "
                       "gradients only (embeddings: dist/sparse)");
  const Timer timer{reduce_seconds_};
  return options_.mode == Mode::replicated ? reduce_replicated(totals) : reduce_sharded(totals);
}

bool DataParallel::reduce_replicated(std::span<double, 3> totals) {
  // Buckets not started inside backward (no overlap, or no rows on this rank) start now, in the same
  // order as everywhere else: nonblocking collectives must be started in one order on every rank.
  for (auto& b : buckets_)
    if (!b.started) start_bucket(b);
  for (auto& b : buckets_) {
    b.request.wait();
    b.started = false;
  }
  comm_.allreduce_sum(std::span<double>(totals.data(), totals.size()));
  return std::isfinite(optim::global_grad_norm(params_));
}

void DataParallel::step(optim::Optimizer& optimizer) {
  if (&optimizer != &optimizer_) throw UsageError("data parallel: step() with another optimizer than the one it was built with");
  const Timer timer{step_seconds_};
  if (options_.mode == Mode::replicated) optimizer_.step();
  else step_sharded();
}

// ---- sharded (ZeRO stage 1) ----

std::int64_t DataParallel::slice_begin(int rank) const {
  return numel_ * rank / comm_.size();
}

std::vector<DataParallel::Segment> DataParallel::segments_of(int rank) const {
  const std::int64_t lo = slice_begin(rank), hi = slice_begin(rank + 1);
  std::vector<Segment> out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const std::int64_t a = std::max(lo, offsets_[i]), b = std::min(hi, offsets_[i] + params_[i]->numel());
    if (a >= b) continue;
    out.push_back({i, a - offsets_[i], b - a, a - lo, group_of_[i], nullptr});
  }
  return out;
}

void DataParallel::build_shard() {
  const int k = comm_.size();
  lo_ = slice_begin(comm_.rank());
  hi_ = slice_begin(comm_.rank() + 1);
  for (int r = 0; r < k; ++r) counts_.push_back(static_cast<int>(slice_begin(r + 1) - slice_begin(r)));
  slice_grads_ = Tensor({hi_ - lo_});
  slice_values_ = Tensor({hi_ - lo_});
  segments_ = segments_of(comm_.rank());
  // The shard optimizer: the same optimizer over parameters that borrow this rank's pieces, one group
  // per group of the whole one, with its options.
  std::vector<std::vector<Parameter*>> groups(optimizer_.num_groups());
  for (Segment& s : segments_) {
    if (s.group == kNone) continue;
    Parameter& p = *params_[s.param];
    shard_params_.push_back(std::make_unique<Parameter>(
        p.name(), Tensor::borrow({s.length}, p.value().data() + s.begin),
        Tensor::borrow({s.length}, slice_grads_.data() + s.slice_offset)));
    s.shard = shard_params_.back().get();
    s.shard->set_requires_grad(p.requires_grad());
    groups[s.group].push_back(s.shard);
  }
  const std::string name(optimizer_.name());
  if (groups.empty()) groups.emplace_back();
  shard_ = optim::make_optimizer(name, groups[0], optimizer_.num_groups() > 0 ? optimizer_.group_options(0) : optim::OptionMap{});
  for (std::size_t g = 1; g < groups.size(); ++g) shard_->add_param_group(groups[g], optimizer_.group_options(g));
  shard_->set_schedule(optimizer_.schedule());  // clipping: done here, over all slices
}

// The optimizer's state (restored from a checkpoint, or left by earlier training) moves into the shard.
void DataParallel::import_state() {
  const optim::StateDict whole = optimizer_.state_dict();
  optim::StateDict mine;
  mine.metadata = whole.metadata;
  mine.metadata["clip.max_norm"] = "0";
  mine.metadata["clip.max_value"] = "0";
  mine.counters["optimizer.steps"] = whole.counters.at("optimizer.steps");
  for (std::size_t g = 0; g < shard_->num_groups(); ++g) {
    std::string names;
    for (const Parameter* p : shard_->group_params(g)) names += (names.empty() ? "" : ",") + p->name();
    mine.metadata["group." + std::to_string(g) + ".params"] = names;
  }
  for (const Segment& s : segments_) {
    if (s.shard == nullptr) continue;
    const std::string& name = params_[s.param]->name();
    auto step = whole.counters.find(name + ".step");
    if (step == whole.counters.end()) continue;
    mine.counters[name + ".step"] = step->second;
    for (auto it = whole.tensors.lower_bound(name + "."); it != whole.tensors.end() && it->first.starts_with(name + "."); ++it) {
      const std::string buffer = it->first.substr(name.size() + 1);
      if (buffer.find('.') != std::string::npos) continue;
      mine.tensors[it->first] = Tensor({s.length}, it->second.span().subspan(as_size(s.begin), as_size(s.length)));
    }
  }
  shard_->load_state_dict(mine);
  optimizer_.reset();  // the state lives in the shards now
}

bool DataParallel::reduce_sharded(std::span<double, 3> totals) {
  for (std::size_t i = 0; i < params_.size(); ++i) bind_grad(i);
  comm_.reduce_scatter_sum(grads_.span(), slice_grads_.span(), counts_);
  // Sums of squares of this rank's gradient pieces: as they are (the finite check, before clipping,
  // as fit() does), and after value clipping (the global norm that norm clipping scales by).
  const optim::ClipOptions clip = optimizer_.clip();
  double raw = 0.0, clipped = 0.0;
  for (const Segment& s : segments_) {
    if (s.shard == nullptr || !params_[s.param]->requires_grad()) continue;
    auto g = slice_grads_.span().subspan(as_size(s.slice_offset), as_size(s.length));
    raw += optim::sum_of_squares(g);
    if (clip.max_value > 0.0) optim::clamp_values(g, static_cast<float>(clip.max_value));
    clipped += optim::sum_of_squares(g);
  }
  std::array<double, 5> all{totals[0], totals[1], totals[2], raw, clipped};
  comm_.allreduce_sum(std::span<double>(all));
  totals[0] = all[0];
  totals[1] = all[1];
  totals[2] = all[2];
  norm_ = std::sqrt(all[4]);
  return std::isfinite(all[3]);
}

void DataParallel::step_sharded() {
  const optim::ClipOptions clip = optimizer_.clip();
  const double coef = optim::norm_clip_coefficient(clip, norm_);  // as optim::clip_gradients
  for (std::size_t g = 0; g < shard_->num_groups(); ++g) {
    const auto want = optimizer_.group_options(g);
    if (shard_->group_options(g) != want) shard_->set_group_options(g, want);
  }
  shard_->set_schedule(optimizer_.schedule());
  for (const Segment& s : segments_) {
    if (s.shard == nullptr) continue;
    Parameter& p = *params_[s.param];
    s.shard->set_requires_grad(p.requires_grad());
    if (coef < 1.0 && p.requires_grad())
      optim::scale_values(s.shard->grad().span(), static_cast<float>(coef));
    // The model's values may have been replaced (restore of best weights, a checkpoint): borrow anew.
    if (s.shard->value().data() != p.value().data() + s.begin)
      s.shard->value() = Tensor::borrow({s.length}, p.value().data() + s.begin);
  }
  shard_->step();
  for (const Segment& s : segments_)
    copy_floats(slice_values_.data() + s.slice_offset, params_[s.param]->value().data() + s.begin, s.length);
  comm_.allgather(slice_values_.span(), all_values_.span(), counts_);
  for (std::size_t i = 0; i < params_.size(); ++i)
    copy_floats(params_[i]->value().data(), all_values_.data() + offsets_[i], params_[i]->numel());
}

void DataParallel::gather_state(int root) {
  if (options_.mode == Mode::replicated) return;
  // Each parameter's step count (-1: no state yet), from whichever rank holds a piece of it.
  std::vector<std::int64_t> steps(params_.size(), -1);
  for (const Segment& s : segments_)
    if (s.shard != nullptr)
      if (const optim::ParamState* st = shard_->state(*s.shard)) steps[s.param] = st->step;
  comm_.allreduce_max(steps);
  const int k = comm_.size();
  std::vector<std::vector<Segment>> layout(static_cast<std::size_t>(k));
  for (int r = 0; r < k; ++r) layout[static_cast<std::size_t>(r)] = segments_of(r);
  optim::StateDict dict;
  const bool on_root = comm_.rank() == root;
  if (on_root) {
    dict = optimizer_.state_dict();
    dict.counters["optimizer.steps"] = shard_->steps();
  }
  for (std::size_t g = 0; g < optimizer_.num_groups(); ++g) {
    // Per buffer kind of the group, every rank's pieces with state, in flat order: concatenated in rank
    // order they are the group's parameters, whole and in flat order.
    for (const auto& spec : shard_->state_spec(g, Shape{1})) {
      std::vector<int> counts(static_cast<std::size_t>(k), 0);
      for (int r = 0; r < k; ++r)
        for (const Segment& s : layout[static_cast<std::size_t>(r)])
          if (s.group == g && steps[s.param] >= 0) counts[static_cast<std::size_t>(r)] += static_cast<int>(s.length);
      std::vector<float> mine;
      for (const Segment& s : segments_) {
        if (s.group != g || steps[s.param] < 0) continue;
        const Tensor* t = shard_->state(*s.shard)->buffer(spec.name);
        if (t == nullptr) throw Error("data parallel: the shard of '" + params_[s.param]->name() + "' lacks state '" + spec.name + "'");
        mine.insert(mine.end(), t->span().begin(), t->span().end());
      }
      std::vector<float> all;
      if (on_root) {
        std::int64_t total = 0;
        for (int c : counts) total += c;
        all.resize(as_size(total));
      }
      comm_.gather(mine, all, counts, root);
      if (!on_root) continue;
      std::int64_t at = 0;
      for (std::size_t i = 0; i < params_.size(); ++i) {
        if (group_of_[i] != g || steps[i] < 0) continue;
        dict.tensors[params_[i]->name() + "." + spec.name] =
            Tensor(params_[i]->shape(), std::span<const float>(all).subspan(as_size(at), as_size(params_[i]->numel())));
        at += params_[i]->numel();
      }
    }
  }
  if (!on_root) return;
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (group_of_[i] != kNone && steps[i] >= 0) dict.counters[params_[i]->name() + ".step"] = steps[i];
  optimizer_.load_state_dict(dict);
}

void DataParallel::release_gathered_state(int root) {
  if (options_.mode == Mode::sharded && comm_.rank() == root) {
    const optim::Schedule schedule = optimizer_.schedule();
    const optim::ClipOptions clip = optimizer_.clip();
    optimizer_.reset();
    optimizer_.set_schedule(schedule);
    optimizer_.set_clip(clip);
  }
}

std::int64_t DataParallel::state_bytes() const {
  return options_.mode == Mode::sharded ? shard_->state_bytes() : optimizer_.state_bytes();
}

std::int64_t DataParallel::steps() const { return options_.mode == Mode::sharded ? shard_->steps() : optimizer_.steps(); }

bool DataParallel::replicas_equal() {
  // Rank 0's values against everyone's: broadcast them, compare bits, agree on the answer.
  std::vector<float> mine(as_size(numel_));
  for (std::size_t i = 0; i < params_.size(); ++i) copy_floats(mine.data() + offsets_[i], params_[i]->value().data(), params_[i]->numel());
  std::vector<float> root = mine;
  if (numel_ > 0) comm_.broadcast(std::span<float>(root), 0);
  std::vector<std::int64_t> differ{std::memcmp(mine.data(), root.data(), mine.size() * sizeof(float)) != 0 ? 1 : 0};
  comm_.allreduce_max(differ);
  return differ[0] == 0;
}

// ---- checkpoints ----

CheckpointWriter::CheckpointWriter(std::filesystem::path path, DataParallel& parallel, nn::Sequential& model,
                                   optim::Optimizer& optimizer, std::int64_t every_batches,
                                   std::map<std::string, std::string> metadata)
    : path_(std::move(path)), parallel_(parallel), model_(model), optimizer_(optimizer), every_(every_batches),
      metadata_(std::move(metadata)) {}

void CheckpointWriter::on_state(const train::FitState& st, train::StatePoint point) {
  if (!io::checkpoint_due(st, point, every_)) return;  // io::CheckpointWriter's schedule
  parallel_.gather_state(0);
  if (parallel_.rank() == 0) {
    try {
      io::save_checkpoint(path_, model_, optimizer_, st, metadata_);
    } catch (...) {
      parallel_.release_gathered_state(0);
      throw;
    }
  }
  parallel_.release_gathered_state(0);
  ++saves_;
}

}  // namespace adakit::dist
