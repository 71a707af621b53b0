// adakit-step-timer: times optimizer steps and prints the per-step times as JSON, for
// bench/compare_pytorch.py (which times the same steps with PyTorch in between, alternating).
//
//   adakit-step-timer --optimizer adam [--options amsgrad=true,lr=0.01] --elements 16777216 --threads 2 --repeats 5
//   adakit-step-timer --optimizer adagrad --tensor-sizes sizes.txt --threads 1 --repeats 5
//   adakit-step-timer --optimizer adagrad --sparse zipf [--indices FILE] --threads 1 --repeats 20
//
// Dense: one parameter of N float32 elements (--elements) or one per size listed in FILE (whitespace-
// separated, --tensor-sizes), value 0.5, gradient 1e-3 held fixed; the optimizer comes from
// adakit::optim::make_optimizer and each step is Optimizer::step(). Two untimed warm-up steps (they
// also create the state) come first, then R timed steps, each timed alone with steady_clock.
// --threads takes a list (1,2): the same parameters and optimizer are then timed at each count in turn
// (adakit::set_num_threads, 2 warm-up steps again, R timed steps); "per_threads" holds one entry per
// count, and the top-level "threads", "times", "median" repeat the first.
// --reference (dense only): afterwards, at each thread count, alternates R times adakit-bench's reference
// loop (read three arrays, write two) and a step, on the step's own memory (several tensors: three
// contiguous arrays of the same total size), and prints the step's bandwidth as a fraction of the
// reference's: (bytes the step moves / step time) / (20 bytes / reference time), medians of the pairs.
//
// Sparse: AdaGrad on a --rows x --dim table (default 1,000,000 x 64) with adagrad_step_rows; each step
// takes the next of the index batches (--batch indices each, gradient rows 1e-3), cycling. The batches
// are read from --indices FILE (raw little-endian int64, a whole number of batches: compare_pytorch.py
// writes the same batches it gives PyTorch) or, without it, drawn here (uniform, or Zipf s = 1 by
// inverse CDF) from --seed. "unique_rows" lists the distinct rows of each timed step's batch.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "adakit/adakit.hpp"

namespace {
using namespace adakit;
using Clock = std::chrono::steady_clock;

constexpr int kWarmup = 2;

struct Args {
  std::string optimizer = "adagrad";
  std::string options;
  std::int64_t elements = 0;
  std::string tensor_sizes;
  std::string sparse;  // "", "uniform" or "zipf"
  std::string indices_file;
  std::int64_t rows = 1000000, dim = 64, batch = 4096, batches = 16;
  std::uint64_t seed = 7;
  std::vector<int> threads{0};  // 0: the default (OpenMP's maximum)
  int repeats = 5;
  bool reference = false;
};

constexpr const char* kTool = "adakit-step-timer";
constexpr const char* kUsage =
    "adakit-step-timer --optimizer NAME [--options k=v,...] (--elements N | --tensor-sizes FILE |\n"
    "       --sparse uniform|zipf [--indices FILE] [--rows R] [--dim D] [--batch B] [--batches K] [--seed S])\n"
    "       [--threads T[,T2...]] [--repeats R] [--reference]\n";

[[noreturn]] void usage(const std::string& why) { bench::usage_exit(kTool, kUsage, why); }

std::int64_t to_int(const std::string& flag, const std::string& text) {
  return bench::parse_int(kTool, kUsage, flag, text);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("help");
    if (flag == "--reference") {
      a.reference = true;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--optimizer") a.optimizer = v;
    else if (flag == "--options") a.options = v;
    else if (flag == "--elements") a.elements = to_int(flag, v);
    else if (flag == "--tensor-sizes") a.tensor_sizes = v;
    else if (flag == "--sparse") a.sparse = v;
    else if (flag == "--indices") a.indices_file = v;
    else if (flag == "--rows") a.rows = to_int(flag, v);
    else if (flag == "--dim") a.dim = to_int(flag, v);
    else if (flag == "--batch") a.batch = to_int(flag, v);
    else if (flag == "--batches") a.batches = to_int(flag, v);
    else if (flag == "--seed") a.seed = static_cast<std::uint64_t>(to_int(flag, v));
    else if (flag == "--threads") {
      a.threads.clear();
      std::stringstream list(v);
      for (std::string item; std::getline(list, item, ',');) {
        a.threads.push_back(static_cast<int>(to_int(flag, item)));
        if (a.threads.back() < 1) usage("--threads takes positive counts");
      }
      if (a.threads.empty()) usage("--threads needs a count");
    }
    else if (flag == "--repeats") a.repeats = static_cast<int>(to_int(flag, v));
    else usage("unknown flag " + flag);
  }
  const int modes = (a.elements > 0) + !a.tensor_sizes.empty() + !a.sparse.empty();
  if (modes != 1) usage("give exactly one of --elements, --tensor-sizes, --sparse");
  if (!a.sparse.empty() && a.sparse != "uniform" && a.sparse != "zipf") usage("--sparse is uniform or zipf");
  if (a.repeats < 1) usage("--repeats must be at least 1");
  if (a.reference && !a.sparse.empty()) usage("--reference applies to dense steps only");
  if (a.rows < 1 || a.dim < 1 || a.batch < 1 || a.batches < 1) usage("--rows, --dim, --batch, --batches must be positive");
  return a;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class F>
std::vector<double> time_steps(int repeats, F&& step) {
  for (int i = 0; i < kWarmup; ++i) step();
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(repeats));
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    step();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return t;
}

void print_list(const char* indent, const char* key, const std::vector<double>& v) {
  std::printf("%s\"%s\": [", indent, key);
  for (std::size_t i = 0; i < v.size(); ++i) std::printf("%s%.9g", i ? ", " : "", v[i]);
  std::printf("],\n");
}

const char* isa() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__)
  return "AVX2";
