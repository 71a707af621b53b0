#include "adakit/dist/sparse.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/prefetch.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/schedule.hpp"

namespace adakit::dist {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// splitmix64's finaliser (Steele, Lea & Flood 2014): a bijection on 64 bits that spreads neighbours.
std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

template <class T>
void put(std::vector<std::byte>& out, std::span<const T> values) {
  const auto at = out.size();
  out.resize(at + values.size_bytes());
  if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size_bytes());
}

template <class T>
void put(std::vector<std::byte>& out, const T& value) {
  put(out, std::span<const T>(&value, 1));
}

template <class T>
T get(const std::byte* at) {
  T v;
  std::memcpy(&v, at, sizeof(T));
  return v;
}

int to_int(std::int64_t bytes, const char* what) {
  if (bytes > std::int64_t{0x7fffffff})
    throw Error(std::string("dist sparse: ") + what + " of " + std::to_string(bytes) +
                " bytes to one rank exceeds MPI's int count; use a smaller batch");
  return static_cast<int>(bytes);
}

// Broadcasts one trivially copyable value from root.
template <class T>
void broadcast_value(Comm& comm, T& value, int root) {
  comm.broadcast(std::span<std::byte>(reinterpret_cast<std::byte*>(&value), sizeof(T)), root);
}

// Broadcasts a float vector from root in chunks MPI's int count can hold.
void broadcast_floats(Comm& comm, std::span<float> data, int root) {
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  for (std::size_t at = 0; at < data.size(); at += kChunk)
    comm.broadcast(data.subspan(at, std::min(kChunk, data.size() - at)), root);
}

}  // namespace

std::string_view to_string(SparseMode mode) { return mode == SparseMode::sharded ? "sharded" : "replicated"; }

SparseMode sparse_mode_from_string(std::string_view text) {
  if (text == "sharded") return SparseMode::sharded;
  if (text == "replicated") return SparseMode::replicated;
  throw UsageError("unknown sparse mode '" + std::string(text) + "' (replicated, sharded)", {"", 0, "mode"});
}

int feature_owner(std::int64_t feature, int ranks) {
  return static_cast<int>(mix64(static_cast<std::uint64_t>(feature)) % static_cast<std::uint64_t>(ranks));
}

std::span<const std::int64_t> rank_share(std::span<const std::int64_t> batch, int rank, int ranks) {
  const auto b = static_cast<std::int64_t>(batch.size());
  const std::int64_t begin = b * rank / ranks, end = b * (rank + 1) / ranks;
  return batch.subspan(sz(begin), sz(end - begin));
}

// ---- the row index ----

namespace detail {

std::int32_t RowSlots::find(std::int32_t feature) const noexcept {
  if (cells_.empty()) return -1;
  const std::size_t mask = cells_.size() - 1;
  const std::int64_t key = std::int64_t{feature} + 1;
  for (std::size_t i = static_cast<std::size_t>(mix64(static_cast<std::uint64_t>(feature)) >> shift_);; i = (i + 1) & mask) {
    const std::int64_t c = cells_[i];
    if (c == 0) return -1;
    if ((c >> 32) == key) return static_cast<std::int32_t>(c & 0xffffffff);
  }
}

std::int32_t RowSlots::find_or_insert(std::int32_t feature, std::int32_t next, bool& inserted) {
  if (2 * (size_ + 1) > static_cast<std::int64_t>(cells_.size())) grow();
  const std::size_t mask = cells_.size() - 1;
  const std::int64_t key = std::int64_t{feature} + 1;
  for (std::size_t i = static_cast<std::size_t>(mix64(static_cast<std::uint64_t>(feature)) >> shift_);; i = (i + 1) & mask) {
    const std::int64_t c = cells_[i];
    if (c == 0) {
      cells_[i] = key << 32 | next;
      ++size_;
      inserted = true;
      return next;
    }
    if ((c >> 32) == key) {
      inserted = false;
      return static_cast<std::int32_t>(c & 0xffffffff);
    }
  }
}

void RowSlots::grow() {
  std::vector<std::int64_t> old = std::move(cells_);
  const std::size_t capacity = std::max<std::size_t>(64, 2 * old.size());
  cells_.assign(capacity, 0);
  shift_ = 64 - std::countr_zero(capacity);
  const std::size_t mask = capacity - 1;
  for (const std::int64_t c : old) {
    if (c == 0) continue;
    const auto feature = static_cast<std::uint64_t>((c >> 32) - 1);
    std::size_t i = static_cast<std::size_t>(mix64(feature) >> shift_);
    while (cells_[i] != 0) i = (i + 1) & mask;
    cells_[i] = c;
  }
}

void RowSlots::prefetch(std::int32_t feature) const noexcept {
  if (!cells_.empty()) prefetch_hint(cells_.data() + (mix64(static_cast<std::uint64_t>(feature)) >> shift_));
}

void RowSlots::clear() noexcept {
  cells_.clear();
  size_ = 0;
  shift_ = 64;
}

}  // namespace detail

