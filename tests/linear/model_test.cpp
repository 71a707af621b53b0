// Sparse linear models: losses and gradients against their formulas and finite differences, the
// three tasks learning synthetic sparse problems, determinism, prediction and save/load.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "adakit/core/error.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;

std::vector<std::int64_t> all_rows(const data::SparseDataset& d) {
  std::vector<std::int64_t> r(static_cast<std::size_t>(d.size()));
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::int64_t>(i);
  return r;
}

TEST(LinearModel, LossesMatchTheirFormulasAndStayFiniteForHugeScores) {
  float dz[3];
  // logistic: log(1 + exp(-s z)), dL/dz = sigmoid(z) - y
  const float z1[1] = {0.7f};
  const double zd = z1[0];
  EXPECT_NEAR(linear_loss(LinearTask::logistic, z1, 1, 0, dz), std::log1p(std::exp(-zd)), 1e-12);
  EXPECT_NEAR(dz[0], 1.0 / (1.0 + std::exp(-zd)) - 1.0, 1e-7);
  EXPECT_NEAR(linear_loss(LinearTask::logistic, z1, 0, 0, dz), std::log1p(std::exp(zd)), 1e-12);
  const float big[1] = {1000.0f};
  EXPECT_NEAR(linear_loss(LinearTask::logistic, big, 0, 0, dz), 1000.0, 1e-9);
  EXPECT_FLOAT_EQ(dz[0], 1.0f);
  EXPECT_NEAR(linear_loss(LinearTask::logistic, big, 1, 0, dz), 0.0, 1e-300);
  EXPECT_FLOAT_EQ(dz[0], 0.0f);
  // softmax: logsumexp - z_y, dL/dz = p - onehot
  const float z3[3] = {1.0f, -2.0f, 0.5f};
  const double lse = std::log(std::exp(1.0) + std::exp(-2.0) + std::exp(0.5));
  EXPECT_NEAR(linear_loss(LinearTask::softmax, z3, 2, 0, dz), lse - 0.5, 1e-6);
  EXPECT_NEAR(dz[2], std::exp(0.5 - lse) - 1.0, 1e-6);
  EXPECT_NEAR(dz[0] + dz[1] + dz[2], 0.0, 1e-6);
  const float huge[3] = {3000.0f, -3000.0f, 2990.0f};
  EXPECT_NEAR(linear_loss(LinearTask::softmax, huge, 2, 0, dz), 10.0, 1e-3);
  EXPECT_TRUE(std::isfinite(dz[0]) && std::isfinite(dz[2]));
  // squared: 0.5 (z - y)^2
  EXPECT_NEAR(linear_loss(LinearTask::squared, z1, 0, 2.0f, dz), 0.5 * (2.0 - zd) * (2.0 - zd), 1e-12);
  EXPECT_NEAR(dz[0], -1.3, 1e-6);
  EXPECT_THROW(linear_loss(LinearTask::logistic, z1, 2, 0, dz), UsageError);
  EXPECT_THROW(linear_loss(LinearTask::softmax, z3, 3, 0, dz), UsageError);
}

