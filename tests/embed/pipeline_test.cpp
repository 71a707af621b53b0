// Vocabulary and co-occurrence counting: counts on tiny corpora, the reference's orderings, the
// co-occurrence weights against a brute-force count, spill-and-merge against the in-memory table, and
// the binary file format with its error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/embed/cooccur.hpp"
#include "adakit/embed/vocab.hpp"

namespace {
namespace fs = std::filesystem;
using namespace adakit::embed;
using adakit::test::contains;
using adakit::test::TempDir;

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const adakit::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(EmbedVocab, CountsSortsAndCutsLikeVocabCount) {
  // '\r' is dropped even inside a word; tabs and runs of spaces separate words.
  const std::string corpus = "b a c a\nc a  b\r\n\td a\ne\rf\n";
  VocabStats st;
  auto v = count_vocabulary_text(corpus, {}, &st);
  EXPECT_EQ(st.tokens, 10);
  EXPECT_EQ(st.unique, 5);
  ASSERT_EQ(v.size(), 5);
  const std::vector<std::string> words{"a", "b", "c", "d", "ef"};
  const std::vector<std::int64_t> counts{4, 2, 2, 1, 1};
  EXPECT_EQ(v.words(), words);
  EXPECT_EQ(v.counts(), counts);
  EXPECT_EQ(v.id("a"), 1);
  EXPECT_EQ(v.id("ef"), 5);
  EXPECT_EQ(v.id("zz"), 0);

  auto cut = count_vocabulary_text(corpus, {.min_count = 2});
  EXPECT_EQ(cut.size(), 3);
  auto top = count_vocabulary_text(corpus, {.max_vocab = 2});
  EXPECT_EQ(top.words(), (std::vector<std::string>{"a", "b"}));
}

TEST(EmbedVocab, TiesFollowTheReferenceSignedByteOrder) {
  // scmp compares signed chars and the end of a word as 0: bytes >= 0x80 sort before ASCII.
  EXPECT_TRUE(reference_word_less("a", "b"));
  EXPECT_TRUE(reference_word_less("a", "ab"));           // 0 < 'b'
  EXPECT_TRUE(reference_word_less("a\xC3\xA9", "a"));    // 0xC3 < 0
  EXPECT_TRUE(reference_word_less("\xC3\xA9t\xC3\xA9", "a"));
  EXPECT_FALSE(reference_word_less("a", "a"));
  auto v = count_vocabulary_text("a ab a\xC3\xA9 b", {});
  EXPECT_EQ(v.words(), (std::vector<std::string>{"a\xC3\xA9", "a", "ab", "b"}));
}

TEST(EmbedVocab, WordsTokenizerLowerCasesAndDropsPunctuation) {
  auto v = count_vocabulary_text("The King, the QUEEN!\nthe end", {.tokenizer = Tokenizer::words});
  EXPECT_EQ(v.words(), (std::vector<std::string>{"the", "end", "king", "queen"}));
  EXPECT_EQ(v.counts()[0], 3);
}

TEST(EmbedVocab, LongWordsAreCutAtACharacterBoundary) {
  std::string w(998, 'x');
  w += "\xC3\xA9";  // bytes 998, 999: a 2-byte character straddling the 999-byte limit
  w += "tail";
  auto v = count_vocabulary_text(w, {});
  ASSERT_EQ(v.size(), 1);
  EXPECT_EQ(v.words()[0], std::string(998, 'x'));
}

TEST(EmbedVocab, UnkInTheCorpusIsAnErrorWithItsLine) {
  TempDir dir("adakit_embed_test_");
  write_file(dir / "c.txt", "a b\nc <unk> d\n");
  const auto msg = error_of([&] { count_vocabulary(dir / "c.txt", {}); });
  EXPECT_TRUE(contains(msg, "c.txt:2")) << msg;
  EXPECT_TRUE(contains(msg, "<unk>")) << msg;
}

TEST(EmbedVocab, FileRoundTripAndBadLines) {
  TempDir dir("adakit_embed_test_");
  write_file(dir / "c.txt", "the cat the dog\nthe end");
  auto v = count_vocabulary(dir / "c.txt", {});
  write_vocabulary(dir / "vocab.txt", v);
  EXPECT_EQ(read_file(dir / "vocab.txt"), "the 3\ncat 1\ndog 1\nend 1\n");
  auto back = read_vocabulary(dir / "vocab.txt");
  EXPECT_EQ(back.words(), v.words());
  EXPECT_EQ(back.counts(), v.counts());

  write_file(dir / "bad1.txt", "the 3\ncat\n");
  auto msg = error_of([&] { read_vocabulary(dir / "bad1.txt"); });
  EXPECT_TRUE(contains(msg, "bad1.txt:2")) << msg;
  EXPECT_TRUE(contains(msg, "word count")) << msg;
  write_file(dir / "bad2.txt", "the 3\ncat x1\n");
  msg = error_of([&] { read_vocabulary(dir / "bad2.txt"); });
  EXPECT_TRUE(contains(msg, "bad2.txt:2: field 'count'")) << msg;
  write_file(dir / "bad3.txt", "the 3\ncat 1\nthe 2\n");
  msg = error_of([&] { read_vocabulary(dir / "bad3.txt"); });
  EXPECT_TRUE(contains(msg, "bad3.txt:3")) << msg;
  EXPECT_TRUE(contains(msg, "first on line 1")) << msg;
  write_file(dir / "bad4.txt", "");
  EXPECT_TRUE(contains(error_of([&] { read_vocabulary(dir / "bad4.txt"); }), "no words"));
}

// ---------------------------------------------------------------- co-occurrences

// A random corpus over words w0..w{n-1}, with out-of-vocabulary words mixed in.
std::string random_corpus(int lines, int words, std::uint64_t seed) {
  adakit::Rng rng(seed);
  std::string text;
  for (int l = 0; l < lines; ++l) {
    const auto len = 1 + rng.below(25);
    for (std::uint64_t t = 0; t < len; ++t) {
      // Zipf-ish: small ids are frequent.
      const auto id = static_cast<int>(std::floor(std::pow(rng.uniform(), 2.0) * words));
      text += (t ? " " : "") + std::string(rng.bernoulli(0.1) ? "oov" : "w") + std::to_string(id);
    }
    text += "\n";
  }
  return text;
}

// Brute force: every pair of in-vocabulary tokens on a line at most `window` apart (distances counted
// over in-vocabulary tokens only).
std::map<std::pair<int, int>, double> brute_force(const std::string& text, const Vocabulary& v, int window,
                                                  bool symmetric, bool weighting) {
  std::map<std::pair<int, int>, double> x;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int> ids;
    std::string w;
    while (ls >> w)
      if (v.id(w)) ids.push_back(v.id(w));
    for (std::size_t p = 0; p < ids.size(); ++p)
      for (std::size_t q = 0; q < p; ++q) {
        const auto dist = static_cast<int>(p - q);
        if (dist > window) continue;
        const double val = weighting ? 1.0 / dist : 1.0;
        x[{ids[q], ids[p]}] += val;
        if (symmetric) x[{ids[p], ids[q]}] += val;
      }
  }
  return x;
}

