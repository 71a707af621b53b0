// Sparse data and text features: CsrMatrix, MurmurHash3 and the hashing trick, the tokeniser, n-grams,
// TextVectorizer (count / binary / tf-idf, vocabulary and hashing, JSON), LIBSVM files, `label<TAB>text`
// files and the bundled sentiment-tiny dataset.
#include "adakit/data/sparse.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/hashing.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/readers.hpp"
#include "adakit/data/text.hpp"

namespace {

namespace fs = std::filesystem;
using adakit::Error;
using adakit::UsageError;
using adakit::data::CsrMatrix;
using adakit::data::DfThreshold;
using adakit::data::LibsvmOptions;
using adakit::data::SparseDataset;
using adakit::data::TextDataset;
using adakit::data::TextVectorizer;
using adakit::data::TextVectorizerOptions;
using adakit::data::TextWeighting;
using Strings = std::vector<std::string>;

using adakit::test::contains;
using adakit::test::TempDir;


void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Dense rows of a CSR matrix, as doubles.
std::vector<std::vector<double>> dense(const CsrMatrix& m) {
  std::vector<std::vector<double>> out(static_cast<std::size_t>(m.rows),
                                       std::vector<double>(static_cast<std::size_t>(m.cols)));
  for (std::int64_t r = 0; r < m.rows; ++r) {
    const auto idx = m.row_indices(r);
    const auto val = m.row_values(r);
    for (std::size_t k = 0; k < idx.size(); ++k)
      out[static_cast<std::size_t>(r)][static_cast<std::size_t>(idx[k])] += val[k];
  }
  return out;
}

void expect_dense_near(const CsrMatrix& m, const std::vector<std::vector<double>>& want, double tol) {
  ASSERT_EQ(m.rows, static_cast<std::int64_t>(want.size()));
  const auto got = dense(m);
  for (std::size_t r = 0; r < want.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << "row " << r;
    for (std::size_t c = 0; c < want[r].size(); ++c)
      EXPECT_NEAR(got[r][c], want[r][c], tol) << "row " << r << " col " << c;
  }
}

// The 3-document corpus of the vectorizer tests. Terms (sorted): and bird cat dog mat on sat the;
// "A" / "a" are single characters and dropped.
const Strings kCorpus = {"The cat sat on the mat.", "The dog sat.", "A cat, a dog and a bird!"};
const Strings kCorpusTerms = {"and", "bird", "cat", "dog", "mat", "on", "sat", "the"};
const std::vector<std::vector<double>> kCorpusCounts = {
    {0, 0, 1, 0, 1, 1, 1, 2},
    {0, 0, 0, 1, 0, 0, 1, 1},
    {1, 1, 1, 1, 0, 0, 0, 0},
};

// ================================================================ CsrMatrix / SparseDataset

TEST(SparseCsr, AddRowSortsSumsDuplicatesAndDropsZeros) {
  CsrMatrix m;
  m.cols = 5;
  const std::vector<std::int32_t> i0 = {3, 1, 3, 0, 4, 4};
  const std::vector<float> v0 = {1.0f, 2.0f, 4.0f, 0.0f, 1.5f, -1.5f};  // 3 summed; 0 dropped; 4 cancels
  m.add_row(i0, v0);
  m.add_row({}, {});  // an empty row
  const std::vector<std::int32_t> i2 = {2};
  const std::vector<float> v2 = {-7.0f};
  m.add_row(i2, v2);
  EXPECT_EQ(m.rows, 3);
  EXPECT_EQ(m.indptr, (std::vector<std::int64_t>{0, 2, 2, 3}));
  EXPECT_EQ(m.indices, (std::vector<std::int32_t>{1, 3, 2}));
  EXPECT_EQ(m.values, (std::vector<float>{2.0f, 5.0f, -7.0f}));
  EXPECT_TRUE(m.is_canonical());
  EXPECT_NO_THROW(m.validate());

  const std::vector<std::int32_t> bad_col = {5};
  const std::vector<float> one = {1.0f};
  EXPECT_THROW(m.add_row(bad_col, one), UsageError);
  const std::vector<std::int32_t> negative = {-1};
  EXPECT_THROW(m.add_row(negative, one), UsageError);
  const std::vector<std::int32_t> two = {0, 1};
  EXPECT_THROW(m.add_row(two, one), UsageError);
  EXPECT_EQ(m.rows, 3);  // failed calls leave the matrix alone
  EXPECT_EQ(m.nnz(), 3);
}

TEST(SparseCsr, CanonicalizeSortsAndSumsEachRow) {
  CsrMatrix m;
  m.rows = 3;
  m.cols = 6;
  m.indptr = {0, 4, 4, 7};
  m.indices = {5, 2, 5, 0, 3, 1, 3};
  m.values = {1.0f, 2.0f, 3.0f, 0.0f, 1.0f, 9.0f, -1.0f};
  EXPECT_FALSE(m.is_canonical());
  m.canonicalize();
  EXPECT_TRUE(m.is_canonical());
  EXPECT_EQ(m.indptr, (std::vector<std::int64_t>{0, 3, 3, 5}));
  EXPECT_EQ(m.indices, (std::vector<std::int32_t>{0, 2, 5, 1, 3}));
  // The stored explicit zero stays; 3 + (-1) stays as an explicit 0 too (canonicalize only sums).
  EXPECT_EQ(m.values, (std::vector<float>{0.0f, 2.0f, 4.0f, 9.0f, 0.0f}));
  const adakit::Tensor d = m.to_dense();
  EXPECT_EQ(d.shape(), (adakit::Shape{3, 6}));
  EXPECT_EQ(d[0 * 6 + 5], 4.0f);
  EXPECT_EQ(d[2 * 6 + 1], 9.0f);
}

TEST(SparseCsr, SelectRowsCopiesInOrderWithRepeats) {
  CsrMatrix m;
  m.cols = 4;
  for (std::int32_t r = 0; r < 4; ++r) {
    const std::vector<std::int32_t> idx = {r};
    const std::vector<float> val = {static_cast<float>(r + 1)};
    m.add_row(idx, val);
  }
  const std::vector<std::int64_t> which = {3, 0, 3};
  const CsrMatrix s = m.select_rows(which);
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.cols, 4);
  EXPECT_EQ(s.indptr, (std::vector<std::int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(s.indices, (std::vector<std::int32_t>{3, 0, 3}));
  EXPECT_EQ(s.values, (std::vector<float>{4.0f, 1.0f, 4.0f}));
  EXPECT_EQ(m.select_rows({}).rows, 0);
  const std::vector<std::int64_t> out_of_range = {4};
  EXPECT_THROW(m.select_rows(out_of_range), UsageError);
}

TEST(SparseCsr, ValidateNamesBrokenInvariants) {
  CsrMatrix m;
  m.rows = 1;
  m.cols = 2;
  m.indptr = {0, 1};
  m.indices = {2};
  m.values = {1.0f};
  try {
    m.validate();
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "column 2")) << e.what();
  }
  m.indices = {1};
  m.indptr = {0};
  EXPECT_THROW(m.validate(), UsageError);
}

