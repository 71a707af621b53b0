// The GloVe kernel against hand computations in double (both conventions), the trainer against the
// kernel, the standard convention against adakit's AdaGrad kernel, and training that lowers the cost.
#include <gtest/gtest.h>

#include <cmath>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/embed/glove.hpp"
#include "adakit/embed/vocab.hpp"
#include "adakit/optim/adagrad.hpp"

namespace {
using namespace adakit::embed;

struct Rows {
  std::vector<double> w{0.3, -0.2, 0.5, 0.1}, c{-0.4, 0.25, 0.6, -0.05};  // d = 3, bias last
  std::vector<double> gw{1.0, 1.5, 2.0, 1.2}, gc{1.1, 1.0, 3.0, 1.4};
};

double clampv(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// glove.c's update, written out for one record.
void hand_reference(Rows& r, double x, double x_max, double alpha, double eta, double clip, double& cost) {
  const double f = x > x_max ? 1.0 : std::pow(x / x_max, alpha);
  double diff = r.w[0] * r.c[0] + r.w[1] * r.c[1] + r.w[2] * r.c[2] + r.w[3] + r.c[3] - std::log(x);
  const double fd = f * diff;
  cost = 0.5 * fd * diff;
  const Rows old = r;
  for (int k = 0; k < 3; ++k) {
    const double t1 = clampv(fd * old.c[k], -clip, clip) * eta;
    const double t2 = clampv(fd * old.w[k], -clip, clip) * eta;
    r.w[k] = old.w[k] - t1 / std::sqrt(old.gw[k]);
    r.c[k] = old.c[k] - t2 / std::sqrt(old.gc[k]);
    r.gw[k] = old.gw[k] + t1 * t1;
    r.gc[k] = old.gc[k] + t2 * t2;
  }
  r.w[3] = old.w[3] - fd / std::sqrt(old.gw[3]);  // glove.c: the bias step has no eta and no clip
  r.c[3] = old.c[3] - fd / std::sqrt(old.gc[3]);
  r.gw[3] = old.gw[3] + fd * fd;
  r.gc[3] = old.gc[3] + fd * fd;
}

// adakit's AdaGrad (PyTorch semantics) after an elementwise clip, on every parameter.
void hand_standard(Rows& r, double x, double x_max, double alpha, double eta, double clip, double eps, double& cost) {
  const double f = x > x_max ? 1.0 : std::pow(x / x_max, alpha);
  double diff = r.w[0] * r.c[0] + r.w[1] * r.c[1] + r.w[2] * r.c[2] + r.w[3] + r.c[3] - std::log(x);
  const double fd = f * diff;
  cost = 0.5 * fd * diff;
  const Rows old = r;
  for (int k = 0; k < 4; ++k) {
    const double g1 = clampv(k < 3 ? fd * old.c[k] : fd, -clip, clip);
    const double g2 = clampv(k < 3 ? fd * old.w[k] : fd, -clip, clip);
    r.gw[k] = old.gw[k] + g1 * g1;
    r.gc[k] = old.gc[k] + g2 * g2;
    r.w[k] = old.w[k] - eta * g1 / (std::sqrt(r.gw[k]) + eps);
    r.c[k] = old.c[k] - eta * g2 / (std::sqrt(r.gc[k]) + eps);
  }
}

void expect_rows(const Rows& a, const Rows& b) {
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_DOUBLE_EQ(a.w[k], b.w[k]) << k;
    EXPECT_DOUBLE_EQ(a.c[k], b.c[k]) << k;
    EXPECT_DOUBLE_EQ(a.gw[k], b.gw[k]) << k;
    EXPECT_DOUBLE_EQ(a.gc[k], b.gc[k]) << k;
  }
}

TEST(EmbedGlove, OneReferenceStepEqualsTheHandComputation) {
  for (double clip : {100.0, 0.05}) {  // the second clips every vector component
    for (double x : {3.0, 250.0}) {    // below and above x_max
      SCOPED_TRACE("clip " + std::to_string(clip) + " x " + std::to_string(x));
      Rows got, want;
      double cost = 0;
      hand_reference(want, x, 100.0, 0.75, 0.05, clip, cost);
      GloveStepOptions o{.convention = GloveConvention::reference, .eta = 0.05, .grad_clip = clip};
      const double e = glove_step(got.w, got.c, got.gw, got.gc, std::log(x), glove_weight(x, 100.0, 0.75), o);
      EXPECT_DOUBLE_EQ(e, cost);
      expect_rows(got, want);
    }
  }
}

TEST(EmbedGlove, OneStandardStepEqualsTheHandComputationAndAdakitsAdagrad) {
  for (double clip : {100.0, 0.05}) {
    SCOPED_TRACE("clip " + std::to_string(clip));
    Rows got, want;
    double cost = 0;
    hand_standard(want, 7.0, 10.0, 0.75, 0.05, clip, 1e-10, cost);
    GloveStepOptions o{.convention = GloveConvention::standard, .eta = 0.05, .grad_clip = clip, .eps = 1e-10};
    const double e = glove_step(got.w, got.c, got.gw, got.gc, std::log(7.0), glove_weight(7.0, 10.0, 0.75), o);
    EXPECT_DOUBLE_EQ(e, cost);
    expect_rows(got, want);

    // The same step through optim::adagrad_step (float32, lr = eta) on the clipped gradient.
    Rows r0;
    const double f = glove_weight(7.0, 10.0, 0.75);
    const double diff = r0.w[0] * r0.c[0] + r0.w[1] * r0.c[1] + r0.w[2] * r0.c[2] + r0.w[3] + r0.c[3] - std::log(7.0);
    std::vector<float> p, g, s;
    for (int k = 0; k < 4; ++k) {
      p.push_back(static_cast<float>(r0.w[static_cast<std::size_t>(k)]));
      g.push_back(static_cast<float>(clampv(k < 3 ? f * diff * r0.c[static_cast<std::size_t>(k)] : f * diff, -clip, clip)));
      s.push_back(static_cast<float>(r0.gw[static_cast<std::size_t>(k)]));
    }
    adakit::optim::adagrad_step(p, g, s, {.lr = 0.05, .initial_accumulator_value = 0.0, .eps = 1e-10}, 1);
    for (std::size_t k = 0; k < 4; ++k) {
      EXPECT_NEAR(p[k], got.w[k], 1e-6) << k;
      EXPECT_NEAR(s[k], got.gw[k], 1e-6 * got.gw[k]) << k;
    }
  }
}

TEST(EmbedGlove, NonFiniteRecordsAreSkipped) {
  Rows r;
  r.w[0] = std::numeric_limits<double>::infinity();
  const Rows before = r;
  const double e = glove_step(r.w, r.c, r.gw, r.gc, 0.0, 1.0, {});
  EXPECT_TRUE(std::isnan(e));
  for (std::size_t k = 1; k < 4; ++k) EXPECT_EQ(r.w[k], before.w[k]);
}

// A corpus of topics: words of one topic co-occur.
std::string topic_corpus(int lines) {
  const char* topics[4][6] = {{"king", "queen", "crown", "palace", "royal", "throne"},
                              {"cat", "dog", "pet", "fur", "paw", "tail"},
                              {"sun", "moon", "star", "sky", "night", "light"},
                              {"bread", "milk", "cheese", "eat", "food", "meal"}};
  adakit::Rng rng(5);
  std::string text;
  for (int l = 0; l < lines; ++l) {
    const auto t = rng.below(4);
    for (int k = 0; k < 8; ++k) text += std::string(k ? " " : "") + topics[t][rng.below(6)];
    text += "\n";
  }
  return text;
}

TEST(EmbedGlove, TrainerRunsTheKernelInOrder) {
  const std::string text = topic_corpus(50);
  const auto v = count_vocabulary_text(text, {});
  CooccurOptions co;
  co.window = 3;
  const auto recs = count_cooccurrences_text(text, v, co);
  GloveOptions o;
  o.vector_size = 5;
  o.iterations = 2;
  o.x_max = 10;
  o.shuffle = ShuffleMode::none;
  o.threads = 1;
  auto model = init_glove(v.size(), o);
  auto manual = model;
  const auto res = train_glove(model, recs, o);
  ASSERT_EQ(res.history.size(), 2u);
  for (int it = 0; it < 2; ++it) {
    double cost = 0;
    for (const auto& r : recs) {
      const auto i = r.word1 - 1, j = r.word2 - 1;
      std::span<double> P(manual.params), G(manual.gradsq);
      const auto row = static_cast<std::size_t>(manual.row_size());
      cost += glove_step(P.subspan(i * row, row), P.subspan((v.size() + j) * row, row), G.subspan(i * row, row),
                         G.subspan((v.size() + j) * row, row), std::log(r.value), glove_weight(r.value, o.x_max, o.alpha),
                         o.step);
    }
    EXPECT_DOUBLE_EQ(res.history[static_cast<std::size_t>(it)].cost, cost / static_cast<double>(recs.size()));
  }
  EXPECT_EQ(model.params, manual.params);
  EXPECT_EQ(model.gradsq, manual.gradsq);
}

TEST(EmbedGlove, CostFallsOnASmallCorpusWithBothConventionsAndTwoThreads) {
  const std::string text = topic_corpus(400);
  const auto v = count_vocabulary_text(text, {});
  CooccurOptions co;
  co.window = 5;
  const auto recs = count_cooccurrences_text(text, v, co);
  for (auto conv : {GloveConvention::reference, GloveConvention::standard}) {
    double one_thread_final = 0;
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::string(to_string(conv)) + " threads " + std::to_string(threads));
      GloveOptions o;
      o.vector_size = 10;
      o.iterations = 15;
      o.x_max = 10;
      o.step.convention = conv;
      o.threads = threads;
      auto model = init_glove(v.size(), o);
      const auto res = train_glove(model, recs, o);
      ASSERT_EQ(res.history.size(), 15u);
      EXPECT_EQ(res.threads, threads);
      EXPECT_LT(res.history.back().cost, 0.25 * res.history.front().cost);
      if (threads == 1) {
        // One thread is deterministic: the cost falls at every iteration.
        for (std::size_t i = 1; i < res.history.size(); ++i) EXPECT_LT(res.history[i].cost, res.history[i - 1].cost) << i;
        one_thread_final = res.history.back().cost;
      } else {
        // Hogwild on 24 words: the two threads collide on rows all the time, and near the optimum the
        // cost can tick up by a fraction of a percent; it must still track the sequential run.
        for (std::size_t i = 1; i < res.history.size(); ++i) EXPECT_LT(res.history[i].cost, 1.05 * res.history[i - 1].cost) << i;
        EXPECT_NEAR(res.history.back().cost, one_thread_final, 0.1 * one_thread_final);
      }
    }
  }
}

