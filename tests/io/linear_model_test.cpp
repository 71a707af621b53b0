// io/linear_model.hpp: the sparse model file (JSON) round trip, byte for byte; text models with their
// vectorizer; reading a linear checkpoint for prediction; restore_linear_checkpoint's errors; and
// linear::LinearModel::for_dataset with the task asked for.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"

namespace {
using namespace adakit;

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Text data trained for two epochs with FTRL-L1 (some weights exactly 0).
struct Trained {
  data::PreparedSparseData d;
  linear::LinearModel model{linear::LinearTask::logistic, 1};
  std::unique_ptr<linear::LinearOptimizer> opt;
};
Trained trained_text() {
  data::PrepareOptions o;
  o.data = "sentiment-tiny";
  o.test_split = 0.3;
  o.text = data::TextVectorizerOptions{};
  Trained t{data::prepare_sparse_data(o), linear::LinearModel(linear::LinearTask::logistic, 1), nullptr};
  t.model = linear::LinearModel::for_dataset(t.d.train, t.d.train.features.cols, "auto");
  t.opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  linear::fit(t.model, *t.opt, t.d.train, {.epochs = 2, .batch_size = 1, .seed = 1});
  return t;
}

TEST(LinearModelFile, TextRoundTripIsByteIdentical) {
  adakit::test::TempDir dir;
  const Trained t = trained_text();
  io::save_linear_model(dir / "a.json", t.model, &*t.d.vectorizer);
  const std::string bytes = read_bytes(dir / "a.json");
  // The documented layout: the model's JSON plus its input and vectorizer.
  nlohmann::json expected = t.model.to_json();
  expected["input"] = "text";
  expected["vectorizer"] = t.d.vectorizer->to_json();
  EXPECT_EQ(bytes, expected.dump());
  EXPECT_TRUE(io::is_linear_model_file(dir / "a.json"));
  EXPECT_FALSE(io::is_linear_checkpoint_file(dir / "a.json"));

  const io::LinearModelFile back = io::read_linear_model(dir / "a.json");
  ASSERT_TRUE(back.vectorizer);
  EXPECT_EQ(back.model.config(), t.model.config());
  EXPECT_EQ(back.vectorizer->to_json(), t.d.vectorizer->to_json());
  io::save_linear_model(dir / "b.json", back.model, &*back.vectorizer);
  EXPECT_EQ(read_bytes(dir / "b.json"), bytes);
  // Same predictions.
  const auto x = t.d.test.features;
  EXPECT_EQ(linear::predict(back.model, x), linear::predict(t.model, x));
}

TEST(LinearModelFile, LibsvmModelHasNoVectorizer) {
  adakit::test::TempDir dir;
  linear::LinearModel m(linear::LinearTask::squared, 3);
  m.weights().row(1)[0] = 2.5f;
  m.bias()[0] = -1.0f;
  io::save_linear_model(dir / "m.json", m);
  EXPECT_EQ(nlohmann::json::parse(read_bytes(dir / "m.json")).at("input"), "libsvm");
  const auto back = io::read_linear_model(dir / "m.json");
  EXPECT_FALSE(back.vectorizer);
  EXPECT_EQ(back.model.weights().row(1)[0], 2.5f);
  EXPECT_EQ(back.model.bias()[0], -1.0f);
}

TEST(LinearModelFile, ErrorsNameTheFileAndField) {
  adakit::test::TempDir dir;
  std::ofstream(dir / "bad.json") << "{\"format\": ";
  try {
    io::read_linear_model(dir / "bad.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "model");
    EXPECT_EQ(e.context().file, (dir / "bad.json").string());
  }
  linear::LinearModel m(linear::LinearTask::logistic, 2);
  nlohmann::json doc = m.to_json();
  doc["input"] = "text";
  std::ofstream(dir / "novec.json") << doc.dump();
  try {
    io::read_linear_model(dir / "novec.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "a text model without its \"vectorizer\"");
    EXPECT_EQ(e.context().field, "vectorizer");
  }
  std::ofstream(dir / "x.csv") << "a,b\n";
  EXPECT_FALSE(io::is_linear_model_file(dir / "x.csv"));
}

linear::FitState fit_state(std::int64_t epoch) {
  linear::FitState st;
  st.epoch = epoch;
  return st;
}

TEST(LinearModelFile, ReadsACheckpointAndRestoresIt) {
  adakit::test::TempDir dir;
  const Trained t = trained_text();
  const auto meta = io::linear_model_metadata(&*t.d.vectorizer);
  EXPECT_EQ(meta.at("adakit.input"), "text");
  io::save_linear_checkpoint(dir / "ck.safetensors", t.model, t.opt->name(), t.opt->option_map(),
                             t.opt->state(t.model), fit_state(2), 1, 1, meta);
  EXPECT_TRUE(io::is_linear_checkpoint_file(dir / "ck.safetensors"));
  EXPECT_TRUE(io::is_linear_model_file(dir / "ck.safetensors"));
  const auto back = io::read_linear_model(dir / "ck.safetensors");
  ASSERT_TRUE(back.vectorizer);
  EXPECT_EQ(linear::predict(back.model, t.d.train.features), linear::predict(t.model, t.d.train.features));

  const io::LinearCheckpoint c = io::read_linear_checkpoint(dir / "ck.safetensors");
  linear::LinearModel fresh = linear::LinearModel::for_dataset(t.d.train, t.d.train.features.cols, "auto");
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  const auto st = io::restore_linear_checkpoint(c, fresh, *opt, "ck");
  EXPECT_EQ(st.epoch, 2);
  EXPECT_EQ(opt->steps(), t.opt->steps());
  linear::LinearModel other(linear::LinearTask::logistic, 5);
  try {
    io::restore_linear_checkpoint(c, other, *opt, "ck");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "adakit.architecture");
    EXPECT_EQ(e.context().file, "ck");
  }
}

TEST(LinearModelForDataset, TaskAskedFor) {
  data::SparseDataset d;
  d.features.cols = 4;
  for (int i = 0; i < 3; ++i) d.features.add_row(std::vector<std::int32_t>{i}, std::vector<float>{1.0f});
  d.labels = {0, 1, 2};
  d.class_names = {"a", "b", "c"};
  const auto auto_model = linear::LinearModel::for_dataset(d, 4, "auto");
  EXPECT_EQ(auto_model.task(), linear::LinearTask::softmax);
  EXPECT_EQ(auto_model.classes(), 3);
  EXPECT_EQ(auto_model.class_names(), d.class_names);
  try {
    linear::LinearModel::for_dataset(d, 4, "logreg");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.message(), "logreg is binary but the data has 3 classes; use softmax");
    EXPECT_EQ(e.context().field, "model");
  }
  EXPECT_THROW(linear::LinearModel::for_dataset(d, 4, "linreg"), UsageError);
  EXPECT_THROW(linear::LinearModel::for_dataset(d, 4, "mlp:3"), UsageError);
  d.labels = {0, 1, 1};
  d.class_names = {"a", "b"};
  const auto two = linear::LinearModel::for_dataset(d, 4, "softmax");
  EXPECT_EQ(two.task(), linear::LinearTask::softmax);
  EXPECT_EQ(two.outputs(), 2);
  EXPECT_EQ(linear::LinearModel::for_dataset(d, 4, "logreg").task(), linear::LinearTask::logistic);
  d.labels.clear();
  d.class_names.clear();
  d.targets = {0.5f, 1.0f, 2.0f};
  EXPECT_EQ(linear::LinearModel::for_dataset(d, 4, "linreg").task(), linear::LinearTask::squared);
  EXPECT_THROW(linear::LinearModel::for_dataset(d, 4, "softmax"), UsageError);
}

}  // namespace
