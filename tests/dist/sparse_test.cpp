// adakit::dist sparse linear training under mpirun (any number of ranks, 1 included): K ranks with
// global batch B against ONE process with batch B (linear::fit, computed in this binary on every rank,
// no MPI), in both modes and for every linear optimizer; the bytes each step sends against the
// analytic minimum, counted independently from feature_owner; resuming a state gathered from K ranks
// on another count, through a checkpoint file (io's linear checkpoint format).
//
// Tolerance against one process: 1e-5 relative (with a floor of 1e-2 of the largest value, for values
// near zero). K ranks sum each feature's gradient in K pieces (each rank's share of the batch, then the
// shares in rank order), one process in one pass: the same terms, added in another order, so each
// step's gradient differs by float rounding (~1e-7 relative), which 50 steps of the optimizer carry
// along. The measured worst is recorded as a test property (worst_relative_*).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "../linear/synthetic.hpp"
#include "adakit/core/error.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/dist/sparse.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"

namespace {

using adakit::dist::Comm;
using adakit::dist::SparseLinearTrainer;
using adakit::dist::SparseMode;
namespace linear = adakit::linear;
namespace dist = adakit::dist;

constexpr std::int64_t kDim = 600, kRows = 200, kBatch = 8;  // 25 steps an epoch, 2 epochs = 50 steps
constexpr std::uint64_t kSeed = 3;

adakit::data::SparseDataset dataset(std::int64_t classes) {
  adakit::linear_test::Spec s;
  s.dim = kDim;
  s.informative = 40;
  s.nnz_informative = 4;
  s.nnz_noise = 6;
  s.classes = classes;
  return adakit::linear_test::make_dataset(s, kRows, 11);
}

// Options for each linear optimizer: L1 strong enough that some weights are exactly zero.
adakit::optim::OptionMap options_for(std::string_view name) {
  if (name == "adagrad") return {{"lr", "0.2"}, {"initial_accumulator_value", "0.05"}};
  if (name == "ftrl") return {{"alpha", "0.5"}, {"l1", "0.01"}, {"l2", "0.1"}};
  if (name == "sgd") return {{"lr", "0.5"}, {"l1", "0.0005"}, {"l2", "0.01"}};
  if (name == "adagrad-l1") return {{"lr", "0.2"}, {"l1", "0.001"}, {"l2", "0.01"}, {"initial_accumulator_value", "0.05"}};
  return {{"lr", "0.2"}, {"l1", "0.001"}, {"l2", "0.01"}};  // adagrad-rda
}

std::unique_ptr<linear::LinearOptimizer> make(std::string_view name) {
  return linear::make_linear_optimizer(name, options_for(name));
}

struct Reference {
  linear::LinearModel model;
  std::unique_ptr<linear::LinearOptimizer> optimizer;
  linear::FitResult fit;
};

// One process, batch kBatch: the run every distributed run must reproduce (synced, as fit leaves it).
Reference reference(const adakit::data::SparseDataset& d, std::int64_t epochs, std::string_view name = "adagrad") {
  Reference r{linear::LinearModel::for_dataset(d, kDim), make(name), {}};
  r.fit = linear::fit(r.model, *r.optimizer, d, {.epochs = epochs, .batch_size = kBatch, .seed = kSeed});
  return r;
}

// |a − b| <= 1e-5 · max(|b|, 1e-2 · the largest |b|): relative, with a floor for values near zero
// (those carry only the absolute rounding of the larger terms they were summed from).
void expect_close(std::span<const float> got, std::span<const float> want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  float largest = 0.0f;
  for (const float v : want) largest = std::max(largest, std::abs(v));
  double worst = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double scale = std::max(std::abs(static_cast<double>(want[i])), 1e-2 * largest);
    const double rel = scale > 0 ? std::abs(static_cast<double>(got[i]) - want[i]) / scale : std::abs(got[i]);
    worst = std::max(worst, rel);
    ASSERT_LE(rel, 1e-5) << what << "[" << i << "]: " << got[i] << " vs " << want[i];
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", worst);
  ::testing::Test::RecordProperty("worst_relative_" + what, text);
}

std::vector<float> weights(const linear::LinearModel& m) { return {m.weights().begin(), m.weights().end()}; }

// The model and optimizer state of `got` against `want`: weights, bias and every state tensor within
// the tolerance above (a step count — "weight.last_step" — exactly), the step counts equal.
void expect_same_state(const linear::LinearModel& got_model, const linear::LinearOptimizer& got,
                       const linear::LinearModel& want_model, const linear::LinearOptimizer& want) {
  const std::string name(want.name());
  expect_close(weights(got_model), weights(want_model), name + "_weight");
  expect_close(got_model.bias(), want_model.bias(), name + "_bias");
  const auto a = got.state(got_model), b = want.state(want_model);
  EXPECT_EQ(a.steps, b.steps);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [key, t] : b.tensors) {
    ASSERT_TRUE(a.tensors.contains(key)) << key;
    if (key.ends_with("last_step")) EXPECT_TRUE(std::ranges::equal(a.tensors.at(key).span(), t.span())) << key;
    else expect_close(a.tensors.at(key).span(), t.span(), name + "_" + key);
  }
}

