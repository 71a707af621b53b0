#include "adakit/embed/cooccur.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "files.hpp"

namespace adakit::embed {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little,
              "co-occurrence and vector files are little-endian; adakit writes its memory as it lies");

void CooccurOptions::validate() const {
  if (window < 1 || window > 100000) throw UsageError("window must be in 1..100000", {"", 0, "window"});
  if (!(memory_gb > 0) || !std::isfinite(memory_gb)) throw UsageError("memory must be a positive number of GB", {"", 0, "memory"});
  if (max_product < 0) throw UsageError("max_product must be >= 0 (0 = from memory)", {"", 0, "max_product"});
  if (overflow_length < 0) throw UsageError("overflow_length must be >= 0 (0 = from memory)", {"", 0, "overflow_length"});
  const auto s = cooccur_sizes(*this);
  if (s.overflow_length <= 2 * static_cast<std::int64_t>(window))
    throw UsageError("overflow_length (" + std::to_string(s.overflow_length) + ") must exceed 2 x window (" +
                         std::to_string(2 * static_cast<std::int64_t>(window)) + "): one token adds up to that many records",
                     {"", 0, overflow_length > 0 ? "overflow_length" : "memory"});
}

CooccurSizes cooccur_sizes(const CooccurOptions& o) {
  // cooccur.c: rlimit = 0.85 GB 2^30 / sizeof(CREC); n (ln n + 0.1544313298) = rlimit by fixed point.
  const double rlimit = 0.85 * o.memory_gb * 1073741824.0 / static_cast<double>(sizeof(CooccurRecord));
  double n = 1e5;
  for (int it = 0; it < 1000 && std::fabs(rlimit - n * (std::log(n) + 0.1544313298)) > 1e-3; ++it)
    n = rlimit / (std::log(n) + 0.1544313298);
  CooccurSizes s{static_cast<std::int64_t>(n), static_cast<std::int64_t>(rlimit / 6.0)};
  if (o.max_product > 0) s.max_product = o.max_product;
  if (o.overflow_length > 0) s.overflow_length = o.overflow_length;
  if (s.max_product < 1) s.max_product = 1;
  return s;
}

namespace {

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

bool key_less(const CooccurRecord& a, const CooccurRecord& b) {
  return a.word1 != b.word1 ? a.word1 < b.word1 : a.word2 < b.word2;
}
bool same_key(const CooccurRecord& a, const CooccurRecord& b) { return a.word1 == b.word1 && a.word2 == b.word2; }

// Sorts and sums duplicates in place; returns the new length.
std::size_t sort_combine(CooccurRecord* r, std::size_t n) {
  if (n == 0) return 0;
  std::sort(r, r + n, key_less);
  std::size_t out = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (same_key(r[i], r[out])) r[out].value += r[i].value;
    else r[++out] = r[i];
  }
  return out + 1;
}

// Run files, removed when the counting ends (normally or not).
struct RunFiles {
  std::vector<fs::path> paths;
  ~RunFiles() {
    std::error_code ec;
    for (const auto& p : paths) fs::remove(p, ec);
  }
};

// A sorted source of records for the merge.
struct Source {
  virtual ~Source() = default;
  virtual bool next(CooccurRecord& r) = 0;
};

struct MemorySource final : Source {
  const CooccurRecord* p;
  const CooccurRecord* end;
  MemorySource(const CooccurRecord* b, std::size_t n) : p(b), end(b + n) {}
  bool next(CooccurRecord& r) override {
    if (p == end) return false;
    r = *p++;
    return true;
  }
};

