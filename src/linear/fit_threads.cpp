// linear::fit's batch loop on one or two threads (fit_internal.hpp, FitThreads).
//
// Why it is exact: training sums a row's scores shard by shard, p_0 + p_1 (model.hpp); each thread owns
// one shard and sums its partial, and adding the two is the one-thread sum. Everything after the scores
// is per coordinate: the loss's dL/dz, which both threads compute alike from the same scores; a
// coordinate's gradient x_j · dL/dz_c summed over the batch's entries of feature j in order
// (detail::feature_gradients, on the thread that owns j); and the optimizers, which update a feature's
// row from its own gradient and state and the step count (LinearOptimizer::on_prepare / on_step). So
// every number is one thread's.
//
// Why it is faster: on a model larger than the cache, a step's cost is fetching the rows (weights and
// state) of the batch's features. Each thread fetches only its own shard's rows, whole, and keeps them
// in its own cache: the two cores' misses overlap and no line of the model moves between them. Each
// reads its shard's entries from a copy of the data split by shard (made once), not every entry to
// pick out its own. What each repeats is computing dL/dz; what it waits for is the exchange (one
// cache-line transfer a batch) and the other's share when a batch splits unevenly.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/tensor.hpp"
#include "batch_math.hpp"
#include "fit_internal.hpp"

