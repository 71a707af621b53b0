// --checkpoint / --resume of a training run (io/run.hpp): RunCheckpoints writes on CheckpointWriter's
// schedule, resume_run continues bit for bit and refuses another run; the same for sparse runs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../data/test_util.hpp"
#include "adakit/adakit.hpp"
#include "adakit/io/run.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace {
using namespace adakit;

data::Dataset blobs() {
  data::Dataset d;
  d.name = "blobs";
  d.features = Tensor({24, 3});
  Rng rng(9);
  rng.fill_normal(d.features.span(), 0.0, 1.0);
  for (std::int64_t i = 0; i < 24; ++i) d.labels.push_back(d.features[i * 3] > 0 ? 1 : 0);
  d.class_names = {"a", "b"};
  return d;
}

std::vector<float> weights(nn::Sequential& m) {
  std::vector<float> w;
  for (auto* p : m.parameters()) w.insert(w.end(), p->value().span().begin(), p->value().span().end());
  return w;
}

TEST(IoRunCheckpoints, DenseCheckpointsResumeToTheUninterruptedRun) {
  test::TempDir dir("adakit_io_test_");
  const data::Dataset d = blobs();
  const train::FitOptions fo{.epochs = 4, .batch_size = 8, .seed = 2};
  const auto obj = train::Objective::binary_logistic;
  auto full = nn::mlp(3, {4}, 1, "tanh", "", 1);
  auto full_opt = optim::make_optimizer("adagrad", full.parameters(), {{"lr", "0.1"}});
  train::fit(full, *full_opt, d, nullptr, obj, fo);

  const std::string ck = (dir / "ck").string();
  auto half = nn::mlp(3, {4}, 1, "tanh", "", 1);
  auto half_opt = optim::make_optimizer("adagrad", half.parameters(), {{"lr", "0.1"}});
  const nlohmann::json run = io::run_identity({{"seed", 2}}, *half_opt, d);
  {
    io::RunCheckpoints none("", half, *half_opt, 0, {});
    EXPECT_EQ(none.callback(), nullptr);
    EXPECT_EQ(none.written(), 0);
    io::RunCheckpoints checkpoints(ck, half, *half_opt, 5, {{io::kRunKey, run.dump()}});
    ASSERT_NE(checkpoints.callback(), nullptr);
    std::vector<train::Callback*> callbacks{checkpoints.callback()};
    train::fit(half, *half_opt, d, nullptr, obj, {.epochs = 2, .batch_size = 8, .seed = 2}, callbacks);
    EXPECT_EQ(checkpoints.written(), 2);  // after batch 5 and at the end (6 batches)
  }
  auto resumed = nn::mlp(3, {4}, 1, "tanh", "", 1);
  for (auto* p : resumed.parameters()) p->value().fill(0.0f);  // the checkpoint's weights replace these
  auto resumed_opt = optim::make_optimizer("adagrad", resumed.parameters(), {{"lr", "0.1"}});
  const train::FitState st = io::resume_run(ck, run, resumed, *resumed_opt);
  EXPECT_EQ(st.epoch, 3);
  EXPECT_EQ(st.batch, 0);
  EXPECT_EQ(resumed_opt->steps(), 6);
  train::fit(resumed, *resumed_opt, d, nullptr, obj, fo, {}, &st);
  EXPECT_EQ(weights(resumed), weights(full));

  nlohmann::json other = run;
  other["seed"] = 3;
  EXPECT_THROW(io::resume_run(ck, other, resumed, *resumed_opt), UsageError);
  EXPECT_THROW(io::resume_run((dir / "missing").string(), run, resumed, *resumed_opt), UsageError);
}

TEST(IoRunCheckpoints, SparseCheckpointsCountSavesAndResume) {
  test::TempDir dir("adakit_io_test_");
  data::SparseDataset d;
  d.features.cols = 4;
  for (std::int32_t i = 0; i < 12; ++i) {
    d.features.add_row(std::vector<std::int32_t>{i % 4}, std::vector<float>{1.0f});
    d.labels.push_back(i % 4 < 2 ? 0 : 1);
  }
  const linear::FitOptions fo{.epochs = 3, .batch_size = 2, .seed = 1};
  auto full = linear::LinearModel::for_dataset(d);
  auto full_opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  linear::fit(full, *full_opt, d, fo);

  const std::string ck = (dir / "sparse").string();
  auto model = linear::LinearModel::for_dataset(d);
  auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  const nlohmann::json run = io::run_identity({{"seed", 1}}, *opt, d);
  std::int64_t written = 0;
  EXPECT_FALSE(io::linear_run_checkpoints("", 0, model, *opt, 1, 2, {}, written).save);
  const auto checkpoints = io::linear_run_checkpoints(ck, 4, model, *opt, 1, 2, {{io::kRunKey, run.dump()}}, written);
  EXPECT_EQ(checkpoints.every, 4);
  linear::fit(model, *opt, d, {.epochs = 2, .batch_size = 2, .seed = 1}, {}, checkpoints);
  EXPECT_EQ(written, 3);  // after batches 4, 8 and 12 of the run (12: also the end)

  auto resumed = linear::LinearModel::for_dataset(d);
  auto resumed_opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  const linear::FitState st = io::resume_run(ck, run, resumed, *resumed_opt);
  EXPECT_EQ(st.epoch, 2);
  EXPECT_EQ(resumed_opt->steps(), 12);
  linear::fit(resumed, *resumed_opt, d, fo, {}, {.every = 0, .save = {}, .resume = &st});
  EXPECT_EQ(std::vector<float>(resumed.weights().begin(), resumed.weights().end()),
            std::vector<float>(full.weights().begin(), full.weights().end()));
}

TEST(IoModelInfo, FromPreparedData) {
  data::PreparedData d;
  d.train = blobs();
  d.train.feature_names = {"x", "y", "z"};
  d.scaler.mean = {1.0f, 2.0f, 3.0f};
  d.scaler.scale = {0.5f, 0.5f, 0.5f};
  const io::ModelInfo info = io::model_info(d, "binary_logistic", "blobs.csv");
  EXPECT_EQ(info.objective, "binary_logistic");
  EXPECT_EQ(info.input_shape, (Shape{3}));
  EXPECT_EQ(info.class_names, d.train.class_names);
  EXPECT_EQ(info.feature_names, d.train.feature_names);
  EXPECT_EQ(info.scaler_mean, d.scaler.mean);
  EXPECT_EQ(info.scaler_scale, d.scaler.scale);
  EXPECT_EQ(info.dataset, "blobs.csv");
}

}  // namespace
