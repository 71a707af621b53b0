// BucketTerms: the n-grams behind a hashed vectorizer's columns, collected, merged, checked and stored.
#include "adakit/data/bucket_terms.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "adakit/core/error.hpp"
#include "adakit/data/hashing.hpp"

namespace adakit::data {
namespace {

struct Entry {
  std::int32_t column;
  std::int64_t count;
  std::string term;
};

// The order of a table: by column, then the most frequent first, ties in byte order.
bool table_order(const Entry& a, const Entry& b) {
  if (a.column != b.column) return a.column < b.column;
  if (a.count != b.count) return a.count > b.count;
  return a.term < b.term;
}

// Entries sorted by table_order, at most per_bucket kept per column, as tables.
BucketTerms::Tables build(std::vector<Entry>& entries, std::int32_t per_bucket) {
  std::sort(entries.begin(), entries.end(), table_order);
  BucketTerms::Tables t;
  t.per_bucket = per_bucket;
  t.term_offsets.push_back(0);
  std::int32_t in_bucket = 0;
  for (const Entry& e : entries) {
    if (t.columns.empty() || t.columns.back() != e.column) {
      t.columns.push_back(e.column);
      t.starts.push_back(static_cast<std::int64_t>(t.counts.size()));
      in_bucket = 0;
    }
    if (in_bucket++ >= per_bucket) continue;
    t.terms += e.term;
    t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
    t.counts.push_back(e.count);
  }
  t.starts.push_back(static_cast<std::int64_t>(t.counts.size()));
  return t;
}

void check_per_bucket(std::int32_t per_bucket, const char* field) {
  if (per_bucket < 1 || per_bucket > kMaxBucketTermsPerBucket)
    throw UsageError("terms kept per bucket must be in [1, " + std::to_string(kMaxBucketTermsPerBucket) + "], got " +
                         std::to_string(per_bucket),
                     {"", 0, field});
}

[[noreturn]] void bad(const std::string& field, const std::string& what) {
  throw Error("bucket terms: " + what, {"", 0, field});
}

}  // namespace

BucketTerms BucketTerms::collect(const TextVectorizer& v, std::span<const std::string> texts, std::int32_t per_bucket) {
  if (v.options().hash_bits == 0)
    throw UsageError("bucket terms name the columns of a hashed text model (--hash-bits); a vocabulary names its own",
                     {"", 0, "keep-bucket-names"});
  check_per_bucket(per_bucket, "per_bucket");
  std::unordered_map<std::string, std::int64_t> counts;
  for (const auto& text : texts)
    for (auto& term : v.analyze(text)) ++counts[std::move(term)];
  const std::int64_t n = v.num_features();
  std::vector<Entry> entries;
  entries.reserve(counts.size());
  while (!counts.empty()) {
    auto node = counts.extract(counts.begin());
    const std::int32_t column = hash_feature(node.key(), n, v.options().alternate_sign).column;
    entries.push_back({column, node.mapped(), std::move(node.key())});
  }
  BucketTerms out;
  out.t_ = build(entries, per_bucket);
  return out;
}

BucketTerms BucketTerms::merged(const BucketTerms& other) const {
  std::vector<Entry> entries;
  entries.reserve(static_cast<std::size_t>(num_terms() + other.num_terms()));
  for (const BucketTerms* table : {this, &other}) {
    const Tables& t = table->t_;
    for (std::size_t b = 0; b < t.columns.size(); ++b)
      for (std::int64_t i = t.starts[b]; i < t.starts[b + 1]; ++i)
        entries.push_back({t.columns[b], t.counts[static_cast<std::size_t>(i)], std::string(table->term(i))});
  }
  // Sum the counts of a term both tables hold (same column, same bytes).
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.column != b.column ? a.column < b.column : a.term < b.term; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (out > 0 && entries[out - 1].column == entries[i].column && entries[out - 1].term == entries[i].term)
      entries[out - 1].count += entries[i].count;
    else if (out++ != i)
      entries[out - 1] = std::move(entries[i]);
  }
  entries.resize(out);
  BucketTerms result;
  result.t_ = build(entries, std::max(per_bucket(), other.per_bucket()));
  return result;
}

std::string_view BucketTerms::term(std::int64_t t) const {
  const auto i = static_cast<std::size_t>(t);
  return std::string_view(t_.terms).substr(static_cast<std::size_t>(t_.term_offsets[i]),
                                           static_cast<std::size_t>(t_.term_offsets[i + 1] - t_.term_offsets[i]));
}

std::vector<BucketTerm> BucketTerms::of(std::int64_t column) const {
  std::vector<BucketTerm> out;
  const auto it = std::lower_bound(t_.columns.begin(), t_.columns.end(), column);
  if (it == t_.columns.end() || *it != column) return out;
  const auto b = static_cast<std::size_t>(it - t_.columns.begin());
  for (std::int64_t i = t_.starts[b]; i < t_.starts[b + 1]; ++i) out.push_back({term(i), t_.counts[static_cast<std::size_t>(i)]});
  return out;
}

