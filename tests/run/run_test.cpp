// The run layer every training loop uses (run/): the checkpoint schedule's arithmetic against
// hand-computed cases (a resumed run included), a callback's "stop" ending train::fit, linear::fit and
// the GloVe trainer after that epoch, the reports those loops fill, the JSON of epoch reports and the
// progress lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "../linear/synthetic.hpp"
#include "adakit/core/error.hpp"
#include "adakit/data/builtin.hpp"
#include "adakit/embed/glove.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/adagrad.hpp"
#include "adakit/run/callback.hpp"
#include "adakit/run/json.hpp"
#include "adakit/run/progress.hpp"
#include "adakit/run/schedule.hpp"
#include "adakit/train/fit.hpp"

namespace {
using namespace adakit;
using run::CheckpointSchedule;
using run::StatePoint;

// ---- the checkpoint schedule ----

TEST(RunSchedule, CountsBatchesOverTheRun) {
  const CheckpointSchedule s(5, 4);  // every 5 batches, 4 batches an epoch
  EXPECT_EQ(s.batches_done(0, 0), 0);
  EXPECT_EQ(s.batches_done(1, 3), 3);
  EXPECT_EQ(s.batches_done(2, 1), 5);
  EXPECT_EQ(s.batches_done(3, 4), 12);
  // Due after batches 5 and 10 of the run: batch 1 of epoch 2, batch 2 of epoch 3.
  std::vector<std::pair<std::int64_t, std::int64_t>> due;
  for (std::int64_t e = 1; e <= 3; ++e)
    for (std::int64_t b = 1; b <= 4; ++b)
      if (s.after_batch(e, b)) due.emplace_back(e, b);
  const std::vector<std::pair<std::int64_t, std::int64_t>> want{{2, 1}, {3, 2}};
  EXPECT_EQ(due, want);
  EXPECT_FALSE(s.at_epoch_end());
  EXPECT_TRUE(s.due(StatePoint::batch_end, 3, 2));
  EXPECT_FALSE(s.due(StatePoint::batch_end, 3, 3));
  EXPECT_FALSE(s.due(StatePoint::epoch_end, 3, 0));
  EXPECT_TRUE(s.due(StatePoint::train_end, 3, 3));
}

TEST(RunSchedule, EveryZeroMeansEachEpochsEnd) {
  const CheckpointSchedule s(0, 4);
  for (std::int64_t b = 1; b <= 4; ++b) EXPECT_FALSE(s.after_batch(1, b));
  EXPECT_TRUE(s.at_epoch_end());
  EXPECT_TRUE(s.due(StatePoint::epoch_end, 2, 0));
  EXPECT_FALSE(s.due(StatePoint::batch_end, 1, 4));
  EXPECT_TRUE(s.due(StatePoint::train_end, 1, 2));
  // Batches to the next checkpoint: a whole epoch from the start or a boundary, else the rest of it.
  EXPECT_EQ(s.batches_to_next(0, 0), 4);
  EXPECT_EQ(s.batches_to_next(2, 1), 3);
  EXPECT_EQ(s.batches_to_next(2, 3), 1);
  EXPECT_EQ(s.batches_to_next(2, 4), 4);
}

TEST(RunSchedule, BatchesToTheNextCheckpointAlsoFromAResumedPosition) {
  const CheckpointSchedule s(5, 4);
  EXPECT_EQ(s.batches_to_next(0, 0), 5);  // the start: D = 0
  EXPECT_EQ(s.batches_to_next(1, 3), 2);  // D = 3
  EXPECT_EQ(s.batches_to_next(2, 1), 5);  // D = 5, a checkpoint was just written
  EXPECT_EQ(s.batches_to_next(2, 2), 4);  // resumed mid-epoch at D = 6: next at D = 10
  EXPECT_EQ(s.batches_to_next(3, 4), 3);  // D = 12
  // Walking a run of 3 epochs in chunks of batches_to_next from a resumed position (epoch 2, batch 2)
  // lands exactly on the checkpoints of the uninterrupted run (D = 10), then runs to the end.
  std::int64_t e = 2, b = 2;
  std::vector<std::int64_t> stops;
  while (s.batches_done(e, b) < 12) {
    const std::int64_t d = std::min<std::int64_t>(s.batches_done(e, b) + s.batches_to_next(e, b), 12);
    e = (d - 1) / 4 + 1;
    b = d - (e - 1) * 4;
    stops.push_back(d);
    if (d < 12) {
      EXPECT_TRUE(s.after_batch(e, b)) << d;
    }
  }
  EXPECT_EQ(stops, (std::vector<std::int64_t>{10, 12}));
}

TEST(RunSchedule, RowsToBatchesAndBadIntervals) {
  EXPECT_EQ(run::batches_for(10, 3), 4);
  EXPECT_EQ(run::batches_for(9, 3), 3);
  EXPECT_EQ(run::batches_for(0, 3), 0);
  EXPECT_EQ(run::batches_for(301, 4), 76);
  EXPECT_THROW(CheckpointSchedule(-1, 4), UsageError);
}

TEST(RunSchedule, IoCheckpointDueIsTheSchedule) {
  train::FitState st;
  st.batches_per_epoch = 4;
  for (std::int64_t every : {0, 1, 3, 5}) {
    const CheckpointSchedule s(every, 4);
    for (std::int64_t e = 1; e <= 3; ++e)
      for (std::int64_t b = 0; b <= 4; ++b)
        for (auto p : {StatePoint::batch_end, StatePoint::epoch_end, StatePoint::train_end}) {
          st.epoch = e;
          st.batch = b;
          EXPECT_EQ(io::checkpoint_due(st, p, every), s.due(p, e, b));
        }
  }
  st.epoch = 2;
  st.batch = 2;  // D = 6
  EXPECT_TRUE(io::checkpoint_due(st, StatePoint::batch_end, 3));
  EXPECT_FALSE(io::checkpoint_due(st, StatePoint::batch_end, 4));
}

// ---- callbacks ----

struct StopAt : run::Callback {
  std::int64_t at;
  std::vector<run::EpochReport> seen;
  std::int64_t begun_epochs = -1, begun_batches = -1, batches = 0, ended = 0;
  explicit StopAt(std::int64_t epoch) : at(epoch) {}
  void on_train_begin(std::int64_t epochs, std::int64_t per_epoch) override {
    begun_epochs = epochs;
    begun_batches = per_epoch;
  }
  void on_batch_end(const run::BatchReport&) override { ++batches; }
  bool on_epoch_end(const run::EpochReport& r) override {
    seen.push_back(r);
    return r.epoch == at;
  }
  void on_train_end() override { ++ended; }
};

TEST(RunCallbacks, EveryCallbackHearsTheEpochAndAnyStops) {
  StopAt a(2), b(5);
  int calls = 0;
  std::vector<run::Callback*> list{&a, &b};
  const run::Callbacks cbs(list);
  EXPECT_FALSE(cbs.empty());
  run::EpochReport r;
  r.epoch = 2;
  EXPECT_TRUE(cbs.epoch_end(r));
  EXPECT_EQ(a.seen.size(), 1u);
  EXPECT_EQ(b.seen.size(), 1u);  // heard though a had asked to stop
  const run::Callbacks f([&](const run::EpochReport& e) {
    ++calls;
    return e.epoch == 3;
  });
  EXPECT_FALSE(f.epoch_end(r));
  r.epoch = 3;
  EXPECT_TRUE(f.epoch_end(r));
  const run::Callbacks v([&](const run::EpochReport&) { ++calls; });  // void: never stops
  EXPECT_FALSE(v.epoch_end(r));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(run::Callbacks().empty());
  EXPECT_TRUE(run::Callbacks(std::function<bool(const run::EpochReport&)>()).empty());
}

TEST(RunCallbacks, WithStateForwardsTheHooksToTheCallbackItHolds) {
  run::WithState<int, StopAt> w(3);  // a StateCallback<int> holding StopAt(3)
  run::StateCallback<int>& cb = w;
  cb.on_train_begin(7, 9);
  cb.on_batch_end({1, 7, 1, 9, 0.5, 0.0});
  run::EpochReport r;
  r.epoch = 2;
  EXPECT_FALSE(cb.on_epoch_end(r));
  r.epoch = 3;
  EXPECT_TRUE(cb.on_epoch_end(r));
  cb.on_state(5, StatePoint::batch_end);
  cb.on_train_end();
  EXPECT_EQ(w.inner().begun_epochs, 7);
  EXPECT_EQ(w.inner().begun_batches, 9);
  EXPECT_EQ(w.inner().batches, 1);
  EXPECT_EQ(w.inner().seen.size(), 2u);
  EXPECT_EQ(w.inner().ended, 1);
}

TEST(RunCallbacks, StopEndsTrainFitAfterThatEpoch) {
  auto loaded = data::load_data({"iris-binary", {}, {}});
  auto model = nn::mlp(4, {3}, 1, "tanh", "", 1);
  optim::Adagrad opt(model.parameters(), {.lr = 0.01});
  run::WithState<train::FitState, StopAt> stop(2);  // a train::Callback
  std::vector<train::Callback*> cbs{&stop};
  const std::int64_t n = loaded.train.size();
  const auto r = train::fit(model, opt, loaded.train, nullptr, train::Objective::binary_logistic,
                            {.epochs = 6, .batch_size = 32, .seed = 1}, cbs);
  EXPECT_EQ(r.epochs_run, 2);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(stop.inner().seen.size(), 2u);
  EXPECT_EQ(stop.inner().begun_epochs, 6);
  EXPECT_EQ(stop.inner().begun_batches, run::batches_for(n, 32));
  EXPECT_EQ(stop.inner().batches, 2 * run::batches_for(n, 32));
  EXPECT_EQ(stop.inner().ended, 1);
  EXPECT_EQ(stop.inner().seen[1].epoch, 2);
  EXPECT_EQ(stop.inner().seen[1].epochs, 6);
  EXPECT_EQ(stop.inner().seen[1].train.samples, n);
  EXPECT_EQ(stop.inner().seen[1].steps, 0);  // the dense loop leaves the linear fields alone
}

data::SparseDataset small_sparse() {
  linear_test::Spec s;
  s.dim = 200;
  s.informative = 20;
  s.nnz_informative = 3;
  s.nnz_noise = 4;
  return linear_test::make_dataset(s, 50, 5);
}

TEST(RunCallbacks, StopEndsLinearFitAfterThatEpoch) {
  const auto d = small_sparse();
  auto model = linear::LinearModel::for_dataset(d);
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.1"}});
  StopAt stop(2);
  std::vector<run::Callback*> cbs{&stop};
  const auto r = linear::fit(model, *opt, d, {.epochs = 5, .batch_size = 8, .seed = 3}, cbs);
  EXPECT_TRUE(r.stopped_early);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(r.steps, 2 * run::batches_for(50, 8));  // 14
  EXPECT_EQ(stop.begun_epochs, 5);
  EXPECT_EQ(stop.begun_batches, 7);
  EXPECT_EQ(stop.ended, 1);
  ASSERT_EQ(stop.seen.size(), 2u);
  EXPECT_EQ(stop.seen[1].steps, 14);
  EXPECT_EQ(stop.seen[1].train.samples, 50);
  EXPECT_GE(stop.seen[1].epoch_seconds, 0.0);
  EXPECT_TRUE(std::isnan(stop.seen[1].validation.loss));
  // The same run with the function shorthand stops at the same place with the same weights.
  auto model2 = linear::LinearModel::for_dataset(d);
  auto opt2 = linear::make_linear_optimizer("adagrad", {{"lr", "0.1"}});
  const auto r2 = linear::fit(model2, *opt2, d, {.epochs = 5, .batch_size = 8, .seed = 3},
                              [](const linear::EpochReport& e) { return e.epoch == 2; });
  EXPECT_EQ(r2.steps, 14);
  EXPECT_EQ(r2.history[1].train.loss, r.history[1].train.loss);
  const auto w = model.tensors().at("weight"), w2 = model2.tensors().at("weight");
  EXPECT_EQ(std::vector<float>(w.span().begin(), w.span().end()), std::vector<float>(w2.span().begin(), w2.span().end()));
}

TEST(RunCallbacks, StopEndsGloveAfterThatIteration) {
  std::vector<embed::CooccurRecord> recs;
  for (std::int32_t i = 1; i <= 6; ++i)
    for (std::int32_t j = 1; j <= 6; ++j)
      if (i != j) recs.push_back({i, j, 1.0 + static_cast<double>((i * j) % 5)});
  embed::GloveOptions o;
  o.vector_size = 4;
  o.iterations = 5;
  o.threads = 1;
  o.seed = 2;
  auto model = embed::init_glove(6, o);
  StopAt stop(2);
  std::vector<run::Callback*> cbs{&stop};
  const auto r = embed::train_glove(model, recs, o, cbs);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(stop.begun_epochs, 5);
  EXPECT_EQ(stop.begun_batches, 1000);
  EXPECT_EQ(stop.ended, 1);
  ASSERT_EQ(stop.seen.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(stop.seen[i].epoch, static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(stop.seen[i].epochs, 5);
    EXPECT_EQ(stop.seen[i].train.loss, r.history[i].cost);
    EXPECT_EQ(stop.seen[i].train.samples, static_cast<std::int64_t>(recs.size()));
    EXPECT_EQ(stop.seen[i].epoch_seconds, r.history[i].seconds);
    EXPECT_EQ(stop.seen[i].skipped_steps, 0);
  }
  // Stopping changes nothing before the stop: the first two iterations of a full run cost the same.
  auto full_model = embed::init_glove(6, o);
  const auto full = embed::train_glove(full_model, recs, o);
  ASSERT_EQ(full.history.size(), 5u);
  EXPECT_EQ(full.history[1].cost, r.history[1].cost);
}

// ---- JSON and progress lines ----

TEST(RunJson, MetricsAndEpochReportsAsExactText) {
  run::Metrics m{0.25, 0.875, run::kNaN, 64};
  EXPECT_EQ(run::metrics_json(m).dump(), R"({"accuracy":"0.875","loss":"0.25","mse":"nan","samples":64})");
  run::EpochReport r;
  r.epoch = 2;
  r.epochs = 3;
  r.train = {0.1, 0.5, run::kNaN, 10};
  r.epoch_seconds = 1.5;
  r.seconds = 3.0;
  r.skipped_steps = 1;
  r.steps = 20;
  EXPECT_EQ(run::epoch_json(r, run::kLinearEpochFields).dump(),
            R"({"epoch":2,"epochs":3,"seconds":"3","steps":20,"train":{"accuracy":"0.5","loss":"0.1","mse":"nan","samples":10}})");
  EXPECT_EQ(run::epoch_json(r, run::kDenseEpochFields).dump(),
            R"({"epoch":2,"epoch_seconds":"1.5","epochs":3,"seconds":"3","skipped_steps":1,)"
            R"("train":{"accuracy":"0.5","loss":"0.1","mse":"nan","samples":10},)"
            R"("validation":{"accuracy":"nan","loss":"nan","mse":"nan","samples":0}})");
  const auto h = run::history_json({r, r}, run::EpochFields{});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].dump(), R"({"epoch":2,"epochs":3,"train":{"accuracy":"0.5","loss":"0.1","mse":"nan","samples":10}})");
  // Exact text: a double that is not a short decimal reads back to the same bits.
  r.train.loss = 1.0 / 3.0;
  const std::string t = run::epoch_json(r, {}).at("train").at("loss").get<std::string>();
  EXPECT_EQ(t, "0.3333333333333333");
  EXPECT_EQ(std::stod(t), 1.0 / 3.0);
}