#else
  return "baseline";
#endif
}

std::vector<std::int64_t> read_sizes(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage("cannot read " + path);
  std::vector<std::int64_t> sizes;
  long long n = 0;
  while (in >> n) {
    if (n < 1) usage("tensor sizes must be positive");
    sizes.push_back(n);
  }
  if (!in.eof() || sizes.empty()) usage(path + ": expected whitespace-separated positive integers");
  return sizes;
}

std::vector<std::vector<std::int64_t>> make_batches(const Args& a) {
  std::vector<std::vector<std::int64_t>> out;
  if (!a.indices_file.empty()) {
    std::ifstream in(a.indices_file, std::ios::binary | std::ios::ate);
    if (!in) usage("cannot read " + a.indices_file);
    const auto bytes = static_cast<std::int64_t>(in.tellg());
    const std::int64_t per = a.batch * static_cast<std::int64_t>(sizeof(std::int64_t));
    if (bytes <= 0 || bytes % per != 0) usage(a.indices_file + ": not a whole number of batches of --batch int64 indices");
    in.seekg(0);
    for (std::int64_t b = 0; b < bytes / per; ++b) {
      std::vector<std::int64_t> idx(static_cast<std::size_t>(a.batch));
      in.read(reinterpret_cast<char*>(idx.data()), per);
      for (auto i : idx)
        if (i < 0 || i >= a.rows) usage(a.indices_file + ": index out of range");
      out.push_back(std::move(idx));
    }
    return out;
  }
  Rng rng(a.seed);
  std::vector<double> cdf;
  if (a.sparse == "zipf") {
    cdf.resize(static_cast<std::size_t>(a.rows));
    double acc = 0;
    for (std::int64_t r = 0; r < a.rows; ++r) cdf[static_cast<std::size_t>(r)] = (acc += 1.0 / static_cast<double>(r + 1));
    for (auto& c : cdf) c /= acc;
  }
  for (std::int64_t b = 0; b < a.batches; ++b) {
    std::vector<std::int64_t> idx;
    for (std::int64_t i = 0; i < a.batch; ++i) {
      if (cdf.empty()) idx.push_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(a.rows))));
      else idx.push_back(std::min<std::int64_t>(a.rows - 1, std::lower_bound(cdf.begin(), cdf.end(), rng.uniform()) - cdf.begin()));
    }
    out.push_back(std::move(idx));
  }
  return out;
}

