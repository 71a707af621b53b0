// Word vectors: GloVe's output files and the queries people run on them.
//
// Text format (glove.c -binary 0, what every GloVe reader loads): one line per vocabulary word,
// "word v1 v2 ... vn", values separated by single spaces, in vocabulary order, then (by default) an
// "<unk>" line: the mean of the last min(100, V) words' rows, as glove.c writes it. Optionally a first
// line "V n" (glove.c -write-header, word2vec's text header). What a line holds (glove.c -model):
//   0 all   w_i, b_i, w̃_i, b̃_i       (2d + 2 values)
//   1 word  w_i                       (d values)
//   2 sum   w_i + w̃_i                 (d values; the default, the paper's choice)
// adakit writes each value as the shortest decimal that reads back to the same float32 (glove.c
// writes %lf: six decimals).
//
// Binary format (glove.c -binary 1, vectors.bin): the parameters as they lie in memory, 2 V (d + 1)
// little-endian float64, word rows then context rows, each [vector, bias], in vocabulary order
// (GloveModel's layout). No header and no words: the vocabulary file gives both V and the words.
//
// Queries use cosine similarity on rows scaled to unit length; an analogy a : b :: c : ? ranks the
// words by cosine with (b − a + c) / |b − a + c| (rows unit length first) leaving out a, b and c, as
// the reference's eval/python/word_analogy.py.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adakit/embed/glove.hpp"
#include "adakit/embed/vocab.hpp"

namespace adakit::embed {

enum class VectorsModel { all = 0, word = 1, sum = 2 };
VectorsModel vectors_model_from_string(std::string_view name);  // "0"/"all", "1"/"word", "2"/"sum"
std::string_view to_string(VectorsModel m);

struct TextVectorsOptions {
  VectorsModel model = VectorsModel::sum;
  bool header = false;      // "V n" first line
  bool unk_vector = true;   // the "<unk>" line
};

// UsageError when the vocabulary's size differs from the model's, or it holds "<unk>" while
// unk_vector is set.
void write_vectors_text(const std::filesystem::path& path, const Vocabulary& vocab, const GloveModel& model,
                        const TextVectorsOptions& options = {});
void write_vectors_binary(const std::filesystem::path& path, const GloveModel& model);
// Reads a binary parameter file for a vocabulary of vocab_size words; d from the file size. Error
// naming the file when its size is not 2 · vocab_size · (d + 1) · 8 bytes for some d >= 1. The
// accumulators are set to 1.
GloveModel read_vectors_binary(const std::filesystem::path& path, std::int64_t vocab_size);

// Words and their vectors, row-major float32, for queries.
class WordVectors {
 public:
  WordVectors() = default;
  // UsageError on a duplicate word or values.size() != words.size() * dim.
  WordVectors(std::vector<std::string> words, std::int64_t dim, std::vector<float> values);

  std::int64_t size() const { return static_cast<std::int64_t>(words_.size()); }
  std::int64_t dim() const { return dim_; }
  const std::vector<std::string>& words() const { return words_; }
  std::span<const float> row(std::int64_t i) const {
    return {values_.data() + i * dim_, static_cast<std::size_t>(dim_)};
  }
  std::int64_t index(std::string_view word) const;  // 0-based, -1 when absent

 private:
  std::vector<std::string> words_;
  std::int64_t dim_ = 0;
  std::vector<float> values_;
  std::unordered_map<std::string, std::int64_t, WordHash, std::equal_to<>> index_;
};

// The rows `model` selects (all / word / sum) for each vocabulary word (no <unk>).
WordVectors word_vectors(const GloveModel& model, const Vocabulary& vocab, VectorsModel which = VectorsModel::sum);

// A text vectors file (with or without the "V n" header). Error naming the file, line and field: a
// value that is not a number, a line whose number of values differs from the first line's (or the
// header's), a header whose count differs from the lines, a duplicate word, no vectors at all.
WordVectors read_vectors_text(const std::filesystem::path& path);
// A binary parameter file with its vocabulary file.
WordVectors read_vectors_binary_words(const std::filesystem::path& path, const std::filesystem::path& vocab_path,
                                      VectorsModel which = VectorsModel::sum);

struct Neighbour {
  std::string word;
  double similarity;  // cosine
};
// The k words most similar to `word` (itself left out). UsageError when the word is unknown.
std::vector<Neighbour> nearest(const WordVectors& vectors, std::string_view word, std::int64_t k);
// The k words most similar to a query vector, leaving out the given rows.
std::vector<Neighbour> nearest_to_vector(const WordVectors& vectors, std::span<const float> query, std::int64_t k,
                                         std::span<const std::int64_t> exclude = {});
// a : b :: c : ?  — the k best answers. UsageError when a word is unknown.
std::vector<Neighbour> analogy(const WordVectors& vectors, std::string_view a, std::string_view b, std::string_view c,
                               std::int64_t k);

}  // namespace adakit::embed