// Gathered on `root` (failures on world rank 0 are printed; the others' only fail the exit code).
void expect_equal_to_reference(SparseLinearTrainer& trainer, const Reference& ref, int root) {
  const bool on_root = trainer.comm().rank() == root;
  linear::LinearModel model(ref.model.task(), kDim, ref.model.task() == linear::LinearTask::squared ? 2 : ref.model.classes());
  auto optimizer = make(ref.optimizer->name());
  optimizer->bind(model);
  trainer.gather(on_root ? &model : nullptr, on_root ? optimizer.get() : nullptr, root);
  if (!on_root) return;
  optimizer->sync(model);  // the reference is synced (fit() returns so)
  expect_same_state(model, *optimizer, ref.model, *ref.optimizer);
}

struct Case {
  SparseMode mode;
  std::int64_t classes;  // 2: logistic, 3: softmax
};

void PrintTo(const Case& c, std::ostream* os) { *os << dist::to_string(c.mode) << " with " << c.classes << " classes"; }

class DistSparse : public ::testing::TestWithParam<Case> {};

TEST_P(DistSparse, EqualsOneProcessWithTheSameGlobalBatch) {
  Comm comm = Comm::world();
  const auto d = dataset(GetParam().classes);
  const Reference ref = reference(d, 2);
  ASSERT_EQ(ref.fit.steps, 50);
  const auto task = GetParam().classes == 2 ? linear::LinearTask::logistic : linear::LinearTask::softmax;
  SparseLinearTrainer trainer(comm, GetParam().mode, task, kDim, GetParam().classes, true, *make("adagrad"));
  const auto result = dist::sparse_fit(trainer, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed});
  EXPECT_EQ(result.steps, 50);
  EXPECT_EQ(result.position.epoch, 2);
  EXPECT_EQ(result.position.next, kRows);
  // Progressive metrics over all ranks' rows, as one process measured them.
  ASSERT_EQ(result.history.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(result.history[e].train.samples, kRows);
    EXPECT_NEAR(result.history[e].train.loss, ref.fit.history[e].train.loss, 1e-5 * ref.fit.history[e].train.loss);
    EXPECT_DOUBLE_EQ(result.history[e].train.accuracy, ref.fit.history[e].train.accuracy);
  }
  expect_equal_to_reference(trainer, ref, 0);
}

