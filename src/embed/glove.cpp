// The GloVe trainer (formulas in include/adakit/embed/glove.hpp). One kernel, glove_record below, written
// once per convention as a template so the hot loop inlines it; glove_step and train_glove both run it.
#include "adakit/embed/glove.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/prefetch.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/optim/clip.hpp"

namespace adakit::embed {
namespace {
// The AdaGrad convention (optim/adagrad.hpp) each GloVe convention runs: reference is glove.c's, the
// `glove` preset (s0 = 1, no eps, the step from the sum before g²) with lr 1 on the gradient η·g;
// standard is `pytorch` with lr = eta and the caller's eps.
constexpr const optim::AdagradOptions& adagrad_of(GloveConvention c) {
  return c == GloveConvention::reference ? optim::adagrad_conventions::glove : optim::adagrad_conventions::pytorch;
}

}  // namespace

std::string_view to_string(GloveConvention c) { return c == GloveConvention::reference ? "reference" : "standard"; }

GloveConvention glove_convention_from_string(std::string_view name) {
  if (name == "reference") return GloveConvention::reference;
  if (name == "standard") return GloveConvention::standard;
  throw UsageError("unknown GloVe AdaGrad convention '" + std::string(name) + "' (reference, standard)",
                   {"", 0, "convention"});
}

std::string_view to_string(ShuffleMode m) {
  return m == ShuffleMode::once ? "once" : m == ShuffleMode::epoch ? "epoch" : "none";
}

ShuffleMode shuffle_mode_from_string(std::string_view name) {
  if (name == "once") return ShuffleMode::once;
  if (name == "epoch") return ShuffleMode::epoch;
  if (name == "none") return ShuffleMode::none;
  throw UsageError("unknown shuffle mode '" + std::string(name) + "' (once, epoch, none)", {"", 0, "shuffle"});
}

void GloveOptions::validate() const {
  auto positive = [](double v) { return v > 0 && std::isfinite(v); };
  if (vector_size < 1 || vector_size > 100000) throw UsageError("vector_size must be in 1..100000", {"", 0, "vector_size"});
  if (iterations < 0) throw UsageError("iterations must be >= 0", {"", 0, "iterations"});
  if (!positive(x_max)) throw UsageError("x_max must be positive", {"", 0, "x_max"});
  if (!(alpha >= 0) || !std::isfinite(alpha)) throw UsageError("alpha must be >= 0", {"", 0, "alpha"});
  if (!positive(step.eta)) throw UsageError("eta must be positive", {"", 0, "eta"});
  if (!(step.grad_clip >= 0) || !std::isfinite(step.grad_clip))
    throw UsageError("grad_clip must be >= 0 (0 = off)", {"", 0, "grad_clip"});
  if (!(step.eps >= 0) || !std::isfinite(step.eps)) throw UsageError("eps must be >= 0", {"", 0, "eps"});
  if (initial_accumulator) {
    const double s0 = *initial_accumulator;
    if (!(s0 >= 0) || !std::isfinite(s0)) throw UsageError("initial_accumulator must be >= 0", {"", 0, "initial_accumulator"});
    if (step.convention == GloveConvention::reference && s0 == 0)
      throw UsageError("the reference convention divides by the accumulator before adding to it: it must be > 0",
                       {"", 0, "initial_accumulator"});
  }
  if (threads < 0 || threads > 1024) throw UsageError("threads must be in 0..1024", {"", 0, "threads"});
}

double GloveOptions::accumulator_start() const {
  if (initial_accumulator) return *initial_accumulator;
  return adagrad_of(step.convention).initial_accumulator_value;
}

GloveModel init_glove(std::int64_t vocab_size, const GloveOptions& options) {
  options.validate();
  if (vocab_size < 1) throw UsageError("the vocabulary is empty", {"", 0, "vocab"});
  GloveModel m;
  m.vocab_size = vocab_size;
  m.dim = options.vector_size;
  const std::size_t n = static_cast<std::size_t>(2 * vocab_size * (m.dim + 1));
  m.params.resize(n);
  Rng rng(options.seed);
  const double d = static_cast<double>(m.dim);
  for (auto& v : m.params) v = (rng.uniform() - 0.5) / d;
  m.gradsq.assign(n, options.accumulator_start());
  return m;
}

double glove_weight(double x, double x_max, double alpha) { return x > x_max ? 1.0 : std::pow(x / x_max, alpha); }

namespace {

// The kernel. w, c: rows of d + 1 values (bias last); gw, gc their accumulators; uw, uc scratch of d.
// clip = +inf when off. Returns ½ f diff², or NaN when the record is skipped.
template <GloveConvention C>
inline double glove_record(double* __restrict w, double* __restrict c, double* __restrict gw, double* __restrict gc,
                           double* __restrict uw, double* __restrict uc, std::int64_t d, double log_x, double weight,
                           double eta, double clip, double eps) {
  static constexpr optim::AdagradOptions kAdagrad = adagrad_of(C);
  constexpr bool kReference = C == GloveConvention::reference;
  constexpr bool kInside = kAdagrad.eps_mode == optim::EpsMode::inside;
  const double e = kReference ? kAdagrad.eps : eps;
  // x / d for gradient g, the sum s updated: optim/adagrad.hpp's formula with the preset's flags.
  auto scale = [e](double x, double g, double& s) {
    return optim::adagrad_scale<kInside, kAdagrad.accumulate_after_update, kAdagrad.zero_update_where_sum_zero>(
        x, g, s, e);
  };
  double dot = 0.0;
#pragma omp simd reduction(+ : dot)
  for (std::int64_t k = 0; k < d; ++k) dot += w[k] * c[k];
  const double diff = dot + w[d] + c[d] - log_x;
  const double fd = weight * diff;
  if (!std::isfinite(diff) || !std::isfinite(fd)) return std::numeric_limits<double>::quiet_NaN();
  double sum_w = 0.0, sum_c = 0.0;
#pragma omp simd reduction(+ : sum_w, sum_c)
  for (std::int64_t k = 0; k < d; ++k) {  // both from the old w, c
    const double g1 = optim::clip_value(fd * c[k], clip), g2 = optim::clip_value(fd * w[k], clip);
    const double x1 = eta * g1, x2 = eta * g2;
    // reference: glove.c folds eta into the gradient it accumulates
    uw[k] = scale(x1, kReference ? x1 : g1, gw[k]);
    uc[k] = scale(x2, kReference ? x2 : g2, gc[k]);
    sum_w += uw[k];
    sum_c += uc[k];
  }
  if (std::isfinite(sum_w) && std::isfinite(sum_c)) {
#pragma omp simd
    for (std::int64_t k = 0; k < d; ++k) {
      w[k] -= uw[k];
      c[k] -= uc[k];
    }
  }
  // The biases: reference (glove.c) takes neither eta nor the clip.
  const double gb = kReference ? fd : optim::clip_value(fd, clip);
  const double xb = kReference ? fd : eta * gb;
  const double bw = scale(xb, gb, gw[d]), bc = scale(xb, gb, gc[d]);
  w[d] -= std::isfinite(bw) ? bw : 0.0;
  c[d] -= std::isfinite(bc) ? bc : 0.0;
  return 0.5 * fd * diff;
}

double clip_bound(const GloveStepOptions& o) {
  return o.grad_clip > 0 ? o.grad_clip : std::numeric_limits<double>::infinity();
}

// A record as the trainer keeps it: 0-based rows and the per-record constants of the objective.
struct Prepared {
  std::int32_t word;     // i
  std::int32_t context;  // j
  double log_x;
  double weight;         // f(X_ij)
};

constexpr std::int64_t kPrefetchAhead = 4;
// Progress within an iteration, for run::Callback::on_batch_end: thousandths of the first thread's slice.
constexpr std::int64_t kProgressBatches = 1000;

struct Slice {
  double cost = 0.0;
  std::int64_t skipped = 0;
};

template <GloveConvention C>
void run_slice(GloveModel& m, const Prepared* recs, std::int64_t n, const GloveStepOptions& o, Slice& out,
               const std::function<void(std::int64_t done, double cost)>* progress) {
  const std::int64_t d = m.dim, row = d + 1, V = m.vocab_size;
  double* P = m.params.data();
  double* G = m.gradsq.data();
  std::vector<double> scratch(static_cast<std::size_t>(2 * std::max<std::int64_t>(d, 1)));
  double* uw = scratch.data();
  double* uc = scratch.data() + d;
  const double eta = o.eta, clip = clip_bound(o), eps = o.eps;
  double cost = 0.0;
  std::int64_t skipped = 0;
  const std::int64_t row_bytes = row * static_cast<std::int64_t>(sizeof(double));
  for (std::int64_t a = 0; a < n; ++a) {
    if (a + kPrefetchAhead < n) {  // the rows of a later record: random rows miss the cache
      const Prepared& p = recs[a + kPrefetchAhead];
      const char* rows[4] = {reinterpret_cast<const char*>(P + static_cast<std::int64_t>(p.word) * row),
                             reinterpret_cast<const char*>(P + (static_cast<std::int64_t>(p.context) + V) * row),
                             reinterpret_cast<const char*>(G + static_cast<std::int64_t>(p.word) * row),
                             reinterpret_cast<const char*>(G + (static_cast<std::int64_t>(p.context) + V) * row)};
      for (const char* q : rows)
        for (std::int64_t off = 0; off < row_bytes; off += 64) prefetch_hint(q + off, true);
    }
    const Prepared& r = recs[a];
    const std::int64_t l1 = static_cast<std::int64_t>(r.word) * row;
    const std::int64_t l2 = (static_cast<std::int64_t>(r.context) + V) * row;
    const double e = glove_record<C>(P + l1, P + l2, G + l1, G + l2, uw, uc, d, r.log_x, r.weight, eta, clip, eps);
    if (e == e) cost += e;
    else ++skipped;
    if (progress && (a & 0xFFFF) == 0xFFFF) (*progress)(a + 1, cost);
  }
  out.cost = cost;
  out.skipped = skipped;
}

}  // namespace

double glove_step(std::span<double> w, std::span<double> c, std::span<double> gw, std::span<double> gc, double log_x,
                  double weight, const GloveStepOptions& options) {
  const std::size_t n = w.size();
  if (n < 1 || c.size() != n || gw.size() != n || gc.size() != n)
    throw UsageError("glove_step: rows and accumulators must all hold d + 1 values");
  const std::int64_t d = static_cast<std::int64_t>(n) - 1;
  std::vector<double> scratch(2 * n);
  const double clip = clip_bound(options);
  if (options.convention == GloveConvention::reference)
    return glove_record<GloveConvention::reference>(w.data(), c.data(), gw.data(), gc.data(), scratch.data(),
                                                    scratch.data() + n, d, log_x, weight, options.eta, clip, options.eps);
  return glove_record<GloveConvention::standard>(w.data(), c.data(), gw.data(), gc.data(), scratch.data(),
                                                 scratch.data() + n, d, log_x, weight, options.eta, clip, options.eps);
}

GloveResult train_glove(GloveModel& model, std::span<const CooccurRecord> records, const GloveOptions& options,
                        const run::Callbacks& callbacks) {
  options.validate();
  if (model.dim != options.vector_size)
    throw UsageError("the model's vectors have " + std::to_string(model.dim) + " dimensions, the options say " +
                         std::to_string(options.vector_size),
                     {"", 0, "vector_size"});
  const std::size_t want = static_cast<std::size_t>(2 * model.vocab_size * (model.dim + 1));
  if (model.params.size() != want || model.gradsq.size() != want)
    throw UsageError("the model's parameter arrays do not hold 2 V (d + 1) values");
  if (records.empty()) throw UsageError("no co-occurrence records to train on", {"", 0, "cooccur"});

  std::vector<Prepared> recs(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.word1 < 1 || r.word1 > model.vocab_size || r.word2 < 1 || r.word2 > model.vocab_size)
      throw UsageError("co-occurrence record " + std::to_string(i + 1) + " has ids (" + std::to_string(r.word1) + ", " +
                           std::to_string(r.word2) + ") outside the vocabulary's 1.." + std::to_string(model.vocab_size),
                       {"", 0, "cooccur"});
    if (!(r.value > 0) || !std::isfinite(r.value))
      throw UsageError("co-occurrence record " + std::to_string(i + 1) + " has a value that is not finite and positive",
                       {"", 0, "cooccur"});
    recs[i] = {r.word1 - 1, r.word2 - 1, std::log(r.value), glove_weight(r.value, options.x_max, options.alpha)};
  }
  Rng shuffle_rng(options.seed ^ 0x9E3779B97F4A7C15ULL);
  auto shuffle = [&] {
    for (std::size_t i = recs.size(); i > 1; --i) std::swap(recs[i - 1], recs[static_cast<std::size_t>(shuffle_rng.below(i))]);
  };
  if (options.shuffle == ShuffleMode::once) shuffle();

