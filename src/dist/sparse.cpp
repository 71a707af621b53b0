#include "adakit/dist/sparse.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/adagrad.hpp"

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
  if (!cells_.empty()) __builtin_prefetch(cells_.data() + (mix64(static_cast<std::uint64_t>(feature)) >> shift_));
}

void RowSlots::clear() noexcept {
  cells_.clear();
  size_ = 0;
  shift_ = 64;
}

}  // namespace detail

// ---- the trainer ----

SparseLinearTrainer::SparseLinearTrainer(Comm& comm, SparseMode mode, linear::LinearTask task, std::int64_t dim,
                                         std::int64_t classes, bool fit_bias, const optim::AdagradOptions& options)
    : comm_(comm), mode_(mode), task_(task), dim_(dim), classes_(0), outputs_(1), fit_bias_(fit_bias), options_(options) {
  const linear::LazyAdagrad check(options);  // the same option checks as one process (weight_decay refused)
  const linear::LinearModel shape(task, 1, classes, fit_bias);  // checks the class count
  if (dim < 1 || dim > (std::int64_t{1} << 31))
    throw UsageError("dist sparse: dim must be in [1, 2^31] (int32 feature ids), got " + std::to_string(dim), {"", 0, "dim"});
  classes_ = shape.classes();
  outputs_ = shape.outputs();
  if (dim_ * outputs_ > linear::kMaxLinearWeights && mode_ == SparseMode::replicated)
    throw UsageError("dist sparse: " + std::to_string(dim_ * outputs_) + " weights exceed a replicated table's limit; use sharded",
                     {"", 0, "dim"});
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  if (mode_ == SparseMode::replicated) {
    table_.assign(sz(dim_ * outputs_), 0.0f);
    sum_.assign(sz(dim_ * outputs_), s0);
  }
  bias_.assign(sz(outputs_), 0.0f);
  bias_sum_.assign(sz(outputs_), s0);
}

std::int64_t SparseLinearTrainer::rows_held() const noexcept {
  return mode_ == SparseMode::replicated ? dim_ : static_cast<std::int64_t>(slot_feature_.size());
}

