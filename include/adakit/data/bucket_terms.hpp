// The terms behind a hashed text model's columns (adakit train --keep-bucket-names). The hashing trick
// keeps no vocabulary, so a hashed model's weights name no term; this table, collected from the
// training texts in one extra pass over them (no retraining), keeps for each column ("bucket") the
// n-grams that hashed there, the most frequent first, at most per_bucket of them (kBucketTermsPerBucket
// = 4 by default). Vowpal Wabbit's --invert_hash records the same names, but during a training pass.
//
// A column that no collected text reached has no entry. A term's sign (alternate_sign) is not stored:
// hash_feature gives it again.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/text.hpp"

namespace adakit::data {

inline constexpr std::int32_t kBucketTermsPerBucket = 4;
inline constexpr std::int32_t kMaxBucketTermsPerBucket = 1024;

struct BucketTerm {
  std::string_view term;  // a view into the table
  std::int64_t count;     // occurrences in the collected texts
};

class BucketTerms {
 public:
  // The stored form (io/linear_model.hpp keeps these arrays as they are).
  struct Tables {
    std::int32_t per_bucket = kBucketTermsPerBucket;
    std::vector<std::int32_t> columns;       // the columns with terms, increasing
    std::vector<std::int64_t> starts;        // columns + 1: column i's terms are [starts[i], starts[i + 1])
    std::string terms;                       // every term's UTF-8 bytes, end to end
    std::vector<std::int64_t> term_offsets;  // terms + 1: term t is bytes [term_offsets[t], term_offsets[t + 1])
    std::vector<std::int64_t> counts;        // one per term
  };

  BucketTerms() = default;

  // Counts every term (TextVectorizer::analyze) of `texts` and keeps, for each column, the per_bucket
  // terms that occur most often (ties: byte order). O(distinct terms) memory, as fitting a vocabulary.
  // UsageError naming "keep-bucket-names" unless `v` hashes, "per_bucket" outside [1, 1024].
  static BucketTerms collect(const TextVectorizer& v, std::span<const std::string> texts,
                             std::int32_t per_bucket = kBucketTermsPerBucket);
  // This table's and `other`'s counts summed term by term, then the per_bucket most frequent kept per
  // column (a term that one table had dropped counts only the other's occurrences). Both of one
  // vectorizer; the result keeps the larger per_bucket.
  BucketTerms merged(const BucketTerms& other) const;

  std::int32_t per_bucket() const { return t_.per_bucket; }
  std::int64_t num_buckets() const { return static_cast<std::int64_t>(t_.columns.size()); }
  std::int64_t num_terms() const { return static_cast<std::int64_t>(t_.counts.size()); }
  bool empty() const { return t_.columns.empty(); }
  // The terms of `column`, most frequent first (ties: byte order); empty when none was kept. O(log buckets).
  std::vector<BucketTerm> of(std::int64_t column) const;
  const Tables& tables() const { return t_; }

  // A stored table, checked against the model's vectorizer: Error naming the field ("per_bucket",
  // "columns", "starts", "terms", "term_offsets", "counts") on a table that this class would not
  // have written: a vectorizer that does not hash, columns not increasing or outside the vectorizer's,
  // a bucket with no term or more than per_bucket, offsets out of order, a term that is empty, not
  // UTF-8 or hashes to another column, counts below 1 or out of order. O(terms) hashes.
  static BucketTerms from_tables(Tables tables, const TextVectorizer& v);
  // {"per_bucket": 4, "columns": [...], "terms": [["t1", ...], ...], "counts": [[n1, ...], ...]}
  nlohmann::json to_json() const;
  static BucketTerms from_json(const nlohmann::json& j, const TextVectorizer& v);

 private:
  std::string_view term(std::int64_t t) const;
  Tables t_;
};

}  // namespace adakit::data
