// io/compact_model.hpp (adakit export's predict-only file): the int8 error bound |w - s q| <= s / 2;
// prune drops exactly the features whose weights are all |w| <= EPS; quantize none + prune 0 predicts
// bit for bit as the source model; int8 scores stay within their closed-form bound
// |z - z'| <= s / 2 * sum |x| of the source's; the file reads back as written; every truncation and
// every changed byte is an Error naming the file; predict-only files refuse to learn.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "../linear/synthetic.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/idf.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/compact_model.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/serve/server.hpp"

namespace {
using namespace adakit;

data::PreparedSparseData text_data(data::TextWeighting weighting, std::int32_t hash_bits = 0) {
  data::PrepareOptions o;
  o.data = "sentiment-tiny";
  o.test_split = 0.3;
  data::TextVectorizerOptions t;
  t.ngram_max = 2;
  t.weighting = weighting;
  t.hash_bits = hash_bits;
  o.text = t;
  return data::prepare_sparse_data(o);
}

linear::FitOptions fit_options(std::int64_t epochs, std::int64_t batch_size) {
  linear::FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.seed = 1;
  return o;
}

// A trained model file of the bundled text data (all rows: the sentences are few).
io::LinearModelFile text_model(data::TextWeighting weighting, std::int32_t hash_bits, const char* optimizer,
                               const optim::OptionMap& options, data::SparseDataset* rows = nullptr) {
  const auto d = text_data(weighting, hash_bits);
  io::LinearModelFile f;
  f.model = linear::LinearModel::for_dataset(d.train, d.train.features.cols, "softmax");
  auto opt = linear::make_linear_optimizer(optimizer, options);
  linear::fit(f.model, *opt, d.train, fit_options(5, 1));
  f.vectorizer = *d.vectorizer;
  if (rows != nullptr) *rows = d.train;
  return f;
}

// A LIBSVM-style model over synthetic sparse data (tests/linear/synthetic.hpp): 4 classes, 2,000 features.
io::LinearModelFile libsvm_model(data::SparseDataset& test) {
  linear_test::Spec s;
  s.dim = 2000;
  s.informative = 40;
  s.classes = 4;
  const data::SparseDataset train = linear_test::make_dataset(s, 800, 1);
  test = linear_test::make_dataset(s, 400, 2);
  io::LinearModelFile f;
  f.model = linear::LinearModel::for_dataset(train, s.dim, "softmax");
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.3"}});
  linear::fit(f.model, *opt, train, fit_options(3, 8));
  return f;
}

std::vector<float> proba(const io::LinearModelFile& f, const data::CsrView& x) {
  const Tensor p = linear::predict_proba(f.model, x);
  return {p.span().begin(), p.span().end()};
}

std::vector<float> scores(const linear::LinearModel& m, const data::CsrView& x, std::int64_t row) {
  std::vector<float> z(static_cast<std::size_t>(m.outputs()));
  m.scores(x, row, z);
  return z;
}

io::LinearModelFile round_trip(const io::CompactModel& c, const std::string& source = "m.small") {
  return io::parse_linear_model(io::compact_model_bytes(c), source);
}

TEST(CompactModel, Int8ErrorIsAtMostHalfAScale) {
  // Hand values: s = 127 / 127 = 1; halves round away from zero; the largest |w| maps to +-127.
  EXPECT_EQ(io::int8_scale(127.0f), 1.0f);
  EXPECT_EQ(io::quantize_int8(0.5f, 1.0f), 1);
  EXPECT_EQ(io::quantize_int8(-0.5f, 1.0f), -1);
  EXPECT_EQ(io::quantize_int8(1.49f, 1.0f), 1);
  EXPECT_EQ(io::quantize_int8(-127.0f, 1.0f), -127);
  EXPECT_EQ(io::quantize_int8(300.0f, 1.0f), 127);  // clamped: never -128 or wrapped
  EXPECT_EQ(io::quantize_int8(3.0f, 0.0f), 0);      // an all-zero group
  EXPECT_EQ(io::dequantize_int8(-3, 0.25f), -0.75f);
  Rng rng(7);
  for (const float magnitude : {1e-6f, 0.01f, 1.0f, 37.5f, 1e4f}) {
    std::vector<float> w(1000);
    float max_abs = 0.0f;
    for (auto& x : w) {
      x = static_cast<float>(rng.normal()) * magnitude;
      max_abs = std::max(max_abs, std::fabs(x));
    }
    const float s = io::int8_scale(max_abs);
    bool reached = false;
    for (const float x : w) {
      const std::int8_t q = io::quantize_int8(x, s);
      ASSERT_GE(q, -127);
      reached = reached || std::abs(q) == 127;
      // |w - s q| <= s / 2, up to the float rounding of s q (half an ulp of the result).
      const double err = std::fabs(static_cast<double>(x) - io::dequantize_int8(q, s));
      ASSERT_LE(err, s / 2.0 + std::numeric_limits<float>::epsilon() * max_abs) << x << " " << s;
    }
    EXPECT_TRUE(reached) << "the largest |w| maps to +-127";
  }
}

TEST(CompactModel, PruneDropsExactlyTheFeaturesAtOrUnderEps) {
  io::LinearModelFile f;
  f.model = linear::LinearModel(linear::LinearTask::softmax, 8, 3);
  // Feature j's weights; max |w| per row: 0, 0.5 (at EPS: dropped), 0.5000001 (kept), 2, 0.25, 0.9, 0, 1.
  // (Thresholds compare the float weight: 0.3f is above 0.3, so the test's boundaries are exact floats.)
  const std::vector<std::vector<float>> rows = {{0, 0, 0},      {0.5f, -0.2f, 0},          {0, 0.5000001f, -0.1f},
                                                {2, -1, 0.25f}, {-0.25f, 0.125f, 0.25f},   {0.9f, 0.05f, -0.4f},
                                                {-0.0f, 0, 0},  {1, 1, -1}};
  for (std::size_t j = 0; j < rows.size(); ++j)
    std::copy(rows[j].begin(), rows[j].end(), f.model.weight_row(static_cast<std::int64_t>(j)).begin());
  f.model.bias()[1] = 0.75f;
  io::CompactStats st;
  const io::CompactModel c = io::compact_model(f, {.prune = 0.5, .quantize = io::Quantize::none}, &st);
  EXPECT_EQ(c.rows, (std::vector<std::int64_t>{2, 3, 5, 7}));
  EXPECT_EQ(st.source_features, 6);
  EXPECT_EQ(st.pruned, 2);  // features 1 and 4 (0 and 6 have no weight)
  EXPECT_EQ(st.kept, 4);
  EXPECT_EQ(st.max_abs_error, 0.0);
  const std::vector<float> expect = {0, 0.5000001f, -0.1f, 2, -1, 0.25f, 0.9f, 0.05f, -0.4f, 1, 1, -1};
  EXPECT_EQ(c.values, expect);
  // Read back: the kept rows exactly, the dropped ones 0, the bias kept.
  const io::LinearModelFile back = round_trip(c);
  EXPECT_TRUE(back.predict_only);
  for (std::size_t j = 0; j < rows.size(); ++j)
    for (std::size_t k = 0; k < 3; ++k) {
      const bool kept = j == 2 || j == 3 || j == 5 || j == 7;
      EXPECT_EQ(back.model.weight_row(static_cast<std::int64_t>(j))[k], kept ? rows[j][k] : 0.0f) << j << "," << k;
    }
  EXPECT_EQ(back.model.bias()[1], 0.75f);

  // prune_weights: single weights |w| <= 0.25 go to 0; a feature left with none goes (4).
  const io::CompactModel w = io::compact_model(f, {.prune = 0.0, .prune_weights = 0.25, .quantize = io::Quantize::none}, &st);
  EXPECT_EQ(w.rows, (std::vector<std::int64_t>{1, 2, 3, 5, 7}));
  EXPECT_EQ(w.values, (std::vector<float>{0.5f, 0, 0, 0, 0.5000001f, 0, 2, -1, 0, 0.9f, 0, -0.4f, 1, 1, -1}));
  EXPECT_EQ(st.weights_zeroed, 4);  // -0.2, -0.1, 0.25, 0.05
  EXPECT_EQ(st.pruned, 1);          // feature 4

  // int8 per output column: s_c = max_c / 127 over the kept rows; feature 5's column-1 weight 0.05 rounds
  // to 0 (s_1 = 1 / 127 -> 0.05 * 127 = 6.35 -> 6), all values within s_c / 2.
  const io::CompactModel q = io::compact_model(f, {.prune = 0.5}, &st);
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_EQ(q.scales[0], 2.0f / 127.0f);
  EXPECT_EQ(q.scales[1], 1.0f / 127.0f);
  EXPECT_EQ(q.scales[2], 1.0f / 127.0f);
  EXPECT_EQ(q.quantized[3], 127);  // feature 3, column 0: the largest
  EXPECT_EQ(q.quantized[7], 6);    // feature 5, column 1: round(0.05 * 127)
  EXPECT_LE(st.max_abs_error, 1.0 / 127.0);

  // Everything pruned: an error naming the flag, not an empty model.
  try {
    io::compact_model(f, {.prune = 2.0});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "prune");
  }
}

