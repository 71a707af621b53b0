// Importance weights and class weights of the sparse linear trainer: scikit-learn's "balanced" formula,
// the weighted minibatch gradient (1/B) Σ_r w_r ∇L_r against a hand-summed one, and the equivalences a
// user relies on — a zero-weight row is a removed row (batch 1, file order, AdaGrad), class weights are
// the same run as the per-row weights they stand for, all-ones weights are no weights — asserted bit for
// bit. The readers: LIBSVM `label:weight`, TSV `label<TAB>weight<TAB>text`, a --weights file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;
using linear_test::weights_and_bias;

LinearModel train(const data::SparseDataset& d, const FitOptions& o, const std::string& optimizer = "adagrad") {
  LinearModel m = LinearModel::for_dataset(d);
  auto opt = make_linear_optimizer(optimizer, optimizer == "ftrl" ? optim::OptionMap{{"alpha", "0.3"}} : optim::OptionMap{{"lr", "0.3"}});
  fit(m, *opt, d, o);
  return m;
}

TEST(ClassWeights, BalancedIsScikitLearnsFormula) {
  // n / (classes · count_c): 4 rows, 3 of class 0, 1 of class 1 -> 4/6 and 4/2; a class without rows gets 1.
  const std::vector<std::int32_t> labels = {0, 0, 0, 1};
  const auto w = balanced_class_weights(labels, 3);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_FLOAT_EQ(w[0], 4.0f / 9.0f);  // 4 / (3 classes · 3)
  EXPECT_FLOAT_EQ(w[1], 4.0f / 3.0f);  // 4 / (3 · 1)
  EXPECT_EQ(w[2], 1.0f);
  const auto two = balanced_class_weights(labels, 2);
  EXPECT_FLOAT_EQ(two[0], 4.0f / 6.0f);
  EXPECT_FLOAT_EQ(two[1], 2.0f);
  EXPECT_THROW((void)balanced_class_weights(std::vector<std::int32_t>{0, 2}, 2), UsageError);
}

TEST(ClassWeights, RowWeightsMultiplyImportanceByClass) {
  data::SparseDataset d = make_dataset(Spec{.dim = 50, .informative = 5, .nnz_noise = 2, .classes = 3}, 6, 1);
  d.weights = {1, 2, 0, 0.5f, 1, 3};
  const std::vector<float> cw = {1.0f, 10.0f, 100.0f};
  const auto w = row_weights(d, cw);
  ASSERT_EQ(w.size(), 6u);
  for (std::size_t r = 0; r < 6; ++r) EXPECT_EQ(w[r], d.weights[r] * cw[static_cast<std::size_t>(d.labels[r])]) << r;
  d.weights.clear();
  const auto plain = row_weights(d, {});
  EXPECT_EQ(plain, std::vector<float>(6, 1.0f));
  try {
    (void)row_weights(d, std::vector<float>{1.0f});  // 3 classes, one weight
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "class_weight");
  }
}

// The weighted minibatch gradient against a sum written out by hand from the per-row gradients.
TEST(ImportanceWeights, GradientIsTheWeightedMeanOfTheRows) {
  for (const std::int64_t classes : {2, 4}) {
    data::SparseDataset d = make_dataset(Spec{.dim = 40, .informative = 8, .nnz_noise = 3, .classes = classes}, 5, 3);
    LinearModel m = LinearModel::for_dataset(d);
    {  // some nonzero weights so that the rows' gradients differ
      auto opt = make_linear_optimizer("adagrad", {{"lr", "0.2"}});
      fit(m, *opt, d, {.epochs = 1, .batch_size = 1, .seed = 2});
    }
    const std::vector<float> w = {0.5f, 2.0f, 0.0f, 1.0f, 3.0f};
    const std::vector<std::int64_t> rows = {0, 1, 2, 3, 4};
    const auto grad_of = [&](const data::SparseDataView& v, std::span<const std::int64_t> rs) {
      BatchFeatures bf;
      bf.build(v.features, rs, m.dim());
      SparseGradient g;
      (void)m.gradient(v, rs, bf, g);
      std::vector<double> dense(static_cast<std::size_t>(m.dim() * m.outputs() + m.outputs()), 0.0);
      for (std::size_t k = 0; k < g.features.size(); ++k)
        for (std::int64_t c = 0; c < m.outputs(); ++c)
          dense[static_cast<std::size_t>(g.features[k] * m.outputs() + c)] = g.values[k * static_cast<std::size_t>(m.outputs()) + static_cast<std::size_t>(c)];
      for (std::int64_t c = 0; c < m.outputs(); ++c)
        dense[static_cast<std::size_t>(m.dim() * m.outputs() + c)] = g.bias[static_cast<std::size_t>(c)];
      return dense;
    };
    data::SparseDataView weighted = d;
    weighted.weights = w;
    const auto batch = grad_of(weighted, rows);
    std::vector<double> expect(batch.size(), 0.0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const std::vector<std::int64_t> one = {rows[r]};
      const auto g = grad_of(data::SparseDataView(d), one);
      for (std::size_t i = 0; i < g.size(); ++i) expect[i] += w[r] * g[i] / static_cast<double>(rows.size());
    }
    for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_NEAR(batch[i], expect[i], 1e-6) << "classes " << classes << " entry " << i;
  }
}