// Every step: the bytes Comm counted for the row exchange equal the analytic minimum, and the rows
// this rank sent away are exactly its touched features that feature_owner gives to another rank.
TEST_P(DistSparse, SendsTheAnalyticMinimumPerStep) {
  Comm comm = Comm::world();
  const int k = comm.size();
  const auto d = dataset(GetParam().classes);
  const auto task = GetParam().classes == 2 ? linear::LinearTask::logistic : linear::LinearTask::softmax;
  SparseLinearTrainer trainer(comm, GetParam().mode, task, kDim, GetParam().classes, true, *make("adagrad"));
  const std::int64_t row_bytes = 4 * trainer.outputs();
  std::vector<std::int64_t> order(kRows);
  for (std::int64_t i = 0; i < kRows; ++i) order[static_cast<std::size_t>(i)] = (i * 37) % kRows;
  for (std::int64_t b = 0; b < kRows; b += kBatch) {
    const std::span<const std::int64_t> batch(order.data() + b, kBatch);
    const auto mine = dist::rank_share(batch, comm.rank(), k);
    std::vector<std::int64_t> features;
    for (const auto r : mine)
      for (const auto j : d.features.row_indices(r)) features.push_back(j);
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    std::int64_t remote = 0;
    for (const auto j : features) remote += dist::feature_owner(j, k) != comm.rank() ? 1 : 0;

    const auto before = comm.traffic().alltoall_bytes;
    trainer.step(d, mine, kBatch);
    const auto sent = static_cast<std::int64_t>(comm.traffic().alltoall_bytes - before);
    const auto& c = trainer.last_step();
    ASSERT_EQ(c.rows_touched, static_cast<std::int64_t>(features.size()));
    ASSERT_EQ(static_cast<std::uint64_t>(sent), c.minimum_bytes);
    std::vector<std::int64_t> totals{c.rows_remote, c.rows_served};
    comm.allreduce_sum(totals);
    if (GetParam().mode == SparseMode::sharded) {
      ASSERT_EQ(c.rows_remote, remote);
      ASSERT_EQ(totals[0], totals[1]);  // every row requested is served once
      ASSERT_EQ(sent, remote * (4 + row_bytes) + c.rows_served * row_bytes);
    } else {
      ASSERT_EQ(sent, (k - 1) * static_cast<std::int64_t>(features.size()) * (4 + row_bytes));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DistSparse,
                         ::testing::Values(Case{SparseMode::sharded, 2}, Case{SparseMode::replicated, 2},
                                           Case{SparseMode::sharded, 3}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(dist::to_string(p.param.mode)) + (p.param.classes == 2 ? "Logistic" : "Softmax");
                         });

// A communicator of the first `ranks` ranks of `world` (MPI_COMM_NULL on the others).
MPI_Comm first_ranks(const Comm& world, int ranks) {
  MPI_Comm sub = MPI_COMM_NULL;
  MPI_Comm_split(world.native(), world.rank() < ranks ? 0 : MPI_UNDEFINED, world.rank(), &sub);
  return sub;
}

// Part 1 on `from` ranks (30 steps, into the second epoch), gathered by its rank 0 and saved as a
// linear checkpoint file (io::save_linear_checkpoint, what adakit train --checkpoint writes); part 2 on
// `to` ranks from that file through fit_linear's resume: equal to the uninterrupted 1-process run.
void resume(std::string_view name, SparseMode mode, int from, int to) {
  Comm world = Comm::world();
  const auto d = dataset(2);
  const Reference ref = reference(d, 2, name);
  // One file name for the whole job: rank 0's pid.
  std::int64_t pid = ::getpid();
  world.broadcast(std::span<std::byte>(reinterpret_cast<std::byte*>(&pid), sizeof pid), 0);
  const auto path = std::filesystem::temp_directory_path() /
                    ("adakit_dist_sparse_" + std::to_string(pid) + "_" + std::string(name) + "_" +
                     std::string(dist::to_string(mode)) + ".safetensors");
  if (MPI_Comm sub = first_ranks(world, from); sub != MPI_COMM_NULL) {
    Comm comm(sub);
    SparseLinearTrainer trainer(comm, mode, linear::LinearTask::logistic, kDim, 2, true, *make(name));
    const auto part = dist::sparse_fit(trainer, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed, .max_steps = 30});
    EXPECT_EQ(part.position.epoch, 2);
    EXPECT_EQ(part.position.next, 5 * kBatch);
    linear::LinearModel model(linear::LinearTask::logistic, kDim);
    auto optimizer = make(name);
    optimizer->bind(model);
    const bool root = comm.rank() == 0;
    trainer.gather(root ? &model : nullptr, root ? optimizer.get() : nullptr, 0);
    if (root) {
      EXPECT_EQ(optimizer->steps(), 30);
      adakit::io::save_linear_checkpoint(path, model, optimizer->name(), optimizer->option_map(), optimizer->state(model),
                                         {part.position.epoch, part.position.next, part.position.partial, {}, 0.0}, kSeed,
                                         kBatch);
    }
    MPI_Comm_free(&sub);
  }
  world.barrier();
  if (MPI_Comm sub = first_ranks(world, to); sub != MPI_COMM_NULL) {
    Comm comm(sub);
    // Every rank reads the file, as adakit train --resume does.
    auto saved = adakit::io::read_linear_checkpoint(path);
    EXPECT_EQ(saved.optimizer, name);
    auto optimizer = linear::make_linear_optimizer(saved.optimizer, saved.options);
    linear::LinearModel model = saved.model;
    optimizer->load_state(model, saved.state);
    linear::FitCheckpoints checkpoints;
    checkpoints.resume = &saved.fit;
    const auto rest = dist::fit_linear(comm, model, *optimizer, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed}, {},
                                       checkpoints, mode);
    EXPECT_EQ(rest.has_value(), comm.rank() == 0);
    if (rest) {
      EXPECT_EQ(rest->steps, 50);
      // The resumed epoch reports all its rows: those before the checkpoint come from its partial sums.
      ASSERT_EQ(rest->history.size(), 1u);
      EXPECT_EQ(rest->history[0].epoch, 2);
      EXPECT_EQ(rest->history[0].train.samples, kRows);
      EXPECT_NEAR(rest->history[0].train.loss, ref.fit.history[1].train.loss, 1e-5 * ref.fit.history[1].train.loss);
      expect_same_state(model, *optimizer, ref.model, *ref.optimizer);
    }
    MPI_Comm_free(&sub);
  }
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
}