TEST(EmbedGlove, SeededInitAndShuffleRepeat) {
  GloveOptions o;
  o.vector_size = 4;
  o.seed = 9;
  const auto a = init_glove(7, o), b = init_glove(7, o);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.params.size(), 2u * 7 * 5);
  for (double x : a.params) EXPECT_LE(std::abs(x), 0.5 / 4);
  EXPECT_EQ(a.gradsq, std::vector<double>(a.params.size(), 1.0));
  o.step.convention = GloveConvention::standard;
  EXPECT_EQ(init_glove(7, o).gradsq, std::vector<double>(a.params.size(), 0.0));
  o.seed = 10;
  EXPECT_NE(init_glove(7, o).params, a.params);
}

TEST(EmbedGlove, BadOptionsAndRecordsAreUsageErrors) {
  GloveOptions o;
  o.vector_size = 0;
  EXPECT_THROW(o.validate(), adakit::UsageError);
  o = {};
  o.initial_accumulator = 0.0;  // reference divides by it before adding
  EXPECT_THROW(o.validate(), adakit::UsageError);
  o = {};
  o.vector_size = 3;
  auto m = init_glove(2, o);
  const std::vector<CooccurRecord> bad{{1, 3, 1.0}};
  EXPECT_THROW(train_glove(m, bad, o), adakit::UsageError);
  o.vector_size = 4;
  const std::vector<CooccurRecord> good{{1, 2, 1.0}};
  EXPECT_THROW(train_glove(m, good, o), adakit::UsageError);  // dimension mismatch
}

}  // namespace
