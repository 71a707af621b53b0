// adakit-bench: optimizer steps against the memory-bandwidth limit, measured side by side.
//
// Every dense step is memory-bound: AdaGrad reads param, grad, sum and writes param, sum (20 bytes a
// float32 element). In the same process we time a reference loop that moves the same 20 bytes/element
// (read three arrays, write two) and print each step's bandwidth as a fraction of the reference's:
//   fraction = (bytes the step must move / its time) / (20 bytes / the reference's time)
// Cases: every registry optimizer (and variants) at 1M, 16M, 64M elements on 1 and 2 threads, a
// 200-tensor model of 16M elements (multi-tensor step), and row-sparse AdaGrad on a 1,000,000 x 64
// table with batches of 4096 indices (uniform, and Zipf s = 1 with duplicates).
//
//   adakit-bench                       the full run (Google Benchmark flags work, e.g. --benchmark_filter)
//   adakit-bench --quick-guard         8M elements, all cores: exits 1 if a step is under 50% of the reference
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adakit/adakit.hpp"

namespace {
using namespace adakit;

struct Case {
  std::string label;
  std::string optimizer;
  optim::OptionMap options;
  double bytes;  // bytes per element the step must move: reads + writes of float32 arrays
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c{
      {"adagrad", "adagrad", {}, 20},
      {"sgd", "sgd", {}, 12},
      {"sgd_momentum", "sgd", {{"momentum", "0.9"}}, 20},
      {"adam", "adam", {}, 28},
      {"adam_amsgrad", "adam", {{"amsgrad", "true"}}, 36},
      {"adamw", "adamw", {}, 28},
      {"rmsprop", "rmsprop", {}, 20},
      {"rmsprop_centered_momentum", "rmsprop", {{"centered", "true"}, {"momentum", "0.9"}}, 36},
      {"adadelta", "adadelta", {}, 28},
  };
  return c;
}

// The reference: read three arrays, write two, with the same threading as the kernels.
void reference_loop(std::span<float> p, std::span<const float> g, std::span<float> s) {
  parallel_for(static_cast<std::int64_t>(p.size()), 1 << 15, [&](std::int64_t b, std::int64_t e) {
    float* __restrict pp = p.data();
    const float* __restrict gg = g.data();
    float* __restrict ss = s.data();
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const float gi = gg[i];
      ss[i] += gi;
      pp[i] -= 1e-3f * gi;
    }
  });
}

struct Dense {
  Parameter p;
  std::unique_ptr<optim::Optimizer> opt;
  Dense(std::int64_t n, const Case& c) : p("w", Tensor({n}, 0.5f)) {
    p.grad().fill(1e-3f);
    opt = optim::make_optimizer(c.optimizer, {&p}, c.options);
    opt->step();  // state allocated outside the timing
  }
};

void bm_reference(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  Tensor p({n}, 0.5f), g({n}, 1e-3f), s({n}, 0.0f);
  for (auto _ : state) {
    reference_loop(p.span(), g.span(), s.span());
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(20.0 * static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
  set_num_threads(0);
}

void bm_step(benchmark::State& state, const Case& c) {
  set_num_threads(static_cast<int>(state.range(1)));
  Dense d(state.range(0), c);
  for (auto _ : state) {
    d.opt->step();
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] =
      benchmark::Counter(c.bytes * static_cast<double>(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
  set_num_threads(0);
}

// 200 tensors, 16M elements in all, sizes spread from small to large (a model's layers).
void bm_model200(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t total = state.range(0);
  std::vector<std::unique_ptr<Parameter>> params;
  std::vector<Parameter*> ptrs;
  Rng rng(1);
  std::vector<double> w(200);
  double sum = 0;
  for (auto& x : w) sum += (x = std::exp(rng.uniform(0, 6)));
  std::int64_t used = 0;
  for (int i = 0; i < 200; ++i) {
    const std::int64_t n = i == 199 ? total - used : std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(total) * w[static_cast<std::size_t>(i)] / sum));
    used += n;
    params.push_back(std::make_unique<Parameter>("p" + std::to_string(i), Tensor({n}, 0.5f)));
    params.back()->grad().fill(1e-3f);
    ptrs.push_back(params.back().get());
  }
  optim::Adagrad opt(ptrs, optim::AdagradOptions{});
  opt.step();
  for (auto _ : state) {
    opt.step();
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_s"] = benchmark::Counter(20.0 * static_cast<double>(total), benchmark::Counter::kIsIterationInvariantRate);
  set_num_threads(0);
}

// Row-sparse AdaGrad: 1,000,000 x 64 table, 4096 indices a batch; range(2): 0 uniform, 1 Zipf s=1.
void bm_sparse(benchmark::State& state) {
  set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t rows = state.range(0), dim = 64, batch = 4096;
  Tensor table({rows, dim}, 0.5f), sum({rows, dim}, 0.0f);
  Rng rng(7);
  std::vector<double> cdf;
  if (state.range(2) == 1) {
    cdf.resize(static_cast<std::size_t>(rows));
    double acc = 0;
    for (std::int64_t r = 0; r < rows; ++r) cdf[static_cast<std::size_t>(r)] = (acc += 1.0 / static_cast<double>(r + 1));
    for (auto& v : cdf) v /= acc;
  }
  constexpr int kBatches = 16;
  std::vector<std::vector<std::int64_t>> idx(kBatches);
  std::int64_t unique_total = 0;
  for (auto& b : idx) {
    for (std::int64_t i = 0; i < batch; ++i) {
      if (cdf.empty()) b.push_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(rows))));
      else b.push_back(static_cast<std::int64_t>(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform()) - cdf.begin()));
    }
    auto u = b;
    std::sort(u.begin(), u.end());
    unique_total += std::unique(u.begin(), u.end()) - u.begin();
  }
  std::vector<float> grads(static_cast<std::size_t>(batch * dim), 1e-3f);
  optim::AdagradOptions o;
  std::int64_t t = 0, k = 0;
  for (auto _ : state) {
    optim::adagrad_step_rows(table.span(), sum.span(), dim, idx[static_cast<std::size_t>(k)], grads, o, ++t);
    k = (k + 1) % kBatches;
    benchmark::ClobberMemory();
  }
  state.counters["unique_rows_per_s"] = benchmark::Counter(static_cast<double>(unique_total) / kBatches,
                                                           benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_s"] = benchmark::Counter(20.0 * dim * static_cast<double>(unique_total) / kBatches,
                                                     benchmark::Counter::kIsIterationInvariantRate);
  set_num_threads(0);
}

