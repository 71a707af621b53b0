#include "adakit/embed/vocab.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>

#include "adakit/core/error.hpp"
#include "adakit/data/text.hpp"
#include "files.hpp"

namespace adakit::embed {
namespace fs = std::filesystem;

std::string_view to_string(Tokenizer t) { return t == Tokenizer::whitespace ? "whitespace" : "words"; }

Tokenizer tokenizer_from_string(std::string_view name) {
  if (name == "whitespace") return Tokenizer::whitespace;
  if (name == "words") return Tokenizer::words;
  throw UsageError("unknown tokenizer '" + std::string(name) + "' (whitespace, words)", {"", 0, "tokenizer"});
}

namespace {

// glove's MAX_STRING_LENGTH - 1: longer words are cut, at a UTF-8 character boundary.
constexpr std::size_t kMaxWordBytes = 999;

std::string_view cut_word(std::string_view w) {
  if (w.size() <= kMaxWordBytes) return w;
  std::size_t n = kMaxWordBytes;
  while (n > 0 && (static_cast<unsigned char>(w[n]) & 0xC0) == 0x80) --n;  // w[n] continues a character
  return w.substr(0, n);
}

struct LineTokenizer {
  Tokenizer tokenizer;
  const std::function<void(std::string_view, std::int64_t)>& on_token;
  const std::function<void()>& on_line_end;
  std::string scratch;

  void line(std::string_view text, std::int64_t number) {
    if (tokenizer == Tokenizer::words) {
      for (const auto& t : data::tokenize(text, true)) on_token(t, number);
    } else {
      if (text.find('\r') != std::string_view::npos) {
        scratch.clear();
        for (char c : text)
          if (c != '\r') scratch.push_back(c);
        text = scratch;
      }
      std::size_t i = 0;
      const std::size_t n = text.size();
      while (i < n) {
        while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < n && text[i] != ' ' && text[i] != '\t') ++i;
        if (i > start) on_token(cut_word(text.substr(start, i - start)), number);
      }
    }
    on_line_end();
  }
};

}  // namespace

void for_each_token_in_text(std::string_view text, Tokenizer tokenizer,
                            const std::function<void(std::string_view, std::int64_t)>& on_token,
                            const std::function<void()>& on_line_end) {
  LineTokenizer lt{tokenizer, on_token, on_line_end, {}};
  std::int64_t number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    lt.line(text.substr(pos, end - pos), ++number);
    pos = end + 1;
  }
}

void for_each_token(const fs::path& corpus, Tokenizer tokenizer,
                    const std::function<void(std::string_view, std::int64_t)>& on_token,
                    const std::function<void()>& on_line_end) {
  detail::BinaryReader in(corpus);
  LineTokenizer lt{tokenizer, on_token, on_line_end, {}};
  std::vector<char> block(std::size_t{1} << 20);
  std::string partial;  // a line that spans blocks
  std::int64_t number = 0;
  for (;;) {
    const std::size_t got = in.read(block.data(), block.size());
    if (got == 0) break;
    std::string_view b(block.data(), got);
    std::size_t pos = 0;
    for (;;) {
      const std::size_t nl = b.find('\n', pos);
      if (nl == std::string_view::npos) {
        partial.append(b.substr(pos));
        break;
      }
      if (partial.empty()) {
        lt.line(b.substr(pos, nl - pos), ++number);
      } else {
        partial.append(b.substr(pos, nl - pos));
        lt.line(partial, ++number);
        partial.clear();
      }
      pos = nl + 1;
    }
  }
  if (!partial.empty()) lt.line(partial, ++number);
}

void VocabOptions::validate() const {
  if (min_count < 1) throw UsageError("min_count must be at least 1", {"", 0, "min_count"});
  if (max_vocab < 0) throw UsageError("max_vocab must be >= 0 (0 = no limit)", {"", 0, "max_vocab"});
  if (max_vocab > INT32_MAX) throw UsageError("max_vocab must fit a 32-bit id", {"", 0, "max_vocab"});
}

Vocabulary::Vocabulary(std::vector<std::string> words, std::vector<std::int64_t> counts)
    : words_(std::move(words)), counts_(std::move(counts)) {
  if (words_.size() != counts_.size()) throw UsageError("words and counts differ in length");
  if (words_.size() >= static_cast<std::size_t>(INT32_MAX)) throw UsageError("too many words for 32-bit ids");
  index_.reserve(words_.size());
  for (std::size_t i = 0; i < words_.size(); ++i) {
    const auto& w = words_[i];
    if (w.empty()) throw UsageError("empty word at id " + std::to_string(i + 1));
    if (w.find_first_of(" \t\n\r") != std::string::npos)
      throw UsageError("word '" + w + "' at id " + std::to_string(i + 1) + " holds whitespace");
    if (counts_[i] < 1) throw UsageError("count of '" + w + "' must be at least 1");
    if (!index_.emplace(w, static_cast<std::int32_t>(i + 1)).second)
      throw UsageError("duplicate word '" + w + "' at id " + std::to_string(i + 1));
  }
}