// The batch gradient (mean over rows) against central differences of the mean loss, for each task.
TEST(LinearModel, BatchGradientIsTheMeanAndMatchesFiniteDifferences) {
  for (const int classes : {2, 3, 0}) {
    Spec s{.dim = 40, .informative = 10, .nnz_informative = 3, .nnz_noise = 3, .classes = classes, .min_margin = 0.0};
    const auto d = make_dataset(s, 5, 3);
    const auto task = classes == 2 ? LinearTask::logistic : classes == 3 ? LinearTask::softmax : LinearTask::squared;
    LinearModel m(task, s.dim, classes == 0 ? 2 : classes);
    Rng rng(5);
    rng.fill_normal(m.table(), 0.0, 0.3);  // no optimizer state yet: the table is W
    rng.fill_normal(m.bias(), 0.0, 0.3);
    const auto rows = all_rows(d);
    BatchFeatures batch;
    batch.build(d.features, rows, m.dim());
    SparseGradient g;
    m.gradient(d, rows, batch, g);
    auto mean_loss = [&]() {
      SparseGradient tmp;
      return m.gradient(d, rows, batch, tmp).loss_sum / static_cast<double>(rows.size());
    };
    const float h = 1e-2f;
    for (std::size_t i = 0; i < g.features.size(); ++i) {
      for (std::int64_t c = 0; c < m.outputs(); ++c) {
        float& w = m.weight_row(g.features[i])[static_cast<std::size_t>(c)];
        const float w0 = w;
        w = w0 + h;
        const double up = mean_loss();
        w = w0 - h;
        const double down = mean_loss();
        w = w0;
        EXPECT_NEAR(g.values[i * static_cast<std::size_t>(m.outputs()) + static_cast<std::size_t>(c)],
                    (up - down) / (2 * h), 2e-3)
            << to_string(task) << " feature " << g.features[i] << " output " << c;
      }
    }
    for (std::int64_t c = 0; c < m.outputs(); ++c) {
      float& b = m.bias()[static_cast<std::size_t>(c)];
      const float b0 = b;
      b = b0 + h;
      const double up = mean_loss();
      b = b0 - h;
      const double down = mean_loss();
      b = b0;
      EXPECT_NEAR(g.bias[static_cast<std::size_t>(c)], (up - down) / (2 * h), 2e-3) << to_string(task);
    }
    // Exactly the batch's features, ascending, and nothing else.
    std::vector<std::int64_t> want(d.features.indices.begin(), d.features.indices.end());
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    EXPECT_EQ(g.features, want);
  }
}

// build() groups a batch's nonzeros by feature with a radix sort on the id: checked against a
// std::map grouping for ids that differ in every byte, share low bytes (equal digits, a pass
// skipped), repeat across rows (entries keep the batch's row order), and batches already in order.
TEST(BatchFeatures, GroupsEntriesByFeatureInBatchRowOrder) {
  data::CsrMatrix x;
  x.cols = std::int64_t{1} << 31;
  const std::int32_t big = 0x7F000000, mid = 0x00030000;
  x.add_row(std::vector<std::int32_t>{5, 0x105, big + 5, mid + 0x105}, std::vector<float>{1, 2, 3, 4});
  x.add_row(std::vector<std::int32_t>{0x105, 0x205, big}, std::vector<float>{5, 6, 7});
  x.add_row(std::vector<std::int32_t>{5, 0x205, mid + 0x105, big + 5}, std::vector<float>{8, 9, 10, 11});
  x.add_row(std::vector<std::int32_t>{0, 1, 2}, std::vector<float>{12, 13, 14});
  x.add_row(std::vector<std::int32_t>{3, 4}, std::vector<float>{15, 16});
  auto check = [&](const std::vector<std::int64_t>& rows) {
    std::map<std::int64_t, std::vector<std::pair<std::int32_t, float>>> want;
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const auto idx = x.row_indices(rows[p]);
      const auto val = x.row_values(rows[p]);
      for (std::size_t k = 0; k < idx.size(); ++k) want[idx[k]].emplace_back(static_cast<std::int32_t>(p), val[k]);
    }
    BatchFeatures b;
    b.build(x, rows, x.cols);
    ASSERT_EQ(b.features.size(), want.size());
    ASSERT_EQ(b.offsets.size(), want.size() + 1);
    std::size_t i = 0;
    for (const auto& [feature, entries] : want) {
      EXPECT_EQ(b.features[i], feature);
      ASSERT_EQ(b.offsets[i + 1] - b.offsets[i], static_cast<std::int64_t>(entries.size())) << feature;
      for (std::size_t e = 0; e < entries.size(); ++e) {
        const auto at = static_cast<std::size_t>(b.offsets[i]) + e;
        EXPECT_EQ(b.positions[at], entries[e].first) << feature;
        EXPECT_EQ(b.values[at], entries[e].second) << feature;
      }
      ++i;
    }
    EXPECT_EQ(b.offsets.back(), static_cast<std::int64_t>(b.positions.size()));
  };
  check({0, 1, 2});
  check({2, 0, 2, 1});  // a row twice: its entries appear at both positions
  check({0});           // one canonical row: already in order
  check({3, 4});        // rows whose features follow each other: already in order
  check({4, 3, 0});
  check({});
}

