// Corpus tokens and the vocabulary of a GloVe pipeline (Pennington, Socher & Manning, "GloVe: Global
// Vectors for Word Representation", EMNLP 2014), readable and writable in the reference tool's format.
//
// Corpus: UTF-8 text, one document per line (a co-occurrence window never crosses a line end).
//   whitespace  words are runs of bytes between ' ', '\t' and '\n'; '\r' is dropped wherever it occurs;
//               words are cut to 999 bytes at a UTF-8 character boundary. This is the reference
//               tools' get_word (stanfordnlp/GloVe src/common.c), so counts equal vocab_count's.
//   words       adakit's text tokenizer (data/text.hpp): lower-cased, runs of 2+ word characters.
//
// vocab.txt: one "word count" line per word, ids 1, 2, ... in line order. Written sorted by count,
// descending; ties in the order of the reference's scmp: bytes compared as SIGNED chars, the end of
// a word counting as 0 (so, for example, "é..." (0xC3 < 0) sorts before "a", and "aé" before "a").
// With --max-vocab the reference truncates after an unstable sort by count alone (which of the tied
// words at the cut survive depends on its hash table); adakit sorts with the tie-break first, so the
// cut is deterministic and the file equals vocab_count's whenever no tie straddles the cut.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace adakit::embed {

enum class Tokenizer { whitespace, words };
std::string_view to_string(Tokenizer t);
Tokenizer tokenizer_from_string(std::string_view name);  // UsageError for another name

// Calls on_token(token, line) for each token and on_line_end() after every line (the last one too),
// reading the file in large blocks. Error naming the file when it cannot be read.
void for_each_token(const std::filesystem::path& corpus, Tokenizer tokenizer,
                    const std::function<void(std::string_view, std::int64_t)>& on_token,
                    const std::function<void()>& on_line_end);
// The same over text in memory.
void for_each_token_in_text(std::string_view text, Tokenizer tokenizer,
                            const std::function<void(std::string_view, std::int64_t)>& on_token,
                            const std::function<void()>& on_line_end);

struct VocabOptions {
  std::int64_t min_count = 1;  // drop words seen fewer times (vocab_count -min-count)
  std::int64_t max_vocab = 0;  // keep at most this many words, 0 = all (vocab_count -max-vocab)
  Tokenizer tokenizer = Tokenizer::whitespace;
  void validate() const;  // UsageError naming the field
};

// Heterogeneous lookup: find(std::string_view) without building a std::string.
struct WordHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class Vocabulary {
 public:
  Vocabulary() = default;
  // UsageError on an empty word, a word with whitespace, a duplicate, a count below 1, or sizes that differ.
  Vocabulary(std::vector<std::string> words, std::vector<std::int64_t> counts);

  std::int64_t size() const { return static_cast<std::int64_t>(words_.size()); }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<std::int64_t>& counts() const { return counts_; }
  const std::string& word(std::int64_t id) const;  // 1-based
  // 1-based id, 0 when the word is not in the vocabulary.
  std::int32_t id(std::string_view word) const;

 private:
  std::vector<std::string> words_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int32_t, WordHash, std::equal_to<>> index_;
};

// The reference's tie-break (vocab_count's scmp): true when a sorts before b.
bool reference_word_less(std::string_view a, std::string_view b);

struct VocabStats {
  std::int64_t tokens = 0;  // tokens read
  std::int64_t unique = 0;  // distinct words before min_count / max_vocab
};

// Counts the words of a corpus file. Error (file, line) on the word "<unk>", which GloVe reserves
// for the vector of unknown words, as vocab_count does.
Vocabulary count_vocabulary(const std::filesystem::path& corpus, const VocabOptions& options, VocabStats* stats = nullptr);
Vocabulary count_vocabulary_text(std::string_view text, const VocabOptions& options, VocabStats* stats = nullptr);

// "word count\n" lines, written atomically.
void write_vocabulary(const std::filesystem::path& path, const Vocabulary& vocab);
// Error naming the file, line and field: a line that is not "word count", a count that is not a
// positive integer, a duplicate word, an empty file.
Vocabulary read_vocabulary(const std::filesystem::path& path);

}  // namespace adakit::embed
