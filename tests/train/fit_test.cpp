// The training loop on real bundled data: the tutorial's iris MLP reaches test accuracy 1.0, runs
// are deterministic per seed, early stopping restores the best weights, non-finite steps are caught,
// and a saved model predicts exactly as the one in memory.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "adakit/adakit.hpp"
#include "adakit/optim/registry.hpp"

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

// Snapshots parameters and the optimizer's whole state dict after every batch; records the batches
// whose snapshot equals the one before (the skipped steps).
struct StateRecorder : train::Callback {
  StateRecorder(nn::Sequential& m, optim::Optimizer& o) : model(&m), opt(&o) {}
  nn::Sequential* model;
  optim::Optimizer* opt;
  std::string last;
  std::vector<std::int64_t> unchanged;  // global batch numbers
  std::string snapshot() {
    std::string s;
    for (auto* p : model->parameters())
      s.append(reinterpret_cast<const char*>(p->value().data()), static_cast<std::size_t>(p->numel()) * sizeof(float));
    const auto d = opt->state_dict();
    for (const auto& [k, t] : d.tensors)
      s.append(k).append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
    for (const auto& [k, v] : d.counters) s.append(k).append(std::to_string(v));
    return s;
  }
  void on_train_begin(std::int64_t, std::int64_t) override { last = snapshot(); }
  void on_state(const train::FitState& st, train::StatePoint point) override {
    if (point != train::StatePoint::batch_end) return;
    std::string now = snapshot();
    if (now == last) unchanged.push_back((st.epoch - 1) * st.batches_per_epoch + st.batch);
    last = std::move(now);
  }
};

// Iris with one poisoned sample in the middle of the training split: the loss of its batch is NaN,
// once per epoch.
IrisSetup poisoned_iris() {
  IrisSetup s(1);
  s.split.train.features[4 * 37 + 2] = std::nanf("");
  return s;
}

TEST(TrainFit, SkippedNonFiniteStepsLeaveParametersAndAccumulatorsBitIdentical) {
  // One poisoned sample in the middle of training (the loss turns NaN on its batch, once per epoch),
  // with accumulators already filled: skip leaves every bit of the parameters and of the optimizer's
  // state (sums, step counts) as it was, and counts the skipped steps.
  const IrisSetup s = poisoned_iris();
  for (const auto& info : optim::optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    auto model = nn::mlp(4, {5}, 1, "tanh", "", 1);
    auto opt = optim::make_optimizer(info.name, model.parameters());
    StateRecorder rec(model, *opt);
    std::vector<train::Callback*> cbs{&rec};
    const auto r = train::fit(model, *opt, s.split.train, nullptr, train::Objective::binary_logistic,
                              {.epochs = 4, .batch_size = 8, .seed = 3, .on_nonfinite = train::NonFinite::skip}, cbs);
    EXPECT_EQ(r.skipped_steps, 4);
    ASSERT_EQ(rec.unchanged.size(), 4u);  // exactly the skipped batches changed nothing
    std::int64_t per_epoch = 0;
    for (const auto& e : r.history) per_epoch += e.skipped_steps;
    EXPECT_EQ(per_epoch, 4);
    EXPECT_EQ(opt->steps(), 4 * 10 - 4);  // 80 samples / 8 = 10 batches per epoch
    EXPECT_GT(rec.unchanged.front(), 1);  // not the first step: there was state to protect
    for (auto* p : model.parameters()) EXPECT_EQ(opt->state(*p)->step, 36);
  }
}

TEST(TrainFit, NonFiniteErrorThrowsBeforeTheStateIsTouched) {
  // The poisoned batch of the skip test above, in error mode, for every optimizer with accumulators
  // already filled by the batches before it: fit throws naming that batch, and the parameters and the
  // optimizer's whole state (sums, step counts) are bit-identical to what they were after the last
  // good batch (no partial update: clipping, schedule and kernel never ran).
  const IrisSetup s = poisoned_iris();
  for (const auto& info : optim::optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    auto model = nn::mlp(4, {5}, 1, "tanh", "", 1);
    auto opt = optim::make_optimizer(info.name, model.parameters());
    opt->set_clip({.max_norm = 1.0});
    StateRecorder rec(model, *opt);
    std::int64_t done = 0;  // batches completed before the throw
    struct Count : train::Callback {
      std::int64_t* n;
      explicit Count(std::int64_t* c) : n(c) {}
      void on_state(const train::FitState&, train::StatePoint p) override {
        if (p == train::StatePoint::batch_end) ++*n;
      }
    } count(&done);
    std::vector<train::Callback*> cbs{&rec, &count};
    try {
      train::fit(model, *opt, s.split.train, nullptr, train::Objective::binary_logistic,
                 {.epochs = 4, .batch_size = 8, .seed = 3}, cbs);
      FAIL() << "no error";
    } catch (const Error& e) {
      const std::string expected = "non-finite loss at epoch 1, batch " + std::to_string(done + 1) + " (";
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    ASSERT_GT(done, 0);  // there was state to protect
    EXPECT_EQ(opt->steps(), done);
    EXPECT_TRUE(rec.snapshot() == rec.last);  // bit-identical to the state after batch `done`
    for (auto* p : model.parameters()) EXPECT_EQ(opt->state(*p)->step, done);
  }
}

TEST(TrainFit, NonFiniteGradientWithFiniteLossIsCaughtBeforeTheStep) {
  // Linear regression where one sample's feature and target are 1e20: the squared error is finite in
  // double (the loss), but the weight gradient 2 (z - y) x overflows float to inf.
  data::Dataset d;
  d.features = Tensor({8, 1});
  d.targets = Tensor({8, 1});
  for (std::int64_t i = 0; i < 8; ++i) {
    d.features[i] = static_cast<float>(i) / 8.0f;
    d.targets[i] = 2.0f * d.features[i];
  }
  d.features[5] = 1e20f;
  d.targets[5] = 1e20f;
  auto model = nn::mlp(1, {}, 1, "relu", "", 1);
  optim::Adagrad opt(model.parameters(), {.lr = 0.1});
  try {
    train::fit(model, opt, d, nullptr, train::Objective::mse, {.epochs = 1, .batch_size = 4, .shuffle = false});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite gradient at epoch 1, batch 2"), std::string::npos) << e.what();
  }
  optim::Adagrad opt2(model.parameters(), {.lr = 0.1});
  StateRecorder rec(model, opt2);
  std::vector<train::Callback*> cbs{&rec};
  const auto r = train::fit(model, opt2, d, nullptr, train::Objective::mse,
                            {.epochs = 3, .batch_size = 4, .shuffle = false, .on_nonfinite = train::NonFinite::skip}, cbs);
  EXPECT_EQ(r.skipped_steps, 3);
  EXPECT_EQ(rec.unchanged, (std::vector<std::int64_t>{2, 4, 6}));
  EXPECT_EQ(opt2.steps(), 3);
}

}  // namespace
