// adakit-sparse-linear-bench: trains logistic regression with lazy AdaGrad on a sparse binary dataset
// and prints the epoch times as JSON, for bench/compare_sparse_linear.py (which times PyTorch's
// EmbeddingBag + sparse Adagrad on the same file in between, alternating).
//
//   adakit-sparse-linear-bench --data FILE [--epochs 1] [--batch-size 32] [--lr 0.1] [--threads 1] [--phases] [--reference]
//
// Training is linear::fit() (LinearModel logistic, dim = the file's columns, zero weights and bias;
// make_linear_optimizer("adagrad", {lr})) with shuffle off: the rows are walked in file order (the
// generator writes i.i.d. rows, so file order is already a random order, and PyTorch walks the same
// batches). The model and the optimizer state are allocated and bound before the clock starts; each
// epoch's time is the difference of the on_epoch timestamps. Metrics are fit()'s progressive ones
// (each batch measured before its own step).
//
// --reference: afterwards, 3 passes of the memory floor of any lazy update of W and s stored apart
// (reference_pass below: read and write w[j] and s[j] once per nonzero, nothing else), timed alone,
// and 3 of the same with (w[j], s[j]) side by side in one table, prefetched 64 nonzeros ahead
// (reference_pass_interleaved: the layout linear::LinearModel uses); with --epochs 0, only those.
// compare_sparse_linear.py and hash_size_bench.py set what the hash size costs adakit against what
// it costs these loops.
// --phases: instead of fit(), the same loop written out (BatchFeatures::build, prepare, gradient,
// step, in fit()'s order, same results) with the thread's CPU clock read around each phase; prints
// the CPU seconds of each. For profiling only: the clock reads cost a little (a system call each).
//
// File layout (little-endian, written by compare_sparse_linear.py; sizes checked against the file size):
//   offset 0   char[8]   magic "AKSPRS01"
//          8   int64     rows
//         16   int64     nnz
//         24   int64     cols (the hash size, 2^bits)
//         32   int64     indptr[rows + 1]   (0 .. nnz, non-decreasing)
//              int32     indices[nnz]       (column ids in [0, cols), strictly increasing within a row)
//              float32   values[nnz]
//              int32     labels[rows]       (0 or 1)
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <ctime>
#include <string>
#include <vector>

#include "cli.hpp"
#include "adakit/adakit.hpp"

