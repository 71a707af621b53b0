// linear::fit on two threads (FitOptions::threads, src/linear/fit_threads.cpp): each thread owns one of
// the two feature shards. The claim is exactness: on 1 or 2 threads the model, the optimizer's
// state, the step and touch counts, every epoch's metrics and every batch report are bit for bit those
// of one thread, for every loss and every linear optimizer (the lazy ones included), batch sizes 1 and
// larger, class and row weights, multilabel ova data, checkpoints taken and resumed mid-epoch, callbacks
// that read the model as it trains, and a bad row mid-run. First, the order of a training score's sum
// itself (model.hpp), recomputed by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <tuple>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/callback.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;
using linear_test::weights_and_bias;

struct ThreadCount {  // restores the default thread count
  explicit ThreadCount(int n) { set_num_threads(n); }
  ~ThreadCount() { set_num_threads(0); }
};

// Options that make every optimizer's state nontrivial (L1 and L2 for the lazy catch-up).
optim::OptionMap options_for(std::string_view name) {
  if (name == "adagrad") return {{"lr", "0.3"}, {"initial_accumulator_value", "0.1"}};
  if (name == "ftrl") return {{"alpha", "0.2"}, {"l1", "0.01"}, {"l2", "0.1"}};
  return {{"lr", "0.2"}, {"l1", "0.001"}, {"l2", "0.01"}};
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Eleven classes, rows with importance weights (some 0), 257 rows: the last batch of 4 is short.
data::SparseDataset eleven_classes(bool multilabel) {
  linear_test::Spec spec;
  spec.dim = 2000;
  spec.informative = 80;
  spec.classes = 11;
  spec.nnz_noise = 10;
  data::SparseDataset d = linear_test::make_dataset(spec, 257, 6);
  Rng rng(17);
  for (std::int64_t r = 0; r < d.size(); ++r) d.weights.push_back(r % 13 == 0 ? 0.0f : 0.5f + static_cast<float>(rng.uniform()));
  if (multilabel) {  // each row: its class, and one or two others
    for (std::int64_t r = 0; r < d.size(); ++r) {
      std::vector<std::int32_t> set = {d.labels[static_cast<std::size_t>(r)]};
      for (std::uint64_t k = 0; k < 1 + rng.below(2); ++k) set.push_back(static_cast<std::int32_t>(rng.below(11)));
      d.label_sets.add_row(set);
      d.labels[static_cast<std::size_t>(r)] = d.label_sets.row(r).front();
    }
  }
  return d;
}

// What a run leaves: the model, the optimizer's state, the counts, the epoch and batch reports.
struct Outcome {
  std::vector<float> model;
  std::map<std::string, std::vector<float>> state;
  std::int64_t steps = 0, touched = 0;
  std::vector<double> epochs;   // per epoch: loss, accuracy, samples, steps
  std::vector<double> batches;  // per batch: loss, correct, samples, loss sum
  std::vector<double> seen;     // what the epoch callback read from the model (evaluate's loss, accuracy)
};

void expect_same(const Outcome& a, const Outcome& b) {
  EXPECT_TRUE(same_bits(a.model, b.model)) << "weights and bias";
  ASSERT_EQ(a.state.size(), b.state.size());
  for (const auto& [k, v] : a.state) EXPECT_TRUE(same_bits(v, b.state.at(k))) << k;
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.touched, b.touched);
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.batches, b.batches);
  EXPECT_EQ(a.seen, b.seen);
}

// A batch callback and an epoch callback that reads the model.
class Recorder : public run::Callback {
 public:
  Recorder(Outcome& out, const LinearModel& model, const data::SparseDataset& d) : out_(out), model_(model), d_(d) {}
  bool wants_batches() const override { return true; }
  void on_batch_end(const run::BatchReport& b) override {
    out_.batches.insert(out_.batches.end(), {b.loss, static_cast<double>(b.correct), static_cast<double>(b.samples), b.loss_sum});
  }
  bool on_epoch_end(const run::EpochReport&) override {
    const Metrics m = evaluate(model_, d_);
    out_.seen.insert(out_.seen.end(), {m.loss, m.accuracy});
    return false;
  }

 private:
  Outcome& out_;
  const LinearModel& model_;
  const data::SparseDataset& d_;
};