// ---- the trainer ----

namespace {

constexpr std::int64_t kFirstShardRows = 1024;

// Runs `check` on root, which returns why it refuses (empty: fine); every rank learns the verdict and
// throws the same UsageError (an error on root alone would leave the others waiting).
void agree(Comm& comm, int root, const std::string& what, const std::function<std::string()>& check) {
  std::string why;
  if (comm.rank() == root) {
    try {
      why = check();
    } catch (const Error& e) {
      why = e.message();
    }
  }
  std::int64_t length = static_cast<std::int64_t>(why.size());
  broadcast_value(comm, length, root);
  if (length == 0) return;
  why.resize(sz(length));
  comm.broadcast(std::span<std::byte>(reinterpret_cast<std::byte*>(why.data()), why.size()), root);
  throw UsageError("dist sparse: " + what + ": " + why);
}

// Why root's model and optimizer cannot stand for the trainer's (empty: they can).
std::string differs(const linear::LinearModel& model, const linear::LinearOptimizer& optimizer, linear::LinearTask task,
                    std::int64_t dim, std::int64_t outputs, bool fit_bias, const linear::LinearOptimizer& mine) {
  if (model.task() != task || model.dim() != dim || model.outputs() != outputs || model.fit_bias() != fit_bias)
    return "the model (" + model.config().dump() + ") is not the trainer's (task " + std::string(linear::to_string(task)) +
           ", dim " + std::to_string(dim) + ", outputs " + std::to_string(outputs) + ")";
  if (optimizer.name() != mine.name() || optimizer.option_map() != mine.option_map())
    return "the optimizer is " + std::string(optimizer.name()) + ", the trainer's " + std::string(mine.name()) +
           " (or their options differ)";
  (void)optimizer.state(model);  // UsageError unless the optimizer is bound to the model
  return {};
}

}  // namespace

SparseLinearTrainer::SparseLinearTrainer(Comm& comm, SparseMode mode, linear::LinearTask task, std::int64_t dim,
                                         std::int64_t classes, bool fit_bias, const linear::LinearOptimizer& optimizer)
    : comm_(comm), mode_(mode), task_(task), dim_(dim), classes_(0), outputs_(1), fit_bias_(fit_bias),
      optimizer_(linear::make_linear_optimizer(optimizer.name(), optimizer.option_map())),
      shard_(task, 1, classes, fit_bias) {  // checks the class count
  if (dim < 1 || dim > (std::int64_t{1} << 31))
    throw UsageError("dist sparse: dim must be in [1, 2^31] (int32 feature ids), got " + std::to_string(dim), {"", 0, "dim"});
  classes_ = task == linear::LinearTask::squared ? 2 : shard_.classes();
  outputs_ = shard_.outputs();
  if (dim_ * outputs_ > linear::kMaxLinearWeights && mode_ == SparseMode::replicated)
    throw UsageError("dist sparse: " + std::to_string(dim_ * outputs_) + " weights exceed a replicated table's limit; use sharded",
                     {"", 0, "dim"});
  optimizer_->reset(shard_);
  fresh_row_.assign(shard_.table().begin(), shard_.table().begin() + row_floats());
  fresh_state_ = optimizer_->state(shard_);
  reset_shard();
}

// A fresh shard: dim rows (replicated) or kFirstShardRows slots, none used (sharded).
void SparseLinearTrainer::reset_shard() {
  slot_.clear();
  slot_feature_.clear();
  const std::int64_t rows = mode_ == SparseMode::replicated ? dim_ : std::min(dim_, kFirstShardRows);
  shard_ = linear::LinearModel(task_, rows, classes_, fit_bias_);
  optimizer_->reset(shard_);
}

std::int64_t SparseLinearTrainer::rows_held() const noexcept {
  return mode_ == SparseMode::replicated ? dim_ : static_cast<std::int64_t>(slot_feature_.size());
}