std::int64_t SparseLinearTrainer::slot_for_update(std::int32_t feature) {
  if (slot_feature_.size() >= 0x7fffffffu) throw Error("dist sparse: a rank holds 2^31 rows; use more ranks");
  bool fresh = false;
  const std::int32_t slot = slot_.find_or_insert(feature, static_cast<std::int32_t>(slot_feature_.size()), fresh);
  if (fresh) {
    slot_feature_.push_back(feature);
    table_.resize(table_.size() + sz(outputs_), 0.0f);
    sum_.resize(sum_.size() + sz(outputs_), static_cast<float>(options_.initial_accumulator_value));
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

// rows_ <- the current weights of batch_.features (nf x outputs).
void SparseLinearTrainer::fetch_rows() {
  const auto& features = batch_.features;
  const auto nf = static_cast<std::int64_t>(features.size());
  const std::int64_t k = outputs_;
  rows_.resize(sz(nf * k));
  if (mode_ == SparseMode::replicated) {
    for (std::int64_t i = 0; i < nf; ++i)
      std::copy_n(table_.data() + features[sz(i)] * k, k, rows_.data() + i * k);
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
  // 2. the owners answer with the rows' current weights (a row never updated is zero).
  send_.assign(requested_.size() * sz(k) * 4, std::byte{0});
  // Lookups are cache misses once the rows held outgrow the cache: ask for the cells kAhead ids early.
  constexpr std::size_t kAhead = 8;
  for (std::size_t q = 0; q < requested_.size(); ++q) {
    if (q + kAhead < requested_.size()) slot_.prefetch(requested_[q + kAhead]);
    const std::int32_t slot = slot_.find(requested_[q]);
    if (slot >= 0) std::memcpy(send_.data() + q * sz(k) * 4, table_.data() + std::int64_t{slot} * k, sz(k) * 4);
  }
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

// Gradient rows grads_ (nf x outputs, batch_.features order) -> the rows' owners, who apply the step.
void SparseLinearTrainer::push_gradients() {
  const auto& features = batch_.features;
  const auto nf = static_cast<std::int64_t>(features.size());
  const std::int64_t k = outputs_;
  const int ranks = comm_.size();
  send_.clear();
  if (mode_ == SparseMode::sharded) {
    // 3. gradient rows in the order the ids went (packed_): the owner knows which rows they are.
    for (const std::int64_t i : packed_) put(send_, std::span<const float>(grads_.data() + i * k, sz(k)));
    std::vector<int> counts(sz(ranks));
    for (int r = 0; r < ranks; ++r) counts[sz(r)] = send_counts_[sz(r)] / 4 * to_int(4 * k, "a gradient row");
    const std::vector<std::byte> got = exchange(send_, counts, recv_counts_);
    if (got.size() != requested_.size() * sz(k) * 4) throw Error("dist sparse: gradient rows do not match the ids requested");
    indices_.resize(requested_.size());
    for (std::size_t q = 0; q < requested_.size(); ++q) {
      if (q + 8 < requested_.size()) slot_.prefetch(requested_[q + 8]);
      indices_[q] = slot_for_update(requested_[q]);
    }
    // 4. One kernel call; duplicates (a row several ranks touched) are summed in order of appearance,
    // which is rank order: the same result on every run.
    optim::adagrad_step_rows(table_, sum_, k, indices_,
                             std::span<const float>(reinterpret_cast<const float*>(got.data()), got.size() / 4), options_, steps_);
    return;
  }
  // Replicated: one block (ids, then rows) to every rank, itself included, so every rank sees every
  // rank's block in rank order and applies the identical step.
  std::vector<std::byte> block;
  for (const std::int64_t j : features) put(block, static_cast<std::int32_t>(j));
  put(block, std::span<const float>(grads_));
  for (int r = 0; r < ranks; ++r) put(send_, std::span<const std::byte>(block));
  const std::vector<int> counts(sz(ranks), to_int(static_cast<std::int64_t>(block.size()), "a gradient block"));
  const std::vector<std::byte> got = exchange(send_, counts, recv_counts_);
  indices_.clear();
  std::vector<float>& all = rows_;  // the fetched rows are no longer needed: reuse the buffer
  all.clear();
  std::size_t at = 0;
  for (int r = 0; r < ranks; ++r) {
    const auto n = static_cast<std::size_t>(recv_counts_[sz(r)]) / (4 + 4 * sz(k));
    for (std::size_t q = 0; q < n; ++q) indices_.push_back(get<std::int32_t>(got.data() + at + 4 * q));
    const auto* g = reinterpret_cast<const float*>(got.data() + at + 4 * n);
    all.insert(all.end(), g, g + n * sz(k));
    at += static_cast<std::size_t>(recv_counts_[sz(r)]);
  }
  optim::adagrad_step_rows(table_, sum_, k, indices_, all, options_, steps_);
  counters_.rows_served = static_cast<std::int64_t>(indices_.size()) - nf;
}

// The bias: every rank's gradient, summed in rank order, the same step everywhere.
void SparseLinearTrainer::step_bias() {
  if (!fit_bias_) return;
  const int ranks = comm_.size();
  const std::vector<int> counts(sz(ranks), static_cast<int>(outputs_));
  std::vector<float> all(sz(ranks * outputs_));
  {
    const auto t0 = std::chrono::steady_clock::now();
    comm_.allgather(bias_grad_, all, counts);
    counters_.comm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::fill(bias_grad_.begin(), bias_grad_.end(), 0.0f);
  for (int r = 0; r < ranks; ++r)
    for (std::int64_t c = 0; c < outputs_; ++c) bias_grad_[sz(c)] += all[sz(r * outputs_ + c)];
  optim::adagrad_step(bias_, bias_grad_, bias_sum_, options_, steps_);
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
  batch_.build(d.features, rows, dim_);  // O(nonzeros); checks rows and feature ids
  const auto nf = static_cast<std::int64_t>(batch_.features.size());
  counters_ = {};
  counters_.examples = b;
  counters_.rows_touched = nf;
  fetch_rows();

  // Forward: z = b + Σ x_j W_j, walked feature by feature (ascending: a canonical row adds its terms
  // in the order LinearModel::scores does).
  z_.resize(sz(b * k));
  for (std::int64_t p = 0; p < b; ++p) std::copy(bias_.begin(), bias_.end(), z_.begin() + p * k);
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
    const std::int32_t label = regression ? 0 : d.labels[sz(r)];
    st.loss_sum += linear::linear_loss(task_, z, label, regression ? d.targets[sz(r)] : 0.0f, dz);
    if (task_ == linear::LinearTask::logistic) st.correct += (z[0] > 0.0f) == (label == 1) ? 1 : 0;
    else if (task_ == linear::LinearTask::softmax) st.correct += std::max_element(z.begin(), z.end()) - z.begin() == label ? 1 : 0;
    else st.squared_error_sum += static_cast<double>(dz[0]) * dz[0];
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

  ++steps_;
  push_gradients();
  step_bias();
  const std::uint64_t row_bytes = 4 * static_cast<std::uint64_t>(k);
  const auto ranks = static_cast<std::uint64_t>(comm_.size());
  counters_.minimum_bytes = mode_ == SparseMode::sharded
                                ? static_cast<std::uint64_t>(counters_.rows_remote) * (4 + row_bytes) +
                                      static_cast<std::uint64_t>(counters_.rows_served) * row_bytes
                                : (ranks - 1) * static_cast<std::uint64_t>(nf) * (4 + row_bytes);
  return st;
}

// ---- gather / scatter ----

std::optional<LinearAdagradState> SparseLinearTrainer::gather(int root) {
  const std::int64_t k = outputs_;
  const bool on_root = comm_.rank() == root;
  std::optional<LinearAdagradState> out;
  if (on_root) {
    out.emplace(LinearAdagradState{linear::LinearModel(task_, dim_, task_ == linear::LinearTask::squared ? 2 : classes_, fit_bias_),
                                   {}, bias_sum_, steps_});
    std::copy(bias_.begin(), bias_.end(), out->model.bias().begin());
    if (mode_ == SparseMode::replicated) {
      std::copy(table_.begin(), table_.end(), out->model.weights().begin());
      out->sum = sum_;
    } else {
      out->sum.assign(sz(dim_ * k), static_cast<float>(options_.initial_accumulator_value));
    }
  }
  if (mode_ == SparseMode::replicated) return out;  // every rank holds the same table
  // Sharded: every rank sends its rows (id, weights, accumulator) to root, in rounds whose total at
  // root stays within MPI's int counts.
  const std::int64_t row_bytes = 4 + 8 * k;
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
      put(send_, std::span<const float>(table_.data() + s * k, sz(k)));
      put(send_, std::span<const float>(sum_.data() + s * k, sz(k)));
    }
    std::vector<int> counts(sz(comm_.size()), 0);
    counts[sz(root)] = to_int(static_cast<std::int64_t>(send_.size()), "a gather round");
    const std::vector<std::byte> got = comm_.alltoallv(send_, counts, recv_counts_);
    if (on_root)
      for (std::size_t q = 0; q + sz(row_bytes) <= got.size(); q += sz(row_bytes)) {
        const auto j = get<std::int32_t>(got.data() + q);
        std::memcpy(out->model.weights().row(j).data(), got.data() + q + 4, sz(4 * k));
        std::memcpy(out->sum.data() + j * k, got.data() + q + 4 + sz(4 * k), sz(4 * k));
      }
    at = std::max(at, end);
  }
  return out;
}

void SparseLinearTrainer::scatter(const LinearAdagradState* state, int root) {
  const std::int64_t k = outputs_;
  const bool on_root = comm_.rank() == root;
  // Root checks the state's shape; every rank learns the verdict (an error on root alone would leave
  // the others waiting).
  std::int64_t ok = 1;
  std::string why;
  if (on_root) {
    if (state == nullptr) why = "no state given on the root rank";
    else if (state->model.task() != task_ || state->model.dim() != dim_ || state->model.outputs() != k ||
             state->model.fit_bias() != fit_bias_)
      why = "the state's model (" + state->model.config().dump() + ") is not the trainer's (task " +
            std::string(linear::to_string(task_)) + ", dim " + std::to_string(dim_) + ", outputs " + std::to_string(k) + ")";
    else if (state->sum.size() != sz(dim_ * k) || state->bias_sum.size() != sz(k))
      why = "the state's accumulators do not match its model";
    else if (state->steps < 0)
      why = "the state's step count is negative";
    ok = why.empty() ? 1 : 0;
  }
  broadcast_value(comm_, ok, root);
  if (ok == 0) throw UsageError("dist sparse: cannot re-shard: " + (on_root ? why : "the root rank refused the state"));
  if (on_root) {
    steps_ = state->steps;
    std::copy(state->model.bias().begin(), state->model.bias().end(), bias_.begin());
    bias_sum_ = state->bias_sum;
  }
  broadcast_value(comm_, steps_, root);
  broadcast_floats(comm_, bias_, root);
  broadcast_floats(comm_, bias_sum_, root);
  if (mode_ == SparseMode::replicated) {
    if (on_root) {
      std::copy(state->model.weights().begin(), state->model.weights().end(), table_.begin());
      sum_ = state->sum;
    }
    broadcast_floats(comm_, table_, root);
    broadcast_floats(comm_, sum_, root);
    return;
  }
  // Sharded: drop the rows held, then root sends each row that differs from a fresh one (nonzero weight
  // or accumulator != initial value) to its owner, in rounds.
  slot_.clear();
  slot_feature_.clear();
  table_.clear();
  sum_.clear();
  const auto s0 = static_cast<float>(options_.initial_accumulator_value);
  std::vector<std::int32_t> rows;
  if (on_root)
    for (std::int64_t j = 0; j < dim_; ++j) {
      const float* w = state->model.weights().row(j).data();
      const float* s = state->sum.data() + j * k;
      bool fresh = true;
      for (std::int64_t c = 0; c < k; ++c) fresh = fresh && w[c] == 0.0f && s[c] == s0;
      if (!fresh) rows.push_back(static_cast<std::int32_t>(j));
    }
  std::int64_t total = static_cast<std::int64_t>(rows.size());
  broadcast_value(comm_, total, root);
  const int ranks = comm_.size();
  const std::int64_t row_bytes = 4 + 8 * k;
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
        put(out, std::span<const float>(state->model.weights().row(j)));
        put(out, std::span<const float>(state->sum.data() + std::int64_t{j} * k, sz(k)));
      }
      for (int r = 0; r < ranks; ++r) {
        counts[sz(r)] = to_int(static_cast<std::int64_t>(by_owner[sz(r)].size()), "a scatter round");
        put(send_, std::span<const std::byte>(by_owner[sz(r)]));
      }
    }
    const std::vector<std::byte> got = comm_.alltoallv(send_, counts, recv_counts_);
    for (std::size_t q = 0; q + sz(row_bytes) <= got.size(); q += sz(row_bytes)) {
      const std::int64_t s = slot_for_update(get<std::int32_t>(got.data() + q));
      std::memcpy(table_.data() + s * k, got.data() + q + 4, sz(4 * k));
      std::memcpy(sum_.data() + s * k, got.data() + q + 4 + sz(4 * k), sz(4 * k));
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
  }
  const auto sums = global_sums();
  position.partial = {sums[0], static_cast<std::int64_t>(sums[1]), sums[2], static_cast<std::int64_t>(sums[3])};
  result.position = position;
  return result;
}

// ---- checkpoints: io's linear checkpoint format, with AdaGrad's state ----

linear::LinearOptimizerState to_optimizer_state(const LinearAdagradState& s) {
  const auto& m = s.model;
  if (s.sum.size() != sz(m.dim() * m.outputs()) || s.bias_sum.size() != sz(m.outputs()))
    throw UsageError("the AdaGrad accumulators do not match the model");
  linear::LinearOptimizerState st;
  st.tensors.emplace("weight.sum", Tensor({m.dim(), m.outputs()}, std::span<const float>(s.sum)));
  st.tensors.emplace("bias.sum", Tensor({m.outputs()}, std::span<const float>(s.bias_sum)));
  st.steps = s.steps;
  return st;
}

LinearAdagradState from_optimizer_state(linear::LinearModel model, const linear::LinearOptimizerState& st) {
  LinearAdagradState out{std::move(model), {}, {}, st.steps};
  auto take = [&](const std::string& key, const Shape& shape, std::vector<float>& into) {
    const auto it = st.tensors.find(key);
    if (it == st.tensors.end()) throw UsageError("adagrad state: '" + key + "' is missing", {"", 0, key});
    if (it->second.shape() != shape)
      throw UsageError("adagrad state: '" + key + "' has shape " + shape_to_string(it->second.shape()) + ", expected " +
                           shape_to_string(shape),
                       {"", 0, key});
    into.assign(it->second.span().begin(), it->second.span().end());
  };
  take("weight.sum", {out.model.dim(), out.model.outputs()}, out.sum);
  take("bias.sum", {out.model.outputs()}, out.bias_sum);
  return out;
}

void save_sparse_checkpoint(const std::filesystem::path& path, const SparseCheckpoint& c) {
  linear::FitState position;
  position.epoch = c.position.epoch;
  position.next = c.position.next;
  position.partial = c.position.partial;
  io::save_linear_checkpoint(path, c.state.model, linear::LazyAdagrad::kName,
                             optim::options_to_map(c.options, linear::LazyAdagrad::fields()),
                             to_optimizer_state(c.state), position, c.seed, c.batch_size);
}

SparseCheckpoint read_sparse_checkpoint(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& entry, const std::string& what) -> void {
    throw Error(path.string() + ": entry '" + entry + "' " + what, {path.string(), 0, entry});
  };
  io::LinearCheckpoint c;
  try {
    c = io::read_linear_checkpoint(path);
  } catch (const Error& e) {
    fail(e.context().field, e.message());
  }
  if (c.optimizer != linear::LazyAdagrad::kName) fail("optim.name", "is '" + c.optimizer + "', not 'adagrad'");
  SparseCheckpoint out{{linear::LinearModel(linear::LinearTask::logistic, 1), {}, {}, 0}, {},
                       {c.fit.epoch, c.fit.next, c.fit.partial}, c.seed, c.batch_size};
  try {
    out.state = from_optimizer_state(std::move(c.model), c.state);
  } catch (const Error& e) {
    fail("optim.adagrad." + e.context().field, e.message());
  }
  try {
    optim::apply_options(out.options, linear::LazyAdagrad::fields(), c.options, "adagrad");
    out.options.validate();
  } catch (const Error& e) {
    fail("optim.meta." + e.context().field, e.message());
  }
  return out;
}

}  // namespace adakit::dist
