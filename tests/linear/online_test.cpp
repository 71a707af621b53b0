// Learning in pieces equals learning in one run: fit() without syncs continued over chunks, a model
// grown mid-run (LinearModel::remap_features + LinearOptimizer::regrow), the vocabulary grown in
// sorted order (TextVectorizer::grow) and the OnlineLearner that does all three — each checked bit
// for bit against one linear::fit over the same rows in the same order. Progressive validation's
// reports against the sums fit() measures.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/online.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/progressive.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::make_dataset;
using linear_test::Spec;

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Rows [begin, end) of d.
data::SparseDataset rows(const data::SparseDataset& d, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> r;
  for (std::int64_t i = begin; i < end; ++i) r.push_back(i);
  return d.subset(r);
}

const std::vector<std::pair<std::string, optim::OptionMap>> kOptimizers = {
    {"adagrad", {{"initial_accumulator_value", "0.1"}}},
    {"adagrad-l1", {{"l1", "0.01"}, {"l2", "0.1"}}},
    {"sgd", {{"l1", "0.001"}, {"l2", "0.01"}}},
    {"ftrl", {{"l1", "0.5"}}},
    {"adagrad-rda", {{"l1", "0.01"}}},
};

TEST(Online, FitInChunksWithoutSyncEqualsOneFitForEveryOptimizer) {
  Spec s;
  s.dim = 300;
  s.informative = 30;
  const auto d = make_dataset(s, 240, 3);
  for (const auto& [name, options] : kOptimizers) {
    for (const std::int64_t bs : {1, 4}) {
      const FitOptions o{.epochs = 1, .batch_size = bs, .seed = 0, .shuffle = false, .sync = false};
      LinearModel one = LinearModel::for_dataset(d);
      auto opt1 = make_linear_optimizer(name, options);
      fit(one, *opt1, d, o);
      LinearModel parts = LinearModel::for_dataset(d);
      auto opt2 = make_linear_optimizer(name, options);
      for (std::int64_t b = 0; b < 240; b += 80) fit(parts, *opt2, rows(d, b, b + 80), o);
      EXPECT_TRUE(same_bits(one.table(), parts.table())) << name << " batch " << bs;
      EXPECT_TRUE(same_bits(one.bias(), parts.bias())) << name;
      EXPECT_EQ(opt1->steps(), opt2->steps());
    }
  }
}

TEST(Online, ASyncBetweenChunksChangesTheLazyL1TrajectoryWhichIsWhyFitCanSkipIt) {
  Spec s;
  s.dim = 300;
  s.informative = 30;
  const auto d = make_dataset(s, 240, 3);
  const FitOptions o{.epochs = 1, .batch_size = 1, .seed = 0, .shuffle = false, .sync = false};
  LinearModel a = LinearModel::for_dataset(d), b = LinearModel::for_dataset(d);
  auto oa = make_linear_optimizer("adagrad-l1", {{"l1", "0.01"}, {"l2", "0.1"}});
  auto ob = make_linear_optimizer("adagrad-l1", {{"l1", "0.01"}, {"l2", "0.1"}});
  fit(a, *oa, rows(d, 0, 120), o);
  fit(a, *oa, rows(d, 120, 240), o);
  fit(b, *ob, rows(d, 0, 120), o);
  ob->sync(b);  // the closed-form shrink applied in two pieces instead of one
  fit(b, *ob, rows(d, 120, 240), o);
  EXPECT_FALSE(same_bits(a.table(), b.table()));
}

TEST(Online, AModelGrownMidRunEqualsOneThatHadTheFeaturesFromTheStart) {
  // The first half of the rows uses features [0, 150), the second half all 300: grow at the boundary.
  Spec s;
  s.dim = 300;
  s.informative = 30;
  auto d = make_dataset(s, 200, 5);
  auto first = rows(d, 0, 100);
  data::fit_columns(first.features, 150);  // drop features >= 150 from the first half
  auto second = rows(d, 100, 200);
  data::SparseDataset all = first;
  all.features.cols = 300;
  for (std::int64_t r = 0; r < second.size(); ++r) all.features.add_row(second.features.row_indices(r), second.features.row_values(r));
  all.labels.insert(all.labels.end(), second.labels.begin(), second.labels.end());
  for (const auto& [name, options] : kOptimizers) {
    const FitOptions o{.epochs = 1, .batch_size = 1, .seed = 0, .shuffle = false, .sync = false};
    LinearModel one = LinearModel::for_dataset(all, 300);
    auto opt1 = make_linear_optimizer(name, options);
    fit(one, *opt1, all, o);
    LinearModel grown = LinearModel::for_dataset(first, 150);
    auto opt2 = make_linear_optimizer(name, options);
    fit(grown, *opt2, first, o);
    grown.remap_features(300);
    opt2->regrow(grown);
    fit(grown, *opt2, second, o);
    EXPECT_TRUE(same_bits(one.table(), grown.table())) << name;
    EXPECT_TRUE(same_bits(one.bias(), grown.bias())) << name;
  }
}