// Doubles the shard (at least to `rows` rows): the optimizer's state moves to a larger model through
// state() / load_state(), the new rows as the optimizer lays out a fresh one. Amortised O(1) a row.
void SparseLinearTrainer::grow(std::int64_t rows) {
  const std::int64_t old = shard_.dim();
  if (rows <= old) return;
  const std::int64_t now = std::min(std::max(rows, 2 * old), dim_);
  linear::LinearOptimizerState st = optimizer_->state(shard_);
  for (auto& [key, t] : st.tensors) {
    if (!key.starts_with("weight.")) continue;
    const std::int64_t count = t.shape()[1];
    Tensor bigger({now, count});
    std::copy(t.span().begin(), t.span().end(), bigger.data());
    const float* fresh = fresh_state_.tensors.at(key).data();
    for (std::int64_t j = old; j < now; ++j) std::copy_n(fresh, count, bigger.data() + j * count);
    t = std::move(bigger);
  }
  linear::LinearModel next(task_, now, classes_, fit_bias_);
  std::copy(shard_.weights().begin(), shard_.weights().end(), next.weights().begin());
  std::copy(shard_.bias().begin(), shard_.bias().end(), next.bias().begin());
  optimizer_->load_state(next, st);
  shard_ = std::move(next);
}

std::int64_t SparseLinearTrainer::slot_for(std::int32_t feature) {
  if (slot_feature_.size() >= 0x7fffffffu) throw Error("dist sparse: a rank holds 2^31 rows; use more ranks");
  bool fresh = false;
  const std::int32_t slot = slot_.find_or_insert(feature, static_cast<std::int32_t>(slot_feature_.size()), fresh);
  if (fresh) {
    slot_feature_.push_back(feature);
    grow(static_cast<std::int64_t>(slot_feature_.size()));
  }
  return slot;
}

std::vector<std::byte> SparseLinearTrainer::exchange(std::span<const std::byte> send, std::span<const int> counts,
                                                     std::vector<int>& recv_counts) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::byte> got = comm_.alltoallv(send, counts, recv_counts);
  counters_.comm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return got;
}

// rows_ <- the weights of batch_.features (nf x outputs) after the owners' prepare().
void SparseLinearTrainer::fetch_rows() {
  const auto& features = batch_.features;
  const auto nf = static_cast<std::int64_t>(features.size());
  const std::int64_t k = outputs_;
  rows_.resize(sz(nf * k));
  if (mode_ == SparseMode::replicated) {
    optimizer_->prepare(shard_, features);
    for (std::int64_t i = 0; i < nf; ++i) std::copy_n(shard_.table().data() + features[sz(i)] * shard_.row_stride(), k, rows_.data() + i * k);
    return;
  }
  const int ranks = comm_.size();
  // Group the ids by owner (counting sort, stable): packed_[p] = which feature goes p-th.
  owner_.resize(sz(nf));
  std::vector<std::int64_t> start(sz(ranks) + 1, 0);
  for (std::int64_t i = 0; i < nf; ++i) {
    owner_[sz(i)] = feature_owner(features[sz(i)], ranks);
    ++start[sz(owner_[sz(i)]) + 1];
  }
  send_counts_.assign(sz(ranks), 0);
  for (int r = 0; r < ranks; ++r) send_counts_[sz(r)] = to_int(4 * start[sz(r) + 1], "an id request");
  std::partial_sum(start.begin(), start.end(), start.begin());
  packed_.resize(sz(nf));
  for (std::int64_t i = 0; i < nf; ++i) packed_[sz(start[sz(owner_[sz(i)])]++)] = i;
  send_.clear();
  for (const std::int64_t i : packed_) put(send_, static_cast<std::int32_t>(features[sz(i)]));
  // 1. ids to their owners.
  const std::vector<std::byte> asked = exchange(send_, send_counts_, recv_counts_);
  requested_.resize(asked.size() / 4);
  if (!asked.empty()) std::memcpy(requested_.data(), asked.data(), asked.size());
  requested_counts_.resize(sz(ranks));
  for (int r = 0; r < ranks; ++r) requested_counts_[sz(r)] = recv_counts_[sz(r)] / 4;
  // 2. the owners bring the rows up to step t − 1 and answer with their weights (a row never touched
  // is a fresh one). Lookups are cache misses once the rows held outgrow the cache: ask for the cells
  // kAhead ids early.
  constexpr std::size_t kAhead = 8;
  slots_.resize(requested_.size());
  for (std::size_t q = 0; q < requested_.size(); ++q) {
    if (q + kAhead < requested_.size()) slot_.prefetch(requested_[q + kAhead]);
    slots_[q] = slot_for(requested_[q]);
  }
  optimizer_->prepare(shard_, slots_);
  send_.resize(requested_.size() * sz(k) * 4);
  const float* table = shard_.table().data();
  for (std::size_t q = 0; q < requested_.size(); ++q)
    std::memcpy(send_.data() + q * sz(k) * 4, table + slots_[q] * shard_.row_stride(), sz(k) * 4);
  std::vector<int> reply_counts(sz(ranks));
  for (int r = 0; r < ranks; ++r) reply_counts[sz(r)] = to_int(4 * k * requested_counts_[sz(r)], "a row reply");
  const std::vector<std::byte> got = exchange(send_, reply_counts, recv_counts_);
  if (got.size() != sz(nf * k * 4)) throw Error("dist sparse: the owners returned " + std::to_string(got.size()) + " bytes of rows for " + std::to_string(nf) + " ids");
  for (std::int64_t p = 0; p < nf; ++p)
    std::memcpy(rows_.data() + packed_[sz(p)] * k, got.data() + p * k * 4, sz(k * 4));

  const int me = comm_.rank();
  counters_.rows_remote = nf - (send_counts_[sz(me)] / 4);
  counters_.rows_served = static_cast<std::int64_t>(requested_.size()) - requested_counts_[sz(me)];
}

