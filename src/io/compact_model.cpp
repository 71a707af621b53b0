#include "adakit/io/compact_model.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/core/format.hpp"
#include "adakit/data/idf.hpp"
#include "adakit/data/prepare.hpp"

namespace adakit::io {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& what) {
  throw Error(what, {source, 0, field});
}

// ---- varints (unsigned LEB128: 7 bits a byte, low bits first, the high bit set on all but the last)

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads one varint at `pos` (advanced); Error naming the table on a truncated, overlong (a last byte
// of 0 after the first: one encoding per value) or over-64-bit varint.
std::uint64_t get_varint(std::string_view in, std::size_t& pos, const std::string& source, const std::string& field) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) fail(source, field, "truncated varint at byte " + std::to_string(pos));
    const auto b = static_cast<unsigned char>(in[pos++]);
    const std::uint64_t bits = b & 0x7F;
    if (shift == 63 && bits > 1) fail(source, field, "varint beyond 64 bits at byte " + std::to_string(pos - 1));
    v |= bits << shift;
    if ((b & 0x80) == 0) {
      if (b == 0 && shift > 0) fail(source, field, "overlong varint at byte " + std::to_string(pos - 1));
      return v;
    }
  }
  fail(source, field, "varint beyond 64 bits at byte " + std::to_string(pos));
}

// Increasing ids as gaps id[i] - id[i-1] - 1 (id[-1] = -1).
std::string encode_increasing(std::span<const std::int64_t> ids) {
  std::string out;
  std::int64_t prev = -1;
  for (const std::int64_t id : ids) {
    put_varint(out, static_cast<std::uint64_t>(id - prev - 1));
    prev = id;
  }
  return out;
}

// Decodes increasing ids below `limit`, the whole table.
std::vector<std::int64_t> decode_increasing(std::string_view in, std::int64_t limit, const std::string& source,
                                            const std::string& field) {
  std::vector<std::int64_t> ids;
  std::size_t pos = 0;
  std::int64_t prev = -1;
  while (pos < in.size()) {
    const std::uint64_t gap = get_varint(in, pos, source, field);
    if (gap >= static_cast<std::uint64_t>(limit - prev - 1) || prev + 1 + static_cast<std::int64_t>(gap) >= limit)
      fail(source, field, "id beyond " + std::to_string(limit - 1) + " after " + std::to_string(ids.size()) + " ids");
    prev += 1 + static_cast<std::int64_t>(gap);
    ids.push_back(prev);
  }
  return ids;
}

}  // namespace

// ---- tables: an 8-byte little-endian decoded length, then a zlib stream (RFC 1950/1951)

std::string encode_compact_table(std::string_view raw) {
  uLongf bound = compressBound(static_cast<uLong>(raw.size()));
  std::string out(8 + bound, '\0');
  const std::uint64_t n = raw.size();
  std::memcpy(out.data(), &n, 8);
  if (compress2(reinterpret_cast<Bytef*>(out.data() + 8), &bound, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), Z_BEST_COMPRESSION) != Z_OK)
    throw Error("zlib could not compress a table");
  out.resize(8 + bound);
  return out;
}

// The decoded table: exactly its declared length, the stream complete and nothing after it.
std::string decode_compact_table(std::string_view bytes, const std::string& source, const std::string& field) {
  if (bytes.size() < 8) fail(source, field, "truncated table: " + std::to_string(bytes.size()) + " bytes");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const std::string_view stream = bytes.substr(8);
  // Deflate's largest ratio is 1032:1 (258-byte matches in about 2 bits); a length beyond it is damage.
  if (n > 1032 * static_cast<std::uint64_t>(stream.size()) + 64)
    fail(source, field, "declares " + std::to_string(n) + " decoded bytes from " + std::to_string(stream.size()) +
                            " compressed ones");
  std::string out(static_cast<std::size_t>(n), '\0');
  uLongf out_len = static_cast<uLongf>(n);
  uLong in_len = static_cast<uLong>(stream.size());
  // uncompress2 needs a non-null destination even for an empty table.
  Bytef empty = 0;
  const int rc = uncompress2(n > 0 ? reinterpret_cast<Bytef*>(out.data()) : &empty, &out_len,
                             reinterpret_cast<const Bytef*>(stream.data()), &in_len);
  if (rc != Z_OK || out_len != n || in_len != stream.size())
    fail(source, field,
         rc == Z_OK ? "the compressed table has " + std::to_string(stream.size() - in_len) + " bytes after its end"
                    : std::string("the compressed table does not decode to its ") + std::to_string(n) + " bytes (zlib: " +
                          (rc == Z_DATA_ERROR ? "corrupted data" : rc == Z_BUF_ERROR ? "truncated or longer" : "error") + ")");
  return out;
}