namespace adakit::linear::detail {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// Fewest outputs a model has for fit() to choose more than one thread: with fewer, a batch's work is
// too small for the exchange to pay.
constexpr std::int64_t kMinThreadedOutputs = 8;

// Prefetch hints for the batches ahead (they change no value). A step touches rows scattered over the
// data and the model, each a cache miss when the model is larger than the cache; asking for them
// batches early overlaps those misses with the current batch's arithmetic. Three stages, because each
// address is known only once the previous one is read: a row's indptr entries (3 distances ahead), then
// its CSR entries (2), then the model rows of its features (run() asks kPrefetchRowsAhead rows ahead,
// into the next batch: a steady stream of misses rather than one burst a batch, which overflowed the
// CPU's miss queues and the L2). The distance is a batch, and at least kPrefetchRowsAhead rows: with
// batches of one, the model rows of the row 4 on were never asked for, and an epoch took 2x as long.
void prefetch_indptr(const data::CsrView& x, std::span<const std::int64_t> rows) {
  for (const auto r : rows) {
    if (r < 0 || r >= x.rows) continue;
    if (x.indptr32.empty()) prefetch_hint(x.indptr.data() + r);
    else prefetch_hint(x.indptr32.data() + r);
  }
}

void prefetch_entries(const data::CsrView& x, std::span<const std::int64_t> rows) {
  for (const auto r : rows) {
    if (r < 0 || r >= x.rows) continue;  // reported where the batch is built
    const std::int64_t b = x.row_begin(r), n = x.row_begin(r + 1) - b;
    prefetch_range(x.indices.data() + b, static_cast<std::size_t>(n) * sizeof(std::int32_t));
    prefetch_floats(x.values.data() + b, n);
  }
}

// A handed-out line: kLineFloats floats of a partial, then the 8-byte tag.
constexpr std::int64_t kLineFloats = 14;
std::int64_t lines_for(std::int64_t outputs) { return (outputs + kLineFloats - 1) / kLineFloats; }
std::atomic_ref<std::int64_t> tag_of(float* line) {
  return std::atomic_ref<std::int64_t>(*reinterpret_cast<std::int64_t*>(line + kLineFloats));
}

// Thrown in a thread that stopped waiting because another failed (never seen outside).
struct Abandoned {};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

// One thread's buffers, a cache line apart from the next thread's.
struct alignas(64) FitThreads::Thread {
  BatchFeatures batch;
  SparseGradient grad;
  std::vector<float> z, dz;  // the batch's scores and dL/dz, B x outputs
  std::vector<float> q;      // its shard's partials, B x outputs
  // What it hands out, by batch parity: each row's partial in 64-byte lines of kLineFloats floats and
  // a tag, the step the line is for, written after the floats: a reader that sees the tag sees the
  // floats, and both come in one cache-line transfer (a separate flag would cost a second one).
  Tensor lines[2];
  std::int64_t touched = 0;  // coordinates this thread's parts touched (LinearOptimizer::coordinates_touched)
  std::int64_t done = 0;     // batches stepped
  std::exception_ptr error;
};

struct FitThreads::Run {
  std::span<const std::int64_t> rows;
  std::int64_t begin, end, steps0;
  std::vector<BatchStats>& stats;
  std::atomic<bool> failed{false};
};

FitThreads::FitThreads(LinearModel& model, LinearOptimizer& optimizer, const data::SparseDataView& d,
                       std::int64_t threads, std::int64_t batch_size)
    : model_(model), optimizer_(optimizer), d_(d), threads_(threads), batch_size_(batch_size), parts_(sz(threads)) {
  if (threads != 1 && threads != kFeatureShards)
    throw UsageError("fit: " + std::to_string(threads) + " threads for one learner; 1 or " + std::to_string(kFeatureShards),
                     {"", 0, "fit_threads"});
  if (batch_size < 1) throw UsageError("fit: batch_size must be >= 1", {"", 0, "batch_size"});
  optimizer_.check_model(model_);
  check_gradient_data(model_, d);
  const std::int64_t k = model.outputs();
  for (Thread& p : parts_) {
    p.z.resize(sz(batch_size * k));
    p.dz.resize(sz(batch_size * k));
    p.q.resize(sz(batch_size * k));
    if (threads > 1)
      for (Tensor& l : p.lines) {
        l = Tensor({batch_size * lines_for(k) * 16});
        for (std::int64_t e = 0; e < batch_size * lines_for(k); ++e) tag_of(l.data() + e * 16).store(0);
      }
  }
  if (threads == 1) return;
  // The data split by shard, each row's entries in its order. A feature outside the model marks its row,
  // whose batch train() refuses as BatchFeatures::build would.
  const data::CsrView& x = d.features;
  const std::int64_t dim = model.dim();
  shard_data_.resize(sz(kFeatureShards));
  bad_.assign(sz(x.rows), 0);
  for (data::CsrMatrix& m : shard_data_) {
    m.rows = x.rows;
    m.cols = x.cols;
    m.indptr.assign(sz(x.rows + 1), 0);
  }
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (const std::int32_t j : x.row_indices(r)) {
      if (j < 0 || j >= dim) bad_[sz(r)] = 1;
      else ++shard_data_[sz(model.shard_of(j))].indptr[sz(r + 1)];
    }
  for (data::CsrMatrix& m : shard_data_) {
    for (std::int64_t r = 0; r < x.rows; ++r) m.indptr[sz(r + 1)] += m.indptr[sz(r)];
    m.indices.resize(sz(m.indptr.back()));
    m.values.resize(sz(m.indptr.back()));
  }
  std::int64_t at[kFeatureShards] = {};
  for (std::int64_t r = 0; r < x.rows; ++r) {
    const auto idx = x.row_indices(r);
    const auto val = x.row_values(r);
    for (std::size_t e = 0; e < idx.size(); ++e) {
      const std::int32_t j = idx[e];
      if (j < 0 || j >= dim) continue;
      const auto s = sz(model.shard_of(j));
      shard_data_[s].indices[sz(at[s])] = j;
      shard_data_[s].values[sz(at[s])] = val[e];
      ++at[s];
    }
  }
}

FitThreads::~FitThreads() = default;

void FitThreads::check_rows(std::span<const std::int64_t> rows) const {
  // What BatchFeatures::build refuses, with its message (the first bad entry in reading order).
  const data::CsrView& x = d_.features;
  for (const std::int64_t r : rows) {
    if (r < 0 || r >= x.rows)
      throw UsageError("batch row " + std::to_string(r) + " is outside [0, " + std::to_string(x.rows) + ")");
    if (bad_[sz(r)]) check_features(x.row_indices(r), r, model_.dim());
  }
}

void FitThreads::run(Run& ru, std::int64_t t, std::int64_t threads) {
  Thread& me = parts_[sz(t)];
  const bool lead = t == 0;  // the bias's thread (p_0 starts from b)
  // One thread reads the data as they are; two read their own shard's copy.
  const data::CsrView x = threads > 1 ? data::CsrView(shard_data_[sz(t)]) : d_.features;
  const std::int64_t k = model_.outputs(), bs = batch_size_, n = static_cast<std::int64_t>(ru.rows.size());
  const std::int64_t ahead = std::max(bs, kPrefetchRowsAhead);
  const std::int64_t fixed = optimizer_.prepare_touches(model_, 0);  // a prepare's touches without features
  auto rows_at = [&](std::int64_t at, std::int64_t count) {
    return ru.rows.subspan(sz(std::min(at, n)), sz(std::clamp(n - at, std::int64_t{0}, count)));
  };
  for (std::int64_t b = ru.begin, i = 0; b < ru.end; b += bs, ++i) {
    const auto r = rows_at(b, bs);
    const auto in_batch = static_cast<std::int64_t>(r.size());
    const std::int64_t step = ru.steps0 + i + 1;
    if (threads > 1) check_rows(r);  // both threads: the same checks, the same error
    me.batch.build(x, r, model_.dim());
    optimizer_.on_prepare(model_, me.batch.features, step - 1);
    if (lead) optimizer_.on_prepare_bias(model_, step - 1);
    me.touched += optimizer_.prepare_touches(model_, static_cast<std::int64_t>(me.batch.features.size())) - fixed +
                  (lead ? fixed : 0);
    prefetch_indptr(x, rows_at(b + 3 * ahead, bs));
    prefetch_entries(x, rows_at(b + 2 * ahead, bs));
    for (std::int64_t p = 0; p < in_batch; ++p) {
      const std::int64_t next = b + p + kPrefetchRowsAhead;
      if (next < n && ru.rows[sz(next)] >= 0 && ru.rows[sz(next)] < x.rows)
        prefetch_model_rows(model_, x.row_indices(ru.rows[sz(next)]));
      if (threads == 1)
        training_scores(model_, x, r[sz(p)], std::span<float>(me.z.data() + p * k, sz(k)), std::span<float>(me.q).first(sz(k)));
      else
        model_.partial_scores(x.row_indices(r[sz(p)]), x.row_values(r[sz(p)]), lead,
                              std::span<float>(me.q.data() + p * k, sz(k)));
    }
    if (threads > 1) {
      const std::int64_t tag = step, nl = lines_for(k);
      float* out = me.lines[i & 1].data();
      for (std::int64_t p = 0; p < in_batch; ++p)
        for (std::int64_t l = 0; l < nl; ++l) {
          float* line = out + (p * nl + l) * 16;
          std::copy_n(me.q.data() + p * k + l * kLineFloats, std::min(kLineFloats, k - l * kLineFloats), line);
          tag_of(line).store(tag, std::memory_order_release);
        }
      // z = p_0 + p_1 (the top of model.hpp): this thread's partial and the other's, as its lines come.
      float* in = parts_[sz(1 - t)].lines[i & 1].data();
      for (std::int64_t p = 0; p < in_batch; ++p)
        for (std::int64_t l = 0; l < nl; ++l) {
          float* line = in + (p * nl + l) * 16;
          for (std::int64_t spins = 0; tag_of(line).load(std::memory_order_acquire) != tag; ++spins) {
            if (ru.failed.load(std::memory_order_relaxed)) throw Abandoned{};
            if (spins >= 4096) std::this_thread::yield();  // a sibling descheduled: give its core back
            else cpu_relax();
          }
          const std::int64_t c0 = l * kLineFloats, m = std::min(kLineFloats, k - c0);
          const float* own = me.q.data() + p * k + c0;
          float* z = me.z.data() + p * k + c0;
          if (lead)
            for (std::int64_t c = 0; c < m; ++c) z[c] = own[c] + line[c];
          else
            for (std::int64_t c = 0; c < m; ++c) z[c] = line[c] + own[c];
        }
    }
    BatchStats st;
    batch_dz(model_, d_, r, std::span<const float>(me.z.data(), sz(in_batch * k)), me.dz, st);
    if (t == 0) ru.stats[sz(i)] = st;
    feature_gradients(me.batch, in_batch, k, me.dz, me.grad);
    optimizer_.on_step(model_, me.grad, step);
    me.touched += static_cast<std::int64_t>(me.grad.values.size());
    if (lead && model_.fit_bias()) {
      bias_gradient(model_, in_batch, me.dz, me.grad.bias);
      optimizer_.on_step_bias(model_, me.grad.bias, step);
      me.touched += k;
    }
    me.done = i + 1;
  }
}

void FitThreads::train(std::span<const std::int64_t> rows, std::int64_t begin, std::int64_t end,
                       std::vector<BatchStats>& stats) {
  optimizer_.check_model(model_);
  end = std::min<std::int64_t>(end, static_cast<std::int64_t>(rows.size()));
  const std::int64_t batches = end > begin ? (end - begin + batch_size_ - 1) / batch_size_ : 0;
  stats.assign(sz(batches), BatchStats{});
  if (batches == 0) return;
  Run ru{rows, begin, end, optimizer_.steps_, stats};
  for (Thread& p : parts_) {
    p.touched = p.done = 0;
    p.error = nullptr;
  }
  auto guarded = [&](std::int64_t t, std::int64_t threads) {
    try {
      run(ru, t, threads);
    } catch (const Abandoned&) {
    } catch (...) {
      parts_[sz(t)].error = std::current_exception();
      ru.failed.store(true, std::memory_order_relaxed);
    }
  };
  std::int64_t used = 1;
  if (threads_ > 1 && !omp_in_parallel()) {
    std::atomic<bool> short_team{false};
#pragma omp parallel num_threads(static_cast<int>(threads_))
    {
      if (omp_get_num_threads() != threads_) short_team = true;
#pragma omp barrier
      if (!short_team) guarded(omp_get_thread_num(), threads_);
    }
    if (!short_team) used = threads_;
  }
  if (used == 1) guarded(0, 1);  // both shards on this thread: the same numbers
  std::int64_t done = batches;
  for (std::int64_t t = 0; t < used; ++t) {
    const Thread& p = parts_[sz(t)];
    done = std::min(done, p.done);
    optimizer_.touched_ += p.touched;
  }
  optimizer_.steps_ += done;
  for (std::int64_t t = 0; t < used; ++t)
    if (parts_[sz(t)].error) std::rethrow_exception(parts_[sz(t)].error);
}

std::int64_t fit_threads(const LinearModel& model, const FitOptions& options) {
  if (options.workers > 1) return 1;
  if (options.threads > 0) return options.threads;
  // Inside another parallel region (a caller's threads, each fitting its own model) the team would be
  // one thread.
  if (omp_in_parallel() || model.outputs() < kMinThreadedOutputs) return 1;
  return num_threads() >= 2 ? 2 : 1;
}

}  // namespace adakit::linear::detail
