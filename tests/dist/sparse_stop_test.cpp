// dist::sparse_fit with the run layer's callbacks (run/callback.hpp): every rank hears the same epoch
// reports, and a callback returning "stop" ends the run after that epoch, with the position there.
#include <gtest/gtest.h>

#include <vector>

#include "../linear/synthetic.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/dist/sparse.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/run/callback.hpp"

namespace {
namespace dist = adakit::dist;
namespace run = adakit::run;

struct StopAt : run::Callback {
  std::int64_t at;
  std::vector<run::EpochReport> seen;
  explicit StopAt(std::int64_t epoch) : at(epoch) {}
  bool on_epoch_end(const run::EpochReport& r) override {
    seen.push_back(r);
    return r.epoch == at;
  }
};

TEST(DistSparseRun, CallbackStopEndsTheRunAfterThatEpoch) {
  dist::Comm comm = dist::Comm::world();
  adakit::linear_test::Spec s;
  s.dim = 300;
  s.informative = 20;
  s.nnz_informative = 3;
  s.nnz_noise = 4;
  const auto d = adakit::linear_test::make_dataset(s, 60, 7);  // batch 8: 8 steps an epoch
  const auto opt = adakit::linear::make_linear_optimizer("adagrad", {{"lr", "0.2"}});
  dist::SparseLinearTrainer trainer(comm, dist::SparseMode::sharded, adakit::linear::LinearTask::logistic, 300, 2, true, *opt);
  StopAt stop(2);
  std::vector<run::Callback*> cbs{&stop};
  const auto r = dist::sparse_fit(trainer, d, {.epochs = 4, .batch_size = 8, .seed = 1}, {}, cbs);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.steps, 16);
  EXPECT_EQ(r.position.epoch, 2);
  EXPECT_EQ(r.position.next, 60);
  ASSERT_EQ(r.history.size(), 2u);
  ASSERT_EQ(stop.seen.size(), 2u);
  EXPECT_EQ(stop.seen[1].epoch, 2);
  EXPECT_EQ(stop.seen[1].epochs, 4);
  EXPECT_EQ(stop.seen[1].steps, 16);
  EXPECT_EQ(stop.seen[1].train.samples, 60);  // over all ranks' rows
  // Without a callback asking to stop, the run goes on to its last epoch.
  dist::SparseLinearTrainer again(comm, dist::SparseMode::sharded, adakit::linear::LinearTask::logistic, 300, 2, true, *opt);
  const auto all = dist::sparse_fit(again, d, {.epochs = 4, .batch_size = 8, .seed = 1}, {},
                                    [](const run::EpochReport&) {});
  EXPECT_FALSE(all.stopped);
  EXPECT_EQ(all.steps, 32);
  EXPECT_EQ(all.history.size(), 4u);
  EXPECT_EQ(all.history[1].train.loss, r.history[1].train.loss);
}

}  // namespace