namespace {

template <class T>
std::string bytes_of(std::span<const T> v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T)};
}
template <class T>
std::vector<T> values_of(std::string_view bytes, std::size_t count, const std::string& source, const std::string& field) {
  if (bytes.size() != count * sizeof(T))
    fail(source, field, "has " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(count) + " values of " +
                            std::to_string(sizeof(T)) + " bytes");
  std::vector<T> v(count);
  if (count > 0) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// ---- the vocabulary, front-coded

std::string encode_terms(const data::TextVectorizer& v) {
  std::string out;
  std::string_view prev;
  const auto terms = static_cast<std::int64_t>(v.term_offsets().empty() ? 0 : v.term_offsets().size() - 1);  // 0 when hashing
  for (std::int64_t c = 0; c < terms; ++c) {
    const std::string_view t = v.feature_name(c);
    std::size_t p = 0;
    while (p < t.size() && p < prev.size() && t[p] == prev[p]) ++p;
    put_varint(out, p);
    put_varint(out, t.size() - p);
    out.append(t.substr(p));
    prev = t;
  }
  return out;
}

// Terms and offsets (TextVectorizer::Tables). A term that repeats the previous one is refused here
// (the vectorizer refuses other repeats), which bounds the decoded bytes below 256x the encoded ones.
void decode_terms(std::string_view in, data::TextVectorizer::Tables& t, const std::string& source) {
  const std::string field = "vectorizer.terms";
  const std::uint64_t cap = 256 * static_cast<std::uint64_t>(in.size());
  std::size_t pos = 0, prev_begin = 0, prev_size = 0;
  if (!in.empty()) t.term_offsets.push_back(0);
  while (pos < in.size()) {
    const std::uint64_t shared = get_varint(in, pos, source, field);
    const std::uint64_t rest = get_varint(in, pos, source, field);
    if (shared > prev_size) fail(source, field, "a term shares more than the previous term's bytes");
    if (rest > in.size() - pos) fail(source, field, "truncated term at byte " + std::to_string(pos));
    if (rest == 0 && shared == prev_size) fail(source, field, "a term repeats the previous one");
    if (t.terms.size() + shared + rest > cap) fail(source, field, "the terms decode to more than 256x their bytes");
    const std::size_t begin = t.terms.size();
    t.terms.append(t.terms, prev_begin, static_cast<std::size_t>(shared));
    t.terms.append(in.substr(pos, static_cast<std::size_t>(rest)));
    pos += static_cast<std::size_t>(rest);
    prev_begin = begin;
    prev_size = t.terms.size() - begin;
    t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
  }
}

json export_json(const CompactModel& m) {
  return {{"quantize", std::string(to_string(m.options.quantize))},
          {"scale_by", std::string(to_string(m.options.scale_by))},
          {"prune", m.options.prune},
          {"prune_weights", m.options.prune_weights},
          {"keep_vocabulary", m.options.keep_vocabulary},
          {"features", static_cast<std::int64_t>(m.rows.size())},
          {"source_dim", m.source_dim},
          {"source_features", m.source_features}};
}

// ---- reading

class Tables {
 public:
  Tables(const SafetensorsView& view, std::string source) : view_(view), source_(std::move(source)) {}
  std::string take(const std::string& name) {
    const auto it = view_.tensors.find(name);
    if (it == view_.tensors.end()) fail(source_, name, "tensor is missing");
    const TensorView& t = it->second;
    if (t.dtype != Dtype::U8 || t.shape.size() != 1)
      fail(source_, name, "expected a U8 [n] table, got " + std::string(dtype_name(t.dtype)) + " " + shape_to_string(t.shape));
    taken_.push_back(name);
    return decode_compact_table(t.bytes, source_, name);
  }
  void check_all_taken() const {
    for (const auto& [name, t] : view_.tensors)
      if (std::find(taken_.begin(), taken_.end(), name) == taken_.end()) fail(source_, name, "unexpected tensor");
  }
  const std::string& meta(const std::string& key) const {
    const auto it = view_.metadata.find(key);
    if (it == view_.metadata.end()) fail(source_, key, "missing entry (not a complete compact model file)");
    return it->second;
  }
  json meta_json(const std::string& key) const {
    json j = json::parse(meta(key), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) fail(source_, key, "expected a JSON object");
    return j;
  }

 private:
  const SafetensorsView& view_;
  std::string source_;
  std::vector<std::string> taken_;
};

// adakit.export: exactly these keys, of these types.
void read_export(const json& e, CompactModel& m, const std::string& source) {
  const std::string field = "adakit.export";
  const auto bad = [&](const std::string& key, const std::string& what) { fail(source, field + "." + key, what); };
  static const std::vector<std::string> keys{"quantize", "scale_by", "prune", "prune_weights", "keep_vocabulary",
                                             "features", "source_dim", "source_features"};
  for (const auto& [k, v] : e.items())
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) bad(k, "unexpected entry");
  for (const auto& k : keys)
    if (!e.contains(k)) bad(k, "is missing");
  const auto text = [&](const char* key) {
    if (!e[key].is_string()) bad(key, "expected a string");
    return e[key].get<std::string>();
  };
  const auto count = [&](const char* key) {
    if (!e[key].is_number_integer() || e[key].get<std::int64_t>() < 0) bad(key, "expected an integer >= 0");
    return e[key].get<std::int64_t>();
  };
  const auto threshold = [&](const char* key) {
    if (!e[key].is_number()) bad(key, "expected a number");
    return e[key].get<double>();
  };
  const std::string q = text("quantize"), s = text("scale_by");
  if (q != "none" && q != "int8") bad("quantize", "expected \"none\" or \"int8\", got '" + q + "'");
  if (s != "output" && s != "feature") bad("scale_by", "expected \"output\" or \"feature\", got '" + s + "'");
  m.options.quantize = quantize_from_string(q);
  m.options.scale_by = quantize_scale_from_string(s);
  m.options.prune = threshold("prune");
  m.options.prune_weights = threshold("prune_weights");
  try {
    m.options.validate();
  } catch (const UsageError& err) {
    bad(err.context().field == "prune" ? "prune" : "prune_weights", err.message());
  }
  if (!e["keep_vocabulary"].is_boolean()) bad("keep_vocabulary", "expected true or false");
  m.options.keep_vocabulary = e["keep_vocabulary"].get<bool>();
  m.source_dim = count("source_dim");
  m.source_features = count("source_features");
  (void)count("features");
}

}  // namespace

