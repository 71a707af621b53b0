// Text features: UTF-8 lower-casing and tokenisation as scikit-learn's default analyzer, word n-grams,
// TextVectorizer (counts, binary, tf-idf; a vocabulary or the hashing trick) and the `label<TAB>text`
// reader with the bundled text datasets.
//
// The analyzer matches scikit-learn's CountVectorizer / TfidfVectorizer defaults: str.lower(), then the
// token pattern (?u)\b\w\w+\b (every maximal run of 2 or more word characters), then word n-grams
// joined by one space. Column order is the sorted order of the terms (UTF-8 bytes, which is code point
// order, as Python sorts str).
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adakit/data/sparse.hpp"

namespace adakit::data {

// ---------------------------------------------------------------- UTF-8 and tokens

// Lower-cases UTF-8 text as Python's str.lower() does for these blocks (checked code point by code point
// against CPython 3.11 / Unicode 14): ASCII, Latin-1 Supplement, Latin Extended-A and -B, Greek and
// Coptic (with Python's final sigma: capital sigma after a cased letter and not before one, skipping
// case-ignorable marks, apostrophes and stops, becomes U+03C2),
// Cyrillic, Cyrillic Supplement and Extended-B, Armenian, Georgian, Latin Extended Additional, Glagolitic,
// the Ohm / Kelvin / Angstrom signs, Roman numerals, circled Latin letters, fullwidth Latin, Deseret,
// Adlam. U+0130 (capital I with dot) becomes "i" + U+0307, as in Python. Other code points are copied
// unchanged (Python would lower e.g. Greek Extended, Cherokee, Latin Extended-C/D, Coptic, Osage).
// Bytes that are not valid UTF-8 (stray continuation bytes, overlong forms, surrogates, code points
// above U+10FFFF, truncated sequences) are copied unchanged.
std::string to_lower_utf8(std::string_view text);
// Whether `text` is well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates, code
// points above U+10FFFF or truncated sequences (the decoder the analyzer uses).
bool is_valid_utf8(std::string_view text);

// Whether a code point is a word character (\w): ASCII letters, digits and '_'; every non-ASCII code
// point except a table of punctuation, symbol, space, control, format, combining-mark and private-use
// ranges (Latin-1 punctuation and signs, General Punctuation, currency, arrows, mathematical operators,
// box drawing, shapes, dingbats, CJK and fullwidth punctuation, emoji, ...). Checked against Python's \w
// (str.isalnum() or '_') on Unicode 14: equal for every assigned code point below U+06FD; over all
// 144,000-odd assigned code points it differs on about 3,000, mostly combining marks of South and
// Southeast Asian scripts (word characters here: Indic words stay whole where Python splits them) and
// symbols outside the listed blocks. Unassigned code points count as word characters.
bool is_word_code_point(char32_t cp);

// The tokens of a text: every maximal run of at least 2 word characters, in order. Lower-cased first
// (to_lower_utf8) when `lowercase`. Invalid UTF-8 bytes separate tokens; tokens are valid UTF-8.
std::vector<std::string> tokenize(std::string_view text, bool lowercase = true);

// Word n-grams as scikit-learn: all n-grams for n = min_n, then min_n + 1, ... up to max_n, each the
// tokens joined by one space, in text order. UsageError unless 1 <= min_n <= max_n.
std::vector<std::string> word_ngrams(std::span<const std::string> tokens, std::int32_t min_n, std::int32_t max_n);

// ---------------------------------------------------------------- TextVectorizer

enum class TextWeighting {
  count,   // raw term counts (CountVectorizer)
  binary,  // 1 where a term occurs (CountVectorizer(binary=True))
  tfidf,   // tf * idf, then each row scaled to unit l2 norm (TfidfVectorizer defaults)
};
// "count" | "binary" | "tfidf" (the names the model files use).
const char* to_string(TextWeighting w);

// A document-frequency bound: an absolute document count, or a fraction of the documents (scikit-learn's
// int versus float min_df / max_df).
struct DfThreshold {
  double value = 1.0;
  bool is_fraction = false;
  static DfThreshold count(std::int64_t n) { return {static_cast<double>(n), false}; }
  static DfThreshold fraction(double f) { return {f, true}; }
  // The bound in documents for a corpus of n documents (value, or value * n).
  double documents(std::int64_t n) const { return is_fraction ? value * static_cast<double>(n) : value; }
  bool operator==(const DfThreshold&) const = default;
};

struct TextVectorizerOptions {
  bool lowercase = true;
  std::int32_t ngram_min = 1;
  std::int32_t ngram_max = 1;
  // Keep terms whose document frequency df satisfies min_df <= df <= max_df (in documents). Vocabulary only.
  DfThreshold min_df = DfThreshold::count(1);
  DfThreshold max_df = DfThreshold::fraction(1.0);
  // Keep at most this many terms (0 = all): the highest corpus frequency (sum over documents of the term's
  // count; its document frequency under binary weighting, as scikit-learn), ties to the smaller term.
  // Applied after min_df / max_df. Vocabulary only.
  std::int64_t max_features = 0;
  TextWeighting weighting = TextWeighting::count;
  // tf-idf: idf = ln((1 + n) / (1 + df)) + 1 with smooth_idf, else ln(n / df) + 1 (n documents).
  bool smooth_idf = true;
  // tf-idf: tf = 1 + ln(tf) instead of the raw count (sign kept for hashed negative counts).
  bool sublinear_tf = false;
  // 0: a vocabulary learnt by fit. N in [1, 31]: 2^N columns, no vocabulary (hash_feature in hashing.hpp:
  // column |h| mod 2^N of the signed MurmurHash3 h of the term's UTF-8 bytes, seed 0, as scikit-learn's
  // HashingVectorizer); counts of colliding terms add up (with their signs).
  std::int32_t hash_bits = 0;
  // Hashing only: a term whose signed hash is negative counts -1 (scikit-learn's alternate_sign). As in
  // scikit-learn, a column that terms of opposite signs reach with a zero sum still counts in the
  // document frequency and is 1 under binary weighting (count / tf-idf store nothing there).
  bool alternate_sign = true;

