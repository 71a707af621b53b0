// The ova (one-vs-all logistic, multilabel) and squared-hinge (L2-loss SVM) tasks of the sparse linear
// models, and multilabel data: each loss and its gradient against the closed forms of model.hpp and
// against central finite differences of linear::evaluate's mean loss; the label-set readers (TSV and
// LIBSVM, comma-separated), their writer round trip and renumbering; top_classes and the micro P@k,
// R@k, precision, recall and F1 against figures scikit-learn's precision/recall/f1_score(average=
// "micro") and accuracy_score give for the same arrays; training that learns a multilabel rule.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/calibrate.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/multilabel.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;

double sigmoid_d(double z) { return 1.0 / (1.0 + std::exp(-z)); }

TEST(OvaLoss, IsTheSumOfIndependentLogisticLossesOverTheLabelSet) {
  const std::vector<float> z = {1.5f, -0.25f, 0.0f, 3.0f};
  const std::vector<std::int32_t> labels = {1, 3};  // classes 1 and 3 are on
  std::vector<float> dz(4);
  const double loss = linear_loss(LinearTask::ova, z, labels, 0.0f, dz);
  double expected = 0.0;
  for (int c = 0; c < 4; ++c) {
    const double y = c == 1 || c == 3 ? 1.0 : 0.0, s = 2 * y - 1;
    expected += std::log1p(std::exp(-s * z[static_cast<std::size_t>(c)]));
    EXPECT_NEAR(dz[static_cast<std::size_t>(c)], sigmoid_d(z[static_cast<std::size_t>(c)]) - y, 1e-7) << c;
  }
  EXPECT_NEAR(loss, expected, 1e-12);
  // One label: the same as a single-label row.
  const double one = linear_loss(LinearTask::ova, z, std::int32_t{2}, 0.0f, dz);
  EXPECT_NEAR(dz[2], sigmoid_d(0.0) - 1.0, 1e-7);
  EXPECT_GT(one, 0.0);
  // Out of range, or no label at all.
  EXPECT_THROW(linear_loss(LinearTask::ova, z, std::vector<std::int32_t>{4}, 0.0f, dz), UsageError);
  EXPECT_THROW(linear_loss(LinearTask::ova, z, std::vector<std::int32_t>{}, 0.0f, dz), UsageError);
  // Several labels are for ova only.
  EXPECT_THROW(linear_loss(LinearTask::softmax, z, labels, 0.0f, dz), UsageError);
}

TEST(SquaredHingeLoss, BinaryAndOneVsRestClosedForms) {
  std::vector<float> dz(1);
  // y = 1, z = 0.25: slack 0.75 -> loss 0.5625, dL/dz = -2 · 0.75.
  EXPECT_NEAR(linear_loss(LinearTask::squared_hinge, std::vector<float>{0.25f}, std::int32_t{1}, 0.0f, dz), 0.5625, 1e-12);
  EXPECT_FLOAT_EQ(dz[0], -1.5f);
  // y = 0 (s = -1), z = 0.25: slack 1.25 -> 1.5625, dL/dz = +2.5.
  EXPECT_NEAR(linear_loss(LinearTask::squared_hinge, std::vector<float>{0.25f}, std::int32_t{0}, 0.0f, dz), 1.5625, 1e-12);
  EXPECT_FLOAT_EQ(dz[0], 2.5f);
  // Beyond the margin: no loss, no gradient.
  EXPECT_EQ(linear_loss(LinearTask::squared_hinge, std::vector<float>{1.5f}, std::int32_t{1}, 0.0f, dz), 0.0);
  EXPECT_EQ(dz[0], 0.0f);
  // Three classes, label 2: s = (-1, -1, +1).
  const std::vector<float> z = {-2.0f, 0.5f, 0.5f};
  std::vector<float> d3(3);
  const double l = linear_loss(LinearTask::squared_hinge, z, std::int32_t{2}, 0.0f, d3);
  EXPECT_NEAR(l, 0.0 + 1.5 * 1.5 + 0.5 * 0.5, 1e-12);
  EXPECT_FLOAT_EQ(d3[0], 0.0f);
  EXPECT_FLOAT_EQ(d3[1], 3.0f);
  EXPECT_FLOAT_EQ(d3[2], -1.0f);
}