namespace {
using namespace adakit;
using Clock = std::chrono::steady_clock;

static_assert(std::endian::native == std::endian::little, "the dataset file is little-endian");
constexpr char kMagic[8] = {'A', 'K', 'S', 'P', 'R', 'S', '0', '1'};

struct Args {
  std::string data;
  std::int64_t epochs = 1, batch_size = 32;
  std::string lr = "0.1";
  int threads = 1;
  bool phases = false, reference = false;
};

constexpr const char* kTool = "adakit-sparse-linear-bench";
constexpr const char* kUsage =
    "adakit-sparse-linear-bench --data FILE [--epochs N] [--batch-size B] [--lr LR] [--threads T] [--phases] [--reference]\n";

[[noreturn]] void usage(const std::string& why) { bench::usage_exit(kTool, kUsage, why); }

std::int64_t to_int(const std::string& flag, const std::string& text) {
  return bench::parse_int(kTool, kUsage, flag, text);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("help");
    if (flag == "--phases" || flag == "--reference") {
      (flag == "--phases" ? a.phases : a.reference) = true;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--data") a.data = v;
    else if (flag == "--epochs") a.epochs = to_int(flag, v);
    else if (flag == "--batch-size") a.batch_size = to_int(flag, v);
    else if (flag == "--lr") a.lr = v;
    else if (flag == "--threads") a.threads = static_cast<int>(to_int(flag, v));
    else usage("unknown flag " + flag);
  }
  if (a.data.empty()) usage("--data is required");
  if (a.batch_size < 1 || a.threads < 1) usage("--batch-size and --threads must be positive");
  if (a.epochs < (a.reference ? 0 : 1)) usage("--epochs must be positive (0 only with --reference)");
  return a;
}

// Reads the layout above; adakit::Error naming the file and the field on anything inconsistent.
data::SparseDataset read_dataset(const std::string& path) {
  auto fail = [&](const std::string& field, const std::string& what) -> void {
    throw Error(path + ": " + field + ": " + what, {path, 0, field});
  };
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("file", "cannot open");
  const auto bytes = static_cast<std::int64_t>(in.tellg());
  in.seekg(0);
  char magic[8] = {};
  std::int64_t head[3] = {};
  if (bytes < 32 || !in.read(magic, 8) || !in.read(reinterpret_cast<char*>(head), sizeof head))
    fail("header", "shorter than 32 bytes");
  if (std::memcmp(magic, kMagic, 8) != 0) fail("magic", "is not AKSPRS01 (not a compare_sparse_linear.py dataset)");
  const std::int64_t rows = head[0], nnz = head[1], cols = head[2];
  constexpr std::int64_t kMax = std::int64_t{1} << 40;
  if (rows < 1 || rows > kMax) fail("rows", std::to_string(rows) + " is outside [1, 2^40]");
  if (nnz < 0 || nnz > kMax) fail("nnz", std::to_string(nnz) + " is outside [0, 2^40]");
  if (cols < 1 || cols > (std::int64_t{1} << 31)) fail("cols", std::to_string(cols) + " is outside [1, 2^31]");
  const std::int64_t want = 32 + 8 * (rows + 1) + 4 * nnz + 4 * nnz + 4 * rows;
  if (bytes != want)
    fail("size", std::to_string(bytes) + " bytes, the header (rows " + std::to_string(rows) + ", nnz " +
                     std::to_string(nnz) + ") needs " + std::to_string(want));
  data::SparseDataset d;
  d.name = path;
  d.features.rows = rows;
  d.features.cols = cols;
  d.features.indptr.resize(static_cast<std::size_t>(rows + 1));
  d.features.indices.resize(static_cast<std::size_t>(nnz));
  d.features.values.resize(static_cast<std::size_t>(nnz));
  d.labels.resize(static_cast<std::size_t>(rows));
  auto read = [&](void* dst, std::int64_t n, const char* field) {
    if (!in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n))) fail(field, "short read");
  };
  read(d.features.indptr.data(), 8 * (rows + 1), "indptr");
  read(d.features.indices.data(), 4 * nnz, "indices");
  read(d.features.values.data(), 4 * nnz, "values");
  read(d.labels.data(), 4 * rows, "labels");
  try {
    d.features.validate();
  } catch (const Error& e) {
    fail("csr", e.what());
  }
  if (!d.features.is_canonical()) fail("indices", "a row's column ids are not strictly increasing");
  for (std::size_t r = 0; r < d.labels.size(); ++r)
    if (d.labels[r] != 0 && d.labels[r] != 1)
      fail("labels", "row " + std::to_string(r) + " has label " + std::to_string(d.labels[r]) + ", not 0 or 1");
  d.class_names = {"0", "1"};
  return d;
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU time of the calling thread (--phases: the phases run on it).
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU time of the whole process (all threads): on a busy machine, less sensitive than wall time to
// the other processes sharing the cores.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The memory floor of any lazy update of W and s stored apart: for every nonzero of the epoch, in
// file order, read and write w[j] and s[j] (independent iterations, so the out-of-order core keeps
// as many misses in flight as it can). Returns the seconds of one pass.
double reference_pass(const data::CsrMatrix& x, std::vector<float>& w, std::vector<float>& s) {
  const auto t0 = Clock::now();
  const std::int32_t* idx = x.indices.data();
  const float* val = x.values.data();
  float* __restrict ww = w.data();
  float* __restrict ss = s.data();
  const std::int64_t nnz = x.nnz();
  for (std::int64_t e = 0; e < nnz; ++e) {
    const std::int32_t j = idx[e];
    const float v = val[e];
    ss[j] += v * v;
    ww[j] -= 1e-3f * v;
  }
  return seconds(t0, Clock::now());
}

