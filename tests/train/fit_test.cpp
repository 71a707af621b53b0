// The training loop on real bundled data: the tutorial's iris MLP reaches test accuracy 1.0, runs
// are deterministic per seed, early stopping restores the best weights, non-finite steps are caught,
// and a saved model predicts exactly as the one in memory.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "adakit/adakit.hpp"

namespace {
using namespace adakit;

struct IrisSetup {
  data::TrainTest split;
  IrisSetup(std::uint64_t seed) {
    auto loaded = data::load_data({"iris-binary", {}, {}});
    split = data::train_test_split(loaded.train, 0.2, seed);
    data::StandardScaler sc;
    sc.fit(split.train);
    sc.transform(split.train);
    sc.transform(split.test);
  }
};

std::vector<float> flat_weights(nn::Sequential& m) {
  std::vector<float> w;
  for (auto* p : m.parameters()) w.insert(w.end(), p->value().span().begin(), p->value().span().end());
  return w;
}

TEST(TrainFit, TutorialIrisMlpReachesFullTestAccuracyForSeveralSeeds) {
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    IrisSetup s(seed);
    auto model = nn::mlp(4, {5}, 1, "tanh", "", seed);
    optim::Adagrad opt(model.parameters(), {.lr = 0.01});
    const auto obj = train::pick_objective(s.split.train, 1);
    ASSERT_EQ(obj, train::Objective::binary_logistic);
    auto r = train::fit(model, opt, s.split.train, &s.split.test, obj, {.epochs = 100, .batch_size = 16, .seed = seed});
    const auto test = train::evaluate(model, s.split.test, obj);
    EXPECT_EQ(test.accuracy, 1.0) << "seed " << seed;
    EXPECT_LT(r.history.back().train.loss, r.history.front().train.loss) << "seed " << seed;
    EXPECT_EQ(test.samples, 20);
  }
}