std::string printed(const std::function<void(run::ProgressPrinter&)>& f) {
  std::FILE* tmp = std::tmpfile();
  {
    run::ProgressPrinter p(tmp, run::ProgressPrinter::Mode::lines);
    f(p);
  }
  std::rewind(tmp);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, tmp) != nullptr) out += buf;
  std::fclose(tmp);
  return out;
}

TEST(RunProgress, OnePlainLinePerEpoch) {
  run::EpochReport r;
  r.epoch = 3;
  r.epochs = 10;
  r.train = {0.41212, 0.875, run::kNaN, 8};
  r.validation = {0.45019, 0.86666, run::kNaN, 4};
  r.epoch_seconds = 0.24;
  const std::string out = printed([&](run::ProgressPrinter& p) {
    p.on_train_begin(10, 4);
    p.on_batch_end({3, 10, 1, 4, 0.5, 0.1});  // lines mode: no bar
    EXPECT_FALSE(p.on_epoch_end(r));
    r.validation = {};
    r.train = {0.25, run::kNaN, 0.5, 8};  // regression: mse is not printed, NaN accuracy left out
    r.skipped_steps = 2;
    r.epoch_seconds = 75.0;
    p.on_epoch_end(r);
    p.on_train_end();
  });
  EXPECT_EQ(out,
            "epoch 3/10 loss 0.4121 acc 0.8750 val_loss 0.4502 val_acc 0.8667 (0.2s)\n"
            "epoch 3/10 loss 0.2500 (1m15s) skipped 2 non-finite steps\n");
}

}  // namespace