// The dense table row by row, skipping 4 KiB blocks that no pair wrote (reading them would map pages
// for nothing: calloc leaves them untouched).
struct DenseSource final : Source {
  static constexpr int kBlockShift = 9;  // 512 doubles
  const double* table;
  const std::vector<std::uint8_t>& dirty;
  const std::vector<std::int64_t>& offset;  // offset[a] for a = 1..V, offset[V + 1] = size
  std::int64_t vocab, a = 1, b = 0;
  DenseSource(const double* t, const std::vector<std::uint8_t>& d, const std::vector<std::int64_t>& off, std::int64_t v)
      : table(t), dirty(d), offset(off), vocab(v) {}
  bool next(CooccurRecord& r) override {
    while (a <= vocab) {
      const std::int64_t base = offset[static_cast<std::size_t>(a)];
      const std::int64_t len = offset[static_cast<std::size_t>(a + 1)] - base;
      while (b < len) {
        const std::int64_t idx = base + b;
        if (!dirty[static_cast<std::size_t>(idx >> kBlockShift)]) {
          b = (((idx >> kBlockShift) + 1) << kBlockShift) - base;
          continue;
        }
        const double v = table[idx];
        ++b;
        if (v != 0.0) {
          r = {static_cast<std::int32_t>(a), static_cast<std::int32_t>(b), v};
          return true;
        }
      }
      ++a;
      b = 0;
    }
    return false;
  }
};

struct FileSource final : Source {
  detail::BinaryReader in;
  std::vector<CooccurRecord> buf;
  std::size_t pos = 0, len = 0;
  explicit FileSource(const fs::path& p) : in(p), buf(2048) {}  // 32 KiB a run
  bool next(CooccurRecord& r) override {
    if (pos == len) {
      const std::size_t got = in.read(buf.data(), buf.size() * sizeof(CooccurRecord));
      len = got / sizeof(CooccurRecord);
      pos = 0;
      if (len == 0) return false;
    }
    r = buf[pos++];
    return true;
  }
};

using Sink = std::function<void(const CooccurRecord&)>;

// k-way merge of sorted sources, duplicates summed (ties between sources taken in source order).
std::int64_t merge(std::vector<std::unique_ptr<Source>>& sources, const Sink& sink) {
  struct Head {
    CooccurRecord r;
    std::size_t source;
  };
  auto greater = [](const Head& x, const Head& y) {
    if (!same_key(x.r, y.r)) return key_less(y.r, x.r);
    return x.source > y.source;
  };
  std::priority_queue<Head, std::vector<Head>, decltype(greater)> heap(greater);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    CooccurRecord r;
    if (sources[i]->next(r)) heap.push({r, i});
  }
  std::int64_t written = 0;
  bool have = false;
  CooccurRecord cur{};
  while (!heap.empty()) {
    const Head h = heap.top();
    heap.pop();
    if (have && same_key(cur, h.r)) {
      cur.value += h.r.value;
    } else {
      if (have) {
        sink(cur);
        ++written;
      }
      cur = h.r;
      have = true;
    }
    CooccurRecord r;
    if (sources[h.source]->next(r)) heap.push({r, h.source});
  }
  if (have) {
    sink(cur);
    ++written;
  }
  return written;
}

std::atomic<std::uint64_t> g_counter_id{0};

class Counter {
 public:
  Counter(const Vocabulary& vocab, const CooccurOptions& o, fs::path temp_dir)
      : vocab_(vocab), o_(o), sizes_(cooccur_sizes(o)), V_(vocab.size()), temp_dir_(std::move(temp_dir)),
        history_(static_cast<std::size_t>(o.window)), id_(g_counter_id.fetch_add(1)) {
    // Row a (1-based) of the dense table holds the pairs (a, b) with a b <= max_product: b <= min(mp / a, V).
    offset_.assign(static_cast<std::size_t>(V_ + 2), 0);
    for (std::int64_t a = 1; a <= V_; ++a)
      offset_[static_cast<std::size_t>(a + 1)] = offset_[static_cast<std::size_t>(a)] + std::min(sizes_.max_product / a, V_);
    dense_n_ = offset_[static_cast<std::size_t>(V_ + 1)];
    dirty_.assign(static_cast<std::size_t>((dense_n_ >> DenseSource::kBlockShift) + 1), 0);
    // calloc: pages stay unmapped (and zero) until a pair touches them.
    dense_.reset(static_cast<double*>(std::calloc(static_cast<std::size_t>(std::max<std::int64_t>(dense_n_, 1)), sizeof(double))));
    buf_.reset(static_cast<CooccurRecord*>(std::malloc(static_cast<std::size_t>(sizes_.overflow_length) * sizeof(CooccurRecord))));
    if (!dense_ || !buf_)
      throw Error("cannot allocate the co-occurrence tables (" + std::to_string(dense_n_) + " dense entries, " +
                  std::to_string(sizes_.overflow_length) + " overflow records); lower --memory");
  }