TEST(LinearModel, RejectsBadShapesAndFeaturesOutsideDim) {
  EXPECT_THROW(LinearModel(LinearTask::logistic, 0), UsageError);
  EXPECT_THROW(LinearModel(LinearTask::logistic, 10, 3), UsageError);
  EXPECT_THROW(LinearModel(LinearTask::softmax, 10, 1), UsageError);
  EXPECT_EQ(LinearModel(LinearTask::softmax, 10, 4).outputs(), 4);
  EXPECT_EQ(LinearModel(LinearTask::squared, 10).classes(), 0);
  Spec s{.dim = 100, .informative = 10};
  const auto d = make_dataset(s, 20, 1);
  LinearModel small(LinearTask::logistic, 50);
  BatchFeatures b;
  const auto rows = all_rows(d);
  EXPECT_THROW(b.build(d.features, rows, small.dim()), UsageError);
  auto opt = make_linear_optimizer("adagrad");
  try {
    fit(small, *opt, d);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "dim");
  }
  LinearModel three(LinearTask::softmax, 100, 3);
  auto bad = d;
  bad.labels[4] = 7;
  auto opt3 = make_linear_optimizer("adagrad");
  EXPECT_THROW(fit(three, *opt3, bad), UsageError);
  LinearModel reg(LinearTask::squared, 100);
  auto opt4 = make_linear_optimizer("adagrad");
  EXPECT_THROW(fit(reg, *opt4, d), UsageError);  // no targets
  EXPECT_THROW(fit(three, *opt3, d, {.batch_size = 0}), UsageError);
}

// The separable problem: 2000 rows, 10^5 hashed features, ~20 nonzeros a row.
TEST(LinearFit, LogisticRegressionLearnsASeparableSparseProblem) {
  const Spec s{};
  const auto train = make_dataset(s, 2000, 1);
  const auto test = make_dataset(s, 1000, 2);
  auto model = LinearModel::for_dataset(train);
  ASSERT_EQ(model.task(), LinearTask::logistic);
  ASSERT_EQ(model.dim(), 100000);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  const auto r = fit(model, *opt, train, {.epochs = 5, .batch_size = 4, .seed = 1});
  ASSERT_EQ(r.history.size(), 5u);
  EXPECT_LT(r.history.back().train.loss, r.history.front().train.loss);
  EXPECT_EQ(r.steps, 5 * 500);
  const auto tr = evaluate(model, train);
  const auto te = evaluate(model, test);
  EXPECT_GE(tr.accuracy, 0.95);
  EXPECT_GE(te.accuracy, 0.9);  // held out: the rare noise features cannot generalise
  EXPECT_TRUE(std::isnan(te.mse));
  EXPECT_EQ(te.samples, 1000);
}

TEST(LinearFit, SoftmaxRegressionLearnsThreeClasses) {
  const Spec s{.dim = 50000, .informative = 100, .nnz_informative = 6, .nnz_noise = 10, .classes = 3};
  const auto train = make_dataset(s, 2000, 1);
  const auto test = make_dataset(s, 1000, 2);
  auto model = LinearModel::for_dataset(train);
  ASSERT_EQ(model.task(), LinearTask::softmax);
  ASSERT_EQ(model.outputs(), 3);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  fit(model, *opt, train, {.epochs = 5, .batch_size = 4, .seed = 2});
  EXPECT_GE(evaluate(model, train).accuracy, 0.95);
  EXPECT_GE(evaluate(model, test).accuracy, 0.9);
  // Probabilities: rows sum to 1, argmax = predict.
  const Tensor p = predict_proba(model, test.features);
  const auto labels = predict(model, test.features);
  ASSERT_EQ(p.shape(), (Shape{1000, 3}));
  for (std::int64_t r = 0; r < 1000; ++r) {
    const float* pr = p.data() + r * 3;
    EXPECT_NEAR(pr[0] + pr[1] + pr[2], 1.0f, 1e-5f);
    EXPECT_EQ(std::max_element(pr, pr + 3) - pr, labels[static_cast<std::size_t>(r)]);
  }
}