// Collects every run, then prints the fraction of the same-size, same-thread reference bandwidth.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      auto it = r.counters.find("bytes_per_s");
      if (it != r.counters.end()) rates_.emplace_back(r.benchmark_name(), it->second.value);
      auto u = r.counters.find("unique_rows_per_s");
      if (u != r.counters.end()) rows_.emplace_back(r.benchmark_name(), u->second.value);
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    // Each step is compared with the reference of the same size and threads measured just before it.
    std::map<std::string, double> ref;  // "size/threads/..." -> bytes/s
    std::printf("\n%-44s %10s %10s\n", "step (elements/threads)", "GB/s", "of ref");
    for (const auto& [name, v] : rates_) {
      const auto slash = name.find('/');
      const std::string key = name.substr(slash + 1);
      if (name.rfind("reference/", 0) == 0) ref[key] = v;
      auto it = ref.find(key);
      if (name.rfind("sparse", 0) == 0) continue;
      std::printf("%-44s %10.2f %9.0f%%\n", name.c_str(), v / 1e9, it == ref.end() ? NAN : 100.0 * v / it->second);
    }
    for (const auto& [name, v] : rows_) std::printf("%-44s %10.3g unique rows/s\n", name.c_str(), v);
  }

 private:
  std::vector<std::pair<std::string, double>> rates_, rows_;
};

double median_seconds(const std::function<void()>& fn, int reps) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// make test's guard: loose on purpose (shared machines are noisy).
int quick_guard() {
  const std::int64_t n = 8 << 20;
  Tensor p({n}, 0.5f), g({n}, 1e-3f), s({n}, 0.0f);
  int failures = 0;
  std::printf("adakit-bench --quick-guard: %lld elements, %d threads; a step fails below 50%% of the reference loop\n",
              static_cast<long long>(n), num_threads());
  for (const auto& c : cases()) {
    Dense d(n, c);
    // Reference and step back to back, medians of 7; up to 4 tries, keeping the best fraction, since
    // another process on a shared machine can slow either side of one try.
    double frac = 0.0;
    for (int attempt = 0; attempt < 4 && frac < 0.5; ++attempt) {
      const double ref = median_seconds([&] { reference_loop(p.span(), g.span(), s.span()); }, 7);
      const double step = median_seconds([&] { d.opt->step(); }, 7);
      frac = std::max(frac, (c.bytes / step) / (20.0 / ref));
    }
    std::printf("  %-28s %6.0f%% of the reference bandwidth%s\n", c.label.c_str(), 100.0 * frac, frac < 0.5 ? "  FAIL" : "");
    failures += frac < 0.5 ? 1 : 0;
  }
  std::printf("%d passed, %d failed\n", static_cast<int>(cases().size()) - failures, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--quick-guard") == 0) return quick_guard();
  std::printf("adakit-bench: ISA %s; OMP max threads %d\n",
#if defined(__AVX512F__)
              "AVX-512",
#elif defined(__AVX2__)
              "AVX2",
#else
              "baseline",
#endif
              num_threads());
  for (std::int64_t n : {1 << 20, 16 << 20, 64 << 20}) {
    for (std::int64_t th : {1, 2}) {
      benchmark::RegisterBenchmark("reference", bm_reference)->Args({n, th})->UseRealTime()->MinTime(0.3);
      for (const auto& c : cases())
        benchmark::RegisterBenchmark(c.label.c_str(), [&c](benchmark::State& st) { bm_step(st, c); })
            ->Args({n, th})->UseRealTime()->MinTime(0.3);
    }
  }
  for (std::int64_t th : {1, 2}) {
    benchmark::RegisterBenchmark("reference", bm_reference)->Args({16 << 20, th})->UseRealTime()->MinTime(0.3);
    benchmark::RegisterBenchmark("model200_adagrad", bm_model200)->Args({16 << 20, th})->UseRealTime()->MinTime(0.3);
    benchmark::RegisterBenchmark("sparse_uniform", bm_sparse)->Args({1000000, th, 0})->UseRealTime()->MinTime(0.3);
    benchmark::RegisterBenchmark("sparse_zipf", bm_sparse)->Args({1000000, th, 1})->UseRealTime()->MinTime(0.3);
  }
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
