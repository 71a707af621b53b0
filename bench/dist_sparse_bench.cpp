// adakit-dist-sparse-bench: sparse logistic regression with lazy AdaGrad over MPI (dist/sparse.hpp),
// replicated and sharded, on a Zipf dataset hashed into 2^bits columns; prints one JSON line per
// (mode, bits) from rank 0 with the per-rank step figures:
//
//   mpirun -np K adakit-dist-sparse-bench [--rows 50000] [--bits 18,22] [--batch 256] [--steps 150]
//                                         [--repeats 3] [--modes sharded,replicated] [--vocab 2^27]
//
// Data: the law of bench/compare_sparse_linear.py, drawn here in C++ with adakit::Rng (so the values
// differ from the Python files, not the distribution): row lengths Poisson(43) (at least 1), raw ids
// from a bounded Zipf law s = 1 over --vocab ids (inverse CDF: an exact harmonic table for the first
// 2^16 ranks, ln k + γ + 1/2k − 1/12k² beyond), hashed into 2^bits columns with splitmix64's finaliser,
// duplicates merged (value = count); labels from a planted model over the raw ids plus logistic noise.
// Every rank draws the same data (same seed) and takes its share of each global batch.
//
// Figures, per rank and per step (medians over --repeats runs of --steps steps, after one warm-up run):
//   step_ms            wall time of a step (max over ranks of each run's mean, then the median)
//   comm_ms            of which inside MPI calls (mean over ranks): transfer AND waiting for the
//                      slowest rank; step_ms − comm_ms is the rank's own work
//   rows_touched       distinct features of the rank's rows
//   rows_remote        of which owned by another rank (sharded)
//   sent_bytes         Comm::traffic() increase (payload handed to MPI, all calls)
//   minimum_bytes      the analytic minimum for the rows (SparseStepCounters::minimum_bytes)
//   wchar_bytes        /proc/self/io wchar increase: bytes written by system calls. With
//                      `--mca btl self,tcp` every byte to another rank crosses a socket write, so this
//                      is a wire measurement (MPI's headers and the count exchanges included); with
//                      shared memory (vader, the default on one node) it stays near 0.
//   rows_held          rows of W (and s) kept by the rank at the end
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "adakit/adakit.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/dist/sparse.hpp"
#include "adakit/linear/adagrad.hpp"

namespace {
using namespace adakit;

struct Args {
  std::int64_t rows = 50000, batch = 256, steps = 150, repeats = 3, vocab = std::int64_t{1} << 27;
  std::vector<int> bits{18, 22};
  std::vector<dist::SparseMode> modes{dist::SparseMode::sharded, dist::SparseMode::replicated};
};

std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr double kEulerGamma = 0.5772156649015329;
constexpr std::int64_t kHeadRanks = 1 << 16;

double harmonic_approx(double k) { return std::log(k) + kEulerGamma + 0.5 / k - 1.0 / (12.0 * k * k); }

// Bounded Zipf s = 1 over ranks 1..vocab: the smallest k with H_k >= u·H_vocab.
class Zipf {
 public:
  explicit Zipf(std::int64_t vocab) : vocab_(vocab) {
    head_.resize(kHeadRanks);
    double h = 0.0;
    for (std::int64_t k = 1; k <= kHeadRanks; ++k) head_[static_cast<std::size_t>(k - 1)] = h += 1.0 / static_cast<double>(k);
    total_ = vocab <= kHeadRanks ? head_[static_cast<std::size_t>(vocab - 1)] : harmonic_approx(static_cast<double>(vocab));
  }
  std::int64_t draw(double u) const {
    const double t = u * total_;
    if (t <= head_.back())
      return std::min<std::int64_t>(vocab_, std::lower_bound(head_.begin(), head_.end(), t) - head_.begin() + 1);
    double k = std::max(std::floor(std::exp(t - kEulerGamma)), static_cast<double>(kHeadRanks + 1));
    for (int i = 0; i < 3; ++i) {  // the estimate is within one rank; fix it both ways
      if (harmonic_approx(k) < t) k += 1;
      else if (k > kHeadRanks + 1 && harmonic_approx(k - 1) >= t) k -= 1;
    }
    return std::min(vocab_, static_cast<std::int64_t>(k));
  }