std::string_view to_string(Quantize q) { return q == Quantize::int8 ? "int8" : "none"; }
std::string_view to_string(QuantizeScale s) { return s == QuantizeScale::feature ? "feature" : "output"; }

Quantize quantize_from_string(std::string_view text) {
  if (text == "none") return Quantize::none;
  if (text == "int8") return Quantize::int8;
  throw UsageError("--quantize must be none or int8, got '" + std::string(text) + "'", {"", 0, "quantize"});
}

QuantizeScale quantize_scale_from_string(std::string_view text) {
  if (text == "output") return QuantizeScale::output;
  if (text == "feature") return QuantizeScale::feature;
  throw UsageError("--scale-by must be output (one int8 scale per output column) or feature (one per feature's row), got '" +
                       std::string(text) + "'",
                   {"", 0, "scale-by"});
}

void CompactOptions::validate() const {
  if (!std::isfinite(prune) || prune < 0.0)
    throw UsageError("--prune must be a finite number >= 0 (features whose weights are all |w| <= it are dropped)",
                     {"", 0, "prune"});
  if (!std::isfinite(prune_weights) || prune_weights < 0.0)
    throw UsageError("--prune-weights must be a finite number >= 0 (single weights |w| <= it are set to 0)",
                     {"", 0, "prune-weights"});
}