void expect_same(const std::vector<CooccurRecord>& got, const std::map<std::pair<int, int>, double>& want) {
  ASSERT_EQ(got.size(), want.size());
  std::size_t i = 0;
  for (const auto& [key, val] : want) {
    EXPECT_EQ(got[i].word1, key.first) << i;
    EXPECT_EQ(got[i].word2, key.second) << i;
    EXPECT_NEAR(got[i].value, val, 1e-12 * val) << i;
    ++i;
  }
}

TEST(EmbedCooccur, WeightsEqualABruteForceCount) {
  const std::string text = random_corpus(200, 40, 7);
  const auto v = count_vocabulary_text(text, {.max_vocab = 30});  // leaves some w* out too
  struct Case {
    int window;
    bool symmetric, weighting;
  };
  for (const Case c : {Case{5, true, true}, Case{3, false, true}, Case{4, true, false}, Case{1, false, false}}) {
    SCOPED_TRACE("window " + std::to_string(c.window) + (c.symmetric ? " symmetric" : " left") +
                 (c.weighting ? " 1/d" : " flat"));
    CooccurOptions o;
    o.window = c.window;
    o.symmetric = c.symmetric;
    o.distance_weighting = c.weighting;
    o.memory_gb = 0.01;
    expect_same(count_cooccurrences_text(text, v, o), brute_force(text, v, c.window, c.symmetric, c.weighting));
  }
}