TEST(TrainFit, SameSeedSameWeightsDifferentSeedDifferentWeights) {
  auto run = [](std::uint64_t seed) {
    IrisSetup s(7);
    auto model = nn::mlp(4, {5}, 1, "tanh", "", 7);
    optim::Adam opt(model.parameters(), {.lr = 0.01});
    train::fit(model, opt, s.split.train, nullptr, train::Objective::binary_logistic,
               {.epochs = 5, .batch_size = 8, .seed = seed});
    return flat_weights(model);
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(TrainFit, EarlyStoppingStopsAndRestoresTheBestWeights) {
  IrisSetup s(1);
  auto model = nn::mlp(4, {5}, 1, "tanh", "", 1);
  // min_delta so large that no epoch after the first counts as an improvement.
  optim::Sgd opt(model.parameters(), {.lr = 0.1});
  std::vector<std::vector<float>> weights;
  struct Recorder : train::Callback {
    nn::Sequential* m;
    std::vector<std::vector<float>>* w;
    bool on_epoch_end(const train::EpochReport&) override {
      w->push_back(flat_weights(*m));
      return false;
    }
  } rec;
  rec.m = &model;
  rec.w = &weights;
  std::vector<train::Callback*> cbs{&rec};
  auto r = train::fit(model, opt, s.split.train, &s.split.test, train::Objective::binary_logistic,
                      {.epochs = 200, .batch_size = 4, .seed = 1, .patience = 3, .min_delta = 10.0}, cbs);
  ASSERT_TRUE(r.stopped_early);
  EXPECT_LT(r.epochs_run, 200);
  EXPECT_EQ(r.best_epoch, 1);
  EXPECT_EQ(r.epochs_run, 4);
  EXPECT_NE(flat_weights(model), weights.back());
  EXPECT_EQ(flat_weights(model), weights[static_cast<std::size_t>(r.best_epoch - 1)]);
}

TEST(TrainFit, CallbackCanStopTraining) {
  IrisSetup s(1);
  auto model = nn::mlp(4, {5}, 1, "tanh", "", 1);
  optim::Adagrad opt(model.parameters(), {.lr = 0.01});
  struct StopAt2 : train::Callback {
    bool on_epoch_end(const train::EpochReport& r) override { return r.epoch == 2; }
  } stop;
  std::vector<train::Callback*> cbs{&stop};
  auto r = train::fit(model, opt, s.split.train, nullptr, train::Objective::binary_logistic, {.epochs = 50}, cbs);
  EXPECT_EQ(r.epochs_run, 2);
}

TEST(TrainFit, NonFiniteLossIsAnErrorOrASkippedStep) {
  IrisSetup s(1);
  s.split.train.features[0] = std::nanf("");  // one poisoned sample
  auto model = nn::mlp(4, {5}, 1, "tanh", "", 1);
  optim::Adagrad opt(model.parameters(), {.lr = 0.01});
  EXPECT_THROW(train::fit(model, opt, s.split.train, nullptr, train::Objective::binary_logistic,
                          {.epochs = 1, .batch_size = 80, .shuffle = false}),
               Error);
  // skip: the one full batch is skipped every epoch; parameters and accumulators stay untouched.
  auto before = flat_weights(model);
  optim::Adagrad opt2(model.parameters(), {.lr = 0.01});
  auto r = train::fit(model, opt2, s.split.train, nullptr, train::Objective::binary_logistic,
                      {.epochs = 3, .batch_size = 80, .shuffle = false, .on_nonfinite = train::NonFinite::skip});
  EXPECT_EQ(r.skipped_steps, 3);
  EXPECT_EQ(flat_weights(model), before);
  for (auto* p : model.parameters()) EXPECT_EQ(opt2.state(*p), nullptr);
}

TEST(TrainFit, SavedModelPredictsExactlyAsTheModelInMemory) {
  IrisSetup s(2);
  auto model = nn::mlp(4, {5}, 1, "tanh", "", 2);
  optim::Adagrad opt(model.parameters(), {.lr = 0.05});
  train::fit(model, opt, s.split.train, nullptr, train::Objective::binary_logistic, {.epochs = 20, .batch_size = 16});
  const auto path = std::filesystem::temp_directory_path() / "adakit_fit_test_model.safetensors";
  io::ModelInfo info{"binary_logistic", {4}, s.split.train.class_names, {}, {}, {}, "iris-binary"};
  io::save_model(path, model, info);
  auto loaded = io::load_model(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.info.objective, "binary_logistic");
  EXPECT_EQ(loaded.info.class_names, s.split.train.class_names);
  const Tensor a = train::predict_outputs(model, s.split.test);
  const Tensor b = train::predict_outputs(loaded.model, s.split.test);
  ASSERT_EQ(a.shape(), b.shape());
  for (std::int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a[i], b[i]);
}

TEST(TrainFit, RegressionWithMseLearnsALinearMap) {
  // y = 2 x0 - 3 x1 + 0.5, 256 samples: a linear model with AdaGrad gets the mse near 0.
  data::Dataset d;
  d.name = "linear";
  d.features = Tensor({256, 2});
  d.targets = Tensor({256, 1});
  Rng rng(3);
  for (std::int64_t i = 0; i < 256; ++i) {
    const float x0 = static_cast<float>(rng.uniform(-1, 1)), x1 = static_cast<float>(rng.uniform(-1, 1));
    d.features[2 * i] = x0;
    d.features[2 * i + 1] = x1;
    d.targets[i] = 2 * x0 - 3 * x1 + 0.5f;
  }
  ASSERT_EQ(train::pick_objective(d, 1), train::Objective::mse);
  auto model = nn::mlp(2, {}, 1, "relu", "", 1);
  optim::Adagrad opt(model.parameters(), {.lr = 0.5});
  train::fit(model, opt, d, nullptr, train::Objective::mse, {.epochs = 200, .batch_size = 32});
  EXPECT_LT(train::evaluate(model, d, train::Objective::mse).mse, 1e-4);
}

}  // namespace