const std::string& Vocabulary::word(std::int64_t id) const {
  if (id < 1 || id > size()) throw UsageError("word id " + std::to_string(id) + " outside 1.." + std::to_string(size()));
  return words_[static_cast<std::size_t>(id - 1)];
}

std::int32_t Vocabulary::id(std::string_view word) const {
  const auto it = index_.find(word);
  return it == index_.end() ? 0 : it->second;
}

bool reference_word_less(std::string_view a, std::string_view b) {
  // scmp: walk while equal and a has not ended; compare the signed chars (0 past the end).
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const int ca = i < a.size() ? static_cast<int>(static_cast<signed char>(a[i])) : 0;
  const int cb = i < b.size() ? static_cast<int>(static_cast<signed char>(b[i])) : 0;
  return ca < cb;
}

namespace {

using CountMap = std::unordered_map<std::string, std::int64_t, WordHash, std::equal_to<>>;

Vocabulary finish(CountMap& counts, const VocabOptions& o, VocabStats* stats, std::int64_t tokens) {
  std::vector<std::pair<std::string, std::int64_t>> v;
  v.reserve(counts.size());
  for (auto& [w, c] : counts) v.emplace_back(w, c);
  counts.clear();
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) {
    if (x.second != y.second) return x.second > y.second;
    return reference_word_less(x.first, y.first);
  });
  if (stats) {
    stats->tokens = tokens;
    stats->unique = static_cast<std::int64_t>(v.size());
  }
  std::size_t keep = v.size();
  if (o.max_vocab > 0) keep = std::min(keep, static_cast<std::size_t>(o.max_vocab));
  std::vector<std::string> words;
  std::vector<std::int64_t> cs;
  for (std::size_t i = 0; i < keep && v[i].second >= o.min_count; ++i) {
    words.push_back(std::move(v[i].first));
    cs.push_back(v[i].second);
  }
  return Vocabulary(std::move(words), std::move(cs));
}

template <class Run>
Vocabulary count_with(Run run, const VocabOptions& o, VocabStats* stats, const std::string& file) {
  o.validate();
  CountMap counts;
  std::int64_t tokens = 0;
  run([&](std::string_view t, std::int64_t line) {
    if (t == "<unk>")
      throw Error("the corpus holds the word <unk>, which GloVe reserves for unknown words; replace it "
                  "(e.g. sed -e 's/<unk>/<raw_unk>/g')",
                  {file, line, ""});
    ++tokens;
    auto it = counts.find(t);
    if (it == counts.end()) counts.emplace(std::string(t), 1);
    else ++it->second;
  });
  return finish(counts, o, stats, tokens);
}

}  // namespace

Vocabulary count_vocabulary(const fs::path& corpus, const VocabOptions& options, VocabStats* stats) {
  const std::function<void()> nothing = [] {};
  return count_with(
      [&](auto&& tok) {
        for_each_token(corpus, options.tokenizer, tok, nothing);
      },
      options, stats, corpus.string());
}

Vocabulary count_vocabulary_text(std::string_view text, const VocabOptions& options, VocabStats* stats) {
  const std::function<void()> nothing = [] {};
  return count_with(
      [&](auto&& tok) {
        for_each_token_in_text(text, options.tokenizer, tok, nothing);
      },
      options, stats, "");
}

void write_vocabulary(const fs::path& path, const Vocabulary& vocab) {
  detail::AtomicWriter out(path);
  std::string line;
  for (std::int64_t i = 0; i < vocab.size(); ++i) {
    line.clear();
    line.append(vocab.words()[static_cast<std::size_t>(i)]).push_back(' ');
    line.append(std::to_string(vocab.counts()[static_cast<std::size_t>(i)])).push_back('\n');
    out.write(line);
  }
  out.commit();
}

Vocabulary read_vocabulary(const fs::path& path) {
  const std::string text = detail::read_text_file(path);
  const std::string file = path.string();
  std::vector<std::string> words;
  std::vector<std::int64_t> counts;
  detail::WordLines seen;
  detail::for_each_line_fields(text, [&](std::int64_t number, const std::vector<std::string_view>& fields) {
    if (fields.size() != 2)
      throw Error("expected 'word count', found " + std::to_string(fields.size()) + " fields", {file, number, ""});
    std::int64_t c = 0;
    if (!detail::parse_whole(fields[1], c) || c < 1)
      throw Error("'" + std::string(fields[1]) + "' is not a positive integer", {file, number, "count"});
    seen.add(fields[0], number, file);
    words.emplace_back(fields[0]);
    counts.push_back(c);
  });
  if (words.empty()) throw Error("the vocabulary file holds no words", {file, 0, ""});
  return Vocabulary(std::move(words), std::move(counts));
}

}  // namespace adakit::embed