  // UsageError naming the field: ngram range, thresholds (count >= 0 and integral, fraction in [0, 1]),
  // max_features >= 0, hash_bits in [0, 31], min_df / max_df / max_features set together with hash_bits.
  void validate() const;
  bool operator==(const TextVectorizerOptions&) const = default;
};

class TextVectorizer {
 public:
  TextVectorizer() = default;
  explicit TextVectorizer(TextVectorizerOptions options);  // validates

  const TextVectorizerOptions& options() const { return options_; }

  // The terms of one text: tokens (lower-cased when the option says so) and their n-grams.
  std::vector<std::string> analyze(std::string_view text) const;

  // Learns the vocabulary (and idf for tf-idf). Hashing needs fit only for tf-idf (the idf); count and
  // binary hashing are stateless. UsageError on no documents; Error when no term is found or none
  // survives min_df / max_df, or when max_df is below min_df in documents.
  void fit(std::span<const std::string> texts);
  // One row per text, num_features() columns, canonical rows. Terms outside the vocabulary are ignored.
  // UsageError when fit is needed and has not run.
  CsrMatrix transform(std::span<const std::string> texts) const;
  CsrMatrix fit_transform(std::span<const std::string> texts);

  // Vocabulary growth (adakit train --init-model, --data -, adakit serve --learn). True for a fitted
  // vocabulary that keeps every term it sees (count or binary weighting without min_df / max_df /
  // max_features pruning) and for count or binary hashing (whose columns never change). A tf-idf
  // vectorizer keeps its terms and idf as first fitted (new documents would change every idf), a
  // pruned vocabulary stays as pruned.
  bool can_grow() const;
  // Adds the terms of `texts` that the vocabulary lacks, each at its place in sorted order, and counts
  // the texts in num_documents(): the vectorizer is then the one fit() gives over every text seen,
  // whatever the order they came in. Returns the new column of each old column (increasing), or
  // empty when no term was added (always, when hashing). UsageError unless can_grow().
  std::vector<std::int64_t> grow(std::span<const std::string> texts);

  // Vocabulary: fitted by fit. Hashing: true unless tf-idf needs fit.
  bool fitted() const;
  // Columns: the vocabulary size (0 before fit), or 2^hash_bits.
  std::int64_t num_features() const;
  std::int64_t num_documents() const { return num_documents_; }  // of the fit corpus
  // The column of a vocabulary term, or -1 (always -1 when hashing). O(1): an open-addressing index
  // of column ids over the terms' bytes, so that loading a vocabulary allocates no string per term.
  std::int32_t column_of(std::string_view term) const;
  // The term of column c of the vocabulary (c in [0, num_features()); not when hashing).
  std::string_view feature_name(std::int64_t c) const;
  // The term of each column, copied out (empty when hashing).
  std::vector<std::string> feature_names() const;
  // Each column's training shard for a linear model (LinearModel::set_feature_shards): its term's MurmurHash3
  // (data/hashing.hpp) mod 2, so that a column keeps its shard when the vocabulary grows and renumbers it. Empty
  // when hashing (the columns are never renumbered: the model's default by id holds).
  std::vector<std::uint8_t> feature_shards() const;
  // The vocabulary as stored: the terms in column order end to end, and num_features() + 1 offsets
  // (term c is bytes [offsets[c], offsets[c + 1]); empty when hashing).
  const std::string& terms() const { return terms_; }
  std::span<const std::int64_t> term_offsets() const { return term_offsets_; }
  // tf-idf after fit: idf of each column (vocabulary), or of each column in idf_columns() (hashing; a column
  // that no fitted document reaches has idf ln(1 + n) + 1, or ln(n) + 1 without smooth_idf). Else empty.
  std::span<const double> idf() const { return idf_; }
  std::span<const std::int32_t> idf_columns() const { return idf_columns_; }