// With one row per step in file order, a row of weight 0 moves nothing (AdaGrad adds 0 to the
// accumulator and steps by 0): training with it is training without it, bit for bit.
TEST(ImportanceWeights, ZeroWeightRowIsARemovedRow) {
  const auto d = make_dataset(Spec{.dim = 2000, .informative = 40, .classes = 3}, 300, 4);
  data::SparseDataset weighted = d;
  weighted.weights.assign(static_cast<std::size_t>(d.size()), 1.0f);
  std::vector<std::int64_t> kept;
  for (std::int64_t r = 0; r < d.size(); ++r) {
    if (r % 3 == 1) weighted.weights[static_cast<std::size_t>(r)] = 0.0f;
    else kept.push_back(r);
  }
  const FitOptions o{.epochs = 2, .batch_size = 1, .seed = 5, .shuffle = false};
  EXPECT_EQ(weights_and_bias(train(weighted, o)), weights_and_bias(train(d.subset(kept), o)));
}

TEST(ImportanceWeights, OnesAreNoWeights) {
  const auto d = make_dataset(Spec{.dim = 2000, .informative = 40, .classes = 2}, 300, 6);
  data::SparseDataset ones = d;
  ones.weights.assign(static_cast<std::size_t>(d.size()), 1.0f);
  for (const char* optimizer : {"adagrad", "ftrl", "adagrad-l1"}) {
    const FitOptions o{.epochs = 2, .batch_size = 4, .seed = 7};
    EXPECT_EQ(weights_and_bias(train(ones, o, optimizer)), weights_and_bias(train(d, o, optimizer))) << optimizer;
  }
}

// Class weights are the per-row weights class_weights[label]: the same run, shuffled minibatches included.
TEST(ClassWeights, SameRunAsTheRowWeightsTheyStandFor) {
  const auto d = make_dataset(Spec{.dim = 2000, .informative = 40, .classes = 3}, 300, 8);
  const std::vector<float> cw = {0.5f, 2.0f, 1.25f};
  data::SparseDataset rows = d;
  for (const auto y : d.labels) rows.weights.push_back(cw[static_cast<std::size_t>(y)]);
  const FitOptions by_row{.epochs = 3, .batch_size = 8, .seed = 9};
  FitOptions by_class = by_row;
  by_class.class_weights = cw;
  EXPECT_EQ(weights_and_bias(train(d, by_class)), weights_and_bias(train(rows, by_row)));
}

// A heavier minority class moves the decision toward it: more of its rows are recalled.
TEST(ClassWeights, BalancedRaisesMinorityRecall) {
  Spec s{.dim = 500, .informative = 20, .nnz_noise = 10, .classes = 2, .min_margin = 0.0};
  auto d = make_dataset(s, 4000, 10);
  std::vector<std::int64_t> keep;  // keep every class-0 row and one class-1 row in ten
  std::int64_t ones = 0;
  for (std::int64_t r = 0; r < d.size(); ++r)
    if (d.labels[static_cast<std::size_t>(r)] == 0 || ones++ % 10 == 0) keep.push_back(r);
  const auto skewed = d.subset(keep);
  const auto test = make_dataset(s, 2000, 11);
  const auto recall1 = [&](const LinearModel& m) {
    std::int64_t hit = 0, total = 0;
    const auto pred = predict(m, test.features);
    for (std::size_t r = 0; r < test.labels.size(); ++r)
      if (test.labels[r] == 1) {
        ++total;
        hit += pred[r] == 1;
      }
    return static_cast<double>(hit) / static_cast<double>(total);
  };
  const FitOptions plain{.epochs = 3, .batch_size = 1, .seed = 12};
  FitOptions balanced = plain;
  balanced.class_weights = balanced_class_weights(skewed.labels, 2);
  EXPECT_GT(balanced.class_weights[1], 4.0f);
  EXPECT_GT(recall1(train(skewed, balanced)), recall1(train(skewed, plain)) + 0.02);
}