TEST(LinearFit, LinearRegressionRecoversKnownWeights) {
  const Spec s{.dim = 1000, .informative = 20, .nnz_informative = 6, .nnz_noise = 0, .classes = 0};
  const auto train = make_dataset(s, 2000, 1);
  const linear_test::Rule rule(s);
  LinearModel model(LinearTask::squared, s.dim);
  auto opt = make_linear_optimizer("adagrad", {{"lr", "0.3"}});
  const auto r = fit(model, *opt, train, {.epochs = 20, .batch_size = 8, .seed = 3});
  for (std::size_t i = 0; i < rule.ids.size(); ++i)
    EXPECT_NEAR(model.weight_row(rule.ids[i])[0], rule.w[i], 0.02) << "feature " << rule.ids[i];
  EXPECT_NEAR(model.bias()[0], 0.5, 0.02);
  EXPECT_EQ(model.count_nonzero_features(), s.informative);  // others never seen
  const auto m = evaluate(model, train);
  EXPECT_LT(m.mse, 1e-3);
  EXPECT_NEAR(m.loss, 0.5 * m.mse, 1e-12);
  EXPECT_TRUE(std::isnan(m.accuracy));
  EXPECT_LT(r.history.back().train.mse, r.history.front().train.mse);
  EXPECT_THROW(predict(model, train.features), UsageError);
  const Tensor z = decision_function(model, train.features);
  EXPECT_NEAR(z[0], train.targets[0], 0.05);
}

TEST(LinearFit, SameSeedSameWeightsOtherSeedOtherWeightsAndEarlyStop) {
  const Spec s{.dim = 5000, .informative = 50};
  const auto train = make_dataset(s, 300, 1);
  auto run = [&](std::uint64_t seed, bool shuffle) {
    LinearModel m(LinearTask::logistic, s.dim);
    auto opt = make_linear_optimizer("ftrl", {{"l1", "0.1"}});
    fit(m, *opt, train, {.epochs = 2, .batch_size = 3, .seed = seed, .shuffle = shuffle});
    return std::vector<float>(m.weights().begin(), m.weights().end());
  };
  EXPECT_EQ(run(4, true), run(4, true));
  EXPECT_NE(run(4, true), run(5, true));
  EXPECT_EQ(run(4, false), run(5, false));
  LinearModel m(LinearTask::logistic, s.dim);
  auto opt = make_linear_optimizer("adagrad-rda", {{"lr", "0.5"}});
  int calls = 0;
  const auto r = fit(m, *opt, train, {.epochs = 10}, [&](const EpochReport& e) {
    ++calls;
    EXPECT_EQ(e.epoch, calls);
    EXPECT_EQ(e.train.samples, 300);
    EXPECT_EQ(evaluate(m, train).samples, 300);  // weights synced for the callback
    return e.epoch == 3;
  });
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.steps, 900);
  // Fitting again continues from the same state.
  fit(m, *opt, train, {.epochs = 1});
  EXPECT_EQ(opt->steps(), 1200);
}

// The optimizer state sits in the model's rows (model.hpp): laying it out, or dropping it, changes
// no weight, score or saved byte; the weights view reads like the flat [dim x outputs] array.
TEST(LinearModel, OptimizerStateInTheTableLeavesWeightsScoresAndSavesAlone) {
  const Spec s{.dim = 300, .informative = 20, .classes = 3};
  const auto d = make_dataset(s, 50, 2);
  LinearModel m = LinearModel::for_dataset(d);
  Rng rng(9);
  std::vector<float> w(m.weights().size());
  rng.fill_normal(w, 0.0, 0.5);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = i % 7 == 0 ? 0.0f : w[i];
  std::copy(w.begin(), w.end(), m.weights().begin());
  const auto j0 = m.to_json().dump();
  const auto t0 = m.tensors().at("weight");
  const auto z0 = decision_function(m, d.features);
  const auto nz0 = m.count_nonzero_weights();
  for (const std::int64_t width : {5, 1, 20, 0}) {
    m.reserve_state(width, 42);
    EXPECT_EQ(m.state_width(), width);
    EXPECT_EQ(m.row_stride(), width == 0 ? 3 : width == 5 ? 8 : width == 1 ? 4 : 23);  // padded when <= 16
    EXPECT_EQ(m.state_owner(), width == 0 ? 0u : 42u);
    EXPECT_EQ(std::vector<float>(m.weights().begin(), m.weights().end()), w) << width;
    EXPECT_EQ(m.weights()[4], w[4]);
    EXPECT_EQ(m.weight_row(7)[2], w[7 * 3 + 2]);
    for (std::int64_t f = 0; f < m.dim(); ++f)  // the state starts at 0
      for (std::int64_t k = m.outputs(); k < m.row_stride(); ++k)
        ASSERT_EQ(m.table()[static_cast<std::size_t>(f * m.row_stride() + k)], 0.0f);
    EXPECT_EQ(m.to_json().dump(), j0);
    EXPECT_EQ(m.tensors().at("weight").shape(), t0.shape());
    EXPECT_TRUE(std::equal(t0.span().begin(), t0.span().end(), m.tensors().at("weight").span().begin()));
    const auto z = decision_function(m, d.features);
    EXPECT_TRUE(std::equal(z0.span().begin(), z0.span().end(), z.span().begin()));
    EXPECT_EQ(m.count_nonzero_weights(), nz0);
    const auto back = LinearModel::from_tensors(m.config(), m.tensors());
    EXPECT_EQ(std::vector<float>(back.weights().begin(), back.weights().end()), w);
  }
  EXPECT_THROW(m.reserve_state(-1, 1), UsageError);
}