TEST(SparseDataset, SubsetKeepsLabelsTargetsAndNames) {
  SparseDataset d;
  d.name = "toy";
  d.features.cols = 3;
  for (std::int32_t r = 0; r < 3; ++r) {
    const std::vector<std::int32_t> idx = {r};
    const std::vector<float> val = {1.0f};
    d.features.add_row(idx, val);
  }
  d.labels = {0, 1, 1};
  d.class_names = {"no", "yes"};
  const std::vector<std::int64_t> rows = {2, 0};
  const SparseDataset s = d.subset(rows);
  EXPECT_EQ(s.name, "toy");
  EXPECT_EQ(s.labels, (std::vector<std::int32_t>{1, 0}));
  EXPECT_EQ(s.class_names, d.class_names);
  EXPECT_EQ(s.features.indices, (std::vector<std::int32_t>{2, 0}));

  d.labels.clear();
  d.targets = {0.5f, 1.5f, 2.5f};
  const SparseDataset t = d.subset(rows);
  EXPECT_FALSE(t.is_classification());
  EXPECT_EQ(t.targets, (std::vector<float>{2.5f, 0.5f}));
  d.targets.pop_back();
  EXPECT_THROW(d.subset(rows), UsageError);
}

// ================================================================ MurmurHash3 and the hashing trick