 private:
  std::int64_t vocab_;
  std::vector<double> head_;
  double total_;
};

std::int64_t poisson(Rng& rng, double mean) {  // Knuth's product of uniforms (mean 43: fine)
  const double limit = std::exp(-mean);
  std::int64_t k = 0;
  for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
  return k;
}

data::SparseDataset zipf_dataset(const Args& a, int bits, std::uint64_t seed) {
  const Zipf zipf(a.vocab);
  Rng rng(seed);
  data::SparseDataset d;
  d.name = "zipf";
  d.features.cols = std::int64_t{1} << bits;
  d.class_names = {"0", "1"};
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  std::vector<std::int32_t> cols;
  std::vector<float> vals;
  for (std::int64_t r = 0; r < a.rows; ++r) {
    const std::int64_t n = std::max<std::int64_t>(1, poisson(rng, 43.0));
    cols.clear();
    double z = 0.0;
    for (std::int64_t t = 0; t < n; ++t) {
      const auto raw = static_cast<std::uint64_t>(zipf.draw(rng.uniform()));
      const std::uint64_t h = mix64(raw ^ (0x5851F42D4C957F2Dull + seed));
      if (h % 10 < 3) {
        double u4 = 0.0;
        for (int i = 0; i < 4; ++i) u4 += static_cast<double>((h >> (16 * i)) & 0xFFFF) / 65536.0;
        z += (u4 - 2.0) * std::sqrt(3.0);
      }
      cols.push_back(static_cast<std::int32_t>(mix64(raw) & mask));
    }
    z *= 6.0 / std::sqrt(static_cast<double>(n));
    const double u = std::clamp(rng.uniform(), 1e-12, 1.0 - 1e-12);
    d.labels.push_back(z + std::log(u / (1.0 - u)) > 0 ? 1 : 0);
    vals.assign(cols.size(), 1.0f);
    d.features.add_row(cols, vals);  // merges duplicates: value = count
  }
  return d;
}

std::uint64_t wchar() {
  std::ifstream in("/proc/self/io");
  std::string key;
  std::uint64_t v = 0;
  while (in >> key >> v)
    if (key == "wchar:") return v;
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const auto comma = s.find(',', at);
    out.push_back(s.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--rows") a.rows = std::stoll(v);
    else if (flag == "--batch") a.batch = std::stoll(v);
    else if (flag == "--steps") a.steps = std::stoll(v);
    else if (flag == "--repeats") a.repeats = std::stoll(v);
    else if (flag == "--vocab") a.vocab = std::stoll(v);
    else if (flag == "--bits") {
      a.bits.clear();
      for (const auto& b : split(v)) a.bits.push_back(std::stoi(b));
    } else if (flag == "--modes") {
      a.modes.clear();
      for (const auto& m : split(v)) a.modes.push_back(dist::sparse_mode_from_string(m));
    } else throw UsageError("unknown flag " + flag);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  dist::Environment mpi(&argc, &argv);
  dist::Comm comm = dist::Comm::world();
  try {
    const Args a = parse(argc, argv);
    for (const int bits : a.bits) {
      const auto data = zipf_dataset(a, bits, 1);
      std::vector<std::int64_t> order(static_cast<std::size_t>(a.rows));
      Rng shuffle(7);
      for (std::int64_t i = 0; i < a.rows; ++i) order[static_cast<std::size_t>(i)] = i;
      for (std::int64_t i = a.rows - 1; i > 0; --i)
        std::swap(order[static_cast<std::size_t>(i)], order[shuffle.below(static_cast<std::uint64_t>(i + 1))]);
      if (comm.size() == 1) {
        // Baseline without dist/: linear::fit's step (BatchFeatures::build, gradient, LazyAdagrad) on
        // the same batches, timed the same way.
        linear::LinearModel model(linear::LinearTask::logistic, std::int64_t{1} << bits);
        optim::AdagradOptions o;
        o.lr = 0.1;
        linear::LazyAdagrad opt(o);
        opt.bind(model);
        linear::BatchFeatures bf;
        linear::SparseGradient grad;
        std::int64_t next = 0;
        std::vector<double> ms;
        for (std::int64_t run = 0; run <= a.repeats; ++run) {
          const auto start = std::chrono::steady_clock::now();
          for (std::int64_t s = 0; s < a.steps; ++s) {
            if (next + a.batch > a.rows) next = 0;
            const std::span<const std::int64_t> batch(order.data() + next, static_cast<std::size_t>(a.batch));
            next += a.batch;
            bf.build(data.features, batch, model.dim());
            opt.prepare(model, bf.features);
            model.gradient(data, batch, bf, grad);
            opt.step(model, grad);
          }
          if (run > 0)
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
                         static_cast<double>(a.steps));
        }
        std::printf("{\"ranks\": 1, \"mode\": \"linear::fit (no MPI)\", \"bits\": %d, \"batch\": %lld, \"step_ms\": %.4f}\n", bits,
                    static_cast<long long>(a.batch), median(ms));
      }
      for (const auto mode : a.modes) {
        optim::AdagradOptions o;
        o.lr = 0.1;
        dist::SparseLinearTrainer trainer(comm, mode, linear::LinearTask::logistic, std::int64_t{1} << bits, 2, true,
                                          linear::LazyAdagrad(o));
        std::int64_t next = 0;
        // Per run: mean step time (max over ranks), and per-step means of the counters over ranks.
        std::vector<double> ms, comm_ms, touched, remote, sent, minimum, wire;
        for (std::int64_t run = 0; run <= a.repeats; ++run) {  // run 0 warms up
          double c[6] = {0, 0, 0, 0, 0, 0};
          const auto t0 = comm.traffic().total();
          const auto w0 = wchar();
          comm.barrier();
          const auto start = std::chrono::steady_clock::now();
          for (std::int64_t s = 0; s < a.steps; ++s) {
            if (next + a.batch > a.rows) next = 0;
            const std::span<const std::int64_t> batch(order.data() + next, static_cast<std::size_t>(a.batch));
            next += a.batch;
            trainer.step(data, dist::rank_share(batch, comm.rank(), comm.size()), a.batch);
            const auto& k = trainer.last_step();
            c[0] += static_cast<double>(k.rows_touched);
            c[1] += static_cast<double>(k.rows_remote);
            c[2] += static_cast<double>(k.minimum_bytes);
            c[5] += k.comm_seconds;
          }
          const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          c[3] = static_cast<double>(comm.traffic().total() - t0);
          c[4] = static_cast<double>(wchar() - w0);
          comm.allreduce_sum(std::span<double>(c, 6));
          std::vector<std::int64_t> worst_us{static_cast<std::int64_t>(secs * 1e6)};
          comm.allreduce_max(worst_us);
          if (run == 0) continue;
          const double per = 1.0 / (static_cast<double>(a.steps) * comm.size());
          ms.push_back(static_cast<double>(worst_us[0]) / 1e3 / static_cast<double>(a.steps));
          comm_ms.push_back(c[5] * per * 1e3);
          touched.push_back(c[0] * per);
          remote.push_back(c[1] * per);
          minimum.push_back(c[2] * per);
          sent.push_back(c[3] * per);
          wire.push_back(c[4] * per);
        }
        std::vector<std::int64_t> held{trainer.rows_held()};
        comm.allreduce_max(held);
        if (comm.rank() == 0)
          std::printf(
              "{\"ranks\": %d, \"mode\": \"%s\", \"bits\": %d, \"batch\": %lld, \"rows\": %lld, \"nnz_per_row\": %.1f, "
              "\"step_ms\": %.4f, \"comm_ms\": %.4f, \"rows_touched\": %.1f, \"rows_remote\": %.1f, \"sent_bytes\": %.0f, "
              "\"minimum_bytes\": %.0f, \"wchar_bytes\": %.0f, \"rows_held_max\": %lld}\n",
              comm.size(), std::string(dist::to_string(mode)).c_str(), bits, static_cast<long long>(a.batch),
              static_cast<long long>(a.rows), static_cast<double>(data.features.nnz()) / static_cast<double>(a.rows),
              median(ms), median(comm_ms), median(touched), median(remote), median(sent), median(minimum), median(wire),
              static_cast<long long>(held[0]));
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    comm.abort(e.what(), 2);
  }
  return 0;
}