// Gradient rows grads_ (nf x outputs, batch_.features order) -> the rows' owners; the bias gradient to
// every rank; then each rank's optimizer steps its shard with the rows it owns, duplicates summed in
// rank order, and the summed bias gradient.
void SparseLinearTrainer::push_gradients() {
  const auto& features = batch_.features;
  const auto nf = static_cast<std::int64_t>(features.size());
  const std::int64_t k = outputs_;
  const int ranks = comm_.size();
  send_.clear();
  std::vector<std::byte> got;
  if (mode_ == SparseMode::sharded) {
    // 4. gradient rows in the order the ids went (packed_): the owner knows which rows they are.
    for (const std::int64_t i : packed_) put(send_, std::span<const float>(grads_.data() + i * k, sz(k)));
    std::vector<int> counts(sz(ranks));
    for (int r = 0; r < ranks; ++r) counts[sz(r)] = send_counts_[sz(r)] / 4 * to_int(4 * k, "a gradient row");
    got = exchange(send_, counts, recv_counts_);
    if (got.size() != requested_.size() * sz(k) * 4) throw Error("dist sparse: gradient rows do not match the ids requested");
  } else {
    // Replicated: one block (ids, then rows) to every rank, itself included, so every rank sees every
    // rank's block in rank order and applies the identical step.
    std::vector<std::byte> block;
    for (const std::int64_t j : features) put(block, static_cast<std::int32_t>(j));
    put(block, std::span<const float>(grads_));
    for (int r = 0; r < ranks; ++r) put(send_, std::span<const std::byte>(block));
    const std::vector<int> counts(sz(ranks), to_int(static_cast<std::int64_t>(block.size()), "a gradient block"));
    const std::vector<std::byte> blocks = exchange(send_, counts, recv_counts_);
    slots_.clear();
    got.clear();
    std::size_t at = 0;
    for (int r = 0; r < ranks; ++r) {
      const auto n = static_cast<std::size_t>(recv_counts_[sz(r)]) / (4 + 4 * sz(k));
      for (std::size_t q = 0; q < n; ++q) slots_.push_back(get<std::int32_t>(blocks.data() + at + 4 * q));
      got.insert(got.end(), blocks.begin() + static_cast<std::ptrdiff_t>(at + 4 * n),
                 blocks.begin() + static_cast<std::ptrdiff_t>(at + 4 * n + n * sz(k) * 4));
      at += static_cast<std::size_t>(recv_counts_[sz(r)]);
    }
    counters_.rows_served = static_cast<std::int64_t>(slots_.size()) - nf;
  }
  // 5. The bias: every rank's gradient, summed in rank order.
  grad_.outputs = k;
  grad_.bias.assign(sz(k), 0.0f);
  if (fit_bias_) {
    const std::vector<int> counts(sz(ranks), static_cast<int>(k));
    std::vector<float> all(sz(ranks * k));
    const auto t0 = std::chrono::steady_clock::now();
    comm_.allgather(bias_grad_, all, counts);
    counters_.comm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int r = 0; r < ranks; ++r)
      for (std::int64_t c = 0; c < k; ++c) grad_.bias[sz(c)] += all[sz(r * k + c)];
  }
  // 6. A row's duplicates summed in order of appearance, i.e. rank order (as LazyAdagrad's kernel
  // would sum them): the same result on every run. Then the optimizer's step.
  coalesce_rows(slots_, std::span<const float>(reinterpret_cast<const float*>(got.data()), got.size() / 4), k,
                shard_.dim(), grad_.features, grad_.values);
  optimizer_->step(shard_, grad_);
}