TEST(CompactModel, BadOptionsNameTheirFlag) {
  const auto field_of = [](const io::CompactOptions& o) {
    try {
      o.validate();
    } catch (const UsageError& e) {
      return e.context().field;
    }
    return std::string("none");
  };
  EXPECT_EQ(field_of({.prune = -1.0}), "prune");
  EXPECT_EQ(field_of({.prune = std::nan("")}), "prune");
  EXPECT_EQ(field_of({.prune = INFINITY}), "prune");
  EXPECT_EQ(field_of({.prune_weights = -0.1}), "prune-weights");
  EXPECT_EQ(field_of({.prune_weights = std::nan("")}), "prune-weights");
  EXPECT_EQ(field_of({.prune = 0.0}), "none");
  try {
    io::quantize_from_string("int4");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "quantize");
  }
  try {
    io::quantize_scale_from_string("row");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "scale-by");
  }
}

// quantize none + prune 0 is lossless: bit-identical probabilities, for count and tf-idf, vocabulary and
// hashed text models, and a LIBSVM one. An L1 model's all-zero terms leave the vocabulary (a count
// model still predicts exactly; a tf-idf one exactly with keep_vocabulary).
TEST(CompactModel, QuantizeNoneAndPruneZeroPredictExactly) {
  for (const auto weighting : {data::TextWeighting::count, data::TextWeighting::tfidf}) {
    for (const std::int32_t hash_bits : {0, 10}) {
      for (const bool l1 : {false, true}) {
        SCOPED_TRACE(std::string(weighting == data::TextWeighting::tfidf ? "tfidf" : "count") + " hash_bits " +
                     std::to_string(hash_bits) + (l1 ? " l1" : ""));
        data::SparseDataset rows;
        const io::LinearModelFile f =
            l1 ? text_model(weighting, hash_bits, "adagrad-l1", {{"lr", "0.5"}, {"l1", "0.05"}}, &rows)
               : text_model(weighting, hash_bits, "adagrad", {{"lr", "0.5"}}, &rows);
        const std::vector<std::string> texts = {"a good film", "bad plot and awful acting", "fun", "zzz unseen words"};
        const auto expect = proba(f, f.vectorizer->transform(texts));
        for (const bool keep : {false, true}) {
          io::CompactStats st;
          const io::LinearModelFile c =
              round_trip(io::compact_model(f, {.quantize = io::Quantize::none, .keep_vocabulary = keep}, &st));
          const bool cut = hash_bits == 0 && !keep && st.terms_after < st.terms_before;
          if (l1 && hash_bits == 0 && !keep) {
            EXPECT_TRUE(cut) << "the L1 model's zero terms leave the vocabulary";
          }
          if (cut && weighting == data::TextWeighting::tfidf) continue;  // norms over fewer terms: not exact
          EXPECT_EQ(proba(c, c.vectorizer->transform(texts)), expect) << "keep_vocabulary " << keep;
        }
      }
    }
  }
  data::SparseDataset test;
  const io::LinearModelFile f = libsvm_model(test);
  const io::LinearModelFile c = round_trip(io::compact_model(f, {.quantize = io::Quantize::none}));
  EXPECT_EQ(proba(c, test.features), proba(f, test.features));
}