float int8_scale(float max_abs) { return max_abs / 127.0f; }

std::int8_t quantize_int8(float w, float scale) {
  if (scale == 0.0f) return 0;
  const double q = std::round(static_cast<double>(w) / static_cast<double>(scale));
  return static_cast<std::int8_t>(std::clamp(q, -127.0, 127.0));
}

std::vector<float> CompactModel::weights() const {
  if (options.quantize == Quantize::none) return values;
  const std::size_t c = static_cast<std::size_t>(outputs());
  std::vector<float> w(quantized.size());
  for (std::size_t i = 0; i < quantized.size(); ++i)
    w[i] = dequantize_int8(quantized[i], scales[options.scale_by == QuantizeScale::output ? i % c : i / c]);
  return w;
}

LinearModelFile CompactModel::to_model_file() const {
  LinearModelFile out;
  out.model = linear::LinearModel::from_config(config);
  if (static_cast<std::int64_t>(bias.size()) != out.model.outputs())
    throw Error("has " + std::to_string(bias.size()) + " values, the model " + std::to_string(out.model.outputs()) + " outputs",
                {"", 0, "bias"});
  out.model.put_rows(rows, weights());
  std::copy(bias.begin(), bias.end(), out.model.bias().begin());
  if ((input == "text") != vectorizer.has_value())
    throw Error(input == "text" ? "a text model without its vectorizer" : "a LIBSVM model with a vectorizer",
                {"", 0, "vectorizer"});
  if (vectorizer && vectorizer->fitted() && vectorizer->num_features() != out.model.dim())
    throw Error("the vectorizer has " + std::to_string(vectorizer->num_features()) + " features, the model " +
                    std::to_string(out.model.dim()),
                {"", 0, "vectorizer"});
  out.vectorizer = vectorizer;
  if (calibrator) {
    try {
      out.model.set_calibrator(*calibrator);
    } catch (const Error& err) {
      throw Error(err.message(), {"", 0, "adakit.calibration"});
    }
  }
  out.predict_only = true;
  return out;
}

