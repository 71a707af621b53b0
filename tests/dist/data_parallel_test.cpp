// Data-parallel training (dist::DataParallel) under mpirun with 1, 2 or 3 ranks, against plain
// one-process training computed inside the same test on every rank (train::fit without MPI):
// K ranks with global batch B end with the parameters of 1 process with batch B (1e-5 relative, per
// tensor, after 50 steps), in both modes; replicas stay bit-equal; a sharded rank holds ~1/K of the
// optimizer state; a checkpoint written by 2 ranks resumes on 1 process without MPI and on all ranks
// (here 1, 2 or 3), ending where the uninterrupted 2-rank run ends.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/data/dataset.hpp"
#include "adakit/dist/comm.hpp"
#include "adakit/dist/data_parallel.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/nn/models.hpp"
#include "adakit/optim/registry.hpp"
#include "adakit/train/fit.hpp"

namespace {

using namespace adakit;
using dist::Comm;
using dist::DataParallel;
using dist::Mode;

// n samples, 6 features, 3 classes that depend nonlinearly on the features.
data::Dataset synthetic(std::int64_t n) {
  data::Dataset d;
  d.name = "synthetic";
  d.features = Tensor({n, 6});
  Rng rng(42);
  rng.fill_normal(d.features.span(), 0.0, 1.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const float* x = d.features.data() + i * 6;
    const double s = std::sin(2.0 * x[0]) + x[1] * x[2] - 0.5 * x[3];
    d.labels.push_back(s < -0.4 ? 0 : s < 0.4 ? 1 : 2);
  }
  d.class_names = {"a", "b", "c"};
  return d;
}

struct RunSpec {
  std::string optimizer = "adagrad";
  optim::OptionMap options = {{"lr", "0.05"}};
  optim::ClipOptions clip{};
  std::int64_t n = 120, batch = 12, epochs = 5;  // 10 batches an epoch: 50 steps
};

nn::Sequential make_model() { return nn::mlp(6, {16, 8}, 3, "tanh", "", 7); }

std::unique_ptr<optim::Optimizer> make_opt(const RunSpec& run, nn::Sequential& model) {
  auto opt = optim::make_optimizer(run.optimizer, model.parameters(), run.options);
  opt->set_clip(run.clip);
  return opt;
}

train::FitOptions fit_options(const RunSpec& run, train::Replicas* replicas) {
  train::FitOptions o;
  o.epochs = run.epochs;
  o.batch_size = run.batch;
  o.seed = 3;
  o.replicas = replicas;
  return o;
}

std::vector<Tensor> values(nn::Sequential& model) {
  std::vector<Tensor> out;
  for (auto* p : model.parameters()) out.push_back(p->value());
  return out;
}

// One process, no MPI.
std::vector<Tensor> reference(const RunSpec& run) {
  auto model = make_model();
  auto opt = make_opt(run, model);
  const auto d = synthetic(run.n);
  train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, nullptr));
  return values(model);
}

// Per tensor: max |a - b| <= tol * max |b|.
void expect_close(const std::vector<Tensor>& got, const std::vector<Tensor>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t t = 0; t < got.size(); ++t) {
    double diff = 0.0, scale = 0.0;
    for (std::int64_t i = 0; i < want[t].numel(); ++i) {
      diff = std::max(diff, std::fabs(static_cast<double>(got[t][i]) - want[t][i]));
      scale = std::max(scale, std::fabs(static_cast<double>(want[t][i])));
    }
    EXPECT_LE(diff, tol * scale) << what << ": tensor " << t << " differs by " << diff << " (scale " << scale << ")";
    EXPECT_GT(scale, 0.0);
  }
}

struct Result {
  std::vector<Tensor> params;
  bool equal = false;
  std::int64_t state_bytes = 0, whole_state_bytes = 0, steps = 0;
  dist::Traffic traffic;
};

Result distributed(Comm& comm, const RunSpec& run, dist::DataParallelOptions options) {
  auto model = make_model();
  auto opt = make_opt(run, model);
  const auto d = synthetic(run.n);
  Result r;
  r.whole_state_bytes = opt->state_bytes();
  DataParallel dp(comm, model, *opt, options);
  comm.reset_traffic();
  train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, &dp));
  r.traffic = comm.traffic();
  r.params = values(model);
  r.equal = dp.replicas_equal();
  r.state_bytes = dp.state_bytes();
  r.steps = dp.steps();
  return r;
}

