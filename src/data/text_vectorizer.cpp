// TextVectorizer: vocabulary or hashed term counts, binary and tf-idf weighting, JSON state.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "adakit/core/error.hpp"
#include "adakit/data/hashing.hpp"
#include "adakit/data/text.hpp"
#include "adakit/data/idf.hpp"

namespace adakit::data {
namespace {

using Row = std::vector<std::pair<std::int32_t, double>>;

void check_threshold(const DfThreshold& t, const char* field) {
  if (!std::isfinite(t.value)) throw UsageError("must be finite", {"", 0, field});
  if (t.is_fraction) {
    if (t.value < 0.0 || t.value > 1.0)
      throw UsageError("fraction " + std::to_string(t.value) + " outside [0, 1]", {"", 0, field});
  } else if (t.value < 0.0 || t.value != std::floor(t.value)) {
    throw UsageError("document count " + std::to_string(t.value) + " is not a non-negative integer", {"", 0, field});
  }
}

// Sorts (column, value) pairs by column and sums equal columns. A sum of 0 (hashed terms of opposite
// signs colliding) stays as an entry: scikit-learn keeps it as an explicit zero, which counts in the
// document frequency and becomes 1 under binary weighting.
void sum_sorted(Row& row) {
  std::sort(row.begin(), row.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < row.size();) {
    std::size_t j = i;
    double sum = 0.0;
    for (; j < row.size() && row[j].first == row[i].first; ++j) sum += row[j].second;
    row[out++] = {row[i].first, sum};
    i = j;
  }
  row.resize(out);
}

nlohmann::json threshold_json(const DfThreshold& t) {
  nlohmann::json j;
  if (t.is_fraction)
    j["fraction"] = t.value;
  else
    j["count"] = static_cast<std::int64_t>(t.value);
  return j;
}

// --- reading JSON with errors that name the key

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw Error("text vectorizer JSON: " + what, {"", 0, key});
}

std::string key_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

const nlohmann::json& member(const nlohmann::json& j, const std::string& key, const std::string& path) {
  if (!j.is_object()) bad(path.empty() ? key : path, "expected an object");
  const auto it = j.find(key);
  if (it == j.end()) bad(key_path(path, key), "missing");
  return *it;
}

bool get_bool(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const auto& v = member(j, key, path);
  if (!v.is_boolean()) bad(key_path(path, key), "expected true or false");
  return v.get<bool>();
}

std::int64_t get_int(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const auto& v = member(j, key, path);
  if (!v.is_number_integer()) bad(key_path(path, key), "expected an integer");
  return v.get<std::int64_t>();
}

std::int32_t get_int32(const nlohmann::json& j, const std::string& key, const std::string& path) {
  const std::int64_t v = get_int(j, key, path);
  if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
    bad(key_path(path, key), "integer out of range");
  return static_cast<std::int32_t>(v);
}

DfThreshold get_threshold(const nlohmann::json& j, const std::string& key) {
  const auto& v = member(j, key, "options");
  const std::string where = "options." + key;
  if (!v.is_object() || v.size() != 1) bad(where, "expected {\"count\": N} or {\"fraction\": F}");
  if (v.contains("count")) {
    if (!v["count"].is_number_integer()) bad(where, "count must be an integer");
    return DfThreshold::count(v["count"].get<std::int64_t>());
  }
  if (v.contains("fraction")) {
    if (!v["fraction"].is_number()) bad(where, "fraction must be a number");
    return DfThreshold::fraction(v["fraction"].get<double>());
  }
  bad(where, "expected {\"count\": N} or {\"fraction\": F}");
}

constexpr const char* kJsonType = "adakit.data.TextVectorizer";
constexpr std::int64_t kJsonVersion = 1;

}  // namespace

const char* to_string(TextWeighting w) {
  switch (w) {
    case TextWeighting::count:
      return "count";
    case TextWeighting::binary:
      return "binary";
    case TextWeighting::tfidf:
      return "tfidf";
  }
  return "count";
}