TEST(HashMurmur3, KnownTestVectors) {
  using adakit::data::murmurhash3_32;
  // The published MurmurHash3_x86_32 vectors (SMHasher; collected at
  // stackoverflow.com/questions/14747343 and used by Boost.Hash2's tests), checked here against
  // sklearn.utils.murmurhash3_32 (scikit-learn 1.2.1) for the seeds it accepts.
  EXPECT_EQ(murmurhash3_32("", 0), 0u);
  EXPECT_EQ(murmurhash3_32("", 1), 0x514E28B7u);
  EXPECT_EQ(murmurhash3_32("", 0xFFFFFFFFu), 0x81F16F39u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\xff\xff\xff\xff", 4), 0), 0x76293B50u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\x21\x43\x65\x87", 4), 0), 0xF55B516Bu);
  EXPECT_EQ(murmurhash3_32(std::string_view("\x21\x43\x65\x87", 4), 0x5082EDEEu), 0x2362F9DEu);
  EXPECT_EQ(murmurhash3_32(std::string_view("\x21\x43\x65", 3), 0), 0x7E4A8634u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\x21\x43", 2), 0), 0xA0F7B07Au);
  EXPECT_EQ(murmurhash3_32(std::string_view("\x21", 1), 0), 0x72661CF4u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\0\0\0\0", 4), 0), 0x2362F9DEu);
  EXPECT_EQ(murmurhash3_32(std::string_view("\0\0\0", 3), 0), 0x85F0B427u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\0\0", 2), 0), 0x30F4C306u);
  EXPECT_EQ(murmurhash3_32(std::string_view("\0", 1), 0), 0x514E28B7u);
  EXPECT_EQ(murmurhash3_32("a", 0), 0x3C2569B2u);
  EXPECT_EQ(murmurhash3_32("hello", 0), 0x248BFA47u);
  // sklearn.utils.murmurhash3_32("hello") is signed: 613153351 = 0x248bfa47.
  EXPECT_EQ(static_cast<std::int32_t>(murmurhash3_32("hello")), 613153351);
  // Terms of the vectorizer corpus, signed, from sklearn.utils.murmurhash3_32 (scikit-learn 1.2.1).
  EXPECT_EQ(static_cast<std::int32_t>(murmurhash3_32("the")), -1132748958);
  EXPECT_EQ(static_cast<std::int32_t>(murmurhash3_32("cat")), 1751422759);
  EXPECT_EQ(static_cast<std::int32_t>(murmurhash3_32("café")), 605818632);  // UTF-8 bytes
}

TEST(HashFeature, ColumnAndSignAsScikitLearn) {
  using adakit::data::hash_feature;
  // h("the") = -1132748958: column |h| mod 16 = 14, sign -1.
  auto f = hash_feature("the", 16);
  EXPECT_EQ(f.column, 14);
  EXPECT_EQ(f.sign, -1.0f);
  // h("world") = -74040069: scikit-learn's column is |h| mod 16 = 5 (unsigned h mod 16 would be 11).
  f = hash_feature("world", 16);
  EXPECT_EQ(f.column, 5);
  EXPECT_EQ(f.sign, -1.0f);
  f = hash_feature("cat", 16);
  EXPECT_EQ(f.column, 7);
  EXPECT_EQ(f.sign, 1.0f);
  f = hash_feature("the", std::int64_t{1} << 20);
  EXPECT_EQ(f.column, 1132748958 % (1 << 20));
  EXPECT_EQ(hash_feature("the", 16, /*alternate_sign=*/false).sign, 1.0f);
  EXPECT_EQ(hash_feature("the", 1).column, 0);
  EXPECT_EQ(hash_feature("the", std::int64_t{1} << 31).column, 1132748958);
  EXPECT_THROW(hash_feature("the", 0), UsageError);
  EXPECT_THROW(hash_feature("the", (std::int64_t{1} << 31) + 1), UsageError);
}

// ================================================================ tokeniser and n-grams

TEST(TextTokenize, TokensOfTwoOrMoreWordCharacters) {
  using adakit::data::tokenize;
  // Expected lists from scikit-learn 1.2.1's CountVectorizer().build_analyzer().
  EXPECT_EQ(tokenize("Hello, World! a I x_1 don't 42"), (Strings{"hello", "world", "x_1", "don", "42"}));
  EXPECT_EQ(tokenize(""), Strings{});
  EXPECT_EQ(tokenize("a b c ! ?"), Strings{});
  EXPECT_EQ(tokenize("ab\tcd\nef\r\ngh"), (Strings{"ab", "cd", "ef", "gh"}));
  EXPECT_EQ(tokenize("Ça VA", /*lowercase=*/false), (Strings{"Ça", "VA"}));
}

TEST(TextTokenize, Utf8LettersAndLowerCase) {
  using adakit::data::tokenize;
  // Expected lists from scikit-learn 1.2.1 (Python 3.11 str.lower and \w).
  EXPECT_EQ(tokenize("Ça va? naïve café ÉCOLE"), (Strings{"ça", "va", "naïve", "café", "école"}));
  EXPECT_EQ(tokenize("ПРИВЕТ Мир"), (Strings{"привет", "мир"}));
  // Final sigma at the end of a word; a lone capital sigma is U+03C3.
  EXPECT_EQ(tokenize("ΟΔΟΣ ΣΟΦΟΣ σ Σ ΑΣ."), (Strings{"οδος", "σοφος", "ας"}));
  EXPECT_EQ(adakit::data::to_lower_utf8("Σ ΑΣ ΑΣΑ"), "σ ας ασα");
  // Case-ignorable code points (combining marks, apostrophes) are skipped on both sides, as Python.
  EXPECT_EQ(adakit::data::to_lower_utf8("Α\u0301Σ ΑΣ'Α ΑΣ'"), "α\u0301ς ασ'α ας'");
  // U+0130 lowers to "i" + U+0307 (a combining mark, not a word character), as Python; U+1E9E -> ß alone
  // is a single character; U+01C4 (DŽ) -> U+01C6.
  EXPECT_EQ(tokenize("İstanbul straße ẞ Ǆemal"), (Strings{"stanbul", "straße", "ǆemal"}));
  EXPECT_EQ(adakit::data::to_lower_utf8("İ"), "i\xCC\x87");
  EXPECT_EQ(adakit::data::to_lower_utf8("ĀĹŸŽ ÀÞ × ÿ"), "āĺÿž àþ × ÿ");
  // Punctuation, symbols and spaces outside ASCII separate words; superscripts and CJK are word characters.
  EXPECT_EQ(tokenize("rock’n’roll — “quoted” 5€ 10×20 ½ ²x «ok» ¿qué? 東京 タワー"),
            (Strings{"rock", "roll", "quoted", "10", "20", "²x", "ok", "qué", "東京", "タワー"}));
  EXPECT_EQ(tokenize("no\u00A0break\u2009thin\u3000wide"), (Strings{"no", "break", "thin", "wide"}));
  EXPECT_TRUE(adakit::data::is_word_code_point(U'é'));
  EXPECT_TRUE(adakit::data::is_word_code_point(U'_'));
  EXPECT_FALSE(adakit::data::is_word_code_point(U'\u2019'));
  EXPECT_FALSE(adakit::data::is_word_code_point(U'\U0001F600'));  // emoji
  EXPECT_FALSE(adakit::data::is_word_code_point(0x110000));
}

TEST(TextTokenize, InvalidUtf8BytesSeparateTokens) {
  using adakit::data::tokenize;
  // Stray byte, lead byte without continuation, truncated 3-byte sequence, overlong '/', surrogate,
  // above U+10FFFF, truncated at the end.
  const std::string text =
      "ab\xff"
      "cd \xc3(ef \xe2\x82 gh\xc0\xafij x\xed\xa0\x80yz kl\xf4\x90\x80\x80mn op\xc3";
  EXPECT_EQ(tokenize(text), (Strings{"ab", "cd", "ef", "gh", "ij", "yz", "kl", "mn", "op"}));
  // Lower-casing copies invalid bytes unchanged.
  EXPECT_EQ(adakit::data::to_lower_utf8("A\xff"
                                        "B\xc3"),
            "a\xff"
            "b\xc3");
  // Every byte value alone and in pairs: never a crash, tokens always valid UTF-8 of 2+ characters.
  std::string all;
  for (int b = 0; b < 256; ++b) {
    all.push_back(static_cast<char>(b));
    all.push_back(static_cast<char>(255 - b));
  }
  for (const auto& t : tokenize(all)) EXPECT_GE(t.size(), 2u);
}

TEST(TextNgrams, WordNgramsAsScikitLearn) {
  using adakit::data::word_ngrams;
  const Strings tokens = {"one", "two", "three", "four"};
  EXPECT_EQ(word_ngrams(tokens, 2, 3),
            (Strings{"one two", "two three", "three four", "one two three", "two three four"}));
  EXPECT_EQ(word_ngrams(tokens, 1, 2), (Strings{"one", "two", "three", "four", "one two", "two three", "three four"}));
  EXPECT_EQ(word_ngrams(tokens, 4, 9), (Strings{"one two three four"}));
  EXPECT_EQ(word_ngrams(tokens, 5, 6), Strings{});
  EXPECT_THROW(word_ngrams(tokens, 0, 1), UsageError);
  EXPECT_THROW(word_ngrams(tokens, 2, 1), UsageError);
  TextVectorizer v({.ngram_min = 1, .ngram_max = 2});
  EXPECT_EQ(v.analyze("One two, THREE"), (Strings{"one", "two", "three", "one two", "two three"}));
}

// ================================================================ TextVectorizer

TEST(TextVectorizer, CountsMatchScikitLearn) {
  TextVectorizer v;
  const CsrMatrix x = v.fit_transform(kCorpus);
  EXPECT_EQ(v.feature_names(), kCorpusTerms);
  EXPECT_EQ(v.num_features(), 8);
  EXPECT_EQ(x.cols, 8);
  EXPECT_TRUE(x.is_canonical());
  EXPECT_EQ(v.column_of("the"), 7);
  EXPECT_EQ(v.column_of("a"), -1);
  for (std::int32_t c = 0; c < 8; ++c) EXPECT_EQ(v.column_of(v.feature_name(c)), c);
  expect_dense_near(x, kCorpusCounts, 0.0);
  // Unknown terms are ignored; an empty text gives an empty row.
  const CsrMatrix y = v.transform(Strings{"zebra CAT cat", ""});
  expect_dense_near(y, {{0, 0, 2, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}}, 0.0);
  EXPECT_EQ(y.nnz(), 1);
}

TEST(TextVectorizer, BinaryMarksPresence) {
  TextVectorizer v({.weighting = TextWeighting::binary});
  const CsrMatrix x = v.fit_transform(kCorpus);
  auto want = kCorpusCounts;
  for (auto& row : want)
    for (auto& c : row) c = c > 0 ? 1.0 : 0.0;
  expect_dense_near(x, want, 0.0);
}

TEST(TextVectorizer, TfidfEqualsHandComputedFormula) {
  TextVectorizer v({.weighting = TextWeighting::tfidf});
  const CsrMatrix x = v.fit_transform(kCorpus);
  // idf = ln((1 + n) / (1 + df)) + 1 with n = 3; rows tf * idf scaled to unit l2 norm.
  const std::vector<double> df = {1, 1, 2, 2, 1, 1, 2, 2};
  std::vector<std::vector<double>> want = kCorpusCounts;
  for (auto& row : want) {
    double sq = 0.0;
    for (std::size_t c = 0; c < row.size(); ++c) {
      row[c] *= std::log(4.0 / (1.0 + df[c])) + 1.0;
      sq += row[c] * row[c];
    }
    for (auto& value : row) value /= std::sqrt(sq);
  }
  expect_dense_near(x, want, 1e-7);
  ASSERT_EQ(v.idf().size(), 8u);
  for (std::size_t c = 0; c < 8; ++c) EXPECT_DOUBLE_EQ(v.idf()[c], std::log(4.0 / (1.0 + df[c])) + 1.0);
  // Cross-check, once: TfidfVectorizer().fit_transform(corpus) from scikit-learn 1.2.1, as literals.
  EXPECT_DOUBLE_EQ(v.idf()[0], 1.6931471805599454);
  EXPECT_DOUBLE_EQ(v.idf()[2], 1.2876820724517808);
  expect_dense_near(x,
                    {{0, 0, 0.32516554853793517, 0, 0.42755362018356385, 0.42755362018356385, 0.32516554853793517,
                      0.6503310970758703},
                     {0, 0, 0, 0.5773502691896257, 0, 0, 0.5773502691896257, 0.5773502691896257},
                     {0.5628290964997665, 0.5628290964997665, 0.42804603506311856, 0.42804603506311856, 0, 0, 0, 0}},
                    1e-7);
}

TEST(TextVectorizer, SublinearTfWithoutSmoothingMatchesScikitLearn) {
  TextVectorizer v({.weighting = TextWeighting::tfidf, .smooth_idf = false, .sublinear_tf = true});
  const CsrMatrix x = v.fit_transform(kCorpus);
  // idf = ln(n / df) + 1; tf = 1 + ln(count).
  EXPECT_DOUBLE_EQ(v.idf()[0], std::log(3.0) + 1.0);
  EXPECT_DOUBLE_EQ(v.idf()[2], std::log(1.5) + 1.0);
  // TfidfVectorizer(sublinear_tf=True, smooth_idf=False) from scikit-learn 1.2.1.
  expect_dense_near(
      x,
      {{0, 0, 0.3274569089098874, 0, 0.48895208360781034, 0.48895208360781034, 0.3274569089098874, 0.5544327420756506},
       {0, 0, 0, 0.5773502691896257, 0, 0, 0.5773502691896257, 0.5773502691896257},
       {0.5875214115212867, 0.5875214115212867, 0.39346993659495116, 0.39346993659495116, 0, 0, 0, 0}},
      1e-7);
}

TEST(TextVectorizer, NgramRangeVocabulary) {
  TextVectorizer v({.ngram_min = 1, .ngram_max = 2});
  v.fit(kCorpus);
  // TfidfVectorizer(ngram_range=(1, 2)).get_feature_names_out() from scikit-learn 1.2.1.
  EXPECT_EQ(v.feature_names(),
            (Strings{"and", "and bird", "bird", "cat", "cat dog", "cat sat", "dog", "dog and", "dog sat", "mat", "on",
                     "on the", "sat", "sat on", "the", "the cat", "the dog", "the mat"}));
  const CsrMatrix x = v.transform(Strings{"the cat sat"});
  EXPECT_EQ(x.nnz(), 5);  // the, cat, sat, "the cat", "cat sat"
}

TEST(TextVectorizer, MinDfMaxDfAndMaxFeatures) {
  const auto names = [](TextVectorizerOptions o) {
    TextVectorizer v(o);
    v.fit(kCorpus);
    return v.feature_names();
  };
  // Each expected list from CountVectorizer(...).fit(corpus).get_feature_names_out(), scikit-learn 1.2.1.
  EXPECT_EQ(names({.min_df = DfThreshold::count(2)}), (Strings{"cat", "dog", "sat", "the"}));
  EXPECT_EQ(names({.min_df = DfThreshold::fraction(0.5)}), (Strings{"cat", "dog", "sat", "the"}));
  EXPECT_EQ(names({.max_df = DfThreshold::fraction(0.5)}), (Strings{"and", "bird", "mat", "on"}));
  EXPECT_EQ(names({.max_df = DfThreshold::count(1)}), (Strings{"and", "bird", "mat", "on"}));
  // Top 3 by corpus count: the (3), then cat / dog / sat (2 each) by term.
  EXPECT_EQ(names({.max_features = 3}), (Strings{"cat", "dog", "the"}));
  // Binary: by document frequency (cat, dog, sat, the: 2 each), ties by term.
  EXPECT_EQ(names({.max_features = 3, .weighting = TextWeighting::binary}), (Strings{"cat", "dog", "sat"}));
  EXPECT_EQ(names({.max_features = 100}), kCorpusTerms);
  // Pruning applies before the tf-idf: idf stays the full-corpus value.
  TextVectorizer v({.min_df = DfThreshold::count(2), .weighting = TextWeighting::tfidf});
  v.fit(kCorpus);
  EXPECT_DOUBLE_EQ(v.idf()[0], std::log(4.0 / 3.0) + 1.0);

  EXPECT_THROW(names({.min_df = DfThreshold::count(3)}), Error);  // no term left
  try {
    names({.min_df = DfThreshold::count(2), .max_df = DfThreshold::count(1)});
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "max_df");
  }
}

TEST(TextVectorizer, OptionAndInputErrors) {
  const auto field_of = [](TextVectorizerOptions o) -> std::string {
    try {
      o.validate();
    } catch (const UsageError& e) {
      return e.context().field;
    }
    return "";
  };
  EXPECT_EQ(field_of({}), "");
  EXPECT_EQ(field_of({.ngram_min = 0}), "ngram_min");
  EXPECT_EQ(field_of({.ngram_min = 2, .ngram_max = 1}), "ngram_max");
  EXPECT_EQ(field_of({.min_df = DfThreshold::fraction(1.5)}), "min_df");
  EXPECT_EQ(field_of({.min_df = DfThreshold{2.5, false}}), "min_df");
  EXPECT_EQ(field_of({.max_df = DfThreshold::count(-1)}), "max_df");
  EXPECT_EQ(field_of({.max_features = -1}), "max_features");
  EXPECT_EQ(field_of({.hash_bits = 32}), "hash_bits");
  EXPECT_EQ(field_of({.max_features = 5, .hash_bits = 4}), "max_features");
  EXPECT_THROW(TextVectorizer({.hash_bits = -1}), UsageError);

  TextVectorizer v;
  EXPECT_FALSE(v.fitted());
  EXPECT_THROW(v.transform(kCorpus), UsageError);
  EXPECT_THROW(v.fit(Strings{}), UsageError);
  EXPECT_THROW(v.fit(Strings{"a b c", "! ?"}), Error);  // no token of 2+ characters
}

TEST(TextVectorizer, HashingMatchesScikitLearn) {
  // HashingVectorizer(n_features=16, norm=None).transform(corpus), scikit-learn 1.2.1. In the first
  // document "cat" (+) and "on" (-) both land in column 7 and cancel.
  TextVectorizer v({.hash_bits = 4});
  EXPECT_TRUE(v.fitted());  // stateless
  EXPECT_EQ(v.num_features(), 16);
  const CsrMatrix x = v.transform(kCorpus);
  std::vector<std::vector<double>> want(3, std::vector<double>(16, 0.0));
  want[0][4] = 1, want[0][11] = -1, want[0][14] = -2;
  want[1][4] = 1, want[1][5] = -1, want[1][14] = -1;
  want[2][1] = -1, want[2][5] = -1, want[2][7] = 1, want[2][13] = -1;
  expect_dense_near(x, want, 0.0);
  EXPECT_EQ(x.row_indices(0).size(), 3u);  // the cancelled column stores nothing
  EXPECT_TRUE(v.feature_names().empty());

  // alternate_sign=False: plain counts.
  TextVectorizer u({.hash_bits = 4, .alternate_sign = false});
  expect_dense_near(u.transform(kCorpus),
                    {{0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 2, 0},
                     {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
                     {0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0}},
                    0.0);
  // binary=True: every column a term reaches is 1, the cancelled one included.
  TextVectorizer b({.weighting = TextWeighting::binary, .hash_bits = 4});
  expect_dense_near(b.transform(kCorpus),
                    {{0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0},
                     {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0},
                     {0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0}},
                    0.0);
  // TfidfTransformer().fit_transform(HashingVectorizer(n_features=16, norm=None).transform(corpus)):
  // the cancelled column 7 of the first document counts in its document frequency (df = 2).
  TextVectorizer t({.weighting = TextWeighting::tfidf, .hash_bits = 4});
  EXPECT_FALSE(t.fitted());
  EXPECT_THROW(t.transform(kCorpus), UsageError);
  const CsrMatrix y = t.fit_transform(kCorpus);
  std::vector<std::vector<double>> want_tfidf(3, std::vector<double>(16, 0.0));
  want_tfidf[0][4] = 0.38550292161010064, want_tfidf[0][11] = -0.5068900148458076,
  want_tfidf[0][14] = -0.7710058432202013;
  want_tfidf[1][4] = 0.5773502691896257, want_tfidf[1][5] = -0.5773502691896257,
  want_tfidf[1][14] = -0.5773502691896257;
  want_tfidf[2][1] = -0.5628290964997665, want_tfidf[2][5] = -0.4280460350631185, want_tfidf[2][7] = 0.4280460350631185,
  want_tfidf[2][13] = -0.5628290964997665;
  expect_dense_near(y, want_tfidf, 1e-7);
  EXPECT_EQ(std::vector<std::int32_t>(t.idf_columns().begin(), t.idf_columns().end()),
            (std::vector<std::int32_t>{1, 4, 5, 7, 11, 13, 14}));
}

TEST(TextVectorizer, JsonRoundTripGivesIdenticalRows) {
  const Strings other = {"a fantastic cat", "the the dog sat on a bird", "nothing known here"};
  for (const TextVectorizerOptions& o :
       {TextVectorizerOptions{.weighting = TextWeighting::tfidf},
        TextVectorizerOptions{.ngram_min = 1,
        .ngram_max = 2,
        .min_df = DfThreshold::fraction(0.2),
        .max_features = 7,
        .weighting = TextWeighting::binary},
        TextVectorizerOptions{
            .lowercase = false, .weighting = TextWeighting::tfidf, .sublinear_tf = true, .hash_bits = 6},
        TextVectorizerOptions{.hash_bits = 3, .alternate_sign = false}}) {
    TextVectorizer v(o);
    v.fit(kCorpus);
    const std::string text = v.to_json().dump();
    const TextVectorizer w = TextVectorizer::from_json(nlohmann::json::parse(text));
    EXPECT_EQ(w.options(), v.options());
    EXPECT_EQ(w.feature_names(), v.feature_names());
    for (const auto& term : v.feature_names()) EXPECT_EQ(w.column_of(term), v.column_of(term));
    EXPECT_EQ(w.num_documents(), 3);
    ASSERT_EQ(w.idf().size(), v.idf().size());
    for (std::size_t i = 0; i < v.idf().size(); ++i) EXPECT_EQ(w.idf()[i], v.idf()[i]);  // bit-exact
    const CsrMatrix a = v.transform(other), b = w.transform(other);
    EXPECT_EQ(a.indptr, b.indptr);
    EXPECT_EQ(a.indices, b.indices);
    EXPECT_EQ(a.values, b.values);
    EXPECT_EQ(w.to_json(), v.to_json());
  }
  // An unfitted vectorizer round-trips too, and stays unfitted.
  const TextVectorizer fresh = TextVectorizer::from_json(TextVectorizer().to_json());
  EXPECT_FALSE(fresh.fitted());
}

TEST(TextVectorizer, FromJsonNamesTheBadKey) {
  TextVectorizer v({.weighting = TextWeighting::tfidf});
  v.fit(kCorpus);
  const nlohmann::json good = v.to_json();
  const auto field_of = [](const nlohmann::json& j) -> std::string {
    try {
      (void)TextVectorizer::from_json(j);
    } catch (const Error& e) {
      return e.context().field;
    }
    return "(no error)";
  };
  EXPECT_EQ(field_of(good), "(no error)");
  auto j = good;
  j.erase("feature_names");
  EXPECT_EQ(field_of(j), "feature_names");
  j = good;
  j["type"] = "something else";
  EXPECT_EQ(field_of(j), "type");
  j = good;
  j["version"] = 99;
  EXPECT_EQ(field_of(j), "version");
  j = good;
  j["options"]["ngram_max"] = "two";
  EXPECT_EQ(field_of(j), "options.ngram_max");
  j = good;
  j["options"]["ngram_max"] = 0;
  EXPECT_EQ(field_of(j), "options.ngram_max");
  j = good;
  j["options"]["weighting"] = "bm25";
  EXPECT_EQ(field_of(j), "options.weighting");
  j = good;
  j["options"]["min_df"] = 2;
  EXPECT_EQ(field_of(j), "options.min_df");
  j = good;
  j["feature_names"][1] = "and";  // duplicate term
  EXPECT_EQ(field_of(j), "feature_names");
  j = good;
  j["idf"].erase(0);
  EXPECT_EQ(field_of(j), "idf");
  j = good;
  j["idf"][0] = -1.0;
  EXPECT_EQ(field_of(j), "idf");
  EXPECT_EQ(field_of(nlohmann::json::array()), "");
}

// ================================================================ LIBSVM

TEST(LibsvmRead, ClassificationWithCommentsQidAndBlankLines) {
  const std::string text =
      "# a header comment\n"
      "+1 1:0.5 3:-2 # trailing comment\n"
      "\n"
      "-1 qid:7 2:1e-3\t4:4\r\n"
      "+1\n"
      "   \n"
      "-1 4:0";  // no final newline; an explicit zero is kept
  const SparseDataset d = adakit::data::parse_libsvm(text, "mem.svm");
  ASSERT_EQ(d.size(), 4);
  EXPECT_TRUE(d.is_classification());
  EXPECT_EQ(d.class_names, (Strings{"-1", "+1"}));  // sorted by value, named by the file's text
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{1, 0, 1, 0}));
  EXPECT_EQ(d.features.cols, 4);
  EXPECT_EQ(d.features.indptr, (std::vector<std::int64_t>{0, 2, 4, 4, 5}));
  EXPECT_EQ(d.features.indices, (std::vector<std::int32_t>{0, 2, 1, 3, 3}));
  EXPECT_EQ(d.features.values, (std::vector<float>{0.5f, -2.0f, 1e-3f, 4.0f, 0.0f}));
  EXPECT_TRUE(d.features.is_canonical());

  // Integer labels beyond two classes; 1 and 1.0 and +1 are one class named by its first text.
  const SparseDataset m = adakit::data::parse_libsvm("3 1:1\n1.0 1:1\n+1 2:1\n-2 1:1\n", "m");
  EXPECT_EQ(m.class_names, (Strings{"-2", "1.0", "3"}));
  EXPECT_EQ(m.labels, (std::vector<std::int32_t>{2, 1, 1, 0}));
}

