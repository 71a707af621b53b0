// linear/autotune.hpp: the size parser, the sampler (deterministic, in range, fixed fields kept), the
// search on small synthetic problems (at least as good as its first trial, reproducible, within the
// size limit) and the file-size estimate against the writer.
#include "adakit/linear/autotune.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/io/linear_model.hpp"
#include "synthetic.hpp"

namespace adakit::linear {
namespace {

TEST(ParseByteSize, AcceptsSuffixesInPowersOf1000) {
  EXPECT_EQ(parse_byte_size("2M"), 2000000);
  EXPECT_EQ(parse_byte_size("500k"), 500000);
  EXPECT_EQ(parse_byte_size("1.5G"), 1500000000);
  EXPECT_EQ(parse_byte_size("123456"), 123456);
  EXPECT_EQ(parse_byte_size("0.5K"), 500);
}

TEST(ParseByteSize, RejectsOtherTextNamingTheField) {
  for (const char* bad : {"", "abc", "M", "2MB", "-1", "0", "1..2", "2 M", ".", "0.1"}) {
    try {
      (void)parse_byte_size(bad, "autotune-model-size");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, "autotune-model-size") << bad;
    }
  }
}

TuneSpace text_space() {
  TuneSpace s = TuneSpace::for_optimizer("adagrad", true, false, {});
  s.max_epochs = 20;
  return s;
}

TEST(TuneSampler, TrialZeroIsTheFirstConfigurationAndTheSequenceIsSeeded) {
  TuneConfig best;
  best.lr = 0.05;
  best.epochs = 4;
  const TuneSampler a(text_space(), 7), b(text_space(), 7), other(text_space(), 8);
  const auto same = [](const TuneConfig& x, const TuneConfig& y) {
    return x.optimizer == y.optimizer && x.lr == y.lr && x.l1 == y.l1 && x.l2 == y.l2 &&
           x.initial_accumulator == y.initial_accumulator && x.ngram_max == y.ngram_max && x.hash_bits == y.hash_bits &&
           x.epochs == y.epochs;
  };
  EXPECT_TRUE(same(a.propose(0, best), best));
  int differing = 0;
  for (std::int64_t k = 1; k < 60; ++k) {
    EXPECT_TRUE(same(a.propose(k, best), b.propose(k, best))) << k;
    EXPECT_TRUE(same(a.propose(k, best), a.propose(k, best))) << k;  // no hidden state
    differing += same(a.propose(k, best), other.propose(k, best)) ? 0 : 1;
  }
  EXPECT_GT(differing, 50);
}

TEST(TuneSampler, ProposalsStayInTheSpace) {
  TuneSpace s = text_space();
  s.tasks = {"softmax", "squared_hinge"};
  const TuneSampler sampler(s, 3);
  TuneConfig best;
  best.task = "softmax";
  bool moved_lr = false, l1_on = false, ngram_2 = false, hashed = false, hinge = false, tfidf = false;
  int kept_task = 0;
  for (std::int64_t k = 1; k < 400; ++k) {
    best.l1 = k % 3 == 0 ? 1e-5 : 0.0;  // from both sides of "off"
    const TuneConfig c = sampler.propose(k, best);
    EXPECT_GE(c.lr, s.lr_min);
    EXPECT_LE(c.lr, s.lr_max);
    EXPECT_GE(c.epochs, 1);
    EXPECT_LE(c.epochs, s.max_epochs);
    for (double r : {c.l1, c.l2}) EXPECT_TRUE(r == 0.0 || (r >= s.reg_min && r <= s.reg_max)) << r;
    EXPECT_TRUE(c.initial_accumulator == 0.0 || (c.initial_accumulator >= s.acc_min && c.initial_accumulator <= s.acc_max));
    EXPECT_GE(c.ngram_max, 1);
    EXPECT_LE(c.ngram_max, s.max_ngram);
    EXPECT_NE(std::find(s.hash_bits_choices.begin(), s.hash_bits_choices.end(), c.hash_bits), s.hash_bits_choices.end());
    EXPECT_EQ(c.optimizer, c.l1 > 0.0 || c.l2 > 0.0 ? "adagrad-l1" : "adagrad");
    EXPECT_TRUE(c.task == "softmax" || c.task == "squared_hinge") << c.task;
    EXPECT_TRUE(c.weighting == adakit::data::TextWeighting::count || c.weighting == adakit::data::TextWeighting::tfidf);
    moved_lr |= c.lr != best.lr;
    l1_on |= c.l1 > 0.0;
    ngram_2 |= c.ngram_max == 2;
    hashed |= c.hash_bits > 0;
    hinge |= c.task == "squared_hinge";
    tfidf |= c.weighting == adakit::data::TextWeighting::tfidf;
    kept_task += c.task == best.task ? 1 : 0;
  }
  EXPECT_TRUE(moved_lr && l1_on && ngram_2 && hashed && hinge && tfidf);
  EXPECT_GT(kept_task, 399 / 2);  // a step switches the loss now and then, not at every trial

  // One choice, or the field not searched: the loss and the weights stay as they are.
  TuneSpace one = text_space();
  one.tasks = {"softmax"};
  one.weighting = false;
  const TuneSampler fixed(one, 3);
  for (std::int64_t k = 1; k < 100; ++k) {
    const TuneConfig c = fixed.propose(k, best);
    EXPECT_EQ(c.task, "softmax");
    EXPECT_EQ(c.weighting, adakit::data::TextWeighting::count);
  }
}

TEST(TuneSpace, OptionsGivenAndOptionsTheOptimizerLacksAreFixed) {
  const std::vector<std::string> fixed{"lr", "epochs", "ngram"};
  const TuneSpace s = TuneSpace::for_optimizer("adagrad", true, true, fixed);
  EXPECT_FALSE(s.lr);
  EXPECT_FALSE(s.epochs);
  EXPECT_FALSE(s.ngram);
  EXPECT_TRUE(s.hash_bits);
  EXPECT_FALSE(s.l1);  // adagrad chosen by the user: it has no l1, and it is kept
  EXPECT_FALSE(s.adagrad_l1_for_regularization);
  const TuneSpace sgd = TuneSpace::for_optimizer("sgd", false, true, {});
  EXPECT_FALSE(sgd.initial_accumulator);
  EXPECT_TRUE(sgd.l1 && sgd.l2 && sgd.lr);
  EXPECT_FALSE(sgd.ngram || sgd.hash_bits);
  const TuneSpace ftrl = TuneSpace::for_optimizer("ftrl", false, true, std::vector<std::string>{"alpha"});
  EXPECT_FALSE(ftrl.lr);
  EXPECT_TRUE(ftrl.initial_accumulator);  // beta
  const TuneSpace cut = TuneSpace::for_optimizer("adagrad", true, false, std::vector<std::string>{"min-df"});
  EXPECT_FALSE(cut.hash_bits);  // a vocabulary threshold given: no hashing
  EXPECT_TRUE(cut.weighting && cut.task);
  const TuneSpace given = TuneSpace::for_optimizer("adagrad", true, false, std::vector<std::string>{"tfidf", "model"});
  EXPECT_FALSE(given.weighting);  // --tfidf (or --binary) given
  EXPECT_FALSE(given.task);       // --model or --loss given
  EXPECT_FALSE(sgd.weighting);    // LIBSVM data: no term weights to choose

  TuneConfig f;
  f.optimizer = "ftrl";
  f.lr = 0.5;
  f.initial_accumulator = 2;
  f.l1 = 1;
  const auto o = f.options();
  EXPECT_EQ(o.at("alpha"), "0.5");
  EXPECT_EQ(o.at("beta"), "2");
  EXPECT_EQ(o.at("l1"), "1");
  EXPECT_EQ(o.count("lr"), 0u);
  TuneConfig sgd_config;
  sgd_config.optimizer = "sgd";
  EXPECT_EQ(sgd_config.options().count("initial_accumulator_value"), 0u);
}

TEST(Autotune, FindsAConfigurationAtLeastAsGoodAsTheFirstAndRepeatsIt) {
  linear_test::Spec spec;
  spec.dim = 3000;
  spec.informative = 60;
  spec.nnz_noise = 10;
  spec.min_margin = 0.2;
  const data::SparseDataset train = linear_test::make_dataset(spec, 800, 1);
  const data::SparseDataset validation = linear_test::make_dataset(spec, 400, 2);
  TuneData d;
  d.train = &train;
  d.validation = &validation;
  TuneConfig first;  // a poor start: a tiny step, one epoch
  first.lr = 0.002;
  first.epochs = 1;
  TuneSpace space = TuneSpace::for_optimizer("adagrad", false, false, {});
  space.max_epochs = 10;
  const TuneOptions o{.seconds = 120, .max_trials = 12, .seed = 5};
  const TuneResult r = autotune(d, first, space, o);
  ASSERT_EQ(r.trials.size(), 12u);
  const double baseline = r.trials[0].metric, best = r.trials[static_cast<std::size_t>(r.best)].metric;
  EXPECT_GE(best, baseline);
  EXPECT_GT(best, baseline + 0.05) << "the search should lift a one-epoch lr 0.002 start";
  for (const auto& t : r.trials) EXPECT_LE(t.metric, best);
  ASSERT_TRUE(r.model.has_value());
  EXPECT_DOUBLE_EQ(evaluate(*r.model, validation).accuracy, best);  // the best trial's model, as trained
  const TuneResult again = autotune(d, first, space, o);
  ASSERT_EQ(again.trials.size(), r.trials.size());
  for (std::size_t k = 0; k < r.trials.size(); ++k) {
    EXPECT_EQ(again.trials[k].config.lr, r.trials[k].config.lr);
    EXPECT_EQ(again.trials[k].config.epochs, r.trials[k].config.epochs);
    EXPECT_EQ(again.trials[k].metric, r.trials[k].metric);
  }
}

TEST(Autotune, TheBestIsItsPlaceInTheListWhenTrialsAreSkipped) {
  // A clock that ticks 10 ms a reading makes the budget exact: a trial is predicted to take its epochs
  // x nonzeros x outputs times the median of the trials before, so the long ones are skipped (counted,
  // not listed) while shorter ones still run, and trial numbers and places in `trials` part ways. (It
  // found a bug: `best` held the trial's number, and after a skip it named another trial or none.)
  // A task that does not saturate (no margin, few informative entries a row): later trials keep improving.
  const linear_test::Spec spec{.dim = 3000, .informative = 600, .nnz_informative = 2, .nnz_noise = 20, .classes = 4,
                               .min_margin = 0.0};
  const data::SparseDataset train = linear_test::make_dataset(spec, 1000, 1);
  const data::SparseDataset validation = linear_test::make_dataset(spec, 400, 2);
  TuneData d;
  d.train = &train;
  d.validation = &validation;
  TuneConfig first;
  first.lr = 1e-4;  // far from a good rate: later trials keep improving
  first.epochs = 10;
  TuneSpace space = TuneSpace::for_optimizer("adagrad", false, false, {});
  space.max_epochs = 400;
  const auto ticking = [] {
    auto t = std::make_shared<double>(0.0);
    return [t] { return *t += 0.01; };
  };
  const TuneOptions o{.seconds = 1.5, .seed = 1, .clock = ticking()};
  const TuneResult r = autotune(d, first, space, o);
  ASSERT_GE(r.best, 0);
  ASSERT_LT(r.best, static_cast<std::int64_t>(r.trials.size()));
  const TuneTrial& best = r.trials[static_cast<std::size_t>(r.best)];
  const std::int64_t skipped_before_best = best.index - r.best;  // trial numbers not listed before it
  EXPECT_GT(skipped_before_best, 0) << "no trial was skipped before the best: the test misses its case";
  EXPECT_GT(r.skipped, 0);
  EXPECT_EQ(best.status, "ok");
  for (std::size_t k = 1; k < r.trials.size(); ++k) EXPECT_GT(r.trials[k].index, r.trials[k - 1].index);
  for (const auto& t : r.trials)
    if (t.status == "ok") {
      EXPECT_LE(t.metric, best.metric);
    }
  ASSERT_TRUE(r.model.has_value());
  EXPECT_DOUBLE_EQ(evaluate(*r.model, validation).accuracy, best.metric);  // the kept model is that trial's
  // The same clock, the same search.
  const TuneResult again = autotune(d, first, space, {.seconds = 1.5, .seed = 1, .clock = ticking()});
  EXPECT_EQ(again.skipped, r.skipped);
  ASSERT_EQ(again.trials.size(), r.trials.size());
  for (std::size_t k = 0; k < r.trials.size(); ++k) EXPECT_EQ(again.trials[k].index, r.trials[k].index);
}

data::TextDataset word_texts(std::int64_t rows, std::uint64_t seed) {
  Rng rng(seed);
  data::TextDataset t;
  t.class_names = {"neg", "pos"};
  for (std::int64_t i = 0; i < rows; ++i) {
    const bool pos = rng.bernoulli(0.5);
    std::string s;
    for (int w = 0; w < 8; ++w) {
      const auto k = rng.below(400);
      s += (w > 0 ? " " : "") + std::string(rng.bernoulli(0.3) ? (pos ? "good" : "bad") : "w") + std::to_string(k);
    }
    t.texts.push_back(s);
    t.labels.push_back(pos ? 1 : 0);
  }
  return t;
}

TEST(Autotune, TextTrialsKeepWithinTheSizeLimitAndTheEstimateCoversTheFile) {
  const data::TextDataset train = word_texts(600, 1), validation = word_texts(200, 2);
  TuneData d;
  d.train_text = &train;
  d.validation_text = &validation;
  TuneConfig first;
  first.lr = 0.3;
  first.hash_bits = 20;  // 2^20 rows cannot fit 30 KB: the bits are lowered
  TuneSpace space = TuneSpace::for_optimizer("adagrad", true, false, {});
  space.max_epochs = 5;
  const std::int64_t limit = 30000;
  const TuneResult r = autotune(d, first, space, {.seconds = 120, .max_trials = 8, .max_model_bytes = limit, .seed = 1});
  ASSERT_EQ(r.trials.size(), 8u);
  EXPECT_NE(r.trials[0].constrained.find("hash-bits 20 -> "), std::string::npos) << r.trials[0].constrained;
  for (const auto& t : r.trials) {
    if (t.status != "ok") continue;
    EXPECT_LE(t.model_bytes, limit);
    EXPECT_GT(t.metric, 0.5);
  }
  ASSERT_TRUE(r.model && r.vectorizer);
  const auto path = std::filesystem::temp_directory_path() / ("adakit_autotune_" + std::to_string(::getpid()) + ".bin");
  io::save_linear_model(path, *r.model, &*r.vectorizer);
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(path));
  std::filesystem::remove(path);
  const std::int64_t estimate = estimated_file_bytes(*r.model, &*r.vectorizer);
  EXPECT_LE(bytes, estimate);
  EXPECT_LE(bytes, limit);
  EXPECT_LT(estimate - bytes, 4096);
}

TEST(Autotune, RejectsABudgetOfNoTime) {
  const data::TextDataset train = word_texts(20, 1);
  TuneData d;
  d.train_text = &train;
  d.validation_text = &train;
  try {
    (void)autotune(d, {}, {}, {.seconds = 0});
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "autotune-duration");
  }
}

}  // namespace
}  // namespace adakit::linear