void TextVectorizerOptions::validate() const {
  if (ngram_min < 1) throw UsageError("must be at least 1, got " + std::to_string(ngram_min), {"", 0, "ngram_min"});
  if (ngram_max < ngram_min)
    throw UsageError("must be at least ngram_min = " + std::to_string(ngram_min) + ", got " + std::to_string(ngram_max),
                     {"", 0, "ngram_max"});
  check_threshold(min_df, "min_df");
  check_threshold(max_df, "max_df");
  if (max_features < 0) throw UsageError("must be >= 0 (0 = all terms)", {"", 0, "max_features"});
  if (hash_bits < 0 || hash_bits > 31)
    throw UsageError("must be in [0, 31] (0 = vocabulary), got " + std::to_string(hash_bits), {"", 0, "hash_bits"});
  if (hash_bits > 0) {
    const TextVectorizerOptions defaults;
    const char* field = min_df != defaults.min_df   ? "min_df"
                        : max_df != defaults.max_df ? "max_df"
                        : max_features != 0         ? "max_features"
                                                    : nullptr;
    if (field != nullptr) throw UsageError("needs a vocabulary: not available with hash_bits > 0", {"", 0, field});
  }
}

TextVectorizer::TextVectorizer(TextVectorizerOptions options) : options_(std::move(options)) { options_.validate(); }

std::vector<std::string> TextVectorizer::analyze(std::string_view text) const {
  std::vector<std::string> tokens = tokenize(text, options_.lowercase);
  if (options_.ngram_min == 1 && options_.ngram_max == 1) return tokens;
  return word_ngrams(tokens, options_.ngram_min, options_.ngram_max);
}

bool TextVectorizer::fitted() const {
  if (options_.hash_bits > 0) return fitted_ || options_.weighting != TextWeighting::tfidf;
  return fitted_;
}

std::int64_t TextVectorizer::num_features() const {
  if (options_.hash_bits > 0) return std::int64_t{1} << options_.hash_bits;
  return term_offsets_.empty() ? 0 : static_cast<std::int64_t>(term_offsets_.size()) - 1;
}

std::string_view TextVectorizer::feature_name(std::int64_t c) const {
  const auto i = static_cast<std::size_t>(c);
  return std::string_view(terms_).substr(static_cast<std::size_t>(term_offsets_[i]),
                                         static_cast<std::size_t>(term_offsets_[i + 1] - term_offsets_[i]));
}

std::vector<std::string> TextVectorizer::feature_names() const {
  std::vector<std::string> names;
  if (options_.hash_bits > 0) return names;
  names.reserve(static_cast<std::size_t>(num_features()));
  for (std::int64_t c = 0; c < num_features(); ++c) names.emplace_back(feature_name(c));
  return names;
}

std::vector<std::uint8_t> TextVectorizer::feature_shards() const {
  std::vector<std::uint8_t> out;
  if (options_.hash_bits > 0) return out;
  out.resize(static_cast<std::size_t>(num_features()));
  for (std::int64_t c = 0; c < num_features(); ++c)
    out[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(murmurhash3_32(feature_name(c)) & 1u);
  return out;
}

std::int32_t TextVectorizer::column_of(std::string_view term) const {
  if (slots_.empty()) return -1;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = std::hash<std::string_view>{}(term) & mask;; i = (i + 1) & mask) {
    const std::int32_t c = slots_[i];
    if (c < 0) return -1;
    if (feature_name(c) == term) return c;
  }
}

std::int64_t TextVectorizer::set_vocabulary(std::string terms, std::vector<std::int64_t> offsets) {
  terms_ = std::move(terms);
  term_offsets_ = std::move(offsets);
  slots_.clear();
  const std::int64_t n = term_offsets_.empty() ? 0 : static_cast<std::int64_t>(term_offsets_.size()) - 1;
  if (n == 0) return -1;
  std::size_t size = 2;
  while (size < 2 * static_cast<std::size_t>(n)) size *= 2;  // load factor at most 1/2
  slots_.assign(size, -1);
  const std::size_t mask = size - 1;
  for (std::int64_t c = 0; c < n; ++c) {
    const std::string_view term = feature_name(c);
    std::size_t i = std::hash<std::string_view>{}(term) & mask;
    for (; slots_[i] >= 0; i = (i + 1) & mask)
      if (feature_name(slots_[i]) == term) return c;
    slots_[i] = static_cast<std::int32_t>(c);
  }
  return -1;
}