CompactModel compact_model(const LinearModelFile& file, const CompactOptions& o, CompactStats* stats) {
  o.validate();
  const linear::LinearModel& model = file.model;
  const std::int64_t dim = model.dim(), outputs = model.outputs();
  const auto out_n = static_cast<std::size_t>(outputs);
  CompactStats st;
  st.source_dim = dim;
  st.source_features = model.count_nonzero_features();
  if (st.source_features == 0)
    throw UsageError("the model has no nonzero weight: nothing to export", {"", 0, "model"});

  // Prune: features above max(prune, prune_weights) stay, with their weights <= prune_weights zeroed.
  const double threshold = std::max(o.prune, o.prune_weights);
  std::vector<std::int64_t> kept;
  std::vector<float> w;  // kept x outputs
  double largest = 0.0;
  for (std::int64_t f = 0; f < dim; ++f) {
    const std::span<const float> row = model.weight_row(f);
    float m = 0.0f;
    for (const float x : row) m = std::max(m, std::fabs(x));
    largest = std::max(largest, static_cast<double>(m));
    if (static_cast<double>(m) <= threshold) {
      if (m > 0.0f) ++st.pruned;
      continue;
    }
    kept.push_back(f);
    for (const float x : row) {
      const bool zero = o.prune_weights > 0.0 && std::fabs(static_cast<double>(x)) <= o.prune_weights && x != 0.0f;
      st.weights_zeroed += zero ? 1 : 0;
      w.push_back(zero ? 0.0f : x);
    }
  }

  CompactModel c;
  c.input = file.vectorizer ? "text" : "libsvm";
  c.options = o;
  c.source_dim = st.source_dim;
  c.source_features = st.source_features;
  c.bias.assign(model.bias().begin(), model.bias().end());
  if (o.quantize == Quantize::int8) {
    const bool by_output = o.scale_by == QuantizeScale::output;
    c.scales.assign(by_output ? out_n : kept.size(), 0.0f);
    for (std::size_t i = 0; i < w.size(); ++i) {
      float& s = c.scales[by_output ? i % out_n : i / out_n];
      s = std::max(s, std::fabs(w[i]));
    }
    for (float& s : c.scales) s = int8_scale(s);
    // A feature whose int8 weights are all 0 is dropped (with per-output scales, a small row rounds to
    // nothing; the scales, set by the largest weights, do not change).
    std::vector<std::int64_t> rows;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      const std::size_t q0 = c.quantized.size();
      bool any = false;
      for (std::size_t k = 0; k < out_n; ++k) {
        const float s = c.scales[by_output ? k : i];
        const std::int8_t q = quantize_int8(w[i * out_n + k], s);
        c.quantized.push_back(q);
        any = any || q != 0;
      }
      if (!any) {
        c.quantized.resize(q0);
        ++st.quantized_away;
        continue;
      }
      if (!by_output) c.scales[rows.size()] = c.scales[i];
      rows.push_back(kept[i]);
    }
    if (!by_output) c.scales.resize(rows.size());
    c.rows = std::move(rows);
  } else {
    c.rows = kept;
    c.values = w;
  }
  st.kept = static_cast<std::int64_t>(c.rows.size());
  if (c.rows.empty())
    throw UsageError(format_printf("--prune %g%s leaves no feature (the largest |w| is %g)", o.prune,
                                   o.prune_weights > 0.0 ? format_printf(" / --prune-weights %g", o.prune_weights).c_str() : "",
                                   largest),
                     {"", 0, o.prune >= o.prune_weights ? "prune" : "prune-weights"});

  // The largest change of a kept weight (pruned single weights and rounding).
  {
    const std::vector<float> deq = c.weights();
    std::size_t j = 0;  // position of c.rows[r] in kept
    for (std::size_t r = 0; r < c.rows.size(); ++r) {
      while (kept[j] != c.rows[r]) ++j;
      const std::span<const float> row = model.weight_row(kept[j]);
      for (std::size_t k = 0; k < out_n; ++k)
        st.max_abs_error = std::max(st.max_abs_error, std::fabs(static_cast<double>(row[k]) - deq[r * out_n + k]));
    }
  }

  // The vectorizer: a vocabulary keeps the kept features' terms (renumbered 0..K-1) unless told not to.
  nlohmann::json config = model.config();
  if (file.vectorizer) {
    const data::TextVectorizer& v = *file.vectorizer;
    const bool vocabulary = v.options().hash_bits == 0;
    st.terms_before = st.terms_after = vocabulary ? v.num_features() : 0;
    if (vocabulary && !o.keep_vocabulary && v.fitted()) {
      data::TextVectorizer::Tables t;
      t.term_offsets.push_back(0);
      const std::span<const double> idf = v.idf();
      for (const std::int64_t f : c.rows) {
        t.terms.append(v.feature_name(f));
        t.term_offsets.push_back(static_cast<std::int64_t>(t.terms.size()));
        if (!idf.empty()) t.idf.push_back(idf[static_cast<std::size_t>(f)]);
      }
      c.vectorizer = data::TextVectorizer::from_json(v.to_json(/*with_tables=*/false), std::move(t));
      for (std::size_t i = 0; i < c.rows.size(); ++i) c.rows[i] = static_cast<std::int64_t>(i);
      config["dim"] = static_cast<std::int64_t>(c.rows.size());
      st.terms_after = static_cast<std::int64_t>(c.rows.size());
    } else {
      c.vectorizer = v;
    }
  }
  c.config = std::move(config);
  if (model.calibrator() != nullptr) c.calibrator = *model.calibrator();
  if (stats != nullptr) *stats = st;
  return c;
}