TEST(LibsvmRead, RegressionTaskAndNFeatures) {
  const std::string text = "0.5 1:1\n2 2:1\n-1.25 3:2\n";
  const SparseDataset r = adakit::data::parse_libsvm(text, "r");
  EXPECT_FALSE(r.is_classification());
  EXPECT_EQ(r.targets, (std::vector<float>{0.5f, 2.0f, -1.25f}));
  EXPECT_TRUE(r.labels.empty());

  LibsvmOptions o;
  o.task = LibsvmOptions::Task::classification;
  const SparseDataset c = adakit::data::parse_libsvm(text, "c", o);
  EXPECT_EQ(c.class_names, (Strings{"-1.25", "0.5", "2"}));
  o.task = LibsvmOptions::Task::regression;
  EXPECT_FALSE(adakit::data::parse_libsvm("1 1:1\n2 1:1\n", "r2", o).is_classification());

  LibsvmOptions wide;
  wide.n_features = 10;
  EXPECT_EQ(adakit::data::parse_libsvm(text, "w", wide).features.cols, 10);
  wide.n_features = 2;
  EXPECT_THROW(adakit::data::parse_libsvm(text, "w", wide), Error);
  wide.n_features = -1;
  EXPECT_THROW(adakit::data::parse_libsvm(text, "w", wide), UsageError);
}