void TextVectorizer::count_row(std::string_view text, Row& row) const {
  row.clear();
  const std::vector<std::string> terms = analyze(text);
  if (options_.hash_bits > 0) {
    const std::int64_t n = num_features();
    for (const auto& t : terms) {
      const HashedFeature f = hash_feature(t, n, options_.alternate_sign);
      row.emplace_back(f.column, f.sign);
    }
  } else {
    for (const auto& t : terms)
      if (const std::int32_t c = column_of(t); c >= 0) row.emplace_back(c, 1.0);
  }
  sum_sorted(row);
}

double TextVectorizer::idf_of(std::int32_t column) const {
  if (idf_columns_.empty() && options_.hash_bits == 0) return idf_[static_cast<std::size_t>(column)];
  const auto it = std::lower_bound(idf_columns_.begin(), idf_columns_.end(), column);
  if (it != idf_columns_.end() && *it == column) return idf_[static_cast<std::size_t>(it - idf_columns_.begin())];
  // A column no fitted document reaches (df = 0); without smoothing, taken as df = 1.
  return idf_from_df(options_.smooth_idf ? 0.0 : 1.0, static_cast<double>(num_documents_), options_.smooth_idf);
}

void TextVectorizer::fit(std::span<const std::string> texts) {
  options_.validate();
  if (texts.empty()) throw UsageError("fit needs at least one document", {"", 0, "texts"});
  const auto n_docs = static_cast<std::int64_t>(texts.size());
  const bool tfidf = options_.weighting == TextWeighting::tfidf;
  set_vocabulary({}, {});
  idf_.clear();
  idf_columns_.clear();
  fitted_ = false;

  const auto idf_of_df = [&](double df) { return idf_from_df(df, static_cast<double>(n_docs), options_.smooth_idf); };

  if (options_.hash_bits > 0) {
    if (tfidf) {
      std::unordered_map<std::int32_t, std::int64_t> df;
      Row row;
      for (const auto& text : texts) {
        count_row(text, row);
        for (const auto& [col, count] : row) ++df[col];
      }
      for (const auto& [col, count] : df) idf_columns_.push_back(col);
      std::sort(idf_columns_.begin(), idf_columns_.end());
      for (auto col : idf_columns_) idf_.push_back(idf_of_df(static_cast<double>(df[col])));
    }
    num_documents_ = n_docs;
    fitted_ = true;
    return;
  }

  // Count every term: term id (first-seen order) -> document frequency and total count.
  std::unordered_map<std::string, std::int64_t> ids;
  std::vector<std::string> terms;
  std::vector<std::int64_t> df, total;
  std::vector<std::int64_t> seen_in;  // last document that counted the term's df
  for (std::int64_t d = 0; d < n_docs; ++d) {
    for (auto& term : analyze(texts[static_cast<std::size_t>(d)])) {
      auto [it, inserted] = ids.try_emplace(term, static_cast<std::int64_t>(terms.size()));
      const auto id = static_cast<std::size_t>(it->second);
      if (inserted) {
        terms.push_back(std::move(term));
        df.push_back(0);
        total.push_back(0);
        seen_in.push_back(-1);
      }
      ++total[id];
      if (seen_in[id] != d) {
        seen_in[id] = d;
        ++df[id];
      }
    }
  }
  if (terms.empty())
    throw Error("empty vocabulary: no document has a token of 2 or more word characters", {"", 0, "texts"});

  const double max_docs = options_.max_df.documents(n_docs), min_docs = options_.min_df.documents(n_docs);
  if (max_docs < min_docs)
    throw Error("max_df corresponds to fewer documents (" + std::to_string(max_docs) + ") than min_df (" +
                    std::to_string(min_docs) + ")",
                {"", 0, "max_df"});
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const auto f = static_cast<double>(df[i]);
    if (f >= min_docs && f <= max_docs) kept.push_back(i);
  }
  if (kept.empty())
    throw Error("no terms remain after min_df / max_df pruning; lower min_df or raise max_df", {"", 0, "min_df"});
  const auto by_term = [&](std::size_t a, std::size_t b) { return terms[a] < terms[b]; };
  if (options_.max_features > 0 && static_cast<std::int64_t>(kept.size()) > options_.max_features) {
    // Corpus frequency as scikit-learn: the summed column of the count matrix, which is binary under
    // binary weighting (so the document frequency).
    const bool binary = options_.weighting == TextWeighting::binary;
    std::sort(kept.begin(), kept.end(), [&](std::size_t a, std::size_t b) {
      const std::int64_t fa = binary ? df[a] : total[a], fb = binary ? df[b] : total[b];
      return fa != fb ? fa > fb : terms[a] < terms[b];
    });
    kept.resize(static_cast<std::size_t>(options_.max_features));
  }
  std::sort(kept.begin(), kept.end(), by_term);
  if (kept.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw Error("vocabulary of " + std::to_string(kept.size()) + " terms does not fit 32-bit column ids",
                {"", 0, "texts"});

  std::string blob;
  std::vector<std::int64_t> offsets{0};
  offsets.reserve(kept.size() + 1);
  for (std::size_t c = 0; c < kept.size(); ++c) {
    blob += terms[kept[c]];
    offsets.push_back(static_cast<std::int64_t>(blob.size()));
    if (tfidf) idf_.push_back(idf_of_df(static_cast<double>(df[kept[c]])));
  }
  set_vocabulary(std::move(blob), std::move(offsets));  // the terms are distinct
  num_documents_ = n_docs;
  fitted_ = true;
}