linear::BatchStats SparseLinearTrainer::step(const data::SparseDataView& d, std::span<const std::int64_t> rows,
                                             std::int64_t global_batch) {
  const auto b = static_cast<std::int64_t>(rows.size());
  const std::int64_t k = outputs_;
  if (global_batch < b || global_batch < 1)
    throw UsageError("dist sparse: global batch " + std::to_string(global_batch) + " is smaller than this rank's " +
                         std::to_string(b) + " rows",
                     {"", 0, "batch_size"});
  const bool regression = task_ == linear::LinearTask::squared;
  if (regression ? d.targets.size() != sz(d.size()) : d.labels.size() != sz(d.size()))
    throw UsageError("dist sparse: the dataset needs one " + std::string(regression ? "target" : "label") + " per row",
                     {"", 0, regression ? "targets" : "labels"});
  if (d.is_multilabel() && d.label_offsets.size() != sz(d.size()) + 1)
    throw UsageError("dist sparse: the dataset needs one label set per row", {"", 0, "labels"});
  batch_.build(d.features, rows, dim_);  // O(nonzeros); checks rows and feature ids
  const auto nf = static_cast<std::int64_t>(batch_.features.size());
  counters_ = {};
  counters_.examples = b;
  counters_.rows_touched = nf;
  fetch_rows();

  // Forward: z = b + Σ x_j W_j, walked feature by feature (ascending: a canonical row adds its terms
  // in the order LinearModel::scores does).
  z_.resize(sz(b * k));
  const std::span<const float> bias = shard_.bias();  // brought to step t − 1 by the optimizer's prepare()
  for (std::int64_t p = 0; p < b; ++p) std::copy(bias.begin(), bias.end(), z_.begin() + p * k);
  for (std::int64_t i = 0; i < nf; ++i) {
    const float* w = rows_.data() + i * k;
    for (std::int64_t e = batch_.offsets[sz(i)]; e < batch_.offsets[sz(i) + 1]; ++e) {
      float* z = z_.data() + batch_.positions[sz(e)] * k;
      const float x = batch_.values[sz(e)];
      for (std::int64_t c = 0; c < k; ++c) z[c] += x * w[c];
    }
  }
  // Loss and dL/dz of each row (linear_loss), scaled by 1/B of the GLOBAL batch.
  linear::BatchStats st;
  st.count = b;
  dz_.resize(sz(b * k));
  for (std::int64_t p = 0; p < b; ++p) {
    const std::int64_t r = rows[sz(p)];
    const std::span<const float> z(z_.data() + p * k, sz(k));
    const std::span<float> dz(dz_.data() + p * k, sz(k));
    linear::add_row_loss(task_, d, r, z, dz, st);
  }
  const float inv_b = 1.0f / static_cast<float>(global_batch);
  for (float& v : dz_) v *= inv_b;
  // Backward: this rank's part of ∂L/∂W_j = (1/B) Σ_r x_rj dL_r/dz, and of ∂L/∂b.
  grads_.assign(sz(nf * k), 0.0f);
  for (std::int64_t i = 0; i < nf; ++i) {
    float* g = grads_.data() + i * k;
    for (std::int64_t e = batch_.offsets[sz(i)]; e < batch_.offsets[sz(i) + 1]; ++e) {
      const float x = batch_.values[sz(e)];
      const float* dz = dz_.data() + batch_.positions[sz(e)] * k;
      for (std::int64_t c = 0; c < k; ++c) g[c] += x * dz[c];
    }
  }
  bias_grad_.assign(sz(k), 0.0f);
  if (fit_bias_)
    for (std::int64_t p = 0; p < b; ++p)
      for (std::int64_t c = 0; c < k; ++c) bias_grad_[sz(c)] += dz_[sz(p * k + c)];

  push_gradients();
  const std::uint64_t row_bytes = 4 * static_cast<std::uint64_t>(k);
  const auto ranks = static_cast<std::uint64_t>(comm_.size());
  counters_.minimum_bytes = mode_ == SparseMode::sharded
                                ? static_cast<std::uint64_t>(counters_.rows_remote) * (4 + row_bytes) +
                                      static_cast<std::uint64_t>(counters_.rows_served) * row_bytes
                                : (ranks - 1) * static_cast<std::uint64_t>(nf) * (4 + row_bytes);
  return st;
}

// ---- gather / scatter ----