TEST(EmbedCooccur, SpillAndMergeEqualsTheInMemoryTable) {
  TempDir dir("adakit_embed_test_");
  const std::string text = random_corpus(300, 60, 11);
  write_file(dir / "corpus.txt", text);
  const auto v = count_vocabulary_text(text, {});
  CooccurOptions big;
  big.window = 6;
  big.max_product = 1'000'000;    // every pair in the dense table
  big.overflow_length = 1'000'000;
  CooccurStats sb;
  const auto in_memory = count_cooccurrences_text(text, v, big, &sb);
  EXPECT_EQ(sb.runs, 0);

  CooccurOptions tiny = big;
  tiny.max_product = 4;           // almost every pair overflows ...
  tiny.overflow_length = 400;     // ... into a buffer that spills every few lines
  tiny.temp_dir = dir / "tmp";
  fs::create_directories(tiny.temp_dir);
  const auto st = count_cooccurrences(dir / "corpus.txt", v, dir / "cooc.bin", tiny);
  EXPECT_GT(st.runs, 20);
  EXPECT_EQ(st.records, static_cast<std::int64_t>(in_memory.size()));
  EXPECT_TRUE(fs::is_empty(tiny.temp_dir)) << "run files must be removed";
  const auto spilled = read_cooccurrences(dir / "cooc.bin", v.size());
  ASSERT_EQ(spilled.size(), in_memory.size());
  for (std::size_t i = 0; i < spilled.size(); ++i) {
    EXPECT_EQ(spilled[i].word1, in_memory[i].word1);
    EXPECT_EQ(spilled[i].word2, in_memory[i].word2);
    EXPECT_NEAR(spilled[i].value, in_memory[i].value, 1e-12 * in_memory[i].value);
  }
  // The memory formula of cooccur.c: with r = 0.85 GB 2^30 / 16, n (ln n + 0.1544313298) = r and r / 6.
  const auto s = cooccur_sizes(CooccurOptions{});
  const double r = 0.85 * 4 * 1073741824.0 / 16, n = static_cast<double>(s.max_product);
  EXPECT_NEAR(n * (std::log(n) + 0.1544313298), r, 20.0);  // n is truncated to an integer
  EXPECT_EQ(s.overflow_length, static_cast<std::int64_t>(r / 6));
}

TEST(EmbedCooccur, FileFormatRoundTripAndErrors) {
  TempDir dir("adakit_embed_test_");
  const std::vector<CooccurRecord> recs{{1, 2, 0.5}, {2, 1, 1.0 / 3.0}, {3, 3, 7.25}};
  write_cooccurrences(dir / "c.bin", recs);
  const std::string bytes = read_file(dir / "c.bin");
  ASSERT_EQ(bytes.size(), 48u);
  std::int32_t w1 = 0;
  double val = 0;
  std::memcpy(&w1, bytes.data() + 16, 4);
  std::memcpy(&val, bytes.data() + 24, 8);
  EXPECT_EQ(w1, 2);  // little-endian int32, then the float64 at offset 8 of the record
  EXPECT_EQ(val, 1.0 / 3.0);
  EXPECT_EQ(read_cooccurrences(dir / "c.bin", 3), recs);

  write_file(dir / "trunc.bin", bytes.substr(0, 40));
  auto msg = error_of([&] { read_cooccurrences(dir / "trunc.bin"); });
  EXPECT_TRUE(contains(msg, "trunc.bin")) << msg;
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
  EXPECT_TRUE(contains(msg, "byte offset 32")) << msg;

  msg = error_of([&] { read_cooccurrences(dir / "c.bin", 2); });
  EXPECT_TRUE(contains(msg, "record 3 (byte offset 32)")) << msg;
  EXPECT_TRUE(contains(msg, "word1 = 3")) << msg;

  write_cooccurrences(dir / "neg.bin", std::vector<CooccurRecord>{{1, 1, 1.0}, {1, 2, -2.0}});
  msg = error_of([&] { read_cooccurrences(dir / "neg.bin"); });
  EXPECT_TRUE(contains(msg, "record 2 (byte offset 16)")) << msg;
  EXPECT_TRUE(contains(msg, "field 'value'")) << msg;
}

TEST(EmbedCooccur, ShuffleIsASeededPermutation) {
  TempDir dir("adakit_embed_test_");
  std::vector<CooccurRecord> recs;
  for (int i = 1; i <= 500; ++i) recs.push_back({i, i + 1, static_cast<double>(i)});
  write_cooccurrences(dir / "c.bin", recs);
  EXPECT_EQ(shuffle_cooccurrence_file(dir / "c.bin", dir / "s1.bin", 3), 500);
  shuffle_cooccurrence_file(dir / "c.bin", dir / "s2.bin", 3);
  shuffle_cooccurrence_file(dir / "c.bin", dir / "s3.bin", 4);
  const auto a = read_cooccurrences(dir / "s1.bin");
  EXPECT_EQ(a, read_cooccurrences(dir / "s2.bin"));
  EXPECT_NE(a, read_cooccurrences(dir / "s3.bin"));
  EXPECT_NE(a, recs);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.word1 < y.word1; });
  EXPECT_EQ(sorted, recs);
}

}  // namespace