bool TextVectorizer::can_grow() const {
  const auto& o = options_;
  return fitted() && o.weighting != TextWeighting::tfidf &&
         (o.hash_bits > 0 || (o.min_df == DfThreshold::count(1) && o.max_df == DfThreshold::fraction(1.0) &&
                              o.max_features == 0));
}

std::vector<std::int64_t> TextVectorizer::grow(std::span<const std::string> texts) {
  if (!can_grow())
    throw UsageError("this vocabulary does not grow: it is not fitted, or is tf-idf or pruned (min_df, max_df, "
                     "max_features)",
                     {"", 0, "vocabulary"});
  if (options_.hash_bits > 0) {  // fixed columns: only the documents count
    num_documents_ += static_cast<std::int64_t>(texts.size());
    fitted_ = true;
    return {};
  }
  std::vector<std::string> fresh;
  for (const auto& text : texts)
    for (auto& term : analyze(text))
      if (column_of(term) < 0) fresh.push_back(std::move(term));
  num_documents_ += static_cast<std::int64_t>(texts.size());
  if (fresh.empty()) return {};
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  const std::int64_t old_n = num_features(), n = old_n + static_cast<std::int64_t>(fresh.size());
  if (n > std::numeric_limits<std::int32_t>::max())
    throw Error("vocabulary of " + std::to_string(n) + " terms does not fit 32-bit column ids", {"", 0, "texts"});
  // Merge two sorted lists of distinct terms.
  std::string blob;
  blob.reserve(terms_.size() + [&] {
    std::size_t b = 0;
    for (const auto& t : fresh) b += t.size();
    return b;
  }());
  std::vector<std::int64_t> offsets{0}, new_of_old(static_cast<std::size_t>(old_n));
  offsets.reserve(static_cast<std::size_t>(n) + 1);
  std::size_t k = 0;
  for (std::int64_t c = 0; c <= old_n; ++c) {
    const bool old_left = c < old_n;
    const std::string_view old_term = old_left ? feature_name(c) : std::string_view{};
    for (; k < fresh.size() && (!old_left || std::string_view(fresh[k]) < old_term); ++k) {
      blob += fresh[k];
      offsets.push_back(static_cast<std::int64_t>(blob.size()));
    }
    if (!old_left) break;
    new_of_old[static_cast<std::size_t>(c)] = static_cast<std::int64_t>(offsets.size()) - 1;
    blob += old_term;
    offsets.push_back(static_cast<std::int64_t>(blob.size()));
  }
  set_vocabulary(std::move(blob), std::move(offsets));
  return new_of_old;
}