void SparseLinearTrainer::gather(linear::LinearModel* model, linear::LinearOptimizer* optimizer, int root) {
  const bool on_root = comm_.rank() == root;
  agree(comm_, root, "cannot gather", [&]() -> std::string {
    if (model == nullptr || optimizer == nullptr) return "no model or optimizer given on the root rank";
    return differs(*model, *optimizer, task_, dim_, outputs_, fit_bias_, *optimizer_);
  });
  const std::int64_t width = row_floats(), stride = shard_.row_stride();
  if (on_root && model->row_stride() != stride) throw Error("dist sparse: the model's rows are not laid out as the shard's");
  auto put_row = [&](std::int64_t feature, const float* row) {
    std::memcpy(model->table().data() + feature * stride, row, sz(width) * 4);
  };
  if (mode_ == SparseMode::replicated) {  // every rank holds the same rows
    if (on_root)
      for (std::int64_t j = 0; j < dim_; ++j) put_row(j, shard_.table().data() + j * stride);
  } else {
    // Every rank sends its rows (id, the row's floats) to root, in rounds whose total at root stays
    // within MPI's int counts. Rows no rank holds were never touched: root's are fresh (scatter sent
    // the others away).
    const std::int64_t row_bytes = 4 + 4 * width;
    const std::int64_t per_round = std::max<std::int64_t>(1, (std::int64_t{1} << 30) / (row_bytes * comm_.size()));
    std::int64_t at = 0;
    for (;;) {
      std::int64_t left = static_cast<std::int64_t>(slot_feature_.size()) - at;
      comm_.allreduce_max(std::span<std::int64_t>(&left, 1));
      if (left <= 0) break;
      const std::int64_t end = std::min<std::int64_t>(at + per_round, static_cast<std::int64_t>(slot_feature_.size()));
      send_.clear();
      for (std::int64_t s = at; s < end; ++s) {
        put(send_, slot_feature_[sz(s)]);
        put(send_, std::span<const float>(shard_.table().data() + s * stride, sz(width)));
      }
      std::vector<int> counts(sz(comm_.size()), 0);
      counts[sz(root)] = to_int(static_cast<std::int64_t>(send_.size()), "a gather round");
      const std::vector<std::byte> got = comm_.alltoallv(send_, counts, recv_counts_);
      if (on_root)
        for (std::size_t q = 0; q + sz(row_bytes) <= got.size(); q += sz(row_bytes))
          put_row(get<std::int32_t>(got.data() + q), reinterpret_cast<const float*>(got.data() + q + 4));
      at = std::max(at, end);
    }
  }
  if (!on_root) return;
  // The rows are in the model; the bias, the bias's state and the step count are every rank's.
  linear::LinearOptimizerState st = optimizer->state(*model);
  const linear::LinearOptimizerState mine = optimizer_->state(shard_);
  for (const auto& [key, t] : mine.tensors)
    if (key.starts_with("bias.")) st.tensors.insert_or_assign(key, t);
  st.steps = mine.steps;
  std::copy(shard_.bias().begin(), shard_.bias().end(), model->bias().begin());
  optimizer->load_state(*model, st);
}

void SparseLinearTrainer::scatter(const linear::LinearModel* model, const linear::LinearOptimizer* optimizer, int root) {
  const bool on_root = comm_.rank() == root;
  linear::LinearOptimizerState given;
  agree(comm_, root, "cannot re-shard", [&]() -> std::string {
    if (model == nullptr || optimizer == nullptr) return "no model or optimizer given on the root rank";
    std::string why = differs(*model, *optimizer, task_, dim_, outputs_, fit_bias_, *optimizer_);
    if (why.empty() && model->row_stride() != shard_.row_stride()) why = "the model's rows are not laid out as the shard's";
    if (why.empty()) given = optimizer->state(*model);
    return why;
  });
  reset_shard();
  // The bias, its state and the step count: root's, on every rank.
  linear::LinearOptimizerState st = optimizer_->state(shard_);
  for (auto& [key, t] : st.tensors) {
    if (!key.starts_with("bias.")) continue;
    if (on_root) t = given.tensors.at(key);
    broadcast_floats(comm_, t.span(), root);
  }
  std::int64_t steps = on_root ? given.steps : 0;
  broadcast_value(comm_, steps, root);
  st.steps = steps;
  if (on_root) std::copy(model->bias().begin(), model->bias().end(), shard_.bias().begin());
  broadcast_floats(comm_, shard_.bias(), root);
  optimizer_->load_state(shard_, st);
  const std::int64_t width = row_floats(), stride = shard_.row_stride();
  if (mode_ == SparseMode::replicated) {
    if (on_root)
      for (std::int64_t j = 0; j < dim_; ++j)
        std::memcpy(shard_.table().data() + j * stride, model->table().data() + j * stride, sz(width) * 4);
    broadcast_floats(comm_, shard_.table(), root);
    return;
  }
  // Sharded: root sends each row that differs from a fresh one to its owner, in rounds.
  std::vector<std::int32_t> rows;
  if (on_root)
    for (std::int64_t j = 0; j < dim_; ++j)
      if (std::memcmp(model->table().data() + j * stride, fresh_row_.data(), sz(width) * 4) != 0)
        rows.push_back(static_cast<std::int32_t>(j));
  std::int64_t total = static_cast<std::int64_t>(rows.size());
  broadcast_value(comm_, total, root);
  const int ranks = comm_.size();
  const std::int64_t row_bytes = 4 + 4 * width;
  const std::int64_t per_round = std::max<std::int64_t>(1, (std::int64_t{1} << 30) / row_bytes);
  for (std::int64_t at = 0; at < total; at += per_round) {
    const std::int64_t end = std::min(total, at + per_round);
    send_.clear();
    std::vector<int> counts(sz(ranks), 0);
    if (on_root) {
      std::vector<std::vector<std::byte>> by_owner(sz(ranks));
      for (std::int64_t q = at; q < end; ++q) {
        const std::int32_t j = rows[sz(q)];
        auto& out = by_owner[sz(feature_owner(j, ranks))];
        put(out, j);
        put(out, std::span<const float>(model->table().data() + std::int64_t{j} * stride, sz(width)));
      }
      for (int r = 0; r < ranks; ++r) {
        counts[sz(r)] = to_int(static_cast<std::int64_t>(by_owner[sz(r)].size()), "a scatter round");
        put(send_, std::span<const std::byte>(by_owner[sz(r)]));
      }
    }
    const std::vector<std::byte> got = comm_.alltoallv(send_, counts, recv_counts_);
    for (std::size_t q = 0; q + sz(row_bytes) <= got.size(); q += sz(row_bytes)) {
      const std::int64_t s = slot_for(get<std::int32_t>(got.data() + q));
      std::memcpy(shard_.table().data() + s * stride, got.data() + q + 4, sz(4 * width));
    }
  }
}