TEST(LinearTasks, OutputsAndNames) {
  EXPECT_EQ(linear_outputs(LinearTask::ova, 2), 2);
  EXPECT_EQ(linear_outputs(LinearTask::ova, 5), 5);
  EXPECT_EQ(linear_outputs(LinearTask::squared_hinge, 2), 1);
  EXPECT_EQ(linear_outputs(LinearTask::squared_hinge, 5), 5);
  for (const auto t : {LinearTask::ova, LinearTask::squared_hinge})
    EXPECT_EQ(linear_task_from_string(to_string(t)), t);
  const LinearModel m(LinearTask::squared_hinge, 10, 4);
  EXPECT_EQ(m.outputs(), 4);
  EXPECT_THROW(LinearModel(LinearTask::ova, 10, 1), UsageError);
  EXPECT_EQ(predicted_class(std::vector<float>{0.3f}), 1);
  EXPECT_EQ(predicted_class(std::vector<float>{0.3f, 0.9f, 0.9f}), 1);  // first on ties
}

// A small multilabel dataset over `dim` features: each row's classes follow its features.
data::SparseDataset multilabel_data(std::int64_t rows, std::uint64_t seed) {
  Rng rng(seed);
  data::SparseDataset d;
  d.name = "multilabel";
  d.class_names = {"a", "b", "c", "d"};
  d.features.cols = 40;
  std::vector<std::int32_t> idx, set;
  std::vector<float> val;
  for (std::int64_t r = 0; r < rows; ++r) {
    idx.clear(), val.clear(), set.clear();
    for (std::int32_t c = 0; c < 4; ++c)
      if (rng.below(2) == 1 || (c == 3 && set.empty())) {
        set.push_back(c);
        idx.push_back(c * 5 + static_cast<std::int32_t>(rng.below(5)));  // features 5c .. 5c+4 say class c
        val.push_back(1.0f);
      }
    idx.push_back(20 + static_cast<std::int32_t>(rng.below(20)));  // noise
    val.push_back(0.5f);
    d.features.add_row(idx, val);
    d.label_sets.add_row(set);
    d.labels.push_back(d.label_sets.row(r).front());
  }
  return d;
}

// ∂ mean loss / ∂w from LinearModel::gradient, against central differences of evaluate()'s mean loss.
void expect_gradient_matches_differences(LinearModel m, const data::SparseDataset& d) {
  Rng rng(3);
  for (auto& w : m.weights()) w = static_cast<float>(0.5 * rng.normal());
  for (auto& b : m.bias()) b = static_cast<float>(0.5 * rng.normal());
  std::vector<std::int64_t> rows(static_cast<std::size_t>(d.size()));
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
  BatchFeatures batch;
  batch.build(d.features, rows, m.dim());
  SparseGradient g;
  const BatchStats st = m.gradient(d, rows, batch, g);
  // Training sums a score by feature shard, evaluate() in the row's order (model.hpp): equal to rounding.
  EXPECT_NEAR(st.loss_sum / static_cast<double>(d.size()), evaluate(m, d).loss, 1e-6 * std::abs(evaluate(m, d).loss));
  // (L(p + h) − L(p − h)) / 2h for one parameter p of the model.
  const float h = 1e-2f;
  const auto numeric = [&](float& p) {
    const float p0 = p;
    p = p0 + h;
    const double up = evaluate(m, d).loss;
    p = p0 - h;
    const double down = evaluate(m, d).loss;
    p = p0;
    return (up - down) / (2.0 * h);
  };
  const auto k = static_cast<std::size_t>(m.outputs());
  for (std::size_t i = 0; i < g.features.size(); i += 3)
    for (std::size_t c = 0; c < k; ++c) {
      const double n = numeric(m.weight_row(g.features[i])[c]);
      EXPECT_NEAR(g.values[i * k + c], n, 2e-3 * (1.0 + std::abs(n)))
          << to_string(m.task()) << " feature " << g.features[i] << " output " << c;
    }
  for (std::size_t c = 0; c < k; ++c) {
    const double n = numeric(m.bias()[c]);
    EXPECT_NEAR(g.bias[c], n, 2e-3 * (1.0 + std::abs(n))) << to_string(m.task()) << " bias " << c;
  }
}

TEST(OvaGradient, MatchesFiniteDifferencesOnMultilabelRows) {
  const data::SparseDataset d = multilabel_data(60, 7);
  expect_gradient_matches_differences(LinearModel::for_dataset(d), d);  // multilabel data: ova
}

TEST(SquaredHingeGradient, MatchesFiniteDifferencesBinaryAndMulticlass) {
  using linear_test::make_dataset;
  using linear_test::Spec;
  const data::SparseDataset two = make_dataset(Spec{.dim = 60, .informative = 6, .nnz_noise = 3, .classes = 2}, 50, 2);
  expect_gradient_matches_differences(LinearModel::for_dataset(two, 0, "squared_hinge"), two);
  const data::SparseDataset three = make_dataset(Spec{.dim = 60, .informative = 6, .nnz_noise = 3, .classes = 3}, 50, 2);
  expect_gradient_matches_differences(LinearModel::for_dataset(three, 0, "squared_hinge"), three);
  expect_gradient_matches_differences(LinearModel::for_dataset(three, 0, "ova"), three);  // single-label rows
}