TEST(LibsvmRead, EveryErrorNamesFileLineAndToken) {
  struct Case {
    std::string line;
    std::string token;  // quoted in what()
    std::string column;
  };
  const std::vector<Case> cases = {
      {"1 2:1 1:1", "'1:1'", "column 7"},                // decreasing index
      {"1 1:1 1:2", "'1:2'", "column 7"},                // repeated index
      {"1 0:1", "'0:1'", "column 3"},                    // 0 index (1-based format)
      {"1 -1:1", "'-1:1'", "column 3"},                  // negative index
      {"1 a:1", "'a:1'", "column 3"},                    // non-numeric index
      {"1 :1", "':1'", "column 3"},                      // empty index
      {"1 2147483648:1", "'2147483648:1'", "column 3"},  // above 2^31 - 1
      {"1 1:x", "'1:x'", "column 3"},                    // bad value
      {"1 1:", "'1:'", "column 3"},                      // empty value
      {"1 1:nan", "'1:nan'", "column 3"},                // non-finite value
      {"1 1:1e40", "'1:1e40'", "column 3"},              // out of float range
      {"1  17", "'17'", "column 4"},                     // no colon
      {"abc 1:1", "'abc'", "column 1"},                  // label not a number
      {"1:x 2:1", "'1:x'", "column 1"},                  // label:weight, weight not a number
      {"1:-2 2:1", "'1:-2'", "column 1"},                // negative weight
      {"1:inf 2:1", "'1:inf'", "column 1"},              // non-finite weight
      {"1 1:1 qid:3", "'qid:3'", "column 7"},            // qid after features
      {"1 qid:1 qid:2", "'qid:2'", "column 9"},          // second qid
      {"1 qid:x 1:1", "'qid:x'", "column 3"},            // qid not an integer
  };
  for (const auto& c : cases) {
    // Two good lines, a comment line, then the bad line: line 4.
    const std::string text = "1 1:1\n-1 2:1\n# comment\n" + c.line + "\n1 1:1\n";
    try {
      (void)adakit::data::parse_libsvm(text, "bad.svm");
      ADD_FAILURE() << "no error for: " << c.line;
    } catch (const UsageError& e) {
      ADD_FAILURE() << "UsageError for a data error: " << e.what();
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.context().file, "bad.svm") << c.line;
      EXPECT_EQ(e.context().line, 4) << c.line;
      EXPECT_EQ(e.context().field, c.column) << c.line;
      EXPECT_TRUE(contains(what, "bad.svm:4")) << what;
      EXPECT_TRUE(contains(what, c.token)) << what;
    }
  }
  for (const std::string empty : {"", "\n# only a comment\n   \n"}) {
    try {
      (void)adakit::data::parse_libsvm(empty, "empty.svm");
      ADD_FAILURE() << "no error for an empty file";
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "empty.svm")) << e.what();
    }
  }
}