  void token(std::string_view t) {
    ++tokens_;
    const std::int32_t w = vocab_.id(t);
    if (w == 0) return;  // out of the vocabulary: skipped, not counted in distances
    if (used_ + 2 * static_cast<std::int64_t>(o_.window) > sizes_.overflow_length) spill();
    const std::int64_t W = o_.window;
    for (std::int64_t k = j_ - 1; k >= std::max<std::int64_t>(j_ - W, 0); --k) {
      const std::int32_t c = history_[static_cast<std::size_t>(k % W)];
      const double v = o_.distance_weighting ? 1.0 / static_cast<double>(j_ - k) : 1.0;
      add(c, w, v);
      if (o_.symmetric) add(w, c, v);
    }
    history_[static_cast<std::size_t>(j_ % W)] = w;
    ++j_;
  }
  void line_end() { j_ = 0; }

  CooccurStats finish(const Sink& sink) {
    const std::size_t last = sort_combine(buf_.get(), static_cast<std::size_t>(used_));
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::make_unique<DenseSource>(dense_.get(), dirty_, offset_, V_));
    for (const auto& p : runs_.paths) sources.push_back(std::make_unique<FileSource>(p));
    sources.push_back(std::make_unique<MemorySource>(buf_.get(), last));
    CooccurStats s;
    s.records = merge(sources, sink);
    s.tokens = tokens_;
    s.runs = static_cast<std::int64_t>(runs_.paths.size());
    s.dense_entries = dense_n_;
    s.sizes = sizes_;
    return s;
  }

 private:
  void add(std::int32_t a, std::int32_t b, double v) {
    if (static_cast<std::int64_t>(a) * b <= sizes_.max_product) {
      const std::int64_t idx = offset_[static_cast<std::size_t>(a)] + b - 1;
      dense_.get()[idx] += v;
      dirty_[static_cast<std::size_t>(idx >> DenseSource::kBlockShift)] = 1;
    } else {
      buf_.get()[used_++] = {a, b, v};
    }
  }

  void spill() {
    const std::size_t n = sort_combine(buf_.get(), static_cast<std::size_t>(used_));
    const fs::path p = temp_dir_ / ("adakit_cooccur_" + std::to_string(::getpid()) + "_" + std::to_string(id_) + "_" +
                                    std::to_string(runs_.paths.size()) + ".bin");
    runs_.paths.push_back(p);
    {
      detail::AtomicWriter out(p, /*durable=*/false);
      out.write(buf_.get(), n * sizeof(CooccurRecord));
      out.commit();
    }
    used_ = 0;
  }

  const Vocabulary& vocab_;
  CooccurOptions o_;
  CooccurSizes sizes_;
  std::int64_t V_;
  fs::path temp_dir_;
  std::vector<std::int32_t> history_;
  std::uint64_t id_;
  std::vector<std::int64_t> offset_;
  std::int64_t dense_n_ = 0;
  std::vector<std::uint8_t> dirty_;  // one flag per 512-double block of the dense table
  std::unique_ptr<double, FreeDeleter> dense_;
  std::unique_ptr<CooccurRecord, FreeDeleter> buf_;
  std::int64_t used_ = 0, j_ = 0, tokens_ = 0;
  RunFiles runs_;
};

fs::path pick_temp_dir(const CooccurOptions& o, const fs::path& out) {
  if (!o.temp_dir.empty()) return o.temp_dir;
  if (!out.empty()) return out.has_parent_path() ? out.parent_path() : fs::path(".");
  return fs::temp_directory_path();
}