// ---- the loop ----

void SparseFitOptions::validate() const {
  if (epochs < 0) throw UsageError("sparse_fit: epochs must be >= 0, got " + std::to_string(epochs), {"", 0, "epochs"});
  if (batch_size < 1)
    throw UsageError("sparse_fit: batch_size must be >= 1, got " + std::to_string(batch_size), {"", 0, "batch_size"});
}

SparseFitResult sparse_fit(SparseLinearTrainer& trainer, const data::SparseDataView& train, const SparseFitOptions& options,
                           SparsePosition position, const run::Callbacks& callbacks) {
  options.validate();
  Comm& comm = trainer.comm();
  const std::int64_t n = train.size();
  if (train.features.cols > trainer.dim())
    throw UsageError("dataset '" + std::string(train.name) + "' has " + std::to_string(train.features.cols) +
                         " feature columns, the model's dim is " + std::to_string(trainer.dim()),
                     {"", 0, "dim"});
  if (position.epoch < 0 || position.next < 0 || position.epoch > options.epochs)
    throw UsageError("sparse_fit: cannot resume at epoch " + std::to_string(position.epoch) + ", row " +
                         std::to_string(position.next) + " of a run of " + std::to_string(options.epochs) + " epochs",
                     {"", 0, "epochs"});
  // linear::fit's order; replay the shuffles of the epochs started.
  linear::EpochOrder order(n, options.seed, options.shuffle);
  for (std::int64_t e = 0; e < position.epoch; ++e) order.next_epoch();
  SparseFitResult result;
  // This rank's sums of the epoch; rank 0 carries those of all ranks before this call.
  linear::BatchStats total = comm.rank() == 0 ? position.partial : linear::BatchStats{};
  auto global_sums = [&] {
    std::array<double, 4> sums{total.loss_sum, static_cast<double>(total.correct), total.squared_error_sum,
                               static_cast<double>(total.count)};
    comm.allreduce_sum(std::span<double>(sums));
    return sums;
  };
  auto report = [&](std::int64_t epoch) {
    const auto sums = global_sums();
    linear::EpochReport r;
    r.epoch = epoch;
    r.epochs = options.epochs;
    r.steps = trainer.steps();
    r.train.samples = static_cast<std::int64_t>(sums[3]);
    if (sums[3] > 0) {
      r.train.loss = sums[0] / sums[3];
      if (train.is_classification()) r.train.accuracy = sums[1] / sums[3];
      else r.train.mse = sums[2] / sums[3];
    }
    result.history.push_back(r);
    result.stopped = callbacks.epoch_end(r);
    total = {};
  };
  while (!result.stopped && (options.max_steps < 0 || result.steps < options.max_steps)) {
    if (position.epoch == 0 || position.next >= n) {
      if (position.epoch >= options.epochs) break;
      order.next_epoch();
      ++position.epoch;
      position.next = 0;
      if (n == 0) {
        report(position.epoch);
        if (result.stopped) break;
        continue;
      }
    }
    const std::int64_t b = std::min(options.batch_size, n - position.next);
    const std::span<const std::int64_t> batch = order.rows().subspan(sz(position.next), sz(b));
    const linear::BatchStats st = trainer.step(train, rank_share(batch, comm.rank(), comm.size()), b);
    total.loss_sum += st.loss_sum;
    total.correct += st.correct;
    total.squared_error_sum += st.squared_error_sum;
    total.count += st.count;
    position.next += b;
    ++result.steps;
    if (position.next >= n) report(position.epoch);
    if (result.stopped) break;
  }
  const auto sums = global_sums();
  position.partial = {sums[0], static_cast<std::int64_t>(sums[1]), sums[2], static_cast<std::int64_t>(sums[3])};
  result.position = position;
  return result;
}

