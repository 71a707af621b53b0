// Word-word co-occurrence counts X_ij for GloVe (Pennington et al. 2014, section 3), counted as the
// reference tool `cooccur` counts them (stanfordnlp/GloVe src/cooccur.c), memory-bounded.
//
// Counting: for each in-vocabulary token w (out-of-vocabulary tokens are skipped and do not count
// towards distances) and each of the up to `window` in-vocabulary tokens c before it on the same
// line, at distance k: X[c][w] += 1/k (1 without distance weighting); with a symmetric window also
// X[w][c] += 1/k. So with a left-only window word1 is the left word, word2 the right one.
//
// Memory: pairs of frequent words (rank(i) * rank(j) <= max_product) accumulate in a dense table,
// the others in an overflow buffer of `overflow_length` records. A full buffer is sorted, its
// duplicates summed, and written to a temporary run file; at the end the dense table, the last
// buffer and the runs are merged (k-way, a heap) into one file sorted by (word1, word2) with
// duplicates summed. `--memory GB` sets both sizes with the reference's formula: with
// r = 0.85 GB 2^30 / 16, max_product = n where n (ln n + 0.1544313298) = r, overflow_length = r / 6.
//
// File format (the reference's CREC): 16-byte records, int32 word1, int32 word2, float64 value,
// little-endian, ids 1-based vocabulary ranks. No header.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "adakit/embed/vocab.hpp"

namespace adakit::embed {

struct CooccurRecord {
  std::int32_t word1;
  std::int32_t word2;
  double value;
  bool operator==(const CooccurRecord&) const = default;
};
static_assert(sizeof(CooccurRecord) == 16, "the reference's CREC layout: int32, int32, float64");

struct CooccurOptions {
  std::int32_t window = 15;         // context words on each side (or on the left only)
  bool symmetric = true;            // false: left context only (cooccur -symmetric 0)
  bool distance_weighting = true;   // 1/k for a pair k words apart; false: 1
  double memory_gb = 4.0;           // soft limit that sets max_product and overflow_length
  std::int64_t max_product = 0;     // > 0 overrides the value derived from memory_gb
  std::int64_t overflow_length = 0; // > 0 overrides the value derived from memory_gb (records)
  std::filesystem::path temp_dir;   // run files; empty = the output's directory (or the system's)
  Tokenizer tokenizer = Tokenizer::whitespace;
  void validate() const;            // UsageError naming the field
};

// The sizes memory_gb gives (the overrides applied).
struct CooccurSizes {
  std::int64_t max_product;
  std::int64_t overflow_length;
};
CooccurSizes cooccur_sizes(const CooccurOptions& options);

struct CooccurStats {
  std::int64_t tokens = 0;        // tokens read, in the vocabulary or not
  std::int64_t records = 0;       // nonzero entries written
  std::int64_t runs = 0;          // sorted runs spilled to disk
  std::int64_t dense_entries = 0; // size of the dense table
  CooccurSizes sizes{0, 0};
};

// Counts a corpus file and writes the sorted records to `out` (atomically).
CooccurStats count_cooccurrences(const std::filesystem::path& corpus, const Vocabulary& vocab,
                                 const std::filesystem::path& out, const CooccurOptions& options);
// The same over text in memory; returns the sorted records (runs still spill to temp_dir when the
// buffer fills).
std::vector<CooccurRecord> count_cooccurrences_text(std::string_view text, const Vocabulary& vocab,
                                                    const CooccurOptions& options, CooccurStats* stats = nullptr);

// Reads a co-occurrence file. With vocab_size > 0, ids must lie in 1..vocab_size. Error naming the
// file, the record and its byte offset: a size that is not a whole number of records (truncated),
// an id out of range, a value that is not finite and positive (GloVe takes its logarithm).
std::vector<CooccurRecord> read_cooccurrences(const std::filesystem::path& path, std::int64_t vocab_size = 0);
void write_cooccurrences(const std::filesystem::path& path, std::span<const CooccurRecord> records);

// Uniform random permutation (Fisher-Yates with adakit's seeded Rng).
void shuffle_records(std::span<CooccurRecord> records, std::uint64_t seed);
// Reads `in`, shuffles in memory, writes `out` atomically (the reference `shuffle` shuffles chunks that
// fit in its memory limit; this permutes the whole file). Returns the number of records.
std::int64_t shuffle_cooccurrence_file(const std::filesystem::path& in, const std::filesystem::path& out,
                                       std::uint64_t seed);

}  // namespace adakit::embed
