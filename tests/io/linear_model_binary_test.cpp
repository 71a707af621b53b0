// io/linear_model.hpp's binary sparse model file ("adakit.linear.model.v1"): the same model as the JSON
// file, bit for bit, in a fraction of the bytes; a kept optimizer state that continues training exactly
// as the run that saved it would have, for every linear optimizer; a JSON file written by adakit before
// the binary format (committed) still loads and predicts what that version predicted; every
// truncation and every corrupted byte of a file is an Error naming the file, never a crash.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"

namespace {
using namespace adakit;

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

data::PreparedSparseData text_data(bool tfidf, std::int32_t hash_bits = 0) {
  data::PrepareOptions o;
  o.data = "sentiment-tiny";
  o.test_split = 0.3;
  data::TextVectorizerOptions t;
  t.ngram_max = 2;
  t.weighting = tfidf ? data::TextWeighting::tfidf : data::TextWeighting::count;
  t.hash_bits = hash_bits;
  o.text = t;
  return data::prepare_sparse_data(o);
}

std::vector<float> values(const Tensor& t) { return {t.span().begin(), t.span().end()}; }

void expect_same_weights(const linear::LinearModel& a, const linear::LinearModel& b) {
  ASSERT_EQ(a.config(), b.config());
  for (std::int64_t f = 0; f < a.dim(); ++f)
    for (std::int64_t k = 0; k < a.outputs(); ++k)
      ASSERT_EQ(a.weight_row(f)[static_cast<std::size_t>(k)], b.weight_row(f)[static_cast<std::size_t>(k)]) << f;
  for (std::int64_t k = 0; k < a.outputs(); ++k)
    ASSERT_EQ(a.bias()[static_cast<std::size_t>(k)], b.bias()[static_cast<std::size_t>(k)]);
}

TEST(LinearModelBinary, SameModelAsTheJsonFileInFewerBytes) {
  adakit::test::TempDir dir;
  for (const bool tfidf : {false, true}) {
    for (const std::int32_t hash_bits : {0, 10}) {
      SCOPED_TRACE(std::string(tfidf ? "tfidf" : "count") + " hash_bits " + std::to_string(hash_bits));
      const auto d = text_data(tfidf, hash_bits);
      auto model = linear::LinearModel::for_dataset(d.train, d.train.features.cols, "softmax");
      auto opt = linear::make_linear_optimizer("adagrad-l1", {{"lr", "0.5"}, {"l1", "0.01"}});
      linear::fit(model, *opt, d.train, {.epochs = 3, .batch_size = 1, .seed = 1});
      io::save_linear_model(dir / "m.json", model, &*d.vectorizer);
      io::save_linear_model(dir / "m.bin", model, &*d.vectorizer);
      EXPECT_TRUE(io::is_linear_model_file(dir / "m.bin"));
      EXPECT_FALSE(io::is_linear_checkpoint_file(dir / "m.bin"));
      const io::LinearModelFile bin = io::read_linear_model(dir / "m.bin");
      const io::LinearModelFile json = io::read_linear_model(dir / "m.json");
      EXPECT_FALSE(bin.optimizer);
      expect_same_weights(bin.model, model);
      expect_same_weights(json.model, model);
      ASSERT_TRUE(bin.vectorizer);
      EXPECT_EQ(bin.vectorizer->to_json(), d.vectorizer->to_json());  // vocabulary, idf (doubles) exact
      EXPECT_EQ(values(linear::predict_proba(bin.model, d.test.features)), values(linear::predict_proba(model, d.test.features)));
      // Written again from what was read: the same bytes.
      io::save_linear_model(dir / "again.bin", bin.model, &*bin.vectorizer);
      EXPECT_EQ(read_bytes(dir / "again.bin"), read_bytes(dir / "m.bin"));
    }
  }
}

// Dense enough to be like a trained text model: 4 bytes a weight against JSON's ~10 characters.
TEST(LinearModelBinary, UnderFortyPercentOfTheJsonFile) {
  adakit::test::TempDir dir;
  linear::LinearModel m(linear::LinearTask::softmax, 20000, 8);
  Rng rng(3);
  for (std::int64_t f = 0; f < m.dim(); f += 2)
    for (float& w : m.weight_row(f)) w = static_cast<float>(rng.normal() * 0.1);
  io::save_linear_model(dir / "m.json", m);
  io::save_linear_model(dir / "m.bin", m);
  const auto json = std::filesystem::file_size(dir / "m.json"), bin = std::filesystem::file_size(dir / "m.bin");
  EXPECT_LT(static_cast<double>(bin), 0.4 * static_cast<double>(json)) << bin << " vs " << json;
  expect_same_weights(io::read_linear_model(dir / "m.bin").model, m);
}

TEST(LinearModelBinary, TheDocumentedLayout) {
  adakit::test::TempDir dir;
  linear::LinearModel m(linear::LinearTask::softmax, 5, 3);
  m.weight_row(1)[2] = 1.5f;
  m.weight_row(4)[0] = -2.0f;
  m.bias()[1] = 0.25f;
  io::save_linear_model(dir / "m.safetensors", m);
  const io::TensorFile f = io::read_safetensors(dir / "m.safetensors");
  EXPECT_EQ(f.metadata.at("format"), "adakit.linear.model.v1");
  EXPECT_EQ(f.metadata.at("adakit.input"), "libsvm");
  EXPECT_EQ(nlohmann::json::parse(f.metadata.at("adakit.architecture")), m.config());
  EXPECT_EQ(f.raw.at("weight.rows").values<std::int64_t>(), (std::vector<std::int64_t>{1, 4}));
  const Tensor& v = f.tensors.at("weight.values");
  EXPECT_EQ(v.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::vector<float>(v.span().begin(), v.span().end()), (std::vector<float>{0, 0, 1.5f, -2.0f, 0, 0}));
  EXPECT_EQ(f.tensors.at("bias").shape(), (Shape{3}));
  EXPECT_EQ(f.tensors.size() + f.raw.size(), 3u);  // nothing else for a LIBSVM model without state
}

// Continuing from a file that kept the optimizer's state = the run that never stopped, bit for bit.
TEST(LinearModelBinary, KeptStateContinuesExactlyForEveryLinearOptimizer) {
  adakit::test::TempDir dir;
  const auto d = text_data(true);
  for (const auto& info : linear::linear_optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    const optim::OptionMap options{{"lr", "0.3"}};
    auto model = linear::LinearModel::for_dataset(d.train, d.train.features.cols, "softmax");
    auto opt = info.make(info.name == "ftrl" ? optim::OptionMap{{"alpha", "0.3"}, {"l1", "0.01"}} : options);
    linear::fit(model, *opt, d.train, {.epochs = 2, .batch_size = 2, .seed = 4});
    io::save_linear_model(dir / "s.bin", model, &*d.vectorizer, opt.get());
    EXPECT_THROW(io::save_linear_model(dir / "s.json", model, &*d.vectorizer, opt.get()), UsageError);

    io::LinearModelFile back = io::read_linear_model(dir / "s.bin");
    ASSERT_TRUE(back.optimizer);
    EXPECT_EQ(back.optimizer->name(), info.name);
    EXPECT_EQ(back.optimizer->option_map(), opt->option_map());
    EXPECT_EQ(back.optimizer->steps(), opt->steps());
    expect_same_weights(back.model, model);
    // Two more epochs on each (another seed: the shuffles of a fresh fit).
    linear::fit(model, *opt, d.train, {.epochs = 2, .batch_size = 2, .seed = 9});
    linear::fit(back.model, *back.optimizer, d.train, {.epochs = 2, .batch_size = 2, .seed = 9});
    expect_same_weights(back.model, model);
    EXPECT_EQ(back.optimizer->steps(), opt->steps());
  }
}

// tests/reference/fixtures/linear_model_v0.json: `adakit train --data sentiment-tiny --ngram 1,2 --tfidf
// --model softmax --lr 0.5 --epochs 20 --batch-size 1 --seed 1 --save linear_model_v0.json` by adakit
// before the binary format (commit ea82aff), and linear_model_v0_predict.json what its `adakit predict
// --model linear_model_v0.json --text T1 --text T2 --text T3 --probabilities --json` printed.
TEST(LinearModelBinary, AJsonFileFromBeforeTheBinaryFormatStillPredictsTheSame) {
  const std::filesystem::path fixtures = ADAKIT_FIXTURE_DIR;
  const io::LinearModelFile f = io::read_linear_model(fixtures / "linear_model_v0.json");
  ASSERT_TRUE(f.vectorizer);
  const auto expected = nlohmann::json::parse(read_bytes(fixtures / "linear_model_v0_predict.json")).at("predictions");
  const std::vector<std::string> texts{"This movie was amazing", "terrible plot and bad acting", "a film"};
  ASSERT_EQ(expected.size(), texts.size());
  const std::size_t k = f.model.class_names().size();
  ASSERT_EQ(k, 2u);
  const auto proba = values(linear::predict_proba(f.model, f.vectorizer->transform(texts)));
  for (std::size_t i = 0; i < texts.size(); ++i)
    for (std::size_t c = 0; c < k; ++c)
      EXPECT_EQ(static_cast<float>(expected[i].at("probabilities")[c].get<double>()), proba[i * k + c]) << texts[i];
  // Converted to the binary file: the same model.
  adakit::test::TempDir dir;
  io::save_linear_model(dir / "m.bin", f.model, &*f.vectorizer);
  const auto back = io::read_linear_model(dir / "m.bin");
  expect_same_weights(back.model, f.model);
  EXPECT_EQ(back.vectorizer->to_json(), f.vectorizer->to_json());
}

std::string small_model_bytes(const std::filesystem::path& dir, bool with_state) {
  const auto d = text_data(true);
  auto model = linear::LinearModel::for_dataset(d.train, d.train.features.cols, "softmax");
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  linear::fit(model, *opt, d.train, {.epochs = 1, .batch_size = 1, .seed = 1});
  io::save_linear_model(dir / "small.bin", model, &*d.vectorizer, with_state ? opt.get() : nullptr);
  return read_bytes(dir / "small.bin");
}

TEST(LinearModelBinary, EveryTruncationAndEveryCorruptedByteIsAnErrorNamingTheFile) {
  adakit::test::TempDir dir;
  const std::string bytes = small_model_bytes(dir.path(), true);
  ASSERT_NO_THROW(io::parse_linear_model(bytes, "m.bin"));
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    try {
      io::parse_linear_model(std::string_view(bytes).substr(0, n), "m.bin");
      FAIL() << "no error at length " << n;
    } catch (const Error& e) {
      ASSERT_EQ(e.context().file, "m.bin") << n;
    }
  }
  std::string bad = bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bad[i] = static_cast<char>(bytes[i] ^ 0x5A);
    try {
      io::parse_linear_model(bad, "m.bin");
      FAIL() << "no error with byte " << i << " changed";
    } catch (const Error& e) {
      ASSERT_EQ(e.context().file, "m.bin") << i;
    }
    bad[i] = bytes[i];
  }
}

