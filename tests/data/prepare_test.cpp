// data/prepare.hpp: label alignment, format guessing, column fitting, and the preparation pipelines
// of dense (iris) and sparse (LIBSVM, text) data.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/data/prepare.hpp"
#include "test_util.hpp"

namespace {
using namespace adakit;
using adakit::test::contains;

TEST(AlignLabels, RenumbersToTheTrainingClasses) {
  std::vector<std::int32_t> labels{0, 1, 1, 0};
  std::vector<std::string> names{"dog", "cat"};
  data::align_labels(labels, names, {"ant", "cat", "dog"}, "test.tsv");
  EXPECT_EQ(labels, (std::vector<std::int32_t>{2, 1, 1, 2}));
  EXPECT_EQ(names, (std::vector<std::string>{"ant", "cat", "dog"}));
}

TEST(AlignLabels, SameNamesLeaveTheLabels) {
  std::vector<std::int32_t> labels{1, 0};
  std::vector<std::string> names{"a", "b"};
  data::align_labels(labels, names, {"a", "b"}, "x");
  EXPECT_EQ(labels, (std::vector<std::int32_t>{1, 0}));
}

TEST(AlignLabels, AnUnknownClassNamesTheSource) {
  std::vector<std::int32_t> labels{0, 1};
  std::vector<std::string> names{"cat", "emu"};
  try {
    data::align_labels(labels, names, {"cat", "dog"}, "test.tsv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "class 'emu' does not occur in the training data");
    EXPECT_EQ(e.context().file, "test.tsv");
    EXPECT_EQ(e.context().field, "label");
  }
}

TEST(GuessFormat, ByName) {
  EXPECT_EQ(data::guess_format("sentiment-tiny"), "text-tsv");
  EXPECT_EQ(data::guess_format("a/b.tsv.gz"), "text-tsv");
  EXPECT_EQ(data::guess_format("x.svm"), "libsvm");
  EXPECT_EQ(data::guess_format("x.libsvm.gz"), "libsvm");
  EXPECT_EQ(data::guess_format("iris"), "dense");
  EXPECT_EQ(data::guess_format("x.csv"), "dense");
}

TEST(FitColumns, DropsUnseenColumnsAndWidens) {
  data::CsrMatrix x;
  x.cols = 5;
  x.add_row(std::vector<std::int32_t>{0, 3, 4}, std::vector<float>{1, 2, 3});
  x.add_row(std::vector<std::int32_t>{4}, std::vector<float>{7});
  data::fit_columns(x, 4);
  EXPECT_EQ(x.cols, 4);
  EXPECT_EQ(x.rows, 2);
  EXPECT_EQ(x.indices, (std::vector<std::int32_t>{0, 3}));
  EXPECT_EQ(x.values, (std::vector<float>{1, 2}));
  EXPECT_EQ(x.indptr, (std::vector<std::int64_t>{0, 2, 2}));
  data::fit_columns(x, 9);
  EXPECT_EQ(x.cols, 9);
  EXPECT_EQ(x.nnz(), 2);
}

TEST(PrepareData, IrisSplitsAndScales) {
  data::PrepareOptions o;
  o.data = "iris";
  o.test_split = 0.2;
  o.validation_split = 0.25;
  o.seed = 3;
  const auto d = data::prepare_data(o);
  EXPECT_EQ(d.test.size(), 30);
  EXPECT_EQ(d.validation.size(), 30);
  EXPECT_EQ(d.train.size(), 90);
  ASSERT_EQ(d.scaler.mean.size(), 4u);
  // Scaled on the training split: its mean is 0 per feature.
  for (std::int64_t j = 0; j < 4; ++j) {
    double s = 0;
    for (std::int64_t i = 0; i < d.train.size(); ++i) s += d.train.features[i * 4 + j];
    EXPECT_NEAR(s / 90.0, 0.0, 1e-5);
  }
  // The same as the library's own split and scaler.
  const auto all = data::load_data({"iris", {}, {}}).train;
  auto split = data::train_test_split(all, 0.2, 3);
  auto inner = data::train_test_split(split.train, 0.25, 4);
  data::StandardScaler sc;
  sc.fit(inner.train);
  EXPECT_EQ(sc.mean, d.scaler.mean);
  EXPECT_EQ(sc.scale, d.scaler.scale);
}

TEST(PrepareData, ScaleOffAndBadScale) {
  data::PrepareOptions o;
  o.data = "iris";
  o.scale = "off";
  EXPECT_FALSE(data::prepare_data(o).scaler.fitted());
  o.scale = "maybe";
  try {
    data::prepare_data(o);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "scale");
    EXPECT_EQ(e.message(), "--scale must be auto, on or off");
  }
}

TEST(PrepareSparseData, LibsvmTestFileGetsTheTrainingColumnsAndClasses) {
  adakit::test::TempDir dir;
  std::ofstream(dir / "train.svm") << "1 1:1 2:1\n2 3:1\n3 1:2\n";
  std::ofstream(dir / "test.svm") << "3 5:1\n2 1:1\n";
  data::PrepareOptions o;
  o.data = (dir / "train.svm").string();
  o.test_data = (dir / "test.svm").string();
  const auto d = data::prepare_sparse_data(o);
  EXPECT_EQ(d.train.features.cols, 5);
  EXPECT_EQ(d.test.features.cols, 5);
  EXPECT_EQ(d.test.class_names, d.train.class_names);
  EXPECT_EQ(d.test.labels, (std::vector<std::int32_t>{2, 1}));
  EXPECT_FALSE(d.vectorizer);
  std::ofstream(dir / "reg.svm") << "0.5 1:1\n";
  o.test_data = (dir / "reg.svm").string();
  try {
    data::prepare_sparse_data(o);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.message(), "the test file has numeric targets, the training file does not");
    EXPECT_EQ(e.context().file, o.test_data);
  }
}

TEST(PrepareSparseData, TextSplitFitsTheVectorizerOnTheTrainingSplit) {
  data::PrepareOptions o;
  o.data = "sentiment-tiny";
  o.test_split = 0.5;
  o.text = data::TextVectorizerOptions{};
  const auto d = data::prepare_sparse_data(o);
  ASSERT_TRUE(d.vectorizer);
  EXPECT_EQ(d.train.size() + d.test.size(), 6);
  EXPECT_EQ(d.test.size(), 3);
  EXPECT_EQ(d.train.features.cols, d.test.features.cols);
  data::TextVectorizer v(*o.text);
  const auto all = data::load_text("sentiment-tiny");
  const auto rows = data::split_rows(all.size(), all.labels, 0.5, 0);
  v.fit(all.subset(rows.train_rows).texts);
  EXPECT_EQ(d.vectorizer->to_json(), v.to_json());
}

}  // namespace