// The same floor with each feature's (w, s) side by side (one cache line for both) and the pairs of
// the nonzeros 64 ahead prefetched, as linear::fit does a batch ahead.
double reference_pass_interleaved(const data::CsrMatrix& x, std::vector<float>& ws) {
  const auto t0 = Clock::now();
  const std::int32_t* idx = x.indices.data();
  const float* val = x.values.data();
  float* __restrict p = ws.data();
  const std::int64_t nnz = x.nnz();
  constexpr std::int64_t kAhead = 64;
  for (std::int64_t e = 0; e < nnz; ++e) {
    if (e + kAhead < nnz) __builtin_prefetch(p + 2 * std::int64_t{idx[e + kAhead]}, 1);
    const std::int64_t j = idx[e];
    const float v = val[e];
    p[2 * j + 1] += v * v;
    p[2 * j] -= 1e-3f * v;
  }
  return seconds(t0, Clock::now());
}

int run_bench(const Args& a) {
  set_num_threads(a.threads);
  const auto t_load = Clock::now();
  const data::SparseDataset d = read_dataset(a.data);
  const double load_seconds = seconds(t_load, Clock::now());

  linear::LinearModel model(linear::LinearTask::logistic, d.features.cols);
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", a.lr}});
  opt->bind(model);  // allocates and zeroes the state (first touch of its pages) before the clock
  const linear::FitOptions fo{.epochs = a.epochs, .batch_size = a.batch_size, .seed = 0, .shuffle = false};

  std::vector<double> epoch_seconds, epoch_cpu_seconds, epoch_loss, epoch_accuracy;
  double phase[4] = {0, 0, 0, 0};  // build, prepare, gradient, step
  if (a.epochs == 0) {
    // --reference only
  } else if (!a.phases) {
    double last = 0.0, last_cpu = cpu_seconds();
    linear::fit(model, *opt, d, fo, [&](const linear::EpochReport& r) {
      epoch_seconds.push_back(r.seconds - last);
      last = r.seconds;
      const double cpu = cpu_seconds();
      epoch_cpu_seconds.push_back(cpu - last_cpu);
      last_cpu = cpu;
      epoch_loss.push_back(r.train.loss);
      epoch_accuracy.push_back(r.train.accuracy);
      return false;
    });
  } else {
    const std::int64_t n = d.size();
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    linear::BatchFeatures batch;
    linear::SparseGradient grad;
    for (std::int64_t e = 0; e < a.epochs; ++e) {
      const auto t0 = Clock::now();
      const double cpu0 = cpu_seconds();
      double loss = 0.0;
      std::int64_t correct = 0;
      for (std::int64_t b = 0; b < n; b += a.batch_size) {
        const std::span<const std::int64_t> rows(order.data() + b,
                                                 static_cast<std::size_t>(std::min(a.batch_size, n - b)));
        const double c0 = thread_cpu_seconds();
        batch.build(d.features, rows, model.dim());
        const double c1 = thread_cpu_seconds();
        opt->prepare(model, batch.features);
        const double c2 = thread_cpu_seconds();
        const std::span<const std::int64_t> next(order.data() + std::min(n, b + a.batch_size),
                                                 static_cast<std::size_t>(std::clamp(n - b - a.batch_size, std::int64_t{0}, a.batch_size)));
        const auto st = model.gradient(d, rows, batch, grad, next);
        const double c3 = thread_cpu_seconds();
        opt->step(model, grad);
        const double c4 = thread_cpu_seconds();
        phase[0] += c1 - c0;
        phase[1] += c2 - c1;
        phase[2] += c3 - c2;
        phase[3] += c4 - c3;
        loss += st.loss_sum;
        correct += st.correct;
      }
      opt->sync(model);
      epoch_seconds.push_back(seconds(t0, Clock::now()));
      epoch_cpu_seconds.push_back(cpu_seconds() - cpu0);
      epoch_loss.push_back(loss / static_cast<double>(n));
      epoch_accuracy.push_back(static_cast<double>(correct) / static_cast<double>(n));
    }
  }

  std::vector<double> reference_seconds, reference_cpu_seconds, interleaved_seconds, interleaved_cpu_seconds;
  if (a.reference) {
    std::vector<float> w(static_cast<std::size_t>(d.features.cols), 0.0f), sums(w.size(), 0.0f);
    std::vector<float> ws(2 * w.size(), 0.0f);
    for (int r = 0; r < 3; ++r) {
      double cpu0 = cpu_seconds();
      reference_seconds.push_back(reference_pass(d.features, w, sums));
      reference_cpu_seconds.push_back(cpu_seconds() - cpu0);
      cpu0 = cpu_seconds();
      interleaved_seconds.push_back(reference_pass_interleaved(d.features, ws));
      interleaved_cpu_seconds.push_back(cpu_seconds() - cpu0);
    }
  }
  if (epoch_seconds.empty()) {  // --epochs 0: no training, so no loss either
    epoch_seconds = epoch_cpu_seconds = {0.0};
    epoch_loss = epoch_accuracy = {0.0};
  }
  double weights_l1 = 0.0;  // a fingerprint of the trained weights, to compare builds (O(dim), untimed)
  for (std::int64_t j = 0; j < model.dim(); ++j) weights_l1 += std::abs(static_cast<double>(model.weight_row(j)[0]));
  const double med = median(epoch_seconds);
  const int bits = std::has_single_bit(static_cast<std::uint64_t>(d.features.cols))
                       ? std::countr_zero(static_cast<std::uint64_t>(d.features.cols))
                       : -1;
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.9g", i ? ", " : "", v[i]);
      s += buf;
    }
    return s + "]";
  };
  std::printf("{\"side\": \"adakit\", \"rows\": %lld, \"nnz\": %lld, \"dim\": %lld, \"hash_bits\": %d, "
              "\"batch_size\": %lld, \"lr\": %s, \"threads\": %d, \"epochs\": %lld, \"load_seconds\": %.6g, "
              "\"epoch_seconds\": %s, \"seconds_per_epoch\": %.9g, \"epoch_cpu_seconds\": %s, \"cpu_seconds_per_epoch\": %.9g, \"examples_per_s\": %.9g, "
              "\"epoch_loss\": %s, \"epoch_accuracy\": %s, \"loss\": %.9g, \"accuracy\": %.9g, "
              "\"steps\": %lld, \"coordinates_touched\": %lld, \"weights_l1\": %.17g, \"bias\": %.9g, \"phases\": %s",
              static_cast<long long>(d.size()), static_cast<long long>(d.features.nnz()),
              static_cast<long long>(d.features.cols), bits, static_cast<long long>(a.batch_size), a.lr.c_str(),
              num_threads(), static_cast<long long>(a.epochs), load_seconds, list(epoch_seconds).c_str(), med,
              list(epoch_cpu_seconds).c_str(), median(epoch_cpu_seconds),
              med > 0 ? static_cast<double>(d.size()) / med : 0.0, list(epoch_loss).c_str(), list(epoch_accuracy).c_str(),
              epoch_loss.back(), epoch_accuracy.back(), static_cast<long long>(opt->steps()),
              static_cast<long long>(opt->coordinates_touched()), weights_l1, static_cast<double>(model.bias()[0]),
              a.phases ? "true" : "false");
  if (a.reference)
    std::printf(", \"reference_seconds\": %s, \"reference_seconds_median\": %.9g, \"reference_cpu_seconds\": %s, "
                "\"reference_cpu_seconds_median\": %.9g, \"reference_interleaved_seconds_median\": %.9g, "
                "\"reference_interleaved_cpu_seconds_median\": %.9g",
                list(reference_seconds).c_str(), median(reference_seconds), list(reference_cpu_seconds).c_str(),
                median(reference_cpu_seconds), median(interleaved_seconds), median(interleaved_cpu_seconds));
  if (a.phases)
    std::printf(", \"phase_seconds\": {\"build\": %.6g, \"prepare\": %.6g, \"gradient\": %.6g, \"step\": %.6g}",
                phase[0], phase[1], phase[2], phase[3]);
  std::printf("}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  return adakit::bench::run_tool("adakit-sparse-linear-bench", [&] { return run_bench(a); });
}