  const std::int64_t n = static_cast<std::int64_t>(recs.size());
  const int T = static_cast<int>(std::clamp<std::int64_t>(options.threads > 0 ? options.threads : num_threads(), 1, n));
  GloveResult result;
  result.threads = T;
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  callbacks.train_begin(options.iterations, kProgressBatches);
  for (std::int32_t it = 1; it <= options.iterations; ++it) {
    const auto ti = clock::now();
    if (options.shuffle == ShuffleMode::epoch) shuffle();
    // glove.c's split: thread t starts at (n / T) t and takes n / T records, the last also n % T.
    std::vector<Slice> slices(static_cast<std::size_t>(T));
    const std::int64_t share = n / T;
    const std::int64_t first_len = T == 1 ? n : share;
    std::function<void(std::int64_t, double)> report;
    if (!callbacks.empty())
      report = [&, it](std::int64_t done, double cost) {
        const double fraction = static_cast<double>(done) / static_cast<double>(first_len);
        callbacks.batch_end({it, options.iterations,
                             std::clamp<std::int64_t>(std::llround(fraction * static_cast<double>(kProgressBatches)), 0, kProgressBatches),
                             kProgressBatches, cost / static_cast<double>(done),
                             std::chrono::duration<double>(clock::now() - t0).count()});
      };
    auto work = [&](int t) {
      const std::int64_t begin = share * t;
      const std::int64_t len = t == T - 1 ? n - begin : share;
      const auto* prog = t == 0 && report ? &report : nullptr;
      if (options.step.convention == GloveConvention::reference)
        run_slice<GloveConvention::reference>(model, recs.data() + begin, len, options.step, slices[static_cast<std::size_t>(t)], prog);
      else
        run_slice<GloveConvention::standard>(model, recs.data() + begin, len, options.step, slices[static_cast<std::size_t>(t)], prog);
    };
    if (T == 1) {
      work(0);
    } else {
      // Hogwild: the threads read and write the shared rows without locks, as glove.c's pthreads do.
      std::vector<std::thread> pool;
      pool.reserve(static_cast<std::size_t>(T));
      for (int t = 0; t < T; ++t) pool.emplace_back(work, t);
      for (auto& th : pool) th.join();
    }
    GloveIteration rec;
    rec.iteration = it;
    for (const auto& s : slices) {
      rec.cost += s.cost;
      rec.skipped += s.skipped;
    }
    rec.cost /= static_cast<double>(n);
    rec.seconds = std::chrono::duration<double>(clock::now() - ti).count();
    result.history.push_back(rec);
    run::EpochReport r;
    r.epoch = it;
    r.epochs = options.iterations;
    r.train.loss = rec.cost;
    r.train.samples = n;
    r.epoch_seconds = rec.seconds;
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    r.skipped_steps = rec.skipped;
    if (callbacks.epoch_end(r)) break;
  }
  result.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  callbacks.train_end();
  return result;
}

}  // namespace adakit::embed