CsrMatrix TextVectorizer::transform(std::span<const std::string> texts) const {
  if (!fitted())
    throw UsageError(options_.hash_bits > 0 ? "tf-idf needs fit (for the idf) before transform"
                                            : "fit the vocabulary before transform",
                     {"", 0, "fit"});
  CsrMatrix out;
  out.cols = num_features();
  out.indptr.reserve(texts.size() + 1);
  Row row;
  for (const auto& text : texts) {
    count_row(text, row);
    switch (options_.weighting) {
      case TextWeighting::count:
        break;
      case TextWeighting::binary:
        for (auto& e : row) e.second = 1.0;
        break;
      case TextWeighting::tfidf: {
        double sq = 0.0;
        for (auto& [col, v] : row) {
          if (options_.sublinear_tf && v != 0.0) v = std::copysign(1.0 + std::log(std::fabs(v)), v);
          v *= idf_of(col);
          sq += v * v;
        }
        if (sq > 0.0) {
          const double inv = 1.0 / std::sqrt(sq);
          for (auto& e : row) e.second *= inv;
        }
        break;
      }
    }
    for (const auto& [col, v] : row) {
      if (v == 0.0) continue;  // a cancelled collision: nothing to store
      out.indices.push_back(col);
      out.values.push_back(static_cast<float>(v));
    }
    out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
    ++out.rows;
  }
  return out;
}

CsrMatrix TextVectorizer::fit_transform(std::span<const std::string> texts) {
  fit(texts);
  return transform(texts);
}

nlohmann::json TextVectorizer::to_json(bool with_tables) const {
  const auto& o = options_;
  nlohmann::json j;
  j["type"] = kJsonType;
  j["version"] = kJsonVersion;
  j["options"] = {{"lowercase", o.lowercase},
                  {"ngram_min", o.ngram_min},
                  {"ngram_max", o.ngram_max},
                  {"min_df", threshold_json(o.min_df)},
                  {"max_df", threshold_json(o.max_df)},
                  {"max_features", o.max_features},
                  {"weighting", to_string(o.weighting)},
                  {"smooth_idf", o.smooth_idf},
                  {"sublinear_tf", o.sublinear_tf},
                  {"hash_bits", o.hash_bits},
                  {"alternate_sign", o.alternate_sign}};
  j["fitted"] = fitted_;
  j["num_documents"] = num_documents_;
  if (!with_tables) return j;
  j["feature_names"] = feature_names();  // the vocabulary, in column order
  j["idf"] = idf_;                      // doubles print with 17 significant digits: exact round trip
  j["idf_columns"] = idf_columns_;
  return j;
}

namespace {
void check_type(const nlohmann::json& j) {
  if (!j.is_object()) bad("", "expected an object");
  const auto& type = member(j, "type", "");
  if (!type.is_string() || type.get<std::string>() != kJsonType)
    bad("type", std::string("expected \"") + kJsonType + "\"");
  if (get_int(j, "version", "") != kJsonVersion)
    bad("version", "unsupported version (this build reads version " + std::to_string(kJsonVersion) + ")");
}
}  // namespace

TextVectorizer TextVectorizer::from_json(const nlohmann::json& j) {
  check_type(j);
  Tables t;
  const auto& names = member(j, "feature_names", "");
  if (!names.is_array()) bad("feature_names", "expected an array of strings");
  if (!names.empty()) {
    t.term_offsets.reserve(names.size() + 1);
    t.term_offsets.push_back(0);
  }
  for (const auto& n : names) {
    if (!n.is_string()) bad("feature_names", "expected an array of strings");
    t.terms += n.get_ref<const std::string&>();
    t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
  }
  const auto& idf = member(j, "idf", "");
  if (!idf.is_array()) bad("idf", "expected an array of numbers");
  for (const auto& x : idf) {
    if (!x.is_number()) bad("idf", "expected positive finite numbers");
    t.idf.push_back(x.get<double>());
  }
  const auto& cols = member(j, "idf_columns", "");
  if (!cols.is_array()) bad("idf_columns", "expected an array of integers");
  for (const auto& x : cols) {
    if (!x.is_number_integer()) bad("idf_columns", "expected an array of integers");
    const auto c = x.get<std::int64_t>();
    if (c < 0 || c > std::numeric_limits<std::int32_t>::max())
      bad("idf_columns", "columns must be increasing and in [0, 2^31)");
    t.idf_columns.push_back(static_cast<std::int32_t>(c));
  }
  return from_json(j, std::move(t));
}