TEST(ClassWeights, BadValuesNameTheField) {
  const auto d = make_dataset(Spec{.dim = 100, .informative = 10, .classes = 2}, 20, 13);
  const auto field_of = [&](FitOptions o) -> std::string {
    try {
      (void)train(d, o);
    } catch (const UsageError& e) {
      return e.context().field;
    }
    return "(no error)";
  };
  EXPECT_EQ(field_of({.class_weights = {1.0f, -1.0f}}), "class_weight");
  EXPECT_EQ(field_of({.class_weights = {1.0f, NAN}}), "class_weight");
  EXPECT_EQ(field_of({.class_weights = {1.0f, 1.0f, 1.0f}}), "class_weight");  // 3 weights, 2 classes
  auto regression = make_dataset(Spec{.dim = 100, .informative = 10, .classes = 0}, 20, 14);
  LinearModel m = LinearModel::for_dataset(regression);
  auto opt = make_linear_optimizer("adagrad", {});
  EXPECT_THROW(fit(m, *opt, regression, {.class_weights = {1.0f}}), UsageError);
  data::SparseDataset bad = d;
  bad.weights.assign(static_cast<std::size_t>(d.size()), 1.0f);
  bad.weights[3] = -0.5f;
  EXPECT_THROW((void)train(bad, {}), Error);
  bad.weights.pop_back();  // one short
  EXPECT_THROW((void)train(bad, {}), Error);
}

TEST(WeightReaders, LibsvmLabelWeightReadsAndRoundTrips) {
  const auto d = data::parse_libsvm("1:2.5 1:1 3:2\n0 2:1\n1:0 1:4\n", "w.svm");
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.weights, (std::vector<float>{2.5f, 1.0f, 0.0f}));
  const auto back = data::parse_libsvm(data::to_libsvm(d), "back.svm");
  EXPECT_EQ(back.weights, d.weights);
  EXPECT_EQ(back.labels, d.labels);
  EXPECT_EQ(data::parse_libsvm("1 1:1\n0 2:1\n", "plain.svm").weights, std::vector<float>{});  // none: empty
  const auto unweighted = data::parse_libsvm("1 1:1\n0 2:1\n", "plain.svm");
  EXPECT_EQ(data::to_libsvm(unweighted).find("1:1 1:1"), std::string::npos);  // no ':weight' written
}

TEST(WeightReaders, TsvWeightColumn) {
  const auto t = data::parse_text_tsv("pos\t2\tgood film\nneg\t0.5\tbad film\n", "w.tsv", true);
  ASSERT_EQ(t.size(), 2);
  EXPECT_EQ(t.weights, (std::vector<float>{2.0f, 0.5f}));
  EXPECT_EQ(t.texts[0], "good film");
  for (const std::string bad : {"pos\tx\tgood\n", "pos\t-1\tgood\n", "pos\tinf\tgood\n", "pos\t1\n"}) {
    try {
      (void)data::parse_text_tsv("neg\t1\tfine\n" + bad, "bad.tsv", true);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.context().file, "bad.tsv") << bad;
      EXPECT_EQ(e.context().line, 2) << bad;
    }
  }
}

TEST(WeightReaders, WeightsFileErrorsNameFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / "adakit_weights_test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    const auto p = dir / name;
    std::ofstream(p) << text;
    return p;
  };
  EXPECT_EQ(data::read_weights(write("ok.txt", "1\n\n2.5\r\n 0 \n"), 3), (std::vector<float>{1.0f, 2.5f, 0.0f}));
  const auto where = [&](const std::filesystem::path& p, std::int64_t rows) -> std::pair<std::int64_t, std::string> {
    try {
      (void)data::read_weights(p, rows);
    } catch (const Error& e) {
      EXPECT_EQ(e.context().file, p.string());
      return {e.context().line, e.context().field};
    }
    return {-1, "(no error)"};
  };
  EXPECT_EQ(where(write("neg.txt", "1\n-2\n1\n"), 3), std::make_pair(std::int64_t{2}, std::string("weight")));
  EXPECT_EQ(where(write("nan.txt", "1\n1\nnan\n"), 3), std::make_pair(std::int64_t{3}, std::string("weight")));
  EXPECT_EQ(where(write("word.txt", "1\nheavy\n1\n"), 3), std::make_pair(std::int64_t{2}, std::string("weight")));
  EXPECT_EQ(where(write("long.txt", "1\n1\n1\n1\n"), 3), std::make_pair(std::int64_t{4}, std::string("weight")));
  EXPECT_EQ(where(write("short.txt", "1\n1\n"), 3).second, "weight");
  std::filesystem::remove_all(dir);
}

}  // namespace