Outcome train(std::string_view optimizer, const data::SparseDataset& d, LinearTask task, FitOptions fo, int threads,
              bool record = true) {
  ThreadCount tc(threads);
  LinearModel m(task, d.features.cols, task == LinearTask::logistic ? 2 : 11);
  auto opt = make_linear_optimizer(optimizer, options_for(optimizer));
  Outcome out;
  Recorder recorder(out, m, d);
  const std::vector<run::Callback*> list = {&recorder};
  const FitResult r = fit(m, *opt, d, fo, record ? run::Callbacks(list) : run::Callbacks{});
  out.model = weights_and_bias(m);
  for (const auto& [k, t] : opt->state(m).tensors) out.state[k] = std::vector<float>(t.data(), t.data() + t.numel());
  out.steps = opt->steps();
  out.touched = opt->coordinates_touched();
  EXPECT_EQ(r.steps, out.steps);
  for (const EpochReport& e : r.history)
    out.epochs.insert(out.epochs.end(), {e.train.loss, e.train.accuracy, static_cast<double>(e.train.samples),
                                         static_cast<double>(e.steps)});
  return out;
}

// Training's scores: z = p0 + p1, the row's entries of shard 0 summed in order from the bias, those of
// shard 1 from 0, a feature's shard (j / 16) mod 2 or the one the model was given (model.hpp);
// predictions' scores: b + every entry in order. All recomputed here by hand.
TEST(TrainingScores, AreTheSumOfTheShardsPartials) {
  LinearModel m(LinearTask::softmax, 200, 3);
  Rng rng(3);
  for (float& w : m.weights()) w = static_cast<float>(rng.uniform() * 2.0 - 1.0) * 1e3f;  // large: rounding shows
  for (float& b : m.bias()) b = static_cast<float>(rng.uniform());
  data::SparseDataset d;
  d.features.rows = 1;
  d.features.cols = 200;
  d.features.indptr = {0};
  for (std::int32_t j = 0; j < 200; j += 3) {
    d.features.indices.push_back(j);
    d.features.values.push_back(static_cast<float>(rng.uniform() * 3.0 - 1.5));
  }
  d.features.indptr.push_back(static_cast<std::int64_t>(d.features.indices.size()));
  d.labels = {1};
  EXPECT_EQ(feature_shard(15), 0);
  EXPECT_EQ(feature_shard(16), 1);
  EXPECT_EQ(feature_shard(32), 0);
  const auto& x = d.features;
  for (const bool given : {false, true}) {
    SCOPED_TRACE(given ? "shards given" : "shards by id");
    if (given) {  // every third feature in shard 1, the rest in 0
      std::vector<std::uint8_t> shards(200);
      for (std::size_t j = 0; j < 200; ++j) shards[j] = j % 3 == 0 ? 1 : 0;
      m.set_feature_shards(shards);
    }
    const data::SparseDataView view(d);
    const std::vector<std::int64_t> rows = {0};
    BatchFeatures batch;
    batch.build(view.features, rows, m.dim());
    SparseGradient grad;
    m.gradient(view, rows, batch, grad);
    std::vector<float> z(3);
    m.scores(view.features, 0, z);
    bool orders_differ = false, matched = false;
    // Each term added as the kernel's vector code does: fused (x·w + p, one rounding) where the build
    // targets FMA, else rounded twice; either way in this order.
    for (const bool fused : {true, false}) {
      bool all = true;
      for (std::size_t c = 0; c < 3; ++c) {
        float p[2] = {m.bias()[c], 0.0f};
        float seq = m.bias()[c];
        for (std::size_t e = 0; e < x.indices.size(); ++e) {
          const float v = x.values[e], w = m.weights()[static_cast<std::size_t>(x.indices[e]) * 3 + c];
          float& ps = p[m.shard_of(x.indices[e])];
          ps = fused ? std::fma(v, w, ps) : ps + v * w;
          seq = fused ? std::fma(v, w, seq) : seq + v * w;
        }
        const float train = p[0] + p[1];
        all = all && std::memcmp(&grad.z[c], &train, sizeof(float)) == 0 && std::memcmp(&z[c], &seq, sizeof(float)) == 0;
        orders_differ = orders_differ || train != seq;
      }
      if (all) {
        matched = true;
        break;
      }
    }
    EXPECT_TRUE(matched) << "no order of the terms gives the scores";
    EXPECT_TRUE(orders_differ);  // the order matters for these numbers, so the test does
  }
  // Given shards: one per feature, each 0 or 1.
  EXPECT_THROW(m.set_feature_shards(std::vector<std::uint8_t>(199)), UsageError);
  EXPECT_THROW(m.set_feature_shards(std::vector<std::uint8_t>(200, 2)), UsageError);
  // Growth: a feature keeps its given shard at its new id; a new one takes the default.
  m.remap_features(203, [] {
    std::vector<std::int64_t> to(200);
    for (std::int64_t j = 0; j < 200; ++j) to[static_cast<std::size_t>(j)] = j < 100 ? j : j + 3;
    return to;
  }());
  EXPECT_EQ(m.shard_of(99), 1);   // old 99 (99 % 3 = 0) stays at 99
  EXPECT_EQ(m.shard_of(105), 1);  // old 102 (102 % 3 = 0) moved to 105
  EXPECT_EQ(m.shard_of(103), 0);  // old 100 moved to 103
  EXPECT_EQ(m.shard_of(100), feature_shard(100));  // a new feature
}