TextVectorizer TextVectorizer::from_json(const nlohmann::json& j, Tables tables) {
  check_type(j);

  const auto& jo = member(j, "options", "");
  TextVectorizerOptions o;
  o.lowercase = get_bool(jo, "lowercase", "options");
  o.ngram_min = get_int32(jo, "ngram_min", "options");
  o.ngram_max = get_int32(jo, "ngram_max", "options");
  o.min_df = get_threshold(jo, "min_df");
  o.max_df = get_threshold(jo, "max_df");
  o.max_features = get_int(jo, "max_features", "options");
  const auto& w = member(jo, "weighting", "options");
  const std::string wname = w.is_string() ? w.get<std::string>() : "";
  if (wname == "count")
    o.weighting = TextWeighting::count;
  else if (wname == "binary")
    o.weighting = TextWeighting::binary;
  else if (wname == "tfidf")
    o.weighting = TextWeighting::tfidf;
  else
    bad("options.weighting", "expected \"count\", \"binary\" or \"tfidf\"");
  o.smooth_idf = get_bool(jo, "smooth_idf", "options");
  o.sublinear_tf = get_bool(jo, "sublinear_tf", "options");
  o.hash_bits = get_int32(jo, "hash_bits", "options");
  o.alternate_sign = get_bool(jo, "alternate_sign", "options");
  try {
    o.validate();
  } catch (const UsageError& e) {
    bad("options." + e.context().field, e.message());
  }

  TextVectorizer v(o);
  v.fitted_ = get_bool(j, "fitted", "");
  v.num_documents_ = get_int(j, "num_documents", "");
  if (v.num_documents_ < 0 ||
      (v.fitted_ && v.num_documents_ == 0 && (o.hash_bits == 0 || o.weighting == TextWeighting::tfidf)))
    bad("num_documents", "must be positive for a fitted vectorizer");

  const auto& off = tables.term_offsets;
  if (!off.empty()) {
    if (off.front() != 0 || off.back() != static_cast<std::int64_t>(tables.terms.size()))
      bad("term_offsets", "expected offsets from 0 to the " + std::to_string(tables.terms.size()) + " bytes of the terms");
    for (std::size_t c = 0; c + 1 < off.size(); ++c)
      if (off[c + 1] < off[c]) bad("term_offsets", "offsets decrease at term " + std::to_string(c));
  } else if (!tables.terms.empty()) {
    bad("term_offsets", "terms without offsets");
  }
  const std::size_t n_terms = off.empty() ? 0 : off.size() - 1;
  if (n_terms > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) bad("feature_names", "too many terms");
  if (o.hash_bits > 0 && n_terms > 0) bad("feature_names", "must be empty when hashing");
  if (o.hash_bits == 0 && v.fitted_ && n_terms == 0) bad("feature_names", "empty vocabulary");
  if (const std::int64_t twice = v.set_vocabulary(std::move(tables.terms), std::move(tables.term_offsets)); twice >= 0)
    bad("feature_names", "term '" + std::string(v.feature_name(twice)) + "' appears twice");

  v.idf_ = std::move(tables.idf);
  for (const double x : v.idf_)
    if (!std::isfinite(x) || x <= 0.0) bad("idf", "expected positive finite numbers");
  v.idf_columns_ = std::move(tables.idf_columns);
  for (std::size_t i = 0; i < v.idf_columns_.size(); ++i) {
    const std::int64_t c = v.idf_columns_[i];
    if (c < 0 || c >= v.num_features() || (i > 0 && c <= v.idf_columns_[i - 1]))
      bad("idf_columns", "columns must be increasing and in [0, " + std::to_string(v.num_features()) + ")");
  }
  const bool tfidf = o.weighting == TextWeighting::tfidf && v.fitted_;
  if (o.hash_bits == 0) {
    if (!v.idf_columns_.empty()) bad("idf_columns", "must be empty with a vocabulary");
    const std::size_t want = tfidf ? static_cast<std::size_t>(v.num_features()) : 0;
    if (v.idf_.size() != want)
      bad("idf", "has " + std::to_string(v.idf_.size()) + " values, expected " + std::to_string(want));
  } else if (v.idf_.size() != v.idf_columns_.size() || (!tfidf && !v.idf_.empty())) {
    bad("idf", "expected one value per idf_columns entry (tf-idf only)");
  }
  return v;
}

}  // namespace adakit::data
