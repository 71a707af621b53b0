// adakit::dist sparse linear training under mpirun (any number of ranks, 1 included): K ranks with
// global batch B against ONE process with batch B (linear::fit + LazyAdagrad, computed in this binary
// on every rank, no MPI), in both modes; the bytes each step sends against the analytic minimum,
// counted independently from feature_owner; resuming a state gathered from K ranks on another count.
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
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/adagrad.hpp"
#include "adakit/linear/fit.hpp"

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

adakit::optim::AdagradOptions adagrad() {
  adakit::optim::AdagradOptions o;
  o.lr = 0.2;
  o.initial_accumulator_value = 0.05;  // rows never touched must hold s0 after a gather
  return o;
}

struct Reference {
  linear::LinearModel model;
  linear::LazyAdagrad optimizer;
  linear::FitResult fit;
};

// One process, batch kBatch: the run every distributed run must reproduce.
Reference reference(const adakit::data::SparseDataset& d, std::int64_t epochs) {
  Reference r{linear::LinearModel::for_dataset(d, kDim), linear::LazyAdagrad(adagrad()), {}};
  r.fit = linear::fit(r.model, r.optimizer, d, {.epochs = epochs, .batch_size = kBatch, .seed = kSeed});
  return r;
}

// |a − b| <= 1e-5 · max(|b|, 1e-2 · the largest |b|): relative, with a floor for values near zero
// (those carry only the absolute rounding of the larger terms they were summed from).
void expect_close(std::span<const float> got, std::span<const float> want, const char* what) {
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
  ::testing::Test::RecordProperty(std::string("worst_relative_") + what, text);
}

// Gathered on `root` (failures on world rank 0 are printed; the others' only fail the exit code).
void expect_equal_to_reference(SparseLinearTrainer& trainer, const Reference& ref, int root) {
  const auto state = trainer.gather(root);
  if (trainer.comm().rank() != root) {
    EXPECT_FALSE(state.has_value());
    return;
  }
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->steps, ref.optimizer.steps());
  const auto weights = [](const linear::LinearModel& m) {
    return std::vector<float>(m.weights().begin(), m.weights().end());
  };
  expect_close(weights(state->model), weights(ref.model), "weight");
  expect_close(state->model.bias(), ref.model.bias(), "bias");
  expect_close(state->sum, ref.optimizer.sum(ref.model), "sum");
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
  SparseLinearTrainer trainer(comm, GetParam().mode, task, kDim, GetParam().classes, true, adagrad());
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
  SparseLinearTrainer trainer(comm, GetParam().mode, task, kDim, GetParam().classes, true, adagrad());
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

// Part 1 on `from` ranks (30 steps, into the second epoch), gathered and saved as a checkpoint by its
// rank 0; part 2 on `to` ranks from that file: equal to the uninterrupted 1-process run.
void resume(SparseMode mode, int from, int to) {
  Comm world = Comm::world();
  const auto d = dataset(2);
  const Reference ref = reference(d, 2);
  // One file name for the whole job: rank 0's pid.
  std::int64_t pid = ::getpid();
  world.broadcast(std::span<std::byte>(reinterpret_cast<std::byte*>(&pid), sizeof pid), 0);
  const auto path = std::filesystem::temp_directory_path() /
                    ("adakit_dist_sparse_" + std::to_string(pid) + "_" + std::string(dist::to_string(mode)) + ".safetensors");
  const dist::SparseFitOptions options{.epochs = 2, .batch_size = kBatch, .seed = kSeed};
  if (MPI_Comm sub = first_ranks(world, from); sub != MPI_COMM_NULL) {
    Comm comm(sub);
    SparseLinearTrainer trainer(comm, mode, linear::LinearTask::logistic, kDim, 2, true, adagrad());
    auto first = options;
    first.max_steps = 30;
    const auto part = dist::sparse_fit(trainer, d, first);
    EXPECT_EQ(part.position.epoch, 2);
    EXPECT_EQ(part.position.next, 5 * kBatch);
    auto state = trainer.gather(0);
    if (comm.rank() == 0) dist::save_sparse_checkpoint(path, {std::move(*state), adagrad(), part.position, kSeed, kBatch});
    MPI_Comm_free(&sub);
  }
  world.barrier();
  if (MPI_Comm sub = first_ranks(world, to); sub != MPI_COMM_NULL) {
    Comm comm(sub);
    std::optional<dist::SparseCheckpoint> saved;
    if (comm.rank() == 0) saved = dist::read_sparse_checkpoint(path);
    SparseLinearTrainer trainer(comm, mode, linear::LinearTask::logistic, kDim, 2, true, adagrad());
    trainer.scatter(saved ? &saved->state : nullptr, 0);
    dist::SparsePosition at = saved ? saved->position : dist::SparsePosition{};
    comm.broadcast(std::span<std::byte>(reinterpret_cast<std::byte*>(&at), sizeof at), 0);
    EXPECT_EQ(trainer.steps(), 30);
    const auto rest = dist::sparse_fit(trainer, d, options, at);
    EXPECT_EQ(rest.steps, 20);
    // The resumed epoch reports all its rows: those before the checkpoint come from its partial sums.
    ASSERT_EQ(rest.history.size(), 1u);
    EXPECT_EQ(rest.history[0].train.samples, kRows);
    EXPECT_NEAR(rest.history[0].train.loss, ref.fit.history[1].train.loss, 1e-5 * ref.fit.history[1].train.loss);
    expect_equal_to_reference(trainer, ref, comm.size() - 1);  // any rank can be the root
    MPI_Comm_free(&sub);
  }
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
}