TEST(Online, RemapMovesRowsWithTheirStateAndRefusesBadMappings) {
  LinearModel m(LinearTask::logistic, 3);
  auto opt = make_linear_optimizer("adagrad", {{"initial_accumulator_value", "0.5"}});
  opt->bind(m);
  m.weight_row(0)[0] = 1.0f;
  m.weight_row(1)[0] = 2.0f;
  m.weight_row(2)[0] = 3.0f;
  m.table()[1 * m.row_stride() + 1] = 7.0f;  // feature 1's accumulator
  const std::vector<std::int64_t> new_of_old = {0, 2, 4};
  m.remap_features(5, new_of_old);
  opt->regrow(m, new_of_old);
  EXPECT_EQ(m.dim(), 5);
  EXPECT_EQ(m.weight_row(0)[0], 1.0f);
  EXPECT_EQ(m.weight_row(1)[0], 0.0f);
  EXPECT_EQ(m.weight_row(2)[0], 2.0f);
  EXPECT_EQ(m.weight_row(4)[0], 3.0f);
  EXPECT_EQ(m.table()[2 * m.row_stride() + 1], 7.0f);  // moved with its feature
  EXPECT_EQ(m.table()[1 * m.row_stride() + 1], 0.5f);  // a new feature: the initial accumulator
  EXPECT_EQ(m.table()[3 * m.row_stride() + 1], 0.5f);
  EXPECT_THROW(m.remap_features(4), UsageError);                                     // shrinking
  EXPECT_THROW(m.remap_features(8, std::vector<std::int64_t>{0, 1, 1, 2, 3}), UsageError);  // not increasing
  EXPECT_THROW(m.remap_features(8, std::vector<std::int64_t>{0, 1}), UsageError);           // wrong count
}

TEST(TextVectorizerGrow, GrownVocabularyEqualsAFitOverEveryTextInSortedOrder) {
  const std::vector<std::string> a = {"the cat sat", "a dog ran far"}, b = {"zebra and cat", "aardvark dog"};
  std::vector<std::string> ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  data::TextVectorizerOptions o;
  o.ngram_max = 2;
  data::TextVectorizer grown(o), whole(o);
  grown.fit(a);
  whole.fit(ab);
  const auto old_names = grown.feature_names();
  const auto new_of_old = grown.grow(b);
  EXPECT_EQ(grown.feature_names(), whole.feature_names());
  EXPECT_EQ(grown.num_documents(), 4);
  ASSERT_EQ(new_of_old.size(), old_names.size());
  for (std::size_t c = 0; c < old_names.size(); ++c)
    EXPECT_EQ(grown.feature_name(new_of_old[c]), old_names[c]);
  EXPECT_TRUE(grown.grow(a).empty());  // nothing new
  EXPECT_EQ(grown.num_documents(), 6);
}

TEST(TextVectorizerGrow, TfidfPrunedAndHashedVocabulariesDoNotGrow) {
  const std::vector<std::string> a = {"the cat sat", "a dog ran far"};
  data::TextVectorizerOptions tfidf;
  tfidf.weighting = data::TextWeighting::tfidf;
  data::TextVectorizer v(tfidf);
  v.fit(a);
  EXPECT_FALSE(v.can_grow());
  EXPECT_THROW(v.grow(a), UsageError);
  data::TextVectorizerOptions pruned;
  pruned.max_features = 2;
  data::TextVectorizer p(pruned);
  p.fit(a);
  EXPECT_FALSE(p.can_grow());
  data::TextVectorizerOptions hashed;
  hashed.hash_bits = 8;
  data::TextVectorizer h(hashed);
  EXPECT_TRUE(h.can_grow());  // fixed columns: growing only counts the documents
  EXPECT_TRUE(h.grow(a).empty());
  EXPECT_EQ(h.num_documents(), 2);
  hashed.weighting = data::TextWeighting::tfidf;
  EXPECT_FALSE(data::TextVectorizer(hashed).can_grow());
  data::TextVectorizer counts;
  EXPECT_FALSE(counts.can_grow());  // not fitted
  counts.fit(a);
  EXPECT_TRUE(counts.can_grow());
}

// label<TAB>text lines of a toy sentiment task; `offset` varies the words.
std::string text_lines(int n, int offset) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    const int k = (i * 7 + offset) % 23;
    s += (k % 3 == 0 ? "pos\tgood w" : "neg\tbad w") + std::to_string(k) + " x" + std::to_string((i + offset) % 11) + "\n";
  }
  return s;
}