CompactModel compact_model_retrained(const LinearModelFile& file, const CompactOptions& options,
                                     const std::function<data::SparseDataset(const LinearModelFile&)>& read_train,
                                     linear::LinearOptimizer& optimizer, const linear::FitOptions& fit,
                                     CompactStats* stats, linear::FitResult* result) {
  options.validate();
  if (file.model.calibrator() != nullptr)
    throw UsageError("the model carries a calibration fitted on its weights, which retraining changes: export "
                     "without --retrain-data, or retrain and calibrate with adakit train",
                     {"", 0, "retrain-data"});
  CompactOptions first = options;
  first.prune = std::max(options.prune, options.prune_weights);
  first.prune_weights = 0.0;
  first.quantize = Quantize::none;
  CompactStats st1;
  const CompactModel pruned = compact_model(file, first, &st1);
  LinearModelFile kept = pruned.to_model_file();
  kept.predict_only = false;

  // The training rows as the pruned model reads them, without the pruned features' columns.
  data::SparseDataset train = read_train(kept);
  if (train.size() == 0) throw UsageError("the training data have no row", {"", 0, "retrain-data"});
  std::vector<char> keep(static_cast<std::size_t>(kept.model.dim()), 0);
  for (const std::int64_t r : pruned.rows) keep[static_cast<std::size_t>(r)] = 1;
  const auto kept_column = [&](std::int32_t c) {
    return c >= 0 && static_cast<std::size_t>(c) < keep.size() && keep[static_cast<std::size_t>(c)] != 0;
  };
  data::keep_columns(train.features, kept_column, kept.model.dim());
  const linear::FitResult fitted = linear::fit(kept.model, optimizer, train, fit);
  if (result != nullptr) *result = fitted;

  CompactOptions second = options;
  second.prune = 0.0;
  CompactStats st2;
  CompactModel c = compact_model(kept, second, &st2);
  c.options.prune = options.prune;
  c.source_dim = st1.source_dim;
  c.source_features = st1.source_features;
  if (stats != nullptr) {
    *stats = st2;
    stats->source_dim = st1.source_dim;
    stats->source_features = st1.source_features;
    stats->pruned = st1.pruned + st2.pruned;
    stats->terms_before = st1.terms_before;
  }
  return c;
}

std::string compact_model_bytes(const CompactModel& m) {
  TensorFile f;
  f.metadata["format"] = kCompactModelFormat;
  f.metadata["adakit.architecture"] = m.config.dump();
  f.metadata["adakit.input"] = m.input;
  f.metadata["adakit.export"] = export_json(m).dump();
  if (m.calibrator) f.metadata["adakit.calibration"] = m.calibrator->to_json().dump();
  const auto table = [&](const std::string& name, std::string_view raw) {
    std::string z = encode_compact_table(raw);
    f.raw[name] = RawTensor{Dtype::U8, {static_cast<std::int64_t>(z.size())}, std::move(z)};
  };
  table("weight.rows", encode_increasing(m.rows));
  if (m.options.quantize == Quantize::int8) {
    table("weight.values", bytes_of(std::span<const std::int8_t>(m.quantized)));
    table("weight.scales", bytes_of(std::span<const float>(m.scales)));
  } else {
    table("weight.values", bytes_of(std::span<const float>(m.values)));
  }
  table("bias", bytes_of(std::span<const float>(m.bias)));
  if (m.vectorizer) {
    const data::TextVectorizer& v = *m.vectorizer;
    f.metadata["adakit.vectorizer"] = v.to_json(/*with_tables=*/false).dump();
    table("vectorizer.terms", encode_terms(v));
    // The idf as document counts when they give it back exactly (data/idf.hpp), else as float64.
    std::string df;
    for (const double idf : v.idf()) {
      const std::optional<std::int64_t> d = data::df_from_idf(idf, v.num_documents(), v.options().smooth_idf);
      if (!d) {
        df.clear();
        break;
      }
      put_varint(df, static_cast<std::uint64_t>(*d));
    }
    table("vectorizer.df", df);
    table("vectorizer.idf", df.empty() ? bytes_of(v.idf()) : std::string());
    std::vector<std::int64_t> cols(v.idf_columns().begin(), v.idf_columns().end());
    table("vectorizer.idf_columns", encode_increasing(cols));
  }
  return safetensors_bytes(f);
}