TEST(FitThreads, EveryLossAndOptimizerEndsBitForBitAsOneThread) {
  const auto d = eleven_classes(false);
  const std::vector<float> class_weights = {1.0f, 2.0f, 0.5f, 1.0f, 1.0f, 3.0f, 1.0f, 1.0f, 0.25f, 1.0f, 1.0f};
  for (const auto& info : linear_optimizers())
    for (const LinearTask task : {LinearTask::squared_hinge, LinearTask::ova, LinearTask::softmax})
      for (const std::int64_t bs : {std::int64_t{1}, std::int64_t{4}}) {
        SCOPED_TRACE(std::string(info.name) + ", " + std::string(to_string(task)) + ", batch " + std::to_string(bs));
        const FitOptions base{.epochs = 2, .batch_size = bs, .seed = 5, .class_weights = class_weights, .threads = 1};
        const Outcome one = train(info.name, d, task, base, 1);
        ASSERT_FALSE(one.batches.empty());
        FitOptions fo = base;
        fo.threads = 2;
        expect_same(train(info.name, d, task, fo, 2), one);
      }
}

TEST(FitThreads, BinaryLogisticEndsBitForBitAsOneThread) {
  auto d = eleven_classes(false);
  for (auto& y : d.labels) y = y % 2;  // two classes: one output
  d.class_names.clear();
  for (const std::int64_t bs : {std::int64_t{1}, std::int64_t{5}}) {
    const FitOptions fo{.epochs = 2, .batch_size = bs, .seed = 4, .threads = 1};
    const Outcome one = train("adagrad", d, LinearTask::logistic, fo, 1);
    FitOptions two = fo;
    two.threads = 2;
    expect_same(train("adagrad", d, LinearTask::logistic, two, 2), one);
  }
}

TEST(FitThreads, TheDefaultUsesTheThreadsAndChangesNothing) {
  const auto d = eleven_classes(false);
  const FitOptions fo{.epochs = 2, .batch_size = 1, .seed = 2};  // threads 0: 2 on two threads (11 outputs)
  const Outcome one = train("adagrad", d, LinearTask::squared_hinge, fo, 1);
  expect_same(train("adagrad", d, LinearTask::squared_hinge, fo, 2), one);
  const Outcome quiet1 = train("adagrad", d, LinearTask::squared_hinge, fo, 1, false),
                quiet2 = train("adagrad", d, LinearTask::squared_hinge, fo, 2, false);
  EXPECT_TRUE(same_bits(quiet1.model, one.model));
  expect_same(quiet2, quiet1);
  ThreadCount tc(2);
  LinearModel m(LinearTask::softmax, d.features.cols, 11), small(LinearTask::softmax, d.features.cols, 4);
  LazyAdagrad o1, o2;
  EXPECT_EQ(fit(m, o1, d, {.epochs = 1}).threads, 2);
  auto d4 = d;
  for (auto& y : d4.labels) y = y % 4;
  d4.class_names.clear();
  EXPECT_EQ(fit(small, o2, d4, {.epochs = 1}).threads, 1);  // 4 outputs: too few to pay
}

TEST(FitThreads, InsideAnotherParallelRegionOneThreadRunsEveryShard) {
  const auto d = eleven_classes(false);
  const FitOptions fo{.epochs = 1, .batch_size = 2, .seed = 3, .threads = 2};
  const Outcome alone = train("adagrad-l1", d, LinearTask::softmax, fo, 2);
  // A team of one inside a region (nested regions are off): the threads' loop finds a short team.
  Outcome nested;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    nested = train("adagrad-l1", d, LinearTask::softmax, fo, 2);
  }
  expect_same(nested, alone);
}

TEST(FitThreads, MultilabelOvaEndsBitForBitAsOneThread) {
  const auto d = eleven_classes(true);
  ASSERT_TRUE(d.is_multilabel());
  for (const std::string_view optimizer : {"adagrad", "ftrl"}) {
    SCOPED_TRACE(std::string(optimizer));
    const FitOptions fo{.epochs = 2, .batch_size = 3, .seed = 8, .threads = 1};
    const Outcome one = train(optimizer, d, LinearTask::ova, fo, 1);
    FitOptions two = fo;
    two.threads = 2;
    expect_same(train(optimizer, d, LinearTask::ova, two, 2), one);
  }
}