// int8: each score moves by at most sum_k |x_k| * s / 2 (s: the row's or the output's scale; the
// rounding of the sum itself is the slack), so the class changes only where the margin is below twice
// that. Checked row by row on the bundled text (vocabulary kept: the same x) and the synthetic data.
TEST(CompactModel, Int8ScoresStayWithinTheirBound) {
  data::SparseDataset test;
  const io::LinearModelFile lib = libsvm_model(test);
  data::SparseDataset text_rows;
  const io::LinearModelFile text = text_model(data::TextWeighting::tfidf, 0, "adagrad", {{"lr", "0.5"}}, &text_rows);
  for (const auto scale_by : {io::QuantizeScale::output, io::QuantizeScale::feature}) {
    for (const auto* pair : {&lib, &text}) {
      const io::LinearModelFile& f = *pair;
      const data::SparseDataset& d = pair == &lib ? test : text_rows;
      const io::CompactModel c = io::compact_model(f, {.scale_by = scale_by, .keep_vocabulary = true});
      const io::LinearModelFile small = round_trip(c);
      std::int64_t same = 0, decided = 0;
      for (std::int64_t r = 0; r < d.features.rows; ++r) {
        const auto z = scores(f.model, d.features, r), z2 = scores(small.model, d.features, r);
        double max_bound = 0.0;
        for (std::size_t k = 0; k < z.size(); ++k) {
          double bound = 0.0;
          for (std::int64_t e = d.features.indptr[r]; e < d.features.indptr[r + 1]; ++e) {
            const std::int64_t j = d.features.indices[e];
            // The feature's scale (its row in the compact model) or the output's.
            double s = 0.0;
            if (scale_by == io::QuantizeScale::output) s = c.scales[k];
            else if (const auto it = std::lower_bound(c.rows.begin(), c.rows.end(), j); it != c.rows.end() && *it == j)
              s = c.scales[static_cast<std::size_t>(it - c.rows.begin())];
            else  // dropped: all its int8 weights were 0, so each |w| < s / 2 of a scale we no longer have
              s = 2.0 * std::fabs(f.model.weight_row(j)[k]);
            bound += std::fabs(d.features.values[e]) * s / 2.0;
          }
          const double slack = 1e-5 * (1.0 + std::fabs(z[k]));
          ASSERT_LE(std::fabs(static_cast<double>(z[k]) - z2[k]), bound + slack) << "row " << r << " output " << k;
          max_bound = std::max(max_bound, bound + slack);
        }
        const auto top = [](const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); };
        std::vector<float> sorted = z;
        std::sort(sorted.rbegin(), sorted.rend());
        if (sorted.size() > 1 && sorted[0] - sorted[1] <= 2.0 * max_bound) continue;
        ++decided;
        same += top(z) == top(z2) ? 1 : 0;
      }
      EXPECT_EQ(same, decided) << "rows whose margin exceeds twice the bound keep their class";
      EXPECT_GT(decided, d.features.rows / 2);
    }
  }
  // On the synthetic data the default export (per-output scales, the vocabulary question aside) keeps
  // the accuracy within 1 point (measured: equal).
  const io::LinearModelFile small = round_trip(io::compact_model(lib, {}));
  const auto a = linear::predictions(lib.model, test, false), b = linear::predictions(small.model, test, false);
  EXPECT_NEAR(*b.accuracy, *a.accuracy, 0.01);
}

