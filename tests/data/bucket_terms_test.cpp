// data/bucket_terms.hpp: the terms of each hashed column, collected from texts (counts and the cap per
// bucket against a brute-force count), merged (equal to collecting both corpora at once), stored as
// JSON and tables, and every malformed table refused with the field named.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/bucket_terms.hpp"
#include "adakit/data/hashing.hpp"

namespace {
using namespace adakit;
using data::BucketTerms;

data::TextVectorizer hashed(std::int32_t bits, std::int32_t ngram_max = 1) {
  data::TextVectorizerOptions o;
  o.hash_bits = bits;
  o.ngram_max = ngram_max;
  return data::TextVectorizer(o);
}

// (term, count) of a column, as stored.
std::vector<std::pair<std::string, std::int64_t>> at(const BucketTerms& b, std::int64_t column) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& t : b.of(column)) out.emplace_back(std::string(t.term), t.count);
  return out;
}

const std::vector<std::string> kCorpus = {"aa bb aa", "cc aa dd ee ff", "gg hh ii jj kk aa bb", "ll mm nn oo pp qq bb"};

TEST(BucketTerms, KeepsTheMostFrequentTermsOfEachColumn) {
  const auto v = hashed(1);  // 2 columns: every bucket over-full
  const BucketTerms b = BucketTerms::collect(v, kCorpus, 2);
  // Brute force: count every token, group by hash column, sort by count then bytes, keep 2.
  std::map<std::string, std::int64_t> counts;
  for (const auto& text : kCorpus)
    for (const auto& t : data::tokenize(text)) ++counts[t];
  std::map<std::int64_t, std::vector<std::pair<std::string, std::int64_t>>> want;
  for (const auto& [t, n] : counts) want[data::hash_feature(t, 2).column].emplace_back(t, n);
  EXPECT_EQ(counts["aa"], 4);
  EXPECT_EQ(counts["bb"], 3);
  for (auto& [column, terms] : want) {
    std::stable_sort(terms.begin(), terms.end(), [](const auto& a, const auto& c) { return a.second > c.second; });
    terms.resize(std::min<std::size_t>(terms.size(), 2));
    EXPECT_EQ(at(b, column), terms) << column;
  }
  EXPECT_EQ(b.num_buckets(), static_cast<std::int64_t>(want.size()));
  EXPECT_EQ(b.per_bucket(), 2);
  EXPECT_TRUE(b.of(5).empty());
  EXPECT_THROW(BucketTerms::collect(v, kCorpus, 0), UsageError);
  data::TextVectorizer vocabulary{data::TextVectorizerOptions{}};
  vocabulary.fit(kCorpus);
  EXPECT_THROW(BucketTerms::collect(vocabulary, kCorpus), UsageError);
}

TEST(BucketTerms, MergedEqualsCollectingBothCorpora) {
  const auto v = hashed(3, 2);
  const std::vector<std::string> a(kCorpus.begin(), kCorpus.begin() + 2), b(kCorpus.begin() + 2, kCorpus.end());
  // Without a cap that drops terms, merging is exact.
  const auto merged = BucketTerms::collect(v, a, 1024).merged(BucketTerms::collect(v, b, 1024));
  const auto both = BucketTerms::collect(v, kCorpus, 1024);
  EXPECT_EQ(merged.to_json(), both.to_json());
  // With the cap, every bucket keeps at most per_bucket terms, most frequent first.
  const auto capped = BucketTerms::collect(v, a).merged(BucketTerms::collect(v, b));
  for (std::int64_t c = 0; c < 8; ++c) {
    const auto terms = at(capped, c);
    EXPECT_LE(terms.size(), 4u);
    for (std::size_t i = 1; i < terms.size(); ++i) EXPECT_GE(terms[i - 1].second, terms[i].second);
  }
  EXPECT_EQ(at(capped, data::hash_feature("aa", 8).column).front(), (std::pair<std::string, std::int64_t>{"aa", 4}));
}

TEST(BucketTerms, RoundTripsThroughJsonAndTables) {
  const auto v = hashed(4, 2);
  const auto b = BucketTerms::collect(v, kCorpus);
  const auto again = BucketTerms::from_json(b.to_json(), v);
  EXPECT_EQ(again.to_json(), b.to_json());
  const auto from_tables = BucketTerms::from_tables(b.tables(), v);
  EXPECT_EQ(from_tables.to_json(), b.to_json());
  const auto j = b.to_json();
  EXPECT_EQ(j["per_bucket"], 4);
  EXPECT_EQ(j["columns"].size(), j["terms"].size());
}

// A malformed table is refused, naming its field.
TEST(BucketTerms, RefusesMalformedTables) {
  const auto v = hashed(4);
  const auto good = BucketTerms::collect(v, kCorpus).tables();
  ASSERT_GE(good.columns.size(), 2u);
  const auto field_of = [&](const BucketTerms::Tables& t, const data::TextVectorizer& vec) -> std::string {
    try {
      BucketTerms::from_tables(t, vec);
    } catch (const Error& e) {
      return e.context().field;
    }
    return "(accepted)";
  };
  EXPECT_EQ(field_of(good, v), "(accepted)");
  auto t = good;
  t.per_bucket = 0;
  EXPECT_EQ(field_of(t, v), "per_bucket");
  t = good;
  std::swap(t.columns[0], t.columns[1]);
  EXPECT_EQ(field_of(t, v), "columns");
  t = good;
  t.columns.back() = 16;  // outside 2^4 columns
  EXPECT_EQ(field_of(t, v), "columns");
  t = good;
  t.starts.pop_back();
  EXPECT_EQ(field_of(t, v), "starts");
  t = good;
  t.term_offsets[1] = 0;  // an empty first term
  EXPECT_EQ(field_of(t, v), "term_offsets");
  t = good;
  {  // the first term replaced by one that hashes to another column
    std::vector<std::string> terms;
    for (std::size_t i = 0; i + 1 < t.term_offsets.size(); ++i)
      terms.push_back(t.terms.substr(static_cast<std::size_t>(t.term_offsets[i]),
                                     static_cast<std::size_t>(t.term_offsets[i + 1] - t.term_offsets[i])));
    for (int k = 0; data::hash_feature(terms[0], 16).column == t.columns[0]; ++k) terms[0] = "other" + std::to_string(k);
    t.terms.clear();
    t.term_offsets = {0};
    for (const auto& s : terms) {
      t.terms += s;
      t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
    }
  }
  EXPECT_EQ(field_of(t, v), "terms");
  t = good;
  t.terms[0] = '\xff';
  EXPECT_EQ(field_of(t, v), "terms");  // not UTF-8
  t = good;
  t.counts[0] = 0;
  EXPECT_EQ(field_of(t, v), "counts");
  // A bucket of two terms listed least frequent first.
  t = good;
  for (std::size_t b = 0; b < t.columns.size(); ++b)
    if (t.starts[b + 1] - t.starts[b] >= 2) {
      const auto i = static_cast<std::size_t>(t.starts[b]);
      t.counts[i] = 1;
      t.counts[i + 1] = 5;
      break;
    }
  EXPECT_EQ(field_of(t, v), "counts");
  data::TextVectorizer vocabulary{data::TextVectorizerOptions{}};
  vocabulary.fit(kCorpus);
  EXPECT_EQ(field_of(good, vocabulary), "columns");
  // JSON: wrong types name the key.
  auto j = BucketTerms::collect(v, kCorpus).to_json();
  j["counts"][0][0] = "x";
  try {
    BucketTerms::from_json(j, v);
    FAIL() << "a count that is a string";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "counts");
  }
}

}  // namespace