TEST(DistDataParallel, ReplicatedEqualsOneProcess) {
  Comm comm = Comm::world();
  const RunSpec run;
  const auto want = reference(run);
  for (std::int64_t bucket : {std::int64_t{64}, std::int64_t{1} << 20}) {  // one bucket a layer; one in all
    const Result r = distributed(comm, run, {.mode = Mode::replicated, .bucket_bytes = bucket});
    expect_close(r.params, want, 1e-5, "replicated, bucket " + std::to_string(bucket));
    EXPECT_TRUE(r.equal);
    EXPECT_EQ(r.steps, 50);
    EXPECT_EQ(r.state_bytes, r.whole_state_bytes);
  }
}

TEST(DistDataParallel, ReplicatedWithoutOverlapUnevenShardsAndPartialBatch) {
  Comm comm = Comm::world();
  RunSpec run;
  run.optimizer = "adam";
  run.options = {{"lr", "0.01"}};
  run.n = 125;  // batches of 10: the last one has 5 rows (with 3 ranks: 2, 2, 1); 13 an epoch
  run.batch = 10;
  run.epochs = 4;
  const Result r = distributed(comm, run, {.mode = Mode::replicated, .overlap = false});
  expect_close(r.params, reference(run), 1e-5, "replicated, adam, uneven");
  EXPECT_TRUE(r.equal);
}

TEST(DistDataParallel, ShardedEqualsOneProcessWithClipping) {
  Comm comm = Comm::world();
  RunSpec run;
  run.clip = {.max_norm = 0.5, .max_value = 0.2};  // the global norm spans every rank's slice
  const auto want = reference(run);
  const Result r = distributed(comm, run, {.mode = Mode::sharded});
  expect_close(r.params, want, 1e-5, "sharded, adagrad, clipped");
  EXPECT_TRUE(r.equal);
  EXPECT_EQ(r.steps, 50);
  // AdaGrad keeps one float per parameter: this rank's slice of N parameters.
  const std::int64_t n = r.whole_state_bytes / 4, k = comm.size(), rank = comm.rank();
  EXPECT_EQ(r.state_bytes, 4 * (n * (rank + 1) / k - n * rank / k));
  // Per step: reduce-scatter of N floats, allgather of this rank's slice, one allreduce of 5 doubles.
  EXPECT_EQ(r.traffic.reduce_scatter_bytes, 50u * static_cast<std::uint64_t>(4 * n));
  EXPECT_EQ(r.traffic.allgather_bytes, 50u * static_cast<std::uint64_t>(r.state_bytes));
  EXPECT_EQ(r.traffic.allreduce_bytes, 50u * 40u);
}

TEST(DistDataParallel, ShardedAdamWithScheduleEqualsOneProcess) {
  Comm comm = Comm::world();
  RunSpec run;
  run.optimizer = "adam";
  run.options = {{"lr", "0.01"}, {"weight_decay", "0.01"}};
  const auto schedule = optim::Schedule::parse("cosine:total=50,final=0.1,warmup=5");
  const auto d = synthetic(run.n);
  auto one = make_model();
  auto one_opt = make_opt(run, one);
  one_opt->set_schedule(schedule);
  train::fit(one, *one_opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, nullptr));
  auto model = make_model();
  auto opt = make_opt(run, model);
  opt->set_schedule(schedule);
  DataParallel dp(comm, model, *opt, {.mode = Mode::sharded});
  train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, &dp));
  expect_close(values(model), values(one), 1e-5, "sharded, adam, cosine");
  EXPECT_TRUE(dp.replicas_equal());
}

TEST(DistDataParallel, ShardedRefusesATensorOptimizer) {
  Comm comm = Comm::world();
  auto model = make_model();
  auto opt = optim::make_optimizer("shampoo", model.parameters(), {});
  EXPECT_THROW(DataParallel(comm, model, *opt, {.mode = Mode::sharded}), UsageError);
  EXPECT_THROW(dist::mode_from_string("zero3"), UsageError);
}

// Stops fit() (on every rank alike) once `at` batches are done, after the checkpoint writer ran.
struct StopAt : train::Callback {
  std::int64_t at;
  explicit StopAt(std::int64_t a) : at(a) {}
  void on_state(const train::FitState& st, train::StatePoint point) override {
    if (point == train::StatePoint::batch_end && (st.epoch - 1) * st.batches_per_epoch + st.batch == at)
      throw std::runtime_error("stop");
  }
};