TEST(Multilabel, OnlyTheOvaModelTakesMultilabelData) {
  const data::SparseDataset d = multilabel_data(10, 1);
  EXPECT_EQ(LinearModel::for_dataset(d).task(), LinearTask::ova);
  EXPECT_THROW((void)LinearModel::for_dataset(d, 0, "softmax"), UsageError);
  LinearModel softmax(LinearTask::softmax, d.features.cols, 4);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  EXPECT_THROW(fit(softmax, *opt, d, FitOptions{}), UsageError);
  // Class weights weigh a row by its one class: refused on label sets.
  LinearModel ova = LinearModel::for_dataset(d);
  FitOptions o;
  o.class_weights = {1, 1, 1, 1};
  EXPECT_THROW(fit(ova, *opt, d, o), UsageError);
  // An ova model is not calibrated (its probabilities are independent); a squared hinge is.
  EXPECT_THROW(ova.set_calibrator(Calibrator::fit(Tensor({2, 4}), std::vector<std::int32_t>{0, 1}, 4)), UsageError);
}

TEST(Multilabel, OvaLearnsEachClassOnItsOwn) {
  const data::SparseDataset train = multilabel_data(2000, 11), test = multilabel_data(500, 12);
  LinearModel m = LinearModel::for_dataset(train);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  FitOptions o;
  o.epochs = 5;
  o.batch_size = 8;
  fit(m, *opt, train, o);
  const Tensor p = predict_proba(m, test.features);
  const MultilabelMetrics k1 = multilabel_metrics(p, test, 1, 0.5);
  EXPECT_GT(k1.precision_at_k, 0.97);  // the top class is one of the row's
  EXPECT_GT(k1.f1, 0.95);              // and the classes above 0.5 are the row's set
  EXPECT_GT(k1.exact_match, 0.85);
  EXPECT_NEAR(evaluate(m, test).accuracy, k1.precision_at_k, 1e-12);  // accuracy on label sets is P@1
  // Probabilities are σ(z_c), each on its own: rows need not sum to 1.
  const Tensor z = decision_function(m, test.features);
  for (std::int64_t i = 0; i < 8; ++i) EXPECT_NEAR(p.data()[i], sigmoid_d(z.data()[i]), 1e-6);
}