TEST(OnlineLearner, TextChunksEqualOneFitOverEveryLineWithItsVocabulary) {
  const std::string a = text_lines(40, 0), b = text_lines(40, 5);
  for (const auto& [name, options] : kOptimizers) {
    // One run: the vocabulary of every line, then one pass in order.
    const auto all = data::parse_text_tsv(a + b, "ab");
    data::TextVectorizer v1;
    v1.fit(all.texts);
    const data::SparseDataset d = data::vectorize(all, v1);
    LinearModel one = LinearModel::for_dataset(d);
    one.set_feature_shards(v1.feature_shards());  // a vocabulary's columns train in their terms' shards
    auto opt1 = make_linear_optimizer(name, options);
    fit(one, *opt1, d, {.epochs = 1, .batch_size = 1, .seed = 0, .shuffle = false, .sync = false});
    // The learner over two chunks, its vocabulary and model grown as lines come.
    LinearModel m(LinearTask::logistic, 1);
    m.set_class_names({"neg", "pos"});
    auto opt2 = make_linear_optimizer(name, options);
    data::TextVectorizer v2;
    OnlineLearner learner(m, *opt2, &v2, {});
    learner.learn(a, "a", 1);
    learner.learn(b, "b", 41);
    EXPECT_EQ(v2.feature_names(), v1.feature_names()) << name;
    EXPECT_TRUE(same_bits(one.table(), m.table())) << name;
    EXPECT_TRUE(same_bits(one.bias(), m.bias())) << name;
    EXPECT_EQ(learner.examples_seen(), 80);
  }
}

TEST(OnlineLearner, LibsvmColumnsGrowAndBadLinesChangeNothing) {
  LinearModel m(LinearTask::logistic, 1);
  m.set_class_names({"-1", "+1"});
  auto opt = make_linear_optimizer("adagrad", {});
  OnlineLearner learner(m, *opt, nullptr, {});
  learner.learn("1 1:1 3:0.5\n-1 2:1\n", "s", 1);  // "1" is the class "+1"
  EXPECT_EQ(m.dim(), 3);
  const std::vector<float> before(m.table().begin(), m.table().end());
  try {
    learner.learn("+1 1:1\n2 5:1\n", "s", 3);
    FAIL() << "class 2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'2' is not one of the model's classes"), std::string::npos) << e.what();
  }
  try {
    learner.learn("+1 1:1\n+1 7:x\n", "s", 10);
    FAIL() << "a bad value accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.context().line, 11) << e.what();  // the stream's line, not the chunk's
  }
  EXPECT_EQ(m.dim(), 3);
  EXPECT_TRUE(same_bits(m.table(), before));
  EXPECT_EQ(opt->steps(), 2);
}

TEST(ProgressiveValidation, ReportsEveryNExamplesTheMeansFitMeasuredBeforeEachStep) {
  Spec s;
  s.dim = 200;
  s.informative = 20;
  const auto d = make_dataset(s, 250, 9);
  LinearModel m = LinearModel::for_dataset(d);
  auto opt = make_linear_optimizer("adagrad", {});
  std::vector<run::ProgressReport> heard;
  run::ProgressiveValidation pv(100, true, [&](const run::ProgressReport& r) { heard.push_back(r); });
  const auto result = fit(m, *opt, d, {.epochs = 1, .batch_size = 1, .seed = 0, .shuffle = false, .sync = false},
                          std::vector<run::Callback*>{&pv});
  pv.finish();
  ASSERT_EQ(heard.size(), 3u);  // at 100, 200 and the 50 left
  EXPECT_EQ(heard[0].examples, 100);
  EXPECT_EQ(heard[1].examples, 200);
  EXPECT_EQ(heard[2].examples, 250);
  EXPECT_EQ(heard[2].since_last.samples, 50);
  // Over the whole pass: fit()'s own progressive epoch metrics.
  EXPECT_NEAR(heard[2].since_start.loss, result.history[0].train.loss, 1e-12);
  EXPECT_NEAR(heard[2].since_start.accuracy, result.history[0].train.accuracy, 1e-12);
  // The mean since the start is the examples-weighted mean of the windows.
  EXPECT_NEAR(heard[2].since_start.loss,
              (100 * heard[0].since_last.loss + 100 * heard[1].since_last.loss + 50 * heard[2].since_last.loss) / 250, 1e-12);
  EXPECT_EQ(pv.reports().size(), 3u);
  EXPECT_THROW(run::ProgressiveValidation(0, true), UsageError);
}

}  // namespace