void check_vocab(const Vocabulary& vocab) {
  if (vocab.size() == 0) throw UsageError("the vocabulary is empty", {"", 0, "vocab"});
}

}  // namespace

CooccurStats count_cooccurrences(const fs::path& corpus, const Vocabulary& vocab, const fs::path& out,
                                 const CooccurOptions& options) {
  options.validate();
  check_vocab(vocab);
  Counter counter(vocab, options, pick_temp_dir(options, out));
  for_each_token(
      corpus, options.tokenizer, [&](std::string_view t, std::int64_t) { counter.token(t); },
      [&] { counter.line_end(); });
  detail::AtomicWriter writer(out);
  const auto stats = counter.finish([&](const CooccurRecord& r) { writer.write(&r, sizeof r); });
  writer.commit();
  return stats;
}

std::vector<CooccurRecord> count_cooccurrences_text(std::string_view text, const Vocabulary& vocab,
                                                    const CooccurOptions& options, CooccurStats* stats) {
  options.validate();
  check_vocab(vocab);
  Counter counter(vocab, options, pick_temp_dir(options, {}));
  for_each_token_in_text(
      text, options.tokenizer, [&](std::string_view t, std::int64_t) { counter.token(t); },
      [&] { counter.line_end(); });
  std::vector<CooccurRecord> records;
  const auto s = counter.finish([&](const CooccurRecord& r) { records.push_back(r); });
  if (stats) *stats = s;
  return records;
}

std::vector<CooccurRecord> read_cooccurrences(const fs::path& path, std::int64_t vocab_size) {
  detail::BinaryReader in(path);
  const std::uint64_t size = in.size();
  constexpr std::uint64_t R = sizeof(CooccurRecord);
  if (size % R != 0) {
    const std::uint64_t last = size - size % R;
    throw Error("truncated: " + std::to_string(size) + " bytes is not a whole number of 16-byte records (int32 word1, "
                "int32 word2, float64 value); the last record, at byte offset " + std::to_string(last) + ", has only " +
                std::to_string(size % R) + " bytes",
                {path.string(), 0, ""});
  }
  std::vector<CooccurRecord> records(static_cast<std::size_t>(size / R));
  const std::size_t got = in.read(records.data(), static_cast<std::size_t>(size));
  if (got != size) throw Error("the file shrank while being read", {path.string(), 0, ""});
  auto where = [&](std::size_t i) {
    return "record " + std::to_string(i + 1) + " (byte offset " + std::to_string(i * R) + "): ";
  };
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    for (int k = 0; k < 2; ++k) {
      const std::int32_t id = k == 0 ? r.word1 : r.word2;
      if (id < 1 || (vocab_size > 0 && id > vocab_size))
        throw Error(where(i) + (k == 0 ? "word1" : "word2") + " = " + std::to_string(id) + " is outside 1.." +
                        (vocab_size > 0 ? std::to_string(vocab_size) + " (the vocabulary's ids)" : std::string("2^31")),
                    {path.string(), 0, k == 0 ? "word1" : "word2"});
    }
    if (!(r.value > 0) || !std::isfinite(r.value)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", r.value);
      throw Error(where(i) + "value " + buf + " is not a finite positive count", {path.string(), 0, "value"});
    }
  }
  return records;
}

void write_cooccurrences(const fs::path& path, std::span<const CooccurRecord> records) {
  detail::AtomicWriter out(path);
  out.write(records.data(), records.size_bytes());
  out.commit();
}

void shuffle_records(std::span<CooccurRecord> records, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = records.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(records[i - 1], records[j]);
  }
}

std::int64_t shuffle_cooccurrence_file(const fs::path& in, const fs::path& out, std::uint64_t seed) {
  auto records = read_cooccurrences(in);
  shuffle_records(records, seed);
  write_cooccurrences(out, records);
  return static_cast<std::int64_t>(records.size());
}

}  // namespace adakit::embed