void write_compact_model(const std::filesystem::path& path, const CompactModel& m) {
  write_file_atomic(path, compact_model_bytes(m));
}

CompactModel parse_compact_model(const SafetensorsView& view, const std::string& source) {
  Tables t(view, source);
  CompactModel m;
  const auto format = view.metadata.find("format");
  if (format == view.metadata.end() || format->second != kCompactModelFormat)
    fail(source, "format", "not a compact model file: format '" + (format == view.metadata.end() ? std::string() : format->second) +
                               "', expected '" + kCompactModelFormat + "'");
  m.config = t.meta_json("adakit.architecture");
  m.input = t.meta("adakit.input");
  if (m.input != "text" && m.input != "libsvm")
    fail(source, "adakit.input", "expected \"text\" or \"libsvm\", got '" + m.input + "'");
  const json e = t.meta_json("adakit.export");
  read_export(e, m, source);
  // The model's shape first (from_config checks it), then the tables it sizes.
  std::int64_t dim = 0, outputs = 0;
  try {
    const linear::LinearModel shape = linear::LinearModel::from_config(m.config);
    dim = shape.dim();
    outputs = shape.outputs();
  } catch (const std::bad_alloc&) {
    fail(source, "adakit.architecture", "the model's weights (" + m.config.dump() + ") do not fit in memory");
  } catch (const Error& err) {
    fail(source, err.context().field.empty() ? "adakit.architecture" : "adakit.architecture." + err.context().field,
         err.message());
  }
  const auto out_n = static_cast<std::size_t>(outputs);
  m.rows = decode_increasing(t.take("weight.rows"), dim, source, "weight.rows");
  if (static_cast<std::int64_t>(m.rows.size()) != e["features"].get<std::int64_t>())
    fail(source, "weight.rows", "holds " + std::to_string(m.rows.size()) + " features, adakit.export says " + e["features"].dump());
  if (m.rows.empty()) fail(source, "weight.rows", "no feature");
  const std::size_t n = m.rows.size() * out_n;
  const auto check_finite = [&](std::span<const float> v, const std::string& field, bool nonnegative) {
    for (const float x : v)
      if (!std::isfinite(x) || (nonnegative && x < 0.0f))
        fail(source, field, nonnegative ? "holds a value that is not finite and >= 0" : "holds a value that is not finite");
  };
  if (m.options.quantize == Quantize::int8) {
    m.quantized = values_of<std::int8_t>(t.take("weight.values"), n, source, "weight.values");
    for (const std::int8_t q : m.quantized)
      if (q == std::numeric_limits<std::int8_t>::min()) fail(source, "weight.values", "holds -128 (symmetric int8: -127..127)");
    const std::size_t groups = m.options.scale_by == QuantizeScale::output ? out_n : m.rows.size();
    m.scales = values_of<float>(t.take("weight.scales"), groups, source, "weight.scales");
    check_finite(m.scales, "weight.scales", true);
  } else {
    m.values = values_of<float>(t.take("weight.values"), n, source, "weight.values");
    check_finite(m.values, "weight.values", false);
  }
  m.bias = values_of<float>(t.take("bias"), out_n, source, "bias");
  check_finite(m.bias, "bias", false);
  if (m.input == "text") {
    const json header = t.meta_json("adakit.vectorizer");
    data::TextVectorizer::Tables tables;
    decode_terms(t.take("vectorizer.terms"), tables, source);
    const std::string idf = t.take("vectorizer.idf");
    if (idf.size() % sizeof(double) != 0) fail(source, "vectorizer.idf", "is not a whole number of float64 values");
    tables.idf = values_of<double>(idf, idf.size() / sizeof(double), source, "vectorizer.idf");
    // Files since the df table (earlier ones have none): document counts, turned into the idf exactly as
    // the vectorizer's fit computes it, from the header's document count and smoothing.
    if (view.tensors.contains("vectorizer.df")) {
      const std::string df = t.take("vectorizer.df");
      if (!df.empty() && !tables.idf.empty()) fail(source, "vectorizer.df", "and vectorizer.idf are both filled: one or the other");
      const json* docs = header.contains("num_documents") ? &header["num_documents"] : nullptr;
      const json* opts = header.contains("options") ? &header["options"] : nullptr;
      const json* smooth = opts != nullptr && opts->is_object() && opts->contains("smooth_idf") ? &(*opts)["smooth_idf"] : nullptr;
      if (!df.empty() && (docs == nullptr || !docs->is_number_integer() || docs->get<std::int64_t>() < 1 ||
                          smooth == nullptr || !smooth->is_boolean()))
        fail(source, "adakit.vectorizer", "document counts need num_documents >= 1 and options.smooth_idf");
      const std::int64_t documents = df.empty() ? 0 : docs->get<std::int64_t>();
      std::size_t pos = 0;
      while (pos < df.size()) {
        const std::uint64_t d = get_varint(df, pos, source, "vectorizer.df");
        if (d < 1 || d > static_cast<std::uint64_t>(documents))
          fail(source, "vectorizer.df", "a document count outside [1, " + std::to_string(documents) + "]: " + std::to_string(d));
        tables.idf.push_back(data::idf_from_df(static_cast<double>(d), static_cast<double>(documents), smooth->get<bool>()));
      }
    }
    for (const std::int64_t col : decode_increasing(t.take("vectorizer.idf_columns"), std::int64_t{1} << 31, source,
                                                     "vectorizer.idf_columns"))
      tables.idf_columns.push_back(static_cast<std::int32_t>(col));
    try {
      m.vectorizer = data::TextVectorizer::from_json(header, std::move(tables));
    } catch (const Error& err) {
      const std::string& field = err.context().field;
      const std::string name = field == "feature_names" || field == "term_offsets" ? "vectorizer.terms"
                               : field == "idf"                                  ? "vectorizer.idf"
                               : field == "idf_columns"                          ? "vectorizer.idf_columns"
                               : field.empty()                                   ? "adakit.vectorizer"
                                                                                 : "adakit.vectorizer." + field;
      throw Error(err.message(), {source, 0, name});
    }
    if (m.vectorizer->fitted() && m.vectorizer->num_features() != dim)
      fail(source, "adakit.vectorizer",
           "the vectorizer has " + std::to_string(m.vectorizer->num_features()) + " features, the model " + std::to_string(dim));
  }
  if (view.metadata.contains("adakit.calibration")) {
    const json cal = t.meta_json("adakit.calibration");
    try {
      m.calibrator = linear::Calibrator::from_json(cal);
    } catch (const Error& err) {
      fail(source, err.context().field.empty() ? "adakit.calibration" : "adakit.calibration." + err.context().field,
           err.message());
    }
  }
  t.check_all_taken();
  for (const auto& [k, v] : view.metadata) {
    const bool known = k == "format" || k == "adakit.architecture" || k == "adakit.input" || k == "adakit.export" ||
                       (k == "adakit.vectorizer" && m.input == "text") || (k == "adakit.calibration" && m.calibrator);
    if (!known) fail(source, k, "unexpected metadata entry (a damaged file?)");
  }
  return m;
}

CompactModel parse_compact_model(std::string_view bytes, const std::string& source, bool verify_checksums) {
  return parse_compact_model(parse_safetensors_view(bytes, source, verify_checksums), source);
}

}  // namespace adakit::io