// ---- linear::fit under MPI ----

std::optional<linear::FitResult> fit_linear(Comm& comm, linear::LinearModel& model, linear::LinearOptimizer& optimizer,
                                            const data::SparseDataView& train, const linear::FitOptions& options,
                                            const std::function<bool(const linear::EpochReport&)>& on_epoch,
                                            const linear::FitCheckpoints& checkpoints, SparseMode mode) {
  options.validate();
  // The ranks' gradient (SparseLinearTrainer::step) is the unweighted batch mean: refuse weights rather
  // than drop them.
  if (!options.class_weights.empty() || !train.weights.empty())
    throw UsageError("dist sparse: importance and class weights are not supported under mpirun yet; train weighted "
                     "data in one process",
                     {"", 0, options.class_weights.empty() ? "weights" : "class-weight"});
  if (options.workers > 1)
    throw UsageError("dist sparse: workers > 1 mixes threads of one process; under mpirun the ranks share each batch",
                     {"", 0, "workers"});
  if (checkpoints.every < 0)
    throw UsageError("fit: the checkpoint interval must be >= 0 batches, got " + std::to_string(checkpoints.every),
                     {"", 0, "checkpoint_every"});
  const bool root = comm.rank() == 0;
  const auto t0 = std::chrono::steady_clock::now();
  SparseLinearTrainer trainer(comm, mode, model.task(), model.dim(),
                              model.task() == linear::LinearTask::squared ? 2 : model.classes(), model.fit_bias(), optimizer);
  // Rank 0's model and optimizer are the start (bound on first use, as linear::fit does).
  agree(comm, 0, "cannot start", [&] {
    optimizer.bind(model);
    return std::string();
  });
  trainer.scatter(&model, &optimizer, 0);
  SparsePosition pos;
  std::vector<linear::EpochReport> history;
  double before = 0.0;
  if (checkpoints.resume != nullptr) {
    const linear::FitState& r = *checkpoints.resume;
    pos = {r.epoch, r.next, r.partial};
    history = r.history;
    before = r.seconds;
  }
  auto seconds = [&] { return before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  const std::int64_t n = train.size(), bs = options.batch_size;
  const run::CheckpointSchedule schedule(checkpoints.every, run::batches_for(n, bs));
  linear::FitResult result;
  while (true) {
    // Up to the next checkpoint: every `every` batches of the run, or the end of the epoch.
    const std::int64_t chunk = checkpoints.save ? schedule.batches_to_next(pos.epoch, run::batches_for(pos.next, bs)) : -1;
    const auto run = sparse_fit(trainer, train,
                                {.epochs = options.epochs, .batch_size = bs, .seed = options.seed, .shuffle = options.shuffle,
                                 .max_steps = chunk},
                                pos, [&](const linear::EpochReport& e) {
                                  auto r = e;
                                  r.seconds = seconds();
                                  r.epoch_seconds = r.seconds - (history.empty() ? 0.0 : history.back().seconds);
                                  history.push_back(r);
                                  std::int64_t stop = root && on_epoch && on_epoch(r) ? 1 : 0;
                                  broadcast_value(comm, stop, 0);
                                  return stop != 0;
                                });
    pos = run.position;
    result.stopped_early = run.stopped && pos.epoch < options.epochs;
    const bool finished = run.steps == 0 || run.stopped || (pos.epoch >= options.epochs && pos.next >= n);
    if (finished || chunk < 0) break;
    trainer.gather(&model, &optimizer, 0);
    if (root) checkpoints.save({pos.epoch, pos.next, pos.partial, history, seconds()});
  }
  trainer.gather(&model, &optimizer, 0);
  if (!root) return std::nullopt;
  optimizer.sync(model);
  if (checkpoints.save) checkpoints.save({pos.epoch, pos.next, pos.partial, history, seconds()});
  result.history = history;
  result.steps = optimizer.steps();
  result.seconds = seconds();
  return result;
}
}  // namespace adakit::dist