TEST(LibsvmWrite, RoundTripThroughTextAndFile) {
  SparseDataset d;
  d.name = "toy";
  d.features.cols = 5;
  const std::vector<std::vector<std::int32_t>> idx = {{4, 0}, {}, {2, 2, 1}};
  const std::vector<std::vector<float>> val = {{0.1f, -3.0f}, {}, {1.0f, 0.5f, 1e-8f}};
  for (std::size_t r = 0; r < idx.size(); ++r) d.features.add_row(idx[r], val[r]);
  d.labels = {1, 0, 1};
  d.class_names = {"-1", "+1"};
  const std::string text = adakit::data::to_libsvm(d);
  EXPECT_EQ(text, "+1 1:-3 5:0.1\n-1\n+1 2:1e-08 3:1.5\n");

  TempDir dir;
  const fs::path path = dir / "toy.svm";
  adakit::data::write_libsvm(path, d);
  EXPECT_EQ(read_file(path), text);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 1);  // no temp file left
  LibsvmOptions o;
  o.n_features = 5;
  const SparseDataset back = adakit::data::read_libsvm(path, o);
  EXPECT_EQ(back.name, "toy");
  EXPECT_EQ(back.class_names, d.class_names);
  EXPECT_EQ(back.labels, d.labels);
  EXPECT_EQ(back.features.cols, 5);
  EXPECT_EQ(back.features.indptr, d.features.indptr);
  EXPECT_EQ(back.features.indices, d.features.indices);
  EXPECT_EQ(back.features.values, d.features.values);  // shortest round-trip text: bit-exact floats

  // Regression targets; non-canonical rows are canonicalized on the way out.
  SparseDataset r;
  r.features.rows = 1;
  r.features.cols = 3;
  r.features.indptr = {0, 2};
  r.features.indices = {2, 0};
  r.features.values = {2.0f, 1.0f};
  r.targets = {0.1f};
  EXPECT_EQ(adakit::data::to_libsvm(r), "0.1 1:1 3:2\n");
  const SparseDataset rb = adakit::data::parse_libsvm(adakit::data::to_libsvm(r), "r");
  EXPECT_EQ(rb.targets, r.targets);

  // Class names that are not numbers: written as class ids.
  d.class_names = {"neg", "pos"};
  EXPECT_EQ(adakit::data::to_libsvm(d), "1 1:-3 5:0.1\n0\n1 2:1e-08 3:1.5\n");
}