// Continues the run saved in `path`: on `comm` (data parallel in `mode`), or on one process without
// MPI when comm is null.
std::vector<Tensor> resume(const std::filesystem::path& path, const RunSpec& run, Comm* comm, Mode mode) {
  auto model = make_model();
  auto opt = make_opt(run, model);
  const auto c = io::read_checkpoint(path);
  const train::FitState st = io::restore_checkpoint(c, model, *opt, path.string());
  const auto d = synthetic(run.n);
  if (comm == nullptr) {
    train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, nullptr), {}, &st);
  } else {
    DataParallel dp(*comm, model, *opt, {.mode = mode});
    train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, &dp), {}, &st);
    EXPECT_TRUE(dp.replicas_equal());
  }
  return values(model);
}

TEST(DistDataParallel, CheckpointOfTwoRanksResumesOnOneAndOnAllRanks) {
  Comm world = Comm::world();
  RunSpec run;
  run.clip = {.max_norm = 1.0};
  // One scratch path for all ranks: rank 0's pid.
  std::vector<std::int64_t> pid{world.rank() == 0 ? static_cast<std::int64_t>(::getpid()) : 0};
  world.allreduce_max(pid);
  const auto dir = std::filesystem::temp_directory_path() / ("adakit_dist_test_" + std::to_string(pid[0]));
  const auto path = dir / "checkpoint.safetensors";
  if (world.rank() == 0) std::filesystem::create_directories(dir);
  world.barrier();

  // Ranks 0 and 1 (rank 0 alone under -np 1): 23 steps (mid-epoch) in sharded mode with a checkpoint,
  // then the uninterrupted 50 steps. Other ranks wait.
  MPI_Comm pair_native = MPI_COMM_NULL;
  MPI_Comm_split(world.native(), world.rank() < 2 ? 0 : 1, world.rank(), &pair_native);
  std::vector<Tensor> uninterrupted;
  if (world.rank() < 2) {
    Comm pair(pair_native);
    {
      auto model = make_model();
      auto opt = make_opt(run, model);
      const auto d = synthetic(run.n);
      DataParallel dp(pair, model, *opt, {.mode = Mode::sharded});
      dist::CheckpointWriter writer(path, dp, model, *opt, 23);
      StopAt stop(23);
      std::vector<train::Callback*> callbacks{&writer, &stop};
      EXPECT_THROW(train::fit(model, *opt, d, nullptr, train::Objective::softmax_ce, fit_options(run, &dp), callbacks),
                   std::runtime_error);
      EXPECT_EQ(writer.saves(), 1);
    }
    uninterrupted = distributed(pair, run, {.mode = Mode::sharded}).params;
  }
  MPI_Comm_free(&pair_native);
  // Everyone gets the uninterrupted result from rank 0.
  auto model = make_model();
  std::int64_t numel = 0;
  for (auto* p : model.parameters()) numel += p->numel();
  std::vector<float> flat;
  for (const auto& t : uninterrupted) flat.insert(flat.end(), t.span().begin(), t.span().end());
  flat.resize(static_cast<std::size_t>(numel));
  world.broadcast(std::span<float>(flat), 0);
  std::vector<Tensor> want;
  std::size_t at = 0;
  for (auto* p : model.parameters()) {
    want.emplace_back(p->shape(), std::span<const float>(flat).subspan(at, static_cast<std::size_t>(p->numel())));
    at += static_cast<std::size_t>(p->numel());
  }
  world.barrier();  // the checkpoint is on disk

  // The saved optimizer state is whole: as one process's (AdaGrad: "sum" of every parameter's shape).
  const auto c = io::read_checkpoint(path);
  EXPECT_EQ(c.optimizer.counters.at("optimizer.steps"), 23);
  for (auto* p : model.parameters()) EXPECT_EQ(c.optimizer.tensors.at(p->name() + ".sum").shape(), p->shape());

  expect_close(resume(path, run, nullptr, Mode::replicated), want, 1e-5, "resumed on one process without MPI");
  expect_close(resume(path, run, &world, Mode::sharded), want, 1e-5, "resumed sharded on all ranks");
  expect_close(resume(path, run, &world, Mode::replicated), want, 1e-5, "resumed replicated on all ranks");
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove_all(dir);
}

}  // namespace
