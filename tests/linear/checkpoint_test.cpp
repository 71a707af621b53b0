// Checkpoints of sparse linear runs: LinearOptimizer::state / load_state, linear::fit's FitCheckpoints
// (save, resume), and the file (io::save_linear_checkpoint / read_linear_checkpoint). Resuming must end
// bit for bit where the uninterrupted run ends, for every linear optimizer, including the lazy ones
// whose weights lag behind their state.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "adakit/core/error.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "synthetic.hpp"

namespace {
using namespace adakit;
using namespace adakit::linear;

// Options that make every optimizer's state nontrivial (L1 and L2 for the lazy catch-up).
optim::OptionMap options_for(std::string_view name) {
  if (name == "adagrad") return {{"lr", "0.3"}, {"initial_accumulator_value", "0.1"}};
  if (name == "ftrl") return {{"alpha", "0.2"}, {"l1", "0.01"}, {"l2", "0.1"}};
  return {{"lr", "0.2"}, {"l1", "0.001"}, {"l2", "0.01"}};
}

data::SparseDataset three_classes() {
  linear_test::Spec spec;
  spec.dim = 3000;
  spec.informative = 60;
  spec.classes = 3;
  spec.nnz_noise = 8;
  return linear_test::make_dataset(spec, 301, 4);  // 301 rows: the last batch of 4 is short
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Trainer {
  LinearModel model;
  std::unique_ptr<LinearOptimizer> opt;
  explicit Trainer(std::string_view name, const data::SparseDataset& d)
      : model(LinearModel::for_dataset(d)), opt(make_linear_optimizer(name, options_for(name))) {}
};

TEST(LinearCheckpoint, StateNamesEachFieldWithTheModelsShape) {
  const auto d = three_classes();
  const std::map<std::string, std::vector<std::string>> expected{
      {"adagrad", {"bias.sum", "weight.sum"}},
      {"adagrad-l1", {"bias.sum", "weight.last_step", "weight.sum"}},
      {"adagrad-rda", {"bias.s", "bias.u", "weight.s", "weight.u"}},
      {"ftrl", {"bias.n", "bias.z", "weight.n", "weight.z"}},
      {"sgd", {"weight.last_step"}}};
  for (const auto& info : linear_optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    Trainer r(info.name, d);
    fit(r.model, *r.opt, d, {.epochs = 1, .batch_size = 4, .seed = 1});
    const LinearOptimizerState st = r.opt->state(r.model);
    std::vector<std::string> names;
    for (const auto& [k, t] : st.tensors) {
      names.push_back(k);
      const bool step = k == "weight.last_step";
      const Shape want = k.starts_with("bias.") ? Shape{3} : Shape{3000, step ? 2 : 3};
      EXPECT_EQ(t.shape(), want) << k;
    }
    EXPECT_EQ(names, expected.at(std::string(info.name)));
    EXPECT_EQ(st.steps, 76);  // ceil(301 / 4)
    EXPECT_EQ(st.touched, r.opt->coordinates_touched());
    if (info.name == "sgd" || info.name == "adagrad-l1") {  // every step count is a step of the run
      const Tensor& t = st.tensors.at("weight.last_step");
      std::int64_t most = 0;
      for (std::int64_t j = 0; j < 3000; ++j) {
        std::int64_t v;
        std::memcpy(&v, t.data() + 2 * j, sizeof v);
        EXPECT_TRUE(v >= 0 && v <= 76) << j << " " << v;
        most = std::max(most, v);
      }
      EXPECT_EQ(most, 76);
    }
  }
}

// Train a few epochs with checkpoints; restart from each of several saved states (a fresh model and
// optimizer, restored from the state alone), finish, and compare with the uninterrupted run.
TEST(LinearCheckpoint, ResumingFromAnySavedStateEndsBitIdentical) {
  const auto d = three_classes();
  const FitOptions fo{.epochs = 3, .batch_size = 4, .seed = 9};
  for (const auto& info : linear_optimizers()) {
    SCOPED_TRACE(std::string(info.name));
    struct Saved {
      FitState fit;
      LinearOptimizerState state;
      std::map<std::string, Tensor> model;
    };
    std::vector<Saved> saved;
    Trainer full(info.name, d);
    std::vector<EpochReport> reported;
    const auto on_epoch = [&](const EpochReport& e) {
      reported.push_back(e);
      return false;
    };
    FitCheckpoints cp;
    cp.every = 23;  // mid-epoch points, one at an epoch's end (76 batches an epoch), and the end
    cp.save = [&](const FitState& st) { saved.push_back({st, full.opt->state(full.model), full.model.tensors()}); };
    const FitResult whole = fit(full.model, *full.opt, d, fo, on_epoch, cp);
    ASSERT_EQ(saved.size(), 10u);  // batches 23, 46, 69, 92, ..., 207 of 228, then the end
    EXPECT_EQ(saved.back().fit.epoch, 3);
    EXPECT_EQ(saved.back().fit.next, 301);

    // The run without checkpoints is the same run.
    Trainer plain(info.name, d);
    fit(plain.model, *plain.opt, d, fo, [](const EpochReport&) { return false; });
    EXPECT_TRUE(same_bits(plain.model.tensors().at("weight").span(), full.model.tensors().at("weight").span()));

    for (const std::size_t k : {std::size_t{0}, std::size_t{3}, std::size_t{8}}) {
      SCOPED_TRACE("from checkpoint " + std::to_string(k) + ": epoch " + std::to_string(saved[k].fit.epoch) + ", row " +
                   std::to_string(saved[k].fit.next));
      Trainer again(info.name, d);
      again.model = LinearModel::from_tensors(full.model.config(), saved[k].model);
      again.opt->load_state(again.model, saved[k].state);
      FitCheckpoints resume;
      resume.resume = &saved[k].fit;
      std::vector<EpochReport> after;
      const FitResult rest = fit(again.model, *again.opt, d, fo,
                                 [&](const EpochReport& e) {
                                   after.push_back(e);
                                   return false;
                                 },
                                 resume);
      EXPECT_TRUE(same_bits(again.model.tensors().at("weight").span(), full.model.tensors().at("weight").span()));
      EXPECT_TRUE(same_bits(again.model.bias(), full.model.bias()));
      EXPECT_EQ(again.opt->steps(), full.opt->steps());
      EXPECT_EQ(again.opt->coordinates_touched(), full.opt->coordinates_touched());
      // The reports: those before the checkpoint from its history, then the same numbers.
      ASSERT_EQ(rest.history.size(), whole.history.size());
      for (std::size_t e = 0; e < whole.history.size(); ++e) {
        EXPECT_EQ(rest.history[e].epoch, whole.history[e].epoch);
        EXPECT_EQ(rest.history[e].train.loss, whole.history[e].train.loss);
        EXPECT_EQ(rest.history[e].train.accuracy, whole.history[e].train.accuracy);
        EXPECT_EQ(rest.history[e].train.samples, 301);
        EXPECT_EQ(rest.history[e].steps, whole.history[e].steps);
      }
      EXPECT_EQ(after.size(), 3 - saved[k].fit.history.size());
    }
  }
}

TEST(LinearCheckpoint, LoadStateChecksEveryEntryAndChangesNothingOnError) {
  const auto d = three_classes();
  Trainer r("ftrl", d);
  fit(r.model, *r.opt, d, {.epochs = 1, .batch_size = 8, .seed = 1});
  const LinearOptimizerState good = r.opt->state(r.model);
  const std::vector<float> weights(r.model.weights().begin(), r.model.weights().end());

  auto field_of = [&](const LinearOptimizerState& s) -> std::string {
    try {
      r.opt->load_state(r.model, s);
    } catch (const UsageError& e) {
      return e.context().field + ": " + e.what();
    }
    return "no error";
  };
  auto missing = good;
  missing.tensors.erase("weight.n");
  EXPECT_TRUE(field_of(missing).starts_with("weight.n: ") && field_of(missing).find("ftrl state: 'weight.n' is missing") != std::string::npos) << field_of(missing);
  auto extra = good;
  extra.tensors.emplace("weight.sum", Tensor({3000, 3}));
  EXPECT_TRUE(field_of(extra).starts_with("weight.sum: ")) << field_of(extra);
  auto shape = good;
  shape.tensors.at("bias.z") = Tensor({2});
  EXPECT_TRUE(field_of(shape).find("has shape [2], expected [3]") != std::string::npos) << field_of(shape);
  auto negative = good;
  negative.steps = -1;
  EXPECT_TRUE(field_of(negative).starts_with("steps: ")) << field_of(negative);
  // Nothing changed: the optimizer still steps this model from where it was.
  EXPECT_TRUE(std::equal(weights.begin(), weights.end(), r.model.weights().begin()));
  EXPECT_EQ(r.opt->steps(), good.steps);
  EXPECT_TRUE(same_bits(r.opt->state(r.model).tensors.at("weight.z").span(), good.tensors.at("weight.z").span()));
  // Another optimizer's state is refused by name.
  auto other = make_linear_optimizer("adagrad");
  EXPECT_THROW(other->load_state(r.model, good), UsageError);
  // A lazy optimizer's step counts must be steps of the run (a count past it would be caught up from
  // the future; a huge negative one would overflow).
  Trainer l1("adagrad-l1", d);
  fit(l1.model, *l1.opt, d, {.epochs = 1, .batch_size = 8, .seed = 1});
  auto future = l1.opt->state(l1.model);
  const std::int64_t later = future.steps + 1;
  std::memcpy(future.tensors.at("weight.last_step").data() + 2 * 7, &later, sizeof later);
  try {
    l1.opt->load_state(l1.model, future);
    ADD_FAILURE() << "a step count past the run was loaded";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("holds step 39 for feature 7, outside [0, 38]"), std::string::npos) << e.what();
  }
  // A resume point that does not fit the data or the run is refused before training.
  FitState late;
  late.epoch = 3;
  late.next = 301;
  late.history.resize(3);
  FitCheckpoints late_cp;
  late_cp.resume = &late;
  EXPECT_THROW(fit(r.model, *r.opt, d, {.epochs = 2, .batch_size = 4}, {}, late_cp), UsageError);
  FitState bad;
  bad.epoch = 1;
  bad.next = 5;  // not a batch start for batch size 4
  FitCheckpoints cp;
  cp.resume = &bad;
  EXPECT_THROW(fit(r.model, *r.opt, d, {.epochs = 2, .batch_size = 4}, {}, cp), UsageError);
}

TEST(LinearCheckpoint, FileRoundTripKeepsEveryBitAndNamesDamagedEntries) {
  const auto d = three_classes();
  Trainer r("adagrad-l1", d);
  std::optional<FitState> mid;
  FitCheckpoints cp;
  cp.every = 30;
  const auto dir = std::filesystem::temp_directory_path() / ("adakit-linear-ck-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "checkpoint.safetensors";
  cp.save = [&](const FitState& st) {
    if (mid) return;
    mid = st;
    io::save_linear_checkpoint(path, r.model, r.opt->name(), r.opt->option_map(), r.opt->state(r.model), st, 9, 4,
                               {{"note", "mine"}});
  };
  fit(r.model, *r.opt, d, {.epochs = 1, .batch_size = 4, .seed = 9}, {}, cp);
  ASSERT_TRUE(mid);

  const io::LinearCheckpoint c = io::read_linear_checkpoint(path);
  EXPECT_EQ(c.optimizer, "adagrad-l1");
  EXPECT_EQ(c.options, r.opt->option_map());
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.batch_size, 4);
  EXPECT_EQ(c.metadata, (std::map<std::string, std::string>{{"note", "mine"}}));
  EXPECT_EQ(c.fit.epoch, 1);
  EXPECT_EQ(c.fit.next, 120);
  EXPECT_EQ(c.fit.partial.loss_sum, mid->partial.loss_sum);
  EXPECT_EQ(c.fit.partial.count, 120);
  EXPECT_EQ(c.state.steps, 30);
  EXPECT_EQ(c.model.config(), r.model.config());
  // Python's safetensors reads the tensors under their names.
  const io::TensorFile raw = io::read_safetensors(path);
  for (const char* name : {"weight", "bias", "optim.adagrad-l1.weight.sum", "optim.adagrad-l1.weight.last_step",
                           "optim.adagrad-l1.bias.sum"})
    EXPECT_TRUE(raw.tensors.contains(name)) << name;

  // A model file is not a checkpoint; a reserved metadata key is refused on writing.
  io::TensorFile model_file;
  model_file.tensors = r.model.tensors();
  io::write_safetensors(dir / "model.safetensors", model_file);
  const auto field_of_read = [](const std::filesystem::path& p) -> std::string {  // the entry an error names
    try {
      (void)io::read_linear_checkpoint(p);
    } catch (const Error& e) {
      return e.context().field;
    }
    return "read without an error";
  };
  EXPECT_EQ(field_of_read(dir / "model.safetensors"), "format");
  EXPECT_THROW(io::save_linear_checkpoint(dir / "x.safetensors", r.model, r.opt->name(), r.opt->option_map(),
                                          r.opt->state(r.model), *mid, 9, 4, {{"train.epoch", "3"}}),
               UsageError);
  // A damaged entry is named.
  io::TensorFile broken = raw;
  broken.metadata["train.partial"] = "{\"loss_sum\": 1}";
  io::write_safetensors(dir / "broken.safetensors", broken);
  EXPECT_EQ(field_of_read(dir / "broken.safetensors"), "train.partial");
  std::filesystem::remove_all(dir);
}

}  // namespace