// A corrupted file whose checksums were made to match (as a buggy writer or a hand edit would): the
// structure checks name the field.
TEST(LinearModelBinary, MalformedEntriesAreNamed) {
  adakit::test::TempDir dir;
  const std::string bytes = small_model_bytes(dir.path(), false);
  const auto expect_field = [&](io::TensorFile f, const std::string& field, const std::string& what) {
    io::write_safetensors(dir / "bad.bin", f);
    try {
      io::read_linear_model(dir / "bad.bin");
      FAIL() << "no error for " << field;
    } catch (const Error& e) {
      EXPECT_EQ(e.context().file, (dir / "bad.bin").string());
      EXPECT_EQ(e.context().field, field) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const io::TensorFile good = io::parse_safetensors(bytes, "small.bin");
  {
    auto f = good;
    f.raw.erase("weight.rows");
    expect_field(f, "weight.rows", "missing");
  }
  {
    auto f = good;
    auto rows = f.raw.at("weight.rows").values<std::int64_t>();
    rows.back() = 1 << 30;
    f.raw["weight.rows"] = io::RawTensor::of<std::int64_t>(rows);
    expect_field(f, "weight.rows", "outside");
  }
  {
    auto f = good;
    f.raw["weight.rows"].dtype = io::Dtype::U8;
    f.raw["weight.rows"].shape = {static_cast<std::int64_t>(f.raw["weight.rows"].bytes.size())};
    expect_field(f, "weight.rows", "dtype U8, expected I64");
  }
  {
    auto f = good;
    auto off = f.raw.at("vectorizer.term_offsets").values<std::int64_t>();
    off[1] = off[2] + 1;
    f.raw["vectorizer.term_offsets"] = io::RawTensor::of<std::int64_t>(off);
    expect_field(f, "vectorizer.term_offsets", "decrease");
  }
  {
    auto f = good;
    auto idf = f.raw.at("vectorizer.idf").values<double>();
    idf[0] = -1.0;
    f.raw["vectorizer.idf"] = io::RawTensor::of<double>(idf);
    expect_field(f, "vectorizer.idf", "positive");
  }
  {
    auto f = good;
    auto arch = nlohmann::json::parse(f.metadata.at("adakit.architecture"));
    arch["dim"] = arch["dim"].get<std::int64_t>() + 1;
    f.metadata["adakit.architecture"] = arch.dump();
    expect_field(f, "adakit.architecture", "vectorizer");
  }
  {
    auto f = good;
    f.metadata["adakit.input"] = "csv";
    expect_field(f, "adakit.input", "expected");
  }
  {
    auto f = good;
    f.tensors["extra"] = Tensor({1});
    expect_field(f, "extra", "unexpected tensor");
  }
  {
    auto f = good;
    f.metadata["optim.name"] = "adagrad";
    f.metadata["optim.counter.optimizer.steps"] = "3";
    expect_field(f, "optim.adagrad.bias.sum", "missing");  // an optimizer named without its state
  }
  {
    auto f = good;
    f.metadata["adakit.note"] = "x";
    expect_field(f, "adakit.note", "unexpected metadata entry");
  }
  {
    auto f = good;
    f.metadata["format"] = "adakit.model.v1";
    expect_field(f, "format", "not a sparse model file");
  }
}

TEST(SafetensorsDtypes, EveryDtypeRoundTripsAlignedAndPythonReadable) {
  adakit::test::TempDir dir;
  io::TensorFile f;
  f.tensors["a"] = Tensor::from({3}, {1.0f, 2.0f, 3.0f});
  const std::vector<std::uint8_t> bytes{1, 2, 3};
  const std::vector<std::int32_t> i32{-1, 7};
  const std::vector<std::int64_t> i64{std::int64_t{1} << 40};
  const std::vector<double> f64{0.1, 1e300};
  f.raw["b"] = io::RawTensor::of<std::uint8_t>(bytes);
  f.raw["c"] = io::RawTensor::of<std::int32_t>(i32);
  f.raw["d"] = io::RawTensor::of<std::int64_t>(i64);
  f.raw["e"] = io::RawTensor::of<double>(f64);
  io::write_safetensors(dir / "t.safetensors", f);
  const auto back = io::read_safetensors(dir / "t.safetensors");
  EXPECT_EQ(back.raw.at("b").values<std::uint8_t>(), bytes);
  EXPECT_EQ(back.raw.at("c").values<std::int32_t>(), i32);
  EXPECT_EQ(back.raw.at("d").values<std::int64_t>(), i64);
  EXPECT_EQ(back.raw.at("e").values<double>(), f64);
  EXPECT_THROW(back.raw.at("e").values<std::int64_t>(), UsageError);
  // Each tensor starts at a multiple of its element size, and the header says the safetensors names.
  const std::string file = read_bytes(dir / "t.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  const auto header = nlohmann::json::parse(file.substr(8, n));
  for (const auto& [name, size, dtype] : {std::tuple{"a", 4, "F32"}, {"b", 1, "U8"}, {"c", 4, "I32"}, {"d", 8, "I64"}, {"e", 8, "F64"}}) {
    EXPECT_EQ(header.at(name).at("dtype"), dtype);
    EXPECT_EQ(header.at(name).at("data_offsets")[0].get<std::uint64_t>() % static_cast<std::uint64_t>(size), 0u) << name;
  }
  // Files whose tensors must all be F32 say which one is not.
  try {
    io::require_f32(back, "t.safetensors");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "b");
    EXPECT_EQ(e.message(), "dtype \"U8\" is not supported here (F32 only)");
  }
}

}  // namespace
