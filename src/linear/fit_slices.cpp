// linear::fit on several threads for a one-vs-rest model: output slices (fit_internal.hpp,
// OutputSlices). Why it is exact: a one-vs-rest loss is a sum of one term per output, each a function
// of that output's score alone (ova's log(1 + exp(−s z_c)), the squared hinge's max(0, 1 − s z_c)²);
// so is its gradient dL/dz_c, hence each coordinate's gradient x_j · dL/dz_c; and every linear
// optimizer updates a coordinate from its own gradient and state (plus the step count and, for the lazy
// ones, its feature's last step, which every slice keeps alike). A slice's scores are the same sums in
// the same order (LinearModel::scores per output), so each output's trajectory is the whole model's bit
// for bit, whichever thread runs it.
//
// Why it is faster: a step reads and writes every output's weight and state of each feature of the
// row; on a model larger than the cache those rows are the cost. Each thread fetches its slice's part
// of them only, from its own table, while the other thread fetches the rest: the two cores' memory
// requests overlap. (One shared table with each thread writing its own columns lost most of the gain
// to false sharing: both write the same cache lines of the features they share.)
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/linear/registry.hpp"
#include "fit_internal.hpp"

namespace adakit::linear::detail {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }

// Fewest outputs a slice gets when fit() chooses the count: below it the rows' fixed costs (reading the
// row, building the batch), which each slice pays again, outweigh the halved output work.
constexpr std::int64_t kMinSliceOutputs = 4;

// Runs work(t) for t = 0 .. count-1 on one OpenMP team of `count` threads (so the kernels' own
// parallel_for runs inline in each; a smaller team, nested in another parallel region or under a thread
// limit, runs several t in turn), then, once all are done, after(t, threads) on each thread of the team.
// Rethrows the first error (lowest t, work before after) once the team is done.
template <class Work, class After>
void on_threads(std::int64_t count, Work&& work, After&& after) {
  std::vector<std::exception_ptr> errors(sz(count)), late(sz(count));
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(static_cast<int>(count))
  {
    const std::int64_t me = omp_get_thread_num(), team = omp_get_num_threads();
    for (std::int64_t t = me; t < count; t += team) {
      try {
        work(t);
      } catch (...) {
        errors[sz(t)] = std::current_exception();
        failed = true;
      }
    }
#pragma omp barrier
    if (!failed) {
      try {
        after(me, team);
      } catch (...) {
        late[sz(me)] = std::current_exception();
      }
    }
  }
  for (const auto* list : {&errors, &late})
    for (const auto& e : *list)
      if (e) std::rethrow_exception(e);
}

template <class Work>
void on_threads(std::int64_t count, Work&& work) {
  on_threads(count, std::forward<Work>(work), [](std::int64_t, std::int64_t) {});
}

}  // namespace

struct OutputSlices::Part {
  LinearModel model;
  std::unique_ptr<LinearOptimizer> optimizer;
  BatchFeatures batch;
  SparseGradient grad;
};

OutputSlices::OutputSlices(const LinearModel& model, const LinearOptimizer& optimizer, std::int64_t count)
    : task_(model.task()), outputs_(model.outputs()), count_(count) {
  if (count < 2 || count > outputs_)
    throw UsageError("fit: " + std::to_string(count) + " output slices of " + std::to_string(outputs_) + " outputs",
                     {"", 0, "slices"});
  parts_.reserve(sz(count));
  for (std::int64_t t = 0; t < count; ++t) {
    const std::int64_t first = t * outputs_ / count, last = (t + 1) * outputs_ / count;
    LinearModel part = model.output_slice(first, last - first, optimizer.state_width(last - first));
    auto opt = make_linear_optimizer(optimizer.name(), optimizer.option_map());
    optimizer.slice_state(model, part, *opt);
    parts_.push_back(Part{std::move(part), std::move(opt), {}, {}});
  }
}

OutputSlices::~OutputSlices() = default;

void OutputSlices::train(const data::SparseDataView& train, std::span<const std::int64_t> rows, std::int64_t begin,
                         std::int64_t end, std::int64_t batch_size, std::vector<BatchStats>& stats) {
  end = std::min<std::int64_t>(end, static_cast<std::int64_t>(rows.size()));
  const std::int64_t n = end - begin, k = outputs_, batches = (n + batch_size - 1) / batch_size;
  z_.resize(sz(n * k));
  stats.assign(sz(batches), BatchStats{});
  put_back_ = false;
  // One slice a thread (several in turn when the team is smaller), then, once every score is in, each
  // thread measures its share of the batches as LinearModel::gradient does (row by row, add_row_loss
  // over every output, in order): the same sums as one thread's.
  on_threads(count(), [&](std::int64_t t) {
    Part& p = parts_[sz(t)];
    const std::int64_t first = p.model.first_output(), width = p.model.outputs();
    for (std::int64_t b = begin; b < end; b += batch_size) {
      train_batch(p.model, *p.optimizer, train, rows, b, batch_size, p.batch, p.grad);
      const std::int64_t in_batch = std::min(batch_size, end - b);
      for (std::int64_t r = 0; r < in_batch; ++r)
        std::copy_n(p.grad.z.data() + r * width, width, z_.data() + (b - begin + r) * k + first);
    }
  }, [&](std::int64_t t, std::int64_t threads) {
    std::vector<float> dz(sz(k));
    for (std::int64_t i = batches * t / threads; i < batches * (t + 1) / threads; ++i) {
      BatchStats& st = stats[sz(i)];
      const std::int64_t b = begin + i * batch_size, e = std::min(end, b + batch_size);
      st.count = e - b;
      for (std::int64_t q = b; q < e; ++q)
        add_row_loss(task_, train, rows[sz(q)], std::span<const float>(z_.data() + (q - begin) * k, sz(k)), dz, st);
    }
  });
}

std::int64_t OutputSlices::steps() const { return parts_.front().optimizer->steps(); }

void OutputSlices::sync() {
  put_back_ = false;
  on_threads(count(), [&](std::int64_t t) { parts_[sz(t)].optimizer->sync(parts_[sz(t)].model); });
}

void OutputSlices::put_back(LinearModel& model, LinearOptimizer& optimizer) {
  if (put_back_) return;  // nothing trained since the last time (an epoch's callbacks, then a checkpoint)
  put_back_ = true;
  for (Part& p : parts_) {
    model.put_output_slice(p.model);
    optimizer.put_slice_state(model, p.model, *p.optimizer);
  }
}

std::int64_t output_slices(const LinearModel& model, const FitOptions& options) {
  if (options.workers > 1 || model.is_slice() || model.outputs() < 2 ||
      (model.task() != LinearTask::ova && model.task() != LinearTask::squared_hinge))
    return 1;
  if (options.slices > 0) return std::min(options.slices, model.outputs());
  // Inside another parallel region (a caller's threads, each fitting its own model) the team would be
  // one thread: the slices would only add the copies.
  if (omp_in_parallel()) return 1;
  return std::max<std::int64_t>(1, std::min<std::int64_t>(num_threads(), model.outputs() / kMinSliceOutputs));
}

}  // namespace adakit::linear::detail