TEST(DistSparseResume, FromFewerRanksToAll) {
  const int k = Comm::world().size();
  resume("adagrad", SparseMode::sharded, std::max(1, k - 1), k);
  resume("adagrad", SparseMode::replicated, std::max(1, k - 1), k);
}

TEST(DistSparseResume, FromAllRanksToFewer) {
  const int k = Comm::world().size();
  resume("adagrad", SparseMode::sharded, k, std::max(1, k - 1));
  resume("adagrad", SparseMode::sharded, k, 1);
}

// The optimizers whose weights are a function of a state that untouched rows keep moving (FTRL's z and
// n, RDA's u and s and the step count t; adagrad-l1's and sgd's catch-up from the last step).
TEST(DistSparseResume, LazyOptimizersOnAnotherRankCount) {
  const int k = Comm::world().size();
  for (const std::string_view name : {"ftrl", "adagrad-rda", "adagrad-l1", "sgd"}) {
    SCOPED_TRACE(std::string(name));
    resume(name, SparseMode::sharded, k, std::max(1, k - 1));
    resume(name, SparseMode::sharded, std::max(1, k - 1), k);
    resume(name, SparseMode::replicated, 1, k);
  }
}

// Every linear optimizer under fit_linear, both modes, logistic and softmax: the model, the optimizer's
// state, the step count and the epoch losses of one process's linear::fit with the same global batch,
// and the same count of exact zeros (L1).
struct OptimizerCase {
  std::string_view name;
  SparseMode mode;
  std::int64_t classes;
};

void PrintTo(const OptimizerCase& c, std::ostream* os) {
  *os << c.name << " " << dist::to_string(c.mode) << " with " << c.classes << " classes";
}

class DistSparseOptimizers : public ::testing::TestWithParam<OptimizerCase> {};