// The state travels with the model: an optimizer refuses a model that holds another one's state.
TEST(LinearModel, AnOptimizerStepsOnlyAModelHoldingItsState) {
  const Spec s{.dim = 200, .informative = 20};
  const auto d = make_dataset(s, 40, 3);
  LinearModel m(LinearTask::logistic, s.dim, 2, /*fit_bias=*/false);  // the bias's state stays in the optimizer
  auto a = make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  auto b = make_linear_optimizer("adagrad-l1", {{"l1", "0.01"}});
  fit(m, *a, d, {.epochs = 1, .batch_size = 4});
  EXPECT_EQ(m.row_stride(), 2);  // w, s
  LinearModel copy = m;  // copies the features' state too (the step count stays in the optimizer; no lr_decay here)
  fit(m, *a, d, {.epochs = 1, .batch_size = 4, .seed = 1});
  fit(copy, *a, d, {.epochs = 1, .batch_size = 4, .seed = 1});
  EXPECT_EQ(std::vector<float>(copy.weights().begin(), copy.weights().end()),
            std::vector<float>(m.weights().begin(), m.weights().end()));
  fit(m, *b, d, {.epochs = 1, .batch_size = 4});  // b lays the model out for itself: w, s, last step
  EXPECT_EQ(m.row_stride(), 4);
  EXPECT_THROW(fit(m, *a, d, {.epochs = 1}), UsageError);  // a's state is gone from m
  LinearModel fresh(LinearTask::logistic, s.dim, 2, false);
  EXPECT_THROW(fit(fresh, *b, d, {.epochs = 1}), UsageError);  // b's state is in m, not here
  b->reset(fresh);
  fit(fresh, *b, d, {.epochs = 1});
  EXPECT_EQ(b->steps(), 40);
}

TEST(LinearSave, JsonAndTensorsRoundTripExactly) {
  const Spec s{.dim = 20000, .informative = 50, .classes = 3};
  const auto train = make_dataset(s, 400, 1);
  auto model = LinearModel::for_dataset(train);
  auto opt = make_linear_optimizer("ftrl", {{"l1", "1"}});
  fit(model, *opt, train, {.epochs = 2, .seed = 1});
  const nlohmann::json j = model.to_json();
  EXPECT_EQ(j["rows"].size(), static_cast<std::size_t>(model.count_nonzero_features()));  // sparse on disk
  const auto back = LinearModel::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.task(), LinearTask::softmax);
  EXPECT_EQ(back.class_names(), train.class_names);
  EXPECT_TRUE(std::equal(back.weights().begin(), back.weights().end(), model.weights().begin()));
  EXPECT_TRUE(std::equal(back.bias().begin(), back.bias().end(), model.bias().begin()));
  const auto t = LinearModel::from_tensors(model.config(), model.tensors());
  EXPECT_TRUE(std::equal(t.weights().begin(), t.weights().end(), model.weights().begin()));
  EXPECT_EQ(predict(t, train.features), predict(model, train.features));
  EXPECT_EQ(model.tensors().at("weight").shape(), (Shape{20000, 3}));

  auto broken = j;
  broken["values"].erase(0);
  EXPECT_THROW(LinearModel::from_json(broken), Error);
  broken = j;
  broken.erase("dim");
  try {
    LinearModel::from_json(broken);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().field, "dim");
  }
  auto tensors = model.tensors();
  tensors.erase("bias");
  EXPECT_THROW(LinearModel::from_tensors(model.config(), tensors), Error);
}

}  // namespace