TEST(DistSparseResume, FromFewerRanksToAll) {
  const int k = Comm::world().size();
  resume(SparseMode::sharded, std::max(1, k - 1), k);
  resume(SparseMode::replicated, std::max(1, k - 1), k);
}

TEST(DistSparseResume, FromAllRanksToFewer) {
  const int k = Comm::world().size();
  resume(SparseMode::sharded, k, std::max(1, k - 1));
  resume(SparseMode::sharded, k, 1);
}

// Nothing in a step is O(dim): the same run with dim 600 and dim 2^31 (a table no rank could hold)
// holds the same rows and gives the same bias and loss.
TEST(DistSparse, ShardedStepDoesNotDependOnTheTableSize) {
  Comm comm = Comm::world();
  const auto d = dataset(2);
  const dist::SparseFitOptions options{.epochs = 1, .batch_size = kBatch, .seed = kSeed};
  SparseLinearTrainer small(comm, SparseMode::sharded, linear::LinearTask::logistic, kDim, 2, true, adagrad());
  SparseLinearTrainer huge(comm, SparseMode::sharded, linear::LinearTask::logistic, std::int64_t{1} << 31, 2, true, adagrad());
  const auto a = dist::sparse_fit(small, d, options);
  const auto b = dist::sparse_fit(huge, d, options);
  EXPECT_EQ(small.rows_held(), huge.rows_held());
  EXPECT_LE(huge.rows_held(), kDim);
  EXPECT_EQ(a.history.at(0).train.loss, b.history.at(0).train.loss);
}

TEST(DistSparseCheckpoint, RoundTripsAndRefusesOtherFiles) {
  const auto d = dataset(3);
  const Reference ref = reference(d, 1);
  dist::SparseCheckpoint c{{ref.model, ref.optimizer.sum(ref.model),
                            std::vector<float>(3, 0.25f), ref.optimizer.steps()},
                           adagrad(), {1, 64, {}}, 9, kBatch};
  const auto path = std::filesystem::temp_directory_path() /
                    ("adakit_dist_sparse_ckpt_" + std::to_string(::getpid()) + ".safetensors");
  dist::save_sparse_checkpoint(path, c);
  const auto back = dist::read_sparse_checkpoint(path);
  EXPECT_EQ(back.state.model.task(), linear::LinearTask::softmax);
  EXPECT_TRUE(std::ranges::equal(back.state.model.weights(), ref.model.weights()));
  EXPECT_TRUE(std::ranges::equal(back.state.sum, c.state.sum));
  EXPECT_EQ(back.state.bias_sum, c.state.bias_sum);
  EXPECT_EQ(back.state.steps, c.state.steps);
  EXPECT_EQ(back.position.next, 64);
  EXPECT_EQ(back.seed, 9u);
  EXPECT_EQ(back.options.lr, 0.2);
  EXPECT_EQ(back.options.initial_accumulator_value, 0.05);
  // A model file is not a checkpoint: the error names the file and the entry.
  adakit::io::TensorFile other;
  other.tensors = ref.model.tensors();
  adakit::io::write_safetensors(path, other);
  try {
    (void)dist::read_sparse_checkpoint(path);
    ADD_FAILURE() << "read a model file as a checkpoint";
  } catch (const adakit::Error& e) {
    EXPECT_NE(e.message().find(path.string()), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("format"), std::string::npos) << e.message();
  }
  std::filesystem::remove(path);
}

}  // namespace