TEST_P(DistSparseOptimizers, FitLinearEqualsLinearFit) {
  Comm comm = Comm::world();
  const auto [name, mode, classes] = GetParam();
  const auto d = dataset(classes);
  const Reference ref = reference(d, 2, name);
  ASSERT_EQ(ref.fit.steps, 50);
  auto model = linear::LinearModel::for_dataset(d, kDim);
  auto optimizer = make(name);
  std::vector<double> losses;
  const auto run = dist::fit_linear(comm, model, *optimizer, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed},
                                    [&](const linear::EpochReport& e) {
                                      losses.push_back(e.train.loss);
                                      return false;
                                    },
                                    {}, mode);
  ASSERT_EQ(run.has_value(), comm.rank() == 0);
  if (!run) {
    EXPECT_TRUE(losses.empty());  // on_epoch runs on rank 0 only
    return;
  }
  EXPECT_EQ(run->steps, 50);
  ASSERT_EQ(run->history.size(), 2u);
  ASSERT_EQ(losses.size(), 2u);
  for (std::size_t e = 0; e < 2; ++e) {
    EXPECT_EQ(run->history[e].train.samples, kRows);
    EXPECT_NEAR(losses[e], ref.fit.history[e].train.loss, 1e-5 * ref.fit.history[e].train.loss);
    EXPECT_DOUBLE_EQ(run->history[e].train.accuracy, ref.fit.history[e].train.accuracy);
  }
  expect_same_state(model, *optimizer, ref.model, *ref.optimizer);
  EXPECT_EQ(model.count_nonzero_weights(), ref.model.count_nonzero_weights());
  if (name != "adagrad") {  // L1 zeroes weights that plain AdaGrad leaves nonzero: the test sees exact zeros
    EXPECT_LT(ref.model.count_nonzero_weights(), reference(d, 2, "adagrad").model.count_nonzero_weights());
    EXPECT_GT(ref.model.count_nonzero_weights(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryLinearOptimizer, DistSparseOptimizers,
    ::testing::Values(OptimizerCase{"adagrad", SparseMode::sharded, 2}, OptimizerCase{"adagrad-l1", SparseMode::sharded, 2},
                      OptimizerCase{"ftrl", SparseMode::sharded, 2}, OptimizerCase{"adagrad-rda", SparseMode::sharded, 2},
                      OptimizerCase{"sgd", SparseMode::sharded, 2}, OptimizerCase{"adagrad-l1", SparseMode::replicated, 2},
                      OptimizerCase{"ftrl", SparseMode::replicated, 2}, OptimizerCase{"adagrad-rda", SparseMode::replicated, 2},
                      OptimizerCase{"sgd", SparseMode::replicated, 2}, OptimizerCase{"ftrl", SparseMode::sharded, 3},
                      OptimizerCase{"adagrad-rda", SparseMode::sharded, 3}, OptimizerCase{"adagrad-l1", SparseMode::sharded, 3}),
    [](const ::testing::TestParamInfo<OptimizerCase>& p) {
      std::string n(p.param.name);
      std::replace(n.begin(), n.end(), '-', '_');
      return n + "_" + std::string(dist::to_string(p.param.mode)) + (p.param.classes == 2 ? "_logistic" : "_softmax");
    });

// Every linear optimizer in the registry has a case above.
TEST(DistSparseOptimizers, CoverTheRegistry) {
  std::vector<std::string> covered{"adagrad", "adagrad-l1", "adagrad-rda", "ftrl", "sgd"};
  std::vector<std::string> names;
  for (const auto& info : linear::linear_optimizers()) names.emplace_back(info.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, covered);
}

// Checkpoints taken along the way (each a gather) change nothing: the same model bit for bit, and each
// saved state continues to the same end.
TEST(DistSparseFitLinear, CheckpointsChangeNothing) {
  Comm comm = Comm::world();
  const auto d = dataset(2);
  for (const std::string_view name : {"ftrl", "adagrad-rda"}) {
    SCOPED_TRACE(std::string(name));
    auto plain = linear::LinearModel::for_dataset(d, kDim);
    auto plain_opt = make(name);
    (void)dist::fit_linear(comm, plain, *plain_opt, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed});
    auto model = linear::LinearModel::for_dataset(d, kDim);
    auto optimizer = make(name);
    std::vector<std::int64_t> saved_at;
    linear::FitCheckpoints checkpoints;
    checkpoints.every = 7;
    checkpoints.save = [&](const linear::FitState&) { saved_at.push_back(optimizer->steps()); };
    const auto run = dist::fit_linear(comm, model, *optimizer, d, {.epochs = 2, .batch_size = kBatch, .seed = kSeed}, {},
                                      checkpoints);
    if (comm.rank() != 0) {
      EXPECT_TRUE(saved_at.empty());  // save runs on rank 0
      continue;
    }
    EXPECT_EQ(saved_at, (std::vector<std::int64_t>{7, 14, 21, 28, 35, 42, 49, 50}));
    EXPECT_TRUE(std::ranges::equal(model.weights(), plain.weights()));
    EXPECT_TRUE(std::ranges::equal(model.bias(), plain.bias()));
  }
}

// A model or optimizer that is not the trainer's is refused on every rank, not only on the root.
TEST(DistSparseFitLinear, RefusesAnotherOptimizerOnEveryRank) {
  Comm comm = Comm::world();
  SparseLinearTrainer trainer(comm, SparseMode::sharded, linear::LinearTask::logistic, kDim, 2, true, *make("ftrl"));
  linear::LinearModel model(linear::LinearTask::logistic, kDim);
  auto other = make("adagrad-rda");
  other->bind(model);
  try {
    trainer.scatter(&model, other.get(), 0);
    ADD_FAILURE() << "scattered another optimizer's state";
  } catch (const adakit::UsageError& e) {
    EXPECT_NE(e.message().find("cannot re-shard"), std::string::npos) << e.message();
  }
  linear::LinearModel wider(linear::LinearTask::logistic, kDim + 1);
  auto ftrl = make("ftrl");
  ftrl->bind(wider);
  EXPECT_THROW(trainer.gather(&wider, ftrl.get(), 0), adakit::UsageError);
}

// Nothing in a step is O(dim): the same run with dim 600 and dim 2^31 (a table no rank could hold)
// holds the same rows and gives the same bias and loss.
TEST(DistSparse, ShardedStepDoesNotDependOnTheTableSize) {
  Comm comm = Comm::world();
  const auto d = dataset(2);
  const dist::SparseFitOptions options{.epochs = 1, .batch_size = kBatch, .seed = kSeed};
  SparseLinearTrainer small(comm, SparseMode::sharded, linear::LinearTask::logistic, kDim, 2, true, *make("ftrl"));
  SparseLinearTrainer huge(comm, SparseMode::sharded, linear::LinearTask::logistic, std::int64_t{1} << 31, 2, true, *make("ftrl"));
  const auto a = dist::sparse_fit(small, d, options);
  const auto b = dist::sparse_fit(huge, d, options);
  EXPECT_EQ(small.rows_held(), huge.rows_held());
  EXPECT_LE(huge.rows_held(), kDim);
  EXPECT_EQ(a.history.at(0).train.loss, b.history.at(0).train.loss);
}

}  // namespace