TEST(LibsvmWrite, ErrorsOnInconsistentDatasetsAndFiles) {
  SparseDataset d;
  d.features.cols = 2;
  const std::vector<std::int32_t> idx = {0};
  const std::vector<float> val = {1.0f};
  d.features.add_row(idx, val);
  d.labels = {2};
  d.class_names = {"0", "1"};
  EXPECT_THROW(adakit::data::to_libsvm(d), UsageError);  // label outside the class names
  d.labels = {0, 1};
  EXPECT_THROW(adakit::data::to_libsvm(d), UsageError);  // two labels, one row
  d.labels = {0};
  EXPECT_THROW(adakit::data::write_libsvm("/nonexistent-dir/x.svm", d), Error);
  try {
    (void)adakit::data::read_libsvm("/nonexistent-dir/x.svm");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent-dir/x.svm")) << e.what();
  }
  // A file's errors name its path and line.
  TempDir dir;
  write_file(dir / "bad.svm", "1 1:1\n1 2:1 2:3\n");
  try {
    (void)adakit::data::read_libsvm(dir / "bad.svm");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), (dir / "bad.svm").string() + ":2")) << e.what();
    EXPECT_TRUE(contains(e.what(), "'2:3'")) << e.what();
  }
}

// ================================================================ label<TAB>text files