TEST(FitThreads, CheckpointsMidEpochAndResumingEndAsOneThread) {
  const auto d = eleven_classes(false);
  for (const std::string_view optimizer : {"adagrad", "adagrad-l1", "adagrad-rda"}) {
    SCOPED_TRACE(std::string(optimizer));
    const FitOptions fo{.epochs = 3, .batch_size = 4, .seed = 9, .threads = 2};
    struct Saved {
      FitState fit;
      LinearOptimizerState state;
      std::map<std::string, Tensor> model;
    };
    std::vector<Saved> saved;
    ThreadCount tc(2);
    LinearModel full(LinearTask::squared_hinge, d.features.cols, 11);
    auto opt = make_linear_optimizer(optimizer, options_for(optimizer));
    FitCheckpoints cp;
    cp.every = 23;  // 65 batches an epoch: mid-epoch points
    cp.save = [&](const FitState& st) { saved.push_back({st, opt->state(full), full.tensors()}); };
    fit(full, *opt, d, fo, {}, cp);
    ASSERT_EQ(saved.size(), 9u);  // batches 23, 46, ..., 184 of 195, then the end
    // The checkpoints hold the model as one thread has it at that batch.
    {
      ThreadCount one(1);
      LinearModel m(LinearTask::squared_hinge, d.features.cols, 11);
      auto o = make_linear_optimizer(optimizer, options_for(optimizer));
      std::vector<Saved> plain;
      FitCheckpoints pc;
      pc.every = 23;
      pc.save = [&](const FitState& st) { plain.push_back({st, o->state(m), m.tensors()}); };
      FitOptions f1 = fo;
      f1.threads = 1;
      fit(m, *o, d, f1, {}, pc);
      ASSERT_EQ(plain.size(), saved.size());
      for (std::size_t k = 0; k < saved.size(); ++k) {
        EXPECT_EQ(saved[k].fit.next, plain[k].fit.next) << k;
        EXPECT_TRUE(same_bits(saved[k].model.at("weight").span(), plain[k].model.at("weight").span())) << k;
        for (const auto& [name, t] : plain[k].state.tensors)
          EXPECT_TRUE(same_bits(saved[k].state.tensors.at(name).span(), t.span())) << k << " " << name;
      }
    }
    for (const std::size_t k : {std::size_t{1}, std::size_t{4}}) {
      SCOPED_TRACE("from checkpoint " + std::to_string(k));
      LinearModel again = LinearModel::from_tensors(full.config(), saved[k].model);
      auto o = make_linear_optimizer(optimizer, options_for(optimizer));
      o->load_state(again, saved[k].state);
      FitCheckpoints resume;
      resume.resume = &saved[k].fit;
      fit(again, *o, d, fo, {}, resume);
      EXPECT_TRUE(same_bits(weights_and_bias(again), weights_and_bias(full)));
      EXPECT_EQ(o->steps(), opt->steps());
      EXPECT_EQ(o->coordinates_touched(), opt->coordinates_touched());
    }
  }
}

TEST(FitThreads, ABadRowMidRunLeavesTheModelAsOneThreadDoes) {
  auto d = eleven_classes(false);
  // Row 150's first feature is past the model's dim: the batch that holds it throws, in a run's middle.
  const std::int64_t at = d.features.indptr[150];
  d.features.indices[static_cast<std::size_t>(at)] = static_cast<std::int32_t>(d.features.cols + 5);
  for (const auto* data : {&d}) {
    auto after_error = [&](std::int64_t threads, std::string_view optimizer) {
      ThreadCount tc(static_cast<int>(threads));
      LinearModel m(LinearTask::squared_hinge, d.features.cols, 11);
      auto opt = make_linear_optimizer(optimizer, options_for(optimizer));
      EXPECT_THROW(fit(m, *opt, *data, {.epochs = 1, .batch_size = 3, .shuffle = false, .threads = threads}), UsageError);
      std::vector<float> state;
      for (const auto& [k, t] : opt->state(m).tensors) state.insert(state.end(), t.data(), t.data() + t.numel());
      return std::make_tuple(weights_and_bias(m), state, opt->steps(), opt->coordinates_touched());
    };
    for (const std::string_view optimizer : {"adagrad", "adagrad-rda"}) {
      SCOPED_TRACE(std::string(optimizer));
      const auto [w1, s1, n1, t1] = after_error(1, optimizer);
      const auto [w2, s2, n2, t2] = after_error(2, optimizer);
      EXPECT_EQ(n1, 50);  // batches 0..49 stepped; batch 50 (rows 150-152) threw
      EXPECT_EQ(n2, n1);
      EXPECT_EQ(t2, t1);
      EXPECT_TRUE(same_bits(w2, w1));
      EXPECT_TRUE(same_bits(s2, s1));
    }
  }
}

TEST(FitThreads, BadCountsNameTheField) {
  for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{3}, std::int64_t{4}}) {
    FitOptions fo;
    fo.threads = bad;
    try {
      fo.validate();
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, "fit_threads");
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  FitOptions both;
  both.threads = 2;
  both.workers = 2;
  try {
    both.validate();
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "fit_threads");
  }
}

}  // namespace