struct Timing {
  int threads;
  std::vector<double> times, unique_rows;
  std::vector<double> ref_times, ref_step_times;  // --reference: alternating pairs
};

// adakit-bench's reference: read three arrays, write two (20 bytes an element), same threading as the
// kernels (parallel_for, grain 2^15), vectorised.
void reference_loop(float* p, const float* g, float* s, std::int64_t n) {
  parallel_for(n, 1 << 15, [&](std::int64_t b, std::int64_t e) {
    float* __restrict pp = p;
    const float* __restrict gg = g;
    float* __restrict ss = s;
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const float gi = gg[i];
      ss[i] += gi;
      pp[i] -= 1e-3f * gi;
    }
  });
}

int run_bench(const Args& a) {
  const auto [name, options] = optim::parse_optimizer_spec(a.options.empty() ? a.optimizer : a.optimizer + ":" + a.options);
  std::vector<Timing> timings;
  std::int64_t elements = 0;
  std::size_t tensors = 0;
  double bytes_per_element = 0;
  const char* mode = "dense";
  // Runs `step` (2 warm-up calls, then R timed ones) at each thread count in turn.
  auto time_all = [&](auto&& step, auto&& on_timed) {
    for (int t : a.threads) {
      set_num_threads(t);
      Timing tm{num_threads(), {}, {}, {}, {}};
      int calls = 0;
      tm.times = time_steps(a.repeats, [&] {
        if (calls++ >= kWarmup) on_timed(tm);
        step();
      });
      timings.push_back(std::move(tm));
    }
  };

  if (!a.sparse.empty()) {
    if (name != "adagrad") usage("--sparse times AdaGrad only (adagrad_step_rows)");
    mode = "sparse";
    const auto opts = optim::Adagrad::options_from(options);
    const auto batches = make_batches(a);
    std::vector<double> unique(batches.size());
    for (std::size_t b = 0; b < batches.size(); ++b) {
      auto u = batches[b];
      std::sort(u.begin(), u.end());
      unique[b] = static_cast<double>(std::unique(u.begin(), u.end()) - u.begin());
    }
    Tensor table({a.rows, a.dim}, 0.5f);
    Tensor sum({a.rows, a.dim}, static_cast<float>(opts.initial_accumulator_value));
    const std::vector<float> grads(static_cast<std::size_t>(a.batch * a.dim), 1e-3f);
    std::int64_t t = 0;
    std::size_t k = 0;
    time_all(
        [&] {
          optim::adagrad_step_rows(table.span(), sum.span(), a.dim, batches[k], grads, opts, ++t);
          k = (k + 1) % batches.size();
        },
        [&](Timing& tm) { tm.unique_rows.push_back(unique[k]); });
    elements = a.rows * a.dim;
    tensors = 1;
  } else {
    const std::vector<std::int64_t> sizes = a.elements > 0 ? std::vector<std::int64_t>{a.elements} : read_sizes(a.tensor_sizes);
    if (a.elements <= 0) mode = "tensors";
    std::vector<std::unique_ptr<Parameter>> params;
    std::vector<Parameter*> ptrs;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      params.push_back(std::make_unique<Parameter>("p" + std::to_string(i), Tensor({sizes[i]}, 0.5f)));
      params.back()->grad().fill(1e-3f);
      ptrs.push_back(params.back().get());
      elements += sizes[i];
    }
    tensors = sizes.size();
    auto opt = optim::make_optimizer(name, ptrs, options);
    time_all([&] { opt->step(); }, [](Timing&) {});
    if (a.reference) {
      // Bytes a step must move: read param and grad, write param, read and write each state buffer.
      const auto* st = opt->state(*ptrs.front());
      bytes_per_element = 4.0 * (3.0 + 2.0 * static_cast<double>(st ? st->buffers.size() : 0));
      // One tensor: the reference runs over the step's own memory (param, grad, first state buffer, or
      // a scratch array when there is none). Several tensors: over three contiguous arrays of the same
      // total size, the ideal a multi-tensor step is measured against.
      Tensor p_extra, g_extra, s_extra;
      float *rp = nullptr, *rs = nullptr;
      const float* rg = nullptr;
      if (sizes.size() == 1) {
        rp = ptrs[0]->value().data();
        rg = ptrs[0]->grad().data();
        if (st && !st->buffers.empty()) {
          rs = const_cast<float*>(st->buffers.begin()->second.data());  // timing only: values do not matter
        } else {
          s_extra = Tensor({elements}, 0.0f);
          rs = s_extra.data();
        }
      } else {
        p_extra = Tensor({elements}, 0.5f);
        g_extra = Tensor({elements}, 1e-3f);
        s_extra = Tensor({elements}, 0.0f);
        rp = p_extra.data();
        rg = g_extra.data();
        rs = s_extra.data();
      }
      for (auto& tm : timings) {
        set_num_threads(tm.threads);
        auto once = [](auto&& fn) {
          const auto t0 = Clock::now();
          fn();
          return std::chrono::duration<double>(Clock::now() - t0).count();
        };
        once([&] { reference_loop(rp, rg, rs, elements); });
        once([&] { opt->step(); });
        for (int r = 0; r < a.repeats; ++r) {
          tm.ref_times.push_back(once([&] { reference_loop(rp, rg, rs, elements); }));
          tm.ref_step_times.push_back(once([&] { opt->step(); }));
        }
      }
    }
  }

  std::string opt_text;
  for (const auto& [k, v] : options) opt_text += (opt_text.empty() ? "" : ",") + k + "=" + v;
  std::printf("{\n  \"side\": \"adakit\",\n  \"mode\": \"%s\",\n  \"optimizer\": \"%s\",\n  \"options\": \"%s\",\n",
              mode, json_escape(name).c_str(), json_escape(opt_text).c_str());
  std::printf("  \"elements\": %lld,\n  \"tensors\": %zu,\n  \"isa\": \"%s\",\n  \"warmup\": %d,\n",
              static_cast<long long>(elements), tensors, isa(), kWarmup);
  // One entry per thread count; the first is repeated at the top level.
  auto print_timing = [&](const Timing& tm, const char* indent) {
    const double med = median(tm.times);
    std::printf("%s\"threads\": %d,\n", indent, tm.threads);
    print_list(indent, "times", tm.times);
    if (!tm.unique_rows.empty()) {
      print_list(indent, "unique_rows", tm.unique_rows);
      double mean_unique = 0;
      for (double u : tm.unique_rows) mean_unique += u / static_cast<double>(tm.unique_rows.size());
      std::printf("%s\"unique_rows_per_s\": %.9g,\n", indent, mean_unique / med);
    }
    std::printf("%s\"median\": %.9g,\n", indent, med);
    if (!tm.ref_times.empty()) {
      // fraction = (bytes the step moves / its time) / (20 bytes / the reference's time), medians of
      // the alternating pairs (reference, step) on the same memory.
      const double rmed = median(tm.ref_times), smed = median(tm.ref_step_times);
      std::printf("%s\"bytes_per_element\": %g,\n", indent, bytes_per_element);
      print_list(indent, "reference_times", tm.ref_times);
      print_list(indent, "paired_step_times", tm.ref_step_times);
      std::printf("%s\"reference_gb_per_s\": %.6g,\n", indent, 20.0 * static_cast<double>(elements) / rmed / 1e9);
      std::printf("%s\"step_gb_per_s\": %.6g,\n", indent, bytes_per_element * static_cast<double>(elements) / smed / 1e9);
      std::printf("%s\"fraction_of_reference\": %.6g,\n", indent, (bytes_per_element / smed) / (20.0 / rmed));
    }
    if (a.sparse.empty()) std::printf("%s\"elements_per_s\": %.9g", indent, static_cast<double>(elements) / med);
    else std::printf("%s\"elements_per_s\": null", indent);
  };
  print_timing(timings.front(), "  ");
  std::printf(",\n  \"per_threads\": [\n");
  for (std::size_t i = 0; i < timings.size(); ++i) {
    std::printf("    {\n");
    print_timing(timings[i], "      ");
    std::printf("\n    }%s\n", i + 1 < timings.size() ? "," : "");
  }
  std::printf("  ]\n}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  return adakit::bench::run_tool("adakit-step-timer", [&] { return run_bench(a); });
}