TEST(TextTsv, ReadsLabelsAndTexts) {
  const std::string text =
      "\xEF\xBB\xBFpos\tGreat film!\r\n"
      "\n"
      " neg \tBoring\tand long\n"  // label trimmed; later tabs belong to the text
      "pos\t\n";                   // an empty text is allowed
  const TextDataset d = adakit::data::parse_text_tsv(text, "mem.tsv");
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.class_names, (Strings{"neg", "pos"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{1, 0, 1}));
  EXPECT_EQ(d.texts, (Strings{"Great film!", "Boring\tand long", ""}));
}

TEST(TextTsv, ErrorsNameFileAndLine) {
  const auto error_of = [](const std::string& text) -> Error {
    try {
      (void)adakit::data::parse_text_tsv(text, "t.tsv");
    } catch (const Error& e) {
      return e;
    }
    return Error("(no error)");
  };
  Error e = error_of("pos\tok\n\nno tab here\n");
  EXPECT_EQ(e.context().line, 3);
  EXPECT_TRUE(contains(e.what(), "t.tsv:3")) << e.what();
  EXPECT_TRUE(contains(e.what(), "tab")) << e.what();
  e = error_of("pos\tok\n  \ttext without a label\n");
  EXPECT_EQ(e.context().line, 2);
  EXPECT_TRUE(contains(e.what(), "empty label")) << e.what();
  e = error_of("\n\n");
  EXPECT_TRUE(contains(e.what(), "t.tsv")) << e.what();
  EXPECT_NE(e.message(), "(no error)");

  TempDir dir;
  write_file(dir / "x.tsv", "a\tb\nbroken\n");
  try {
    (void)adakit::data::read_text_tsv(dir / "x.tsv");
    FAIL() << "expected Error";
  } catch (const Error& err) {
    EXPECT_TRUE(contains(err.what(), (dir / "x.tsv").string() + ":2")) << err.what();
  }
  write_file(dir / "y.tsv", "b\tsecond\na\tfirst\n");
  const TextDataset y = adakit::data::read_text_tsv(dir / "y.tsv");
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(y.class_names, (Strings{"a", "b"}));
}

TEST(TextBuiltin, SentimentTinyIsBundled) {
  const TextDataset d = adakit::data::load_text_builtin("sentiment-tiny");
  EXPECT_EQ(d.name, "sentiment-tiny");
  EXPECT_EQ(d.texts, (Strings{"I love this movie", "This film was great", "What a fantastic experience",
                              "I hated this movie", "This was a terrible film", "What an awful experience"}));
  EXPECT_EQ(d.class_names, (Strings{"negative", "positive"}));
  EXPECT_EQ(d.labels, (std::vector<std::int32_t>{1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(adakit::data::text_builtin_names().size(), 1u);
  EXPECT_THROW(adakit::data::load_text_builtin("no-such-texts"), UsageError);

  // The tutorial's pipeline: tf-idf over the six sentences ("I" and "a" are dropped as single characters).
  TextVectorizer v({.weighting = TextWeighting::tfidf});
  const CsrMatrix x = v.fit_transform(d.texts);
  EXPECT_EQ(x.rows, 6);
  EXPECT_EQ(v.feature_names(), (Strings{"an", "awful", "experience", "fantastic", "film", "great", "hated", "love",
                                        "movie", "terrible", "this", "was", "what"}));
  for (std::int64_t r = 0; r < x.rows; ++r) {
    double sq = 0.0;
    for (float value : x.row_values(r)) sq += static_cast<double>(value) * value;
    EXPECT_NEAR(sq, 1.0, 1e-6);
  }
}

TEST(TextBuiltin, DataDirIsSearchedFirst) {
  TempDir dir;
  write_file(dir / "sentiment-tiny.tsv", "positive\tonly one line\n");
  const TextDataset d = adakit::data::load_text_builtin("sentiment-tiny", dir.path());
  EXPECT_EQ(d.texts, (Strings{"only one line"}));
  EXPECT_EQ(d.name, "sentiment-tiny");
}

}  // namespace
