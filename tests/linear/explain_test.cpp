// linear/explain.hpp: per-input contributions x_j · W[j, c] against hand-computed models (softmax,
// logistic and both of its views, squared), their sum against the decision function on a trained
// tf-idf model, feature names (vocabulary n-grams, hashed buckets with the input's own terms, LIBSVM
// indices) and the whole model's top features.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/hashing.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/linear/explain.hpp"
#include "adakit/linear/fit.hpp"

namespace {
using namespace adakit;
using linear::LinearModel;
using linear::LinearTask;

data::CsrMatrix one_row(std::int64_t cols, std::vector<std::int32_t> idx, std::vector<float> val) {
  data::CsrMatrix x;
  x.cols = cols;
  x.add_row(idx, val);
  return x;
}

void set_weights(LinearModel& m, const std::vector<std::vector<float>>& w, const std::vector<float>& b) {
  for (std::size_t j = 0; j < w.size(); ++j)
    for (std::size_t c = 0; c < w[j].size(); ++c) m.weight_row(static_cast<std::int64_t>(j))[c] = w[j][c];
  for (std::size_t c = 0; c < b.size(); ++c) m.bias()[c] = b[c];
}

// (column, contribution) of a class's list, in order.
std::vector<std::pair<std::int64_t, float>> listed(const linear::Explanation& e, std::size_t cls) {
  std::vector<std::pair<std::int64_t, float>> out;
  for (const auto& k : e.classes[cls].contributions) out.emplace_back(e.features[k.feature].column, k.contribution);
  return out;
}

using Listed = std::vector<std::pair<std::int64_t, float>>;

// Softmax, 4 features x 3 classes, dyadic numbers (every product and sum exact in float):
//   W = [[0.5, -1, 0.25], [2, 0, -0.5], [1, 0.5, 0], [-2, 1, 0.5]], b = [0.125, -0.25, 0]
//   x = {0: 2, 2: -1, 3: 0.5}
//   class 0: 2·0.5 = 1, -1·1 = -1, 0.5·-2 = -1       score 0.125 + 1 - 1 - 1 = -0.875
//   class 1: 2·-1 = -2, -1·0.5 = -0.5, 0.5·1 = 0.5   score -0.25 - 2 - 0.5 + 0.5 = -2.25
//   class 2: 2·0.25 = 0.5, -1·0 = -0, 0.5·0.5 = 0.25 score 0.75
LinearModel hand_softmax() {
  LinearModel m(LinearTask::softmax, 4, 3);
  m.set_class_names({"a", "b", "c"});
  set_weights(m, {{0.5f, -1.0f, 0.25f}, {2.0f, 0.0f, -0.5f}, {1.0f, 0.5f, 0.0f}, {-2.0f, 1.0f, 0.5f}}, {0.125f, -0.25f, 0.0f});
  return m;
}

TEST(Explain, HandComputedSoftmaxContributions) {
  const LinearModel m = hand_softmax();
  const auto x = one_row(4, {0, 2, 3}, {2.0f, -1.0f, 0.5f});
  const linear::Explanation e = linear::explain_row(m, x, 0);
  ASSERT_EQ(e.features.size(), 3u);
  EXPECT_EQ(e.features[0].name, "1");  // LIBSVM: 1-based indices
  EXPECT_EQ(e.features[1].name, "3");
  EXPECT_EQ(e.features[2].name, "4");
  ASSERT_EQ(e.classes.size(), 3u);
  EXPECT_EQ(e.classes[0].name, "a");
  EXPECT_EQ(e.classes[2].class_id, 2);
  // |contribution| descending, ties by column.
  EXPECT_EQ(listed(e, 0), (Listed{{0, 1.0f}, {2, -1.0f}, {3, -1.0f}}));
  EXPECT_EQ(listed(e, 1), (Listed{{0, -2.0f}, {2, -0.5f}, {3, 0.5f}}));
  EXPECT_EQ(listed(e, 2), (Listed{{0, 0.5f}, {3, 0.25f}, {2, 0.0f}}));
  EXPECT_EQ(e.classes[0].score, -0.875f);
  EXPECT_EQ(e.classes[1].score, -2.25f);
  EXPECT_EQ(e.classes[2].score, 0.75f);
  EXPECT_EQ(e.classes[1].bias, -0.25f);
  EXPECT_EQ(e.classes[1].contributions[0].weight, -1.0f);
  // Probabilities: softmax of the scores, in closed form.
  const double z[3] = {-0.875, -2.25, 0.75};
  const double s = std::exp(z[0]) + std::exp(z[1]) + std::exp(z[2]);
  ASSERT_EQ(e.probabilities.size(), 3u);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(e.probabilities[static_cast<std::size_t>(c)], std::exp(z[c]) / s, 1e-7);
  EXPECT_EQ(e.predicted, 2);

  // --top 1: the rest counted and summed.
  const auto top1 = linear::explain_row(m, x, 0, {}, {.top = 1, .class_id = 0});
  ASSERT_EQ(top1.classes.size(), 1u);
  EXPECT_EQ(listed(top1, 0), (Listed{{0, 1.0f}}));
  EXPECT_EQ(top1.classes[0].other_features, 2);
  EXPECT_EQ(top1.classes[0].other_sum, -2.0);
  EXPECT_EQ(linear::class_id_of(m, "b"), 1);
  try {
    linear::class_id_of(m, "z");
    FAIL() << "no class z";
  } catch (const UsageError& err) {
    EXPECT_EQ(err.context().field, "class");
    EXPECT_NE(std::string(err.what()).find("a, b, c"), std::string::npos) << err.what();
  }
  EXPECT_THROW(linear::explain_row(m, x, 0, {}, {.top = 0, .class_id = 3}), UsageError);
  EXPECT_THROW(linear::explain_row(m, x, 0, {}, {.top = -1, .class_id = std::nullopt}), UsageError);
  EXPECT_THROW(linear::explain_row(m, one_row(9, {8}, {1.0f}), 0), UsageError);  // a column past the model

  const auto json = linear::explanation_json(e, m);
  EXPECT_EQ(json["predicted"], "c");
  EXPECT_EQ(json["classes"][1]["contributions"][0]["name"], "1");
  EXPECT_EQ(json["classes"][1]["contributions"][0]["contribution"].get<double>(), -2.0);
  EXPECT_EQ(json["classes"][1]["score"].get<double>(), -2.25);
}

// Logistic: W = [1, -1, 1, 0], b = 0.5, x = {0: 1, 1: 2, 3: 4}: contributions 1, -2, 0, score -0.5.
// Class 1 (default) as is; class 0 is the negated view: bias -0.5, contributions -1, 2, -0, score 0.5.
TEST(Explain, LogisticReportsThePositiveClassAndTheNegatedView) {
  LinearModel m(LinearTask::logistic, 4, 2);
  m.set_class_names({"neg", "pos"});
  set_weights(m, {{1.0f}, {-1.0f}, {1.0f}, {0.0f}}, {0.5f});
  const auto x = one_row(4, {0, 1, 3}, {1.0f, 2.0f, 4.0f});
  const auto e = linear::explain_row(m, x, 0);
  ASSERT_EQ(e.classes.size(), 1u);
  EXPECT_EQ(e.classes[0].name, "pos");
  EXPECT_EQ(e.classes[0].score, -0.5f);
  EXPECT_EQ(e.classes[0].bias, 0.5f);
  EXPECT_EQ(listed(e, 0), (Listed{{1, -2.0f}, {0, 1.0f}, {3, 0.0f}}));
  EXPECT_EQ(e.predicted, 0);
  const double p1 = 1.0 / (1.0 + std::exp(0.5));
  EXPECT_NEAR(e.probabilities[1], p1, 1e-7);
  EXPECT_NEAR(e.probabilities[0], 1.0 - p1, 1e-7);

  const auto neg = linear::explain_row(m, x, 0, {}, {.top = 0, .class_id = linear::class_id_of(m, "neg")});
  EXPECT_EQ(neg.classes[0].name, "neg");
  EXPECT_EQ(neg.classes[0].score, 0.5f);
  EXPECT_EQ(neg.classes[0].bias, -0.5f);
  EXPECT_EQ(listed(neg, 0), (Listed{{1, 2.0f}, {0, -1.0f}, {3, 0.0f}}));
  EXPECT_EQ(neg.classes[0].contributions[0].weight, 1.0f);
}

TEST(Explain, SquaredExplainsThePrediction) {
  LinearModel m(LinearTask::squared, 2);
  set_weights(m, {{3.0f}, {-1.0f}}, {1.0f});
  const auto e = linear::explain_row(m, one_row(2, {0, 1}, {2.0f, 1.0f}), 0);
  ASSERT_EQ(e.classes.size(), 1u);
  EXPECT_EQ(e.classes[0].class_id, -1);
  EXPECT_EQ(e.classes[0].score, 6.0f);  // 1 + 2·3 + 1·-1
  EXPECT_EQ(listed(e, 0), (Listed{{0, 6.0f}, {1, -1.0f}}));
  EXPECT_TRUE(e.probabilities.empty());
  EXPECT_THROW(linear::class_id_of(m, "x"), UsageError);
  EXPECT_THROW(linear::explain_row(m, one_row(2, {0}, {1.0f}), 0, {}, {.top = 0, .class_id = 0}), UsageError);
  const auto json = linear::explanation_json(e, m);
  EXPECT_EQ(json["classes"][0]["prediction"].get<double>(), 6.0);
  EXPECT_FALSE(json.contains("predicted"));
  // Top features of a regression: by |weight|, the sign kept.
  set_weights(m, {{1.0f}, {-3.0f}}, {0.0f});
  const auto top = linear::top_features(m, 1);
  ASSERT_EQ(top.size(), 1u);
  ASSERT_EQ(top[0].features.size(), 1u);
  EXPECT_EQ(top[0].features[0].column, 1);
  EXPECT_EQ(top[0].features[0].weight, -3.0f);
}

TEST(Explain, TopFeaturesPerClassByWeight) {
  const LinearModel m = hand_softmax();
  const auto top = linear::top_features(m, 2);
  ASSERT_EQ(top.size(), 3u);
  const auto cols = [](const linear::ClassTopFeatures& c) {
    std::vector<std::int64_t> v;
    for (const auto& f : c.features) v.push_back(f.column);
    return v;
  };
  EXPECT_EQ(cols(top[0]), (std::vector<std::int64_t>{1, 2}));  // 2, 1
  EXPECT_EQ(cols(top[1]), (std::vector<std::int64_t>{3, 2}));  // 1, 0.5
  EXPECT_EQ(cols(top[2]), (std::vector<std::int64_t>{3, 0}));  // 0.5, 0.25
  EXPECT_EQ(top[0].features[0].weight, 2.0f);
  EXPECT_EQ(top[0].features[0].name, "2");
  // k beyond the nonzero weights: zeros left out, negative weights last.
  const auto all1 = linear::top_features(m, 10, {}, 1);
  ASSERT_EQ(all1.size(), 1u);
  EXPECT_EQ(cols(all1[0]), (std::vector<std::int64_t>{3, 2, 0}));
  EXPECT_THROW(linear::top_features(m, 0), UsageError);

  // Logistic: both sides of the one output; ties by column.
  LinearModel lg(LinearTask::logistic, 4, 2);
  lg.set_class_names({"neg", "pos"});
  set_weights(lg, {{1.0f}, {-1.0f}, {1.0f}, {-0.5f}}, {0.0f});
  const auto t = linear::top_features(lg, 2);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].name, "pos");
  EXPECT_EQ(cols(t[0]), (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(t[1].name, "neg");
  EXPECT_EQ(cols(t[1]), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(t[1].features[0].weight, 1.0f);  // toward neg: -W
  const auto json = linear::top_features_json(t);
  EXPECT_EQ(json[1]["class"], "neg");
  EXPECT_EQ(json[1]["features"][1]["weight"].get<double>(), 0.5);
}

TEST(Explain, VocabularyTextNamesTheNgrams) {
  data::TextVectorizer v{data::TextVectorizerOptions{}};
  v.fit(std::vector<std::string>{"good movie", "bad movie"});  // columns: bad, good, movie
  LinearModel m(LinearTask::logistic, 3, 2);
  set_weights(m, {{-2.0f}, {2.0f}, {0.5f}}, {0.25f});
  const linear::FeatureNames names{&v, nullptr};
  const auto e = linear::explain_text(m, "Good good MOVIE, unseen", names);
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[0].name, "good");
  EXPECT_EQ(e.features[0].value, 2.0f);
  EXPECT_EQ(e.features[1].name, "movie");
  EXPECT_EQ(listed(e, 0), (Listed{{1, 4.0f}, {2, 0.5f}}));
  EXPECT_EQ(e.classes[0].score, 4.75f);
  EXPECT_TRUE(e.features[0].terms.empty());
  EXPECT_EQ(linear::top_features(m, 1, names)[0].features[0].name, "good");
  EXPECT_THROW(linear::explain_text(m, "good", {}), UsageError);  // no vectorizer: not a text model
}

TEST(Explain, HashedTextListsTheInputsTermsOfEachBucket) {
  data::TextVectorizerOptions o;
  o.hash_bits = 2;  // 4 buckets: collisions certain
  o.ngram_max = 2;
  data::TextVectorizer v(o);
  const std::string text = "alpha beta alpha gamma delta epsilon alpha beta";
  LinearModel m(LinearTask::softmax, 4, 3);
  set_weights(m, {{1, 2, 3}, {-1, 0.5f, 2}, {0.25f, -4, 1}, {2, 2, -2}}, {0, 0, 0});
  const linear::FeatureNames names{&v, nullptr};
  const auto e = linear::explain_text(m, text, names);
  // Each bucket's value is the signed count of the terms listed there (count weighting), and each of
  // them hashes there.
  std::map<std::string, std::int64_t> counted;
  for (const auto& f : e.features) {
    EXPECT_EQ(f.name, "bucket " + std::to_string(f.column));
    double sum = 0.0;
    for (const auto& t : f.terms) {
      const auto h = data::hash_feature(t.term, 4, true);
      EXPECT_EQ(h.column, f.column) << t.term;
      EXPECT_EQ(h.sign, t.sign) << t.term;
      sum += t.sign * static_cast<double>(t.count);
      counted[t.term] += t.count;
    }
    EXPECT_EQ(sum, f.value) << f.name;
    for (std::size_t i = 1; i < f.terms.size(); ++i) EXPECT_GE(f.terms[i - 1].count, f.terms[i].count);
  }
  EXPECT_EQ(counted["alpha"], 3);
  EXPECT_EQ(counted["alpha beta"], 2);
  EXPECT_EQ(counted["beta"], 2);
}

// On a trained model whose numbers are not dyadic (tf-idf of bigrams, random weights), the scores are
// the decision function's, and the bias plus the contributions give them up to float rounding.
TEST(Explain, ContributionsSumToTheDecisionFunction) {
  for (const std::int32_t hash_bits : {0, 6}) {
    data::PrepareOptions po;
    po.data = "sentiment-tiny";
    po.test_split = 0.3;
    data::TextVectorizerOptions t;
    t.ngram_max = 2;
    t.weighting = data::TextWeighting::tfidf;
    t.hash_bits = hash_bits;
    po.text = t;
    const auto d = data::prepare_sparse_data(po);
    for (const std::string task : {"logreg", "softmax"}) {
      SCOPED_TRACE(task + " hash_bits " + std::to_string(hash_bits));
      auto m = LinearModel::for_dataset(d.train, d.train.features.cols, task);
      Rng rng(7);
      for (auto& w : m.weights()) w = static_cast<float>(rng.uniform() * 2.0 - 1.0);
      for (auto& b : m.bias()) b = static_cast<float>(rng.uniform() - 0.5);
      const linear::FeatureNames names{&*d.vectorizer, nullptr};
      for (const std::string text : {"I love this movie", "What a terrible, awful film", "great great experience"}) {
        const std::string texts[] = {text};
        const Tensor z = linear::decision_function(m, d.vectorizer->transform(texts));
        const auto e = linear::explain_text(m, text, names);
        const auto shown = m.task() == LinearTask::logistic ? 1 : m.outputs();
        ASSERT_EQ(static_cast<std::int64_t>(e.classes.size()), shown);
        for (std::int64_t c = 0; c < shown; ++c) {
          const auto& cs = e.classes[static_cast<std::size_t>(c)];
          EXPECT_EQ(cs.score, z.data()[c]);  // the decision function's own number
          double sum = cs.bias, magnitude = std::fabs(cs.bias);
          for (const auto& k : cs.contributions) {
            sum += k.contribution;
            magnitude += std::fabs(k.contribution);
            EXPECT_EQ(k.contribution, e.features[k.feature].value * k.weight);
          }
          EXPECT_NEAR(sum, cs.score, 4.0 * FLT_EPSILON * magnitude * static_cast<double>(cs.contributions.size() + 1));
        }
        const Tensor p = linear::predict_proba(m, d.vectorizer->transform(texts));
        for (std::int64_t c = 0; c < p.numel(); ++c) EXPECT_EQ(e.probabilities[static_cast<std::size_t>(c)], p.data()[c]);
      }
    }
  }
}

TEST(Explain, HashedNamesCarryTheKeptBucketTerms) {
  data::TextVectorizerOptions o;
  o.hash_bits = 3;
  data::TextVectorizer v(o);
  const std::vector<std::string> train = {"good film good", "bad film", "good plot"};
  const auto kept = data::BucketTerms::collect(v, train);
  LinearModel m(LinearTask::logistic, 8, 2);
  for (std::int64_t j = 0; j < 8; ++j) m.weight_row(j)[0] = static_cast<float>(j + 1);
  const linear::FeatureNames names{&v, &kept};
  const auto good = data::hash_feature("good", 8, true);
  const auto e = linear::explain_text(m, "good", names);
  ASSERT_EQ(e.features.size(), 1u);
  EXPECT_EQ(e.features[0].column, good.column);
  ASSERT_FALSE(e.features[0].kept_terms.empty());
  bool found = false;
  for (const auto& t : e.features[0].kept_terms)
    if (t.term == "good") {
      found = true;
      EXPECT_EQ(t.count, 3);
      EXPECT_EQ(t.sign, good.sign);
    }
  EXPECT_TRUE(found);
  const auto top = linear::top_features(m, 8, names, 1);
  for (const auto& f : top[0].features)
    EXPECT_EQ(f.kept_terms.size(), kept.of(f.column).size()) << f.column;
}

}  // namespace