TEST(MultilabelMetrics, MatchScikitLearnsMicroAverages) {
  // probabilities and label sets; scikit-learn on Y = [[1,0,0],[0,1,1],[1,1,0],[0,1,0]] and
  // S = P >= 0.5: precision_score / recall_score / f1_score(average="micro") = 0.6667, accuracy_score = 0.25.
  const Tensor p({4, 3}, std::vector<float>{0.9f, 0.6f, 0.1f, 0.2f, 0.7f, 0.8f, 0.4f, 0.3f, 0.45f, 0.55f, 0.55f, 0.2f});
  data::SparseDataset d;
  d.features.rows = 4;
  d.features.indptr.assign(5, 0);
  d.features.cols = 1;
  d.class_names = {"x", "y", "z"};
  for (const auto& set : std::vector<std::vector<std::int32_t>>{{0}, {1, 2}, {0, 1}, {1}}) {
    d.label_sets.add_row(set);
    d.labels.push_back(set.front());
  }
  const MultilabelMetrics m1 = multilabel_metrics(p, d, 1, 0.5);
  EXPECT_NEAR(m1.precision, 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(m1.recall, 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(m1.f1, 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(m1.exact_match, 0.25, 1e-12);
  // Top 1: classes 0, 2, 2, 0 (row 3's tie goes to the smaller id): 2 of 4 right, of 6 labels.
  EXPECT_NEAR(m1.precision_at_k, 0.5, 1e-12);
  EXPECT_NEAR(m1.recall_at_k, 2.0 / 6.0, 1e-12);
  // Top 2: hits 1, 2, 1, 1 of 8 predictions and 6 labels.
  const MultilabelMetrics m2 = multilabel_metrics(p, d, 2, 0.5);
  EXPECT_NEAR(m2.precision_at_k, 5.0 / 8.0, 1e-12);
  EXPECT_NEAR(m2.recall_at_k, 5.0 / 6.0, 1e-12);
  // Nothing reaches the threshold: precision 0 (zero_division=0), F1 0.
  const MultilabelMetrics none = multilabel_metrics(p, d, 1, 0.95);
  EXPECT_EQ(none.precision, 0.0);
  EXPECT_EQ(none.f1, 0.0);
  EXPECT_THROW((void)multilabel_metrics(p, d, 0, 0.5), UsageError);
  EXPECT_THROW((void)multilabel_metrics(p, d, 1, 1.5), UsageError);
}

TEST(TopClasses, SortsByProbabilityThenIdAndKeepsThoseOverTheThreshold) {
  const std::vector<float> p = {0.2f, 0.7f, 0.7f, 0.9f};
  const auto top = top_classes(p, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].class_id, 3);
  EXPECT_EQ(top[1].class_id, 1);
  EXPECT_EQ(top[2].class_id, 2);
  EXPECT_EQ(top_classes(p, 10, 0.5).size(), 3u);
  EXPECT_EQ(top_classes(p, 10, 0.95).size(), 0u);
  EXPECT_EQ(top_classes(p, 2, 0.8).size(), 1u);
  EXPECT_THROW((void)top_classes(p, 0), UsageError);
  EXPECT_THROW((void)top_classes(p, 1, -0.1), UsageError);
}

TEST(MultilabelReaders, TextTsvCommaSeparatedSets) {
  const auto t = data::parse_text_tsv("sports, politics\tvote on the match\nsports\tgoal\ntech,tech\tchip\n", "mem", false, true);
  ASSERT_EQ(t.size(), 3);
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"politics", "sports", "tech"}));
  ASSERT_EQ(t.label_sets.rows(), 3);
  EXPECT_EQ(std::vector<std::int32_t>(t.label_sets.row(0).begin(), t.label_sets.row(0).end()), (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(t.label_sets.row(2).size(), 1u);  // a repeat counts once
  EXPECT_EQ(t.labels, (std::vector<std::int32_t>{0, 1, 2}));
  // Without multilabel the comma is part of the name.
  EXPECT_EQ(data::parse_text_tsv("a,b\tx\n", "mem").class_names, (std::vector<std::string>{"a,b"}));
  try {
    (void)data::parse_text_tsv("a,,b\tx\n", "mem", false, true);
    FAIL() << "an empty name in a set is an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().line, 1);
    EXPECT_NE(std::string(e.what()).find("empty label"), std::string::npos);
  }
  // subset keeps the sets.
  const std::vector<std::int64_t> rows = {2, 0};
  const auto s = t.subset(rows);
  EXPECT_EQ(s.label_sets.row(1).size(), 2u);
}

TEST(MultilabelReaders, LibsvmSetsRoundTripThroughTheWriter) {
  data::LibsvmOptions o;
  o.multilabel = true;
  const auto d = data::parse_libsvm("3,1 1:0.5 4:1\n2:0.5 2:1\n1 3:2\n", "mem", o);
  ASSERT_EQ(d.size(), 3);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(d.label_sets.row(0).size(), 2u);
  EXPECT_EQ(d.label_sets.row(0)[0], 0);
  EXPECT_EQ(d.label_sets.row(0)[1], 2);
  ASSERT_EQ(d.weights.size(), 3u);  // "2:0.5": class 2 with weight 0.5
  EXPECT_EQ(d.weights[1], 0.5f);
  const std::string text = data::to_libsvm(d);
  EXPECT_EQ(text.substr(0, 4), "1,3:");
  const auto back = data::parse_libsvm(text, "again", o);
  EXPECT_EQ(back.label_sets.ids, d.label_sets.ids);
  EXPECT_EQ(back.label_sets.offsets, d.label_sets.offsets);
  EXPECT_THROW((void)data::parse_libsvm("1,x 1:1\n", "mem", o), Error);
  EXPECT_THROW((void)data::parse_libsvm("1.5,2 1:1\n", "mem", o), Error);
}

TEST(MultilabelReaders, AlignLabelsRenumbersTheSets) {
  // A test file's classes {b, c} renumbered as the training data's {a, b, c}.
  auto t = data::parse_text_tsv("c,b\tx\nb\ty\n", "test", false, true);
  data::align_labels(t.labels, t.class_names, {"a", "b", "c"}, "test", &t.label_sets);
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(t.label_sets.ids, (std::vector<std::int32_t>{1, 2, 1}));
  EXPECT_EQ(t.labels, (std::vector<std::int32_t>{1, 1}));
  auto u = data::parse_text_tsv("z\tx\n", "test", false, true);
  EXPECT_THROW(data::align_labels(u.labels, u.class_names, {"a"}, "test", &u.label_sets), Error);
}

}  // namespace