  // Everything needed to transform later: options, fitted state, vocabulary (as feature_names, in column
  // order), idf. from_json throws adakit::Error naming the offending key on a malformed document.
  // (This header declares nlohmann::json only; include <nlohmann/json.hpp> to use it.)
  nlohmann::json to_json(bool with_tables = true) const;
  static TextVectorizer from_json(const nlohmann::json& j);
  // The fitted tables, kept apart from the JSON in binary model files (io/linear_model.hpp): the
  // vocabulary (terms and offsets), idf, idf_columns. from_json(j, tables) reads everything else from j
  // (to_json(false)) and validates the tables as from_json(j) does.
  struct Tables {
    std::string terms;                       // as terms() and term_offsets()
    std::vector<std::int64_t> term_offsets;  // empty, or one more than the terms
    std::vector<double> idf;
    std::vector<std::int32_t> idf_columns;
  };
  static TextVectorizer from_json(const nlohmann::json& j, Tables tables);

 private:
  double idf_of(std::int32_t column) const;
  // Signed raw counts of one text: (column, count), sorted by column, one entry per column that a term
  // reaches (the count is 0 where hashed terms of opposite signs cancel).
  void count_row(std::string_view text, std::vector<std::pair<std::int32_t, double>>& row) const;

  TextVectorizerOptions options_;
  bool fitted_ = false;
  std::int64_t num_documents_ = 0;
  // Sets the vocabulary and builds its index; returns the first column whose term repeats an earlier
  // one, or -1.
  std::int64_t set_vocabulary(std::string terms, std::vector<std::int64_t> offsets);
  std::string terms_;
  std::vector<std::int64_t> term_offsets_;
  std::vector<std::int32_t> slots_;  // open addressing (linear probing): a column id or -1; size 2^k
  std::vector<double> idf_;
  std::vector<std::int32_t> idf_columns_;
};

// ---------------------------------------------------------------- labelled texts

// Raw texts with class labels (the input of TextVectorizer).
struct TextDataset {
  std::string name;
  std::vector<std::string> texts;
  std::vector<std::int32_t> labels;      // class ids in [0, class_names.size())
  std::vector<std::string> class_names;  // sorted (byte order)
  std::vector<float> weights;            // importance weights, one per text; empty: all 1
  LabelSets label_sets;                  // multilabel: each text's classes (labels[r] the first); else empty
  std::int64_t size() const { return static_cast<std::int64_t>(texts.size()); }
  // These rows, in this order (class names, weights and label sets kept). UsageError on a row out of range.
  TextDataset subset(std::span<const std::int64_t> rows) const;
};

// Reads `label<TAB>text` lines (UTF-8; plain or gzip-compressed). The label is the part before the first
// tab, spaces around it trimmed; the text is everything after it (further tabs included; a trailing CR
// dropped). Blank lines are skipped; a UTF-8 byte-order mark is ignored. Class names are the distinct
// labels sorted; name = the file stem. Errors name the file and the line: a line without a tab, an empty
// label, a file without any line.
// weight_column: lines are `label<TAB>weight<TAB>text`, the weight an importance weight (finite, >= 0;
// an error naming the line and the field "weight" otherwise), kept in `weights`.
// multilabel: the label is a comma-separated set of classes (`sports,politics<TAB>text`; each name
// trimmed, a repeat counted once, an empty name an error), kept in `label_sets`; class names are the
// distinct names of all sets, sorted.
TextDataset read_text_tsv(const std::filesystem::path& path, bool weight_column = false, bool multilabel = false);
// The same over text in memory; `source` names it in errors.
TextDataset parse_text_tsv(std::string_view text, const std::string& source, bool weight_column = false,
                           bool multilabel = false);

// Names of the bundled text datasets: "sentiment-tiny" (six movie sentences, positive / negative).
std::span<const std::string_view> text_builtin_names();
// A bundled text dataset found along data_search_path(data_dir) (builtin.hpp). UsageError for an unknown
// name; MissingDataError when its file is not found.
TextDataset load_text_builtin(std::string_view name, const std::filesystem::path& data_dir = {});

}  // namespace adakit::data