TEST(CompactModel, ReadsBackAsWritten) {
  adakit::test::TempDir dir;
  for (const auto q : {io::Quantize::none, io::Quantize::int8}) {
    for (const std::int32_t hash_bits : {0, 10}) {
      SCOPED_TRACE(std::string(io::to_string(q)) + " hash_bits " + std::to_string(hash_bits));
      const io::LinearModelFile f = text_model(data::TextWeighting::tfidf, hash_bits, "adagrad", {{"lr", "0.5"}});
      const io::CompactModel c = io::compact_model(f, {.prune = 0.05, .quantize = q});
      const std::string bytes = io::compact_model_bytes(c);
      const io::CompactModel back = io::parse_compact_model(bytes, "m.small");
      EXPECT_EQ(back.config, c.config);
      EXPECT_EQ(back.rows, c.rows);
      EXPECT_EQ(back.values, c.values);
      EXPECT_EQ(back.quantized, c.quantized);
      EXPECT_EQ(back.scales, c.scales);
      EXPECT_EQ(back.bias, c.bias);
      EXPECT_EQ(back.source_dim, f.model.dim());
      EXPECT_EQ(back.source_features, f.model.count_nonzero_features());
      ASSERT_TRUE(back.vectorizer);
      EXPECT_EQ(back.vectorizer->to_json(), c.vectorizer->to_json());  // terms, idf (doubles) exact
      EXPECT_EQ(io::compact_model_bytes(back), bytes);                  // written again: the same bytes
      // Through the file and read_linear_model, as adakit predict reads it.
      io::write_compact_model(dir / "m.small", c);
      EXPECT_TRUE(io::is_linear_model_file(dir / "m.small"));
      EXPECT_FALSE(io::is_linear_checkpoint_file(dir / "m.small"));
      const io::LinearModelFile m = io::read_linear_model(dir / "m.small");
      EXPECT_TRUE(m.predict_only);
      EXPECT_FALSE(m.optimizer);
      const std::vector<float> w = c.weights();
      for (std::size_t i = 0; i < c.rows.size(); ++i)
        for (std::int64_t k = 0; k < m.model.outputs(); ++k)
          ASSERT_EQ(m.model.weight_row(c.rows[i])[static_cast<std::size_t>(k)],
                    w[i * static_cast<std::size_t>(m.model.outputs()) + static_cast<std::size_t>(k)]);
      EXPECT_EQ(m.model.count_nonzero_features(), static_cast<std::int64_t>(c.rows.size()));
    }
  }
}