BucketTerms BucketTerms::from_tables(Tables t, const TextVectorizer& v) {
  if (v.options().hash_bits == 0) bad("columns", "a vocabulary model names its columns; bucket terms belong to a hashed one");
  if (t.per_bucket < 1 || t.per_bucket > kMaxBucketTermsPerBucket)
    bad("per_bucket", "must be in [1, " + std::to_string(kMaxBucketTermsPerBucket) + "], got " + std::to_string(t.per_bucket));
  const std::int64_t n = v.num_features();
  for (std::size_t b = 0; b < t.columns.size(); ++b)
    if (t.columns[b] < 0 || t.columns[b] >= n || (b > 0 && t.columns[b] <= t.columns[b - 1]))
      bad("columns", "columns must be increasing and in [0, " + std::to_string(n) + ")");
  const auto terms = static_cast<std::int64_t>(t.counts.size());
  if (t.starts.size() != t.columns.size() + 1 || t.starts.front() != 0 || t.starts.back() != terms)
    bad("starts", "expected " + std::to_string(t.columns.size() + 1) + " starts from 0 to the " + std::to_string(terms) +
                      " terms");
  for (std::size_t b = 0; b < t.columns.size(); ++b) {
    const std::int64_t k = t.starts[b + 1] - t.starts[b];
    if (k < 1 || k > t.per_bucket)
      bad("starts", "column " + std::to_string(t.columns[b]) + " has " + std::to_string(k) + " terms, expected 1 to " +
                        std::to_string(t.per_bucket));
  }
  const auto& off = t.term_offsets;
  if (off.size() != t.counts.size() + 1 || off.front() != 0 || off.back() != static_cast<std::int64_t>(t.terms.size()))
    bad("term_offsets", "expected " + std::to_string(terms + 1) + " offsets from 0 to the " +
                            std::to_string(t.terms.size()) + " bytes of the terms");
  for (std::size_t i = 0; i + 1 < off.size(); ++i)
    if (off[i + 1] <= off[i]) bad("term_offsets", "offsets must increase (term " + std::to_string(i) + " is empty)");
  BucketTerms out;
  out.t_ = std::move(t);
  const Tables& s = out.t_;
  for (std::size_t b = 0; b < s.columns.size(); ++b) {
    for (std::int64_t i = s.starts[b]; i < s.starts[b + 1]; ++i) {
      const std::string_view term = out.term(i);
      const std::int64_t count = s.counts[static_cast<std::size_t>(i)];
      if (!is_valid_utf8(term)) bad("terms", "term " + std::to_string(i) + " is not UTF-8");
      if (hash_feature(term, n, v.options().alternate_sign).column != s.columns[b])
        bad("terms", "term '" + std::string(term) + "' does not hash to column " + std::to_string(s.columns[b]));
      if (count < 1) bad("counts", "counts must be at least 1");
      if (i > s.starts[b]) {
        const std::int64_t before = s.counts[static_cast<std::size_t>(i - 1)];
        if (count > before || (count == before && out.term(i - 1) >= term))
          bad("counts", "column " + std::to_string(s.columns[b]) +
                            ": terms must come most frequent first, ties in byte order, each once");
      }
    }
  }
  return out;
}

nlohmann::json BucketTerms::to_json() const {
  nlohmann::json terms = nlohmann::json::array(), counts = nlohmann::json::array();
  for (std::size_t b = 0; b < t_.columns.size(); ++b) {
    nlohmann::json tb = nlohmann::json::array(), cb = nlohmann::json::array();
    for (std::int64_t i = t_.starts[b]; i < t_.starts[b + 1]; ++i) {
      tb.push_back(std::string(term(i)));
      cb.push_back(t_.counts[static_cast<std::size_t>(i)]);
    }
    terms.push_back(std::move(tb));
    counts.push_back(std::move(cb));
  }
  return {{"per_bucket", t_.per_bucket}, {"columns", t_.columns}, {"terms", std::move(terms)}, {"counts", std::move(counts)}};
}

BucketTerms BucketTerms::from_json(const nlohmann::json& j, const TextVectorizer& v) {
  if (!j.is_object()) bad("", "expected an object");
  for (const char* key : {"per_bucket", "columns", "terms", "counts"})
    if (!j.contains(key)) bad(key, "missing");
  Tables t;
  if (!j["per_bucket"].is_number_integer()) bad("per_bucket", "expected an integer");
  const auto per = j["per_bucket"].get<std::int64_t>();
  t.per_bucket = static_cast<std::int32_t>(std::clamp<std::int64_t>(per, -1, kMaxBucketTermsPerBucket + 1));  // checked below
  const auto& columns = j["columns"];
  const auto& terms = j["terms"];
  const auto& counts = j["counts"];
  if (!columns.is_array()) bad("columns", "expected an array of integers");
  if (!terms.is_array() || terms.size() != columns.size()) bad("terms", "expected one array of strings per column");
  if (!counts.is_array() || counts.size() != columns.size()) bad("counts", "expected one array of integers per column");
  t.term_offsets.push_back(0);
  for (std::size_t b = 0; b < columns.size(); ++b) {
    const auto& c = columns[b];
    if (!c.is_number_integer() || c.get<std::int64_t>() < 0 || c.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max())
      bad("columns", "expected integers in [0, 2^31)");
    t.columns.push_back(static_cast<std::int32_t>(c.get<std::int64_t>()));
    t.starts.push_back(static_cast<std::int64_t>(t.counts.size()));
    const auto& tb = terms[b];
    const auto& cb = counts[b];
    if (!tb.is_array()) bad("terms", "expected one array of strings per column");
    if (!cb.is_array() || cb.size() != tb.size()) bad("counts", "expected one count per term");
    for (std::size_t i = 0; i < tb.size(); ++i) {
      if (!tb[i].is_string()) bad("terms", "expected strings");
      if (!cb[i].is_number_integer()) bad("counts", "expected integers");
      t.terms += tb[i].get_ref<const std::string&>();
      t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
      t.counts.push_back(cb[i].get<std::int64_t>());
    }
  }
  t.starts.push_back(static_cast<std::int64_t>(t.counts.size()));
  return from_tables(std::move(t), v);
}

}  // namespace adakit::data