std::string small_bytes() {
  const io::LinearModelFile f = text_model(data::TextWeighting::tfidf, 0, "adagrad", {{"lr", "0.5"}});
  return io::compact_model_bytes(io::compact_model(f, {.prune = 0.05}));
}

TEST(CompactModel, EveryTruncationAndEveryChangedByteIsAnErrorNamingTheFile) {
  const std::string bytes = small_bytes();
  ASSERT_NO_THROW(io::parse_linear_model(bytes, "m.small"));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      io::parse_linear_model(std::string_view(bytes).substr(0, n), "m.small");
      FAIL() << "no error at length " << n;
    } catch (const Error& e) {
      ASSERT_EQ(e.context().file, "m.small") << n;
    }
  }
  std::string bad = bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bad[i] = static_cast<char>(bytes[i] ^ 0x5A);
    try {
      io::parse_linear_model(bad, "m.small");
      FAIL() << "no error with byte " << i << " changed";
    } catch (const Error& e) {
      ASSERT_EQ(e.context().file, "m.small") << i;
    }
    bad[i] = bytes[i];
  }
}

// Damage whose checksums were made to match (a buggy writer, a hand edit): the table checks name it.
TEST(CompactModel, MalformedTablesAreNamed) {
  const io::TensorFile good = io::parse_safetensors(small_bytes(), "m.small");
  const auto expect_field = [&](const io::TensorFile& f, const std::string& field, const std::string& what) {
    try {
      io::parse_linear_model(io::safetensors_bytes(f), "bad.small");
      FAIL() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.context().file, "bad.small");
      EXPECT_EQ(e.context().field, field) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  // A table: its 8-byte decoded length, then a zlib stream of `raw`.
  const auto table = [](const std::string& raw, std::int64_t declared = -1) {
    std::string z = io::encode_compact_table(raw);
    if (declared >= 0) std::memcpy(z.data(), &declared, 8);
    return io::RawTensor{io::Dtype::U8, {static_cast<std::int64_t>(z.size())}, z};
  };
  const auto decoded = [&](const std::string& name) {
    return io::decode_compact_table(good.raw.at(name).bytes, "m.small", name);
  };
  {
    io::TensorFile f = good;
    std::string q = decoded("weight.values");
    q[0] = static_cast<char>(-128);
    f.raw["weight.values"] = table(q);
    expect_field(f, "weight.values", "-128");
  }
  {
    io::TensorFile f = good;
    f.raw["weight.values"] = table(decoded("weight.values") + "x");
    expect_field(f, "weight.values", "bytes, expected");
  }
  {
    io::TensorFile f = good;
    f.raw["weight.values"] = table(decoded("weight.values"), 5);  // a decoded length that lies
    expect_field(f, "weight.values", "does not decode");
  }
  {
    io::TensorFile f = good;
    io::RawTensor t = good.raw.at("bias");
    t.bytes += "trailing";
    t.shape = {static_cast<std::int64_t>(t.bytes.size())};
    f.raw["bias"] = t;
    expect_field(f, "bias", "after its end");
  }
  {
    io::TensorFile f = good;
    f.raw["weight.rows"] = table(decoded("weight.rows").substr(1) + std::string("\x80\x00", 2));  // overlong varint
    expect_field(f, "weight.rows", "overlong");
  }
  {
    io::TensorFile f = good;
    std::string s = decoded("weight.scales");
    const float neg = -1.0f;
    std::memcpy(s.data(), &neg, 4);
    f.raw["weight.scales"] = table(s);
    expect_field(f, "weight.scales", "not finite and >= 0");
  }
  {
    io::TensorFile f = good;
    std::string t = decoded("vectorizer.terms");
    f.raw["vectorizer.terms"] = table(t + t.substr(0, 3));
    expect_field(f, "vectorizer.terms", "");
  }
  {
    io::TensorFile f = good;
    f.raw["extra"] = table("x");
    expect_field(f, "extra", "unexpected tensor");
  }
  {
    io::TensorFile f = good;
    f.raw.erase("vectorizer.idf");
    expect_field(f, "vectorizer.idf", "missing");
  }
  {
    io::TensorFile f = good;
    std::string df = decoded("vectorizer.df");
    df[0] = 0;  // a document count of 0
    f.raw["vectorizer.df"] = table(df);
    expect_field(f, "vectorizer.df", "outside [1, ");
  }
  {
    io::TensorFile f = good;
    f.raw["vectorizer.idf"] = table(std::string(8, '\0'));
    expect_field(f, "vectorizer.df", "both filled");
  }
  {
    io::TensorFile f = good;
    f.metadata["adakit.note"] = "hello";
    expect_field(f, "adakit.note", "unexpected metadata");
  }
  {
    io::TensorFile f = good;
    nlohmann::json e = nlohmann::json::parse(f.metadata.at("adakit.export"));
    e["features"] = e["features"].get<std::int64_t>() + 1;
    f.metadata["adakit.export"] = e.dump();
    expect_field(f, "weight.rows", "adakit.export says");
  }
  {
    io::TensorFile f = good;
    nlohmann::json e = nlohmann::json::parse(f.metadata.at("adakit.export"));
    e["quantize"] = "int4";
    f.metadata["adakit.export"] = e.dump();
    expect_field(f, "adakit.export.quantize", "int4");
  }
}

TEST(CompactModel, RetrainingKeepsThePrunedFeaturesOutAndLowersTheTrainingLoss) {
  linear_test::Spec s;
  s.dim = 2000;
  s.informative = 40;
  s.classes = 4;
  const data::SparseDataset train = linear_test::make_dataset(s, 800, 1);
  io::LinearModelFile f;
  f.model = linear::LinearModel::for_dataset(train, s.dim, "softmax");
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.3"}});
  linear::fit(f.model, *opt, train, fit_options(3, 8));
  // Prune about 60% of the features with a weight: EPS at that quantile of their largest |w|.
  std::vector<float> largest;
  for (std::int64_t j = 0; j < s.dim; ++j) {
    float m = 0.0f;
    for (const float w : f.model.weight_row(j)) m = std::max(m, std::fabs(w));
    if (m > 0.0f) largest.push_back(m);
  }
  std::sort(largest.begin(), largest.end());
  const double eps = largest[largest.size() * 6 / 10];
  io::CompactStats plain_st;
  const io::CompactModel plain = io::compact_model(f, {.prune = eps, .quantize = io::Quantize::none}, &plain_st);
  ASSERT_GT(plain_st.pruned, 100);  // the prune must matter for the comparison below

  auto retrain_opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.3"}});
  bool saw_pruned_model = false;
  const auto read = [&](const io::LinearModelFile& pruned) {
    // The model handed over is the pruned one: the source's columns, the dropped features at 0.
    saw_pruned_model = pruned.model.dim() == s.dim && !pruned.predict_only;
    for (std::int64_t j = 0; j < s.dim; ++j)
      if (!std::binary_search(plain.rows.begin(), plain.rows.end(), j))
        for (const float w : pruned.model.weight_row(j)) saw_pruned_model = saw_pruned_model && w == 0.0f;
    return train;
  };
  io::CompactStats st;
  linear::FitResult r;
  const io::CompactModel c = io::compact_model_retrained(f, {.prune = eps, .quantize = io::Quantize::none}, read,
                                                         *retrain_opt, fit_options(2, 1), &st, &r);
  EXPECT_TRUE(saw_pruned_model);
  EXPECT_EQ(r.history.size(), 2u);
  EXPECT_EQ(r.steps, 2 * 800);
  // No feature comes back: the kept ones are among the pruning's (a column outside them was dropped
  // from the rows, so its weight never moved).
  for (const std::int64_t j : c.rows) EXPECT_TRUE(std::binary_search(plain.rows.begin(), plain.rows.end(), j)) << j;
  EXPECT_EQ(st.source_dim, s.dim);
  EXPECT_EQ(st.source_features, plain_st.source_features);
  EXPECT_EQ(st.pruned, plain_st.pruned);
  EXPECT_EQ(c.options.prune, eps);
  EXPECT_EQ(c.source_features, plain_st.source_features);
  // What the retraining is for: the kept features fit the training data better than as pruned.
  const io::LinearModelFile a = round_trip(plain), b = round_trip(c);
  EXPECT_LT(linear::evaluate(b.model, train).loss, linear::evaluate(a.model, train).loss);
  // The same inputs give the same file.
  auto again_opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.3"}});
  const io::CompactModel again = io::compact_model_retrained(f, {.prune = eps, .quantize = io::Quantize::none}, read,
                                                             *again_opt, fit_options(2, 1));
  EXPECT_EQ(io::compact_model_bytes(again), io::compact_model_bytes(c));
}

TEST(CompactModel, IdfTravelsAsDocumentCountsAndFilesWithoutThemStillRead) {
  const io::LinearModelFile f = text_model(data::TextWeighting::tfidf, 0, "adagrad", {{"lr", "0.5"}});
  const io::CompactModel c = io::compact_model(f, {.prune = 0.05});
  const io::TensorFile file = io::parse_safetensors(io::compact_model_bytes(c), "m.small");
  const auto decoded = [&](const io::TensorFile& t, const std::string& name) {
    return io::decode_compact_table(t.raw.at(name).bytes, "m.small", name);
  };
  ASSERT_FALSE(decoded(file, "vectorizer.df").empty());
  EXPECT_TRUE(decoded(file, "vectorizer.idf").empty());
  // Read back, the idf is the vectorizer's to the bit (so predictions are too).
  const io::LinearModelFile back = io::parse_linear_model(io::safetensors_bytes(file), "m.small");
  ASSERT_TRUE(back.vectorizer.has_value());
  const std::span<const double> a = c.vectorizer->idf(), b = back.vectorizer->idf();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(std::memcmp(&a[i], &b[i], sizeof(double)), 0) << i;
  // A file of before the df table: the float64 idf and no "vectorizer.df". It reads the same.
  io::TensorFile old = file;
  old.raw.erase("vectorizer.df");
  const std::string raw(reinterpret_cast<const char*>(a.data()), a.size() * sizeof(double));
  std::string z = io::encode_compact_table(raw);
  old.raw["vectorizer.idf"] = io::RawTensor{io::Dtype::U8, {static_cast<std::int64_t>(z.size())}, z};
  const io::LinearModelFile from_old = io::parse_linear_model(io::safetensors_bytes(old), "old.small");
  const std::span<const double> o = from_old.vectorizer->idf();
  ASSERT_EQ(o.size(), a.size());
  EXPECT_TRUE(std::equal(o.begin(), o.end(), a.begin()));
  // Counts that do not give the idf back exactly are not written as counts: a table of idf values no
  // integer df produces keeps float64.
  for (std::int64_t n : {1, 7, 45400})
    for (const bool smooth : {true, false})
      for (std::int64_t d = 1; d <= n; d += std::max<std::int64_t>(1, n / 50)) {
        const double idf = data::idf_from_df(static_cast<double>(d), static_cast<double>(n), smooth);
        EXPECT_EQ(data::df_from_idf(idf, n, smooth), std::optional<std::int64_t>(d)) << n << " " << d << " " << smooth;
        EXPECT_EQ(data::df_from_idf(std::nextafter(idf, 10.0), n, smooth), std::nullopt) << n << " " << d;
      }
}

TEST(CompactModel, PredictOnlyFilesRefuseToLearn) {
  const io::LinearModelFile f = text_model(data::TextWeighting::count, 0, "adagrad", {{"lr", "0.5"}});
  for (const bool learn : {true, false}) {
    io::LinearModelFile small = round_trip(io::compact_model(f, {}));
    serve::ServerOptions o;
    o.learn = learn;
    if (!learn) o.save = "snapshot.bin";
    try {
      serve::ModelServer server(std::move(small), o, linear::make_linear_optimizer("adagrad", {}));
      FAIL() << "no error";
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, learn ? "learn" : "save");
    }
  }
  // Predicting is what it is for.
  serve::ModelServer server(round_trip(io::compact_model(f, {})), {});
  EXPECT_NE(server.handle("a good film", 0).find("label"), std::string::npos);
}

}  // namespace
