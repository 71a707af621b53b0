// linear::fit on several threads for one-vs-rest models: output slices (FitOptions::slices,
// src/linear/fit_slices.cpp). The claim is exactness: whatever the slice count and the thread count,
// the model, the optimizer's state, the step and touch counts, every epoch's metrics and every batch
// report are bit for bit those of the whole model trained on one thread, for every linear optimizer
// (the lazy ones included), batch sizes 1 and larger, class and row weights, multilabel ova data,
// checkpoints taken and resumed mid-epoch, and callbacks that read the model as it trains. Then the
// pieces' own errors: LinearModel::output_slice / put_output_slice and LinearOptimizer::slice_state.
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/rng.hpp"
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

// A batch callback and an epoch callback that reads the model (so fit() puts the slices back).
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
  LinearModel m(task, d.features.cols, 11);
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

TEST(OutputSlices, EveryOptimizerEndsBitForBitAsOneThread) {
  const auto d = eleven_classes(false);
  const std::vector<float> class_weights = {1.0f, 2.0f, 0.5f, 1.0f, 1.0f, 3.0f, 1.0f, 1.0f, 0.25f, 1.0f, 1.0f};
  for (const auto& info : linear_optimizers())
    for (const LinearTask task : {LinearTask::squared_hinge, LinearTask::ova})
      for (const std::int64_t bs : {std::int64_t{1}, std::int64_t{4}}) {
        SCOPED_TRACE(std::string(info.name) + ", " + std::string(to_string(task)) + ", batch " + std::to_string(bs));
        const FitOptions base{.epochs = 2, .batch_size = bs, .seed = 5, .class_weights = class_weights, .slices = 1};
        const Outcome one = train(info.name, d, task, base, 1);
        ASSERT_FALSE(one.batches.empty());
        for (const std::int64_t slices : {std::int64_t{2}, std::int64_t{3}, std::int64_t{11}}) {
          SCOPED_TRACE(std::to_string(slices) + " slices");
          FitOptions fo = base;
          fo.slices = slices;
          expect_same(train(info.name, d, task, fo, 2), one);
        }
      }
}

TEST(OutputSlices, TheDefaultUsesTheThreadsAndChangesNothing) {
  const auto d = eleven_classes(false);
  const FitOptions fo{.epochs = 2, .batch_size = 1, .seed = 2};  // slices 0: min(threads, 11 / 4)
  const Outcome one = train("adagrad", d, LinearTask::squared_hinge, fo, 1);
  expect_same(train("adagrad", d, LinearTask::squared_hinge, fo, 2), one);
  // Without callbacks the model is put back once, at the end: the same model.
  const Outcome quiet1 = train("adagrad", d, LinearTask::squared_hinge, fo, 1, false),
                quiet2 = train("adagrad", d, LinearTask::squared_hinge, fo, 2, false);
  EXPECT_TRUE(same_bits(quiet1.model, one.model));
  expect_same(quiet2, quiet1);
  // Softmax has no slices (its loss couples the outputs): any count, the one-thread run.
  FitOptions soft = fo;
  soft.slices = 3;
  const Outcome s1 = train("adagrad", d, LinearTask::softmax, fo, 1);
  expect_same(train("adagrad", d, LinearTask::softmax, soft, 2), s1);
}

TEST(OutputSlices, MultilabelOvaEndsBitForBitAsOneThread) {
  const auto d = eleven_classes(true);
  ASSERT_TRUE(d.is_multilabel());
  for (const std::string_view optimizer : {"adagrad", "ftrl"}) {
    SCOPED_TRACE(std::string(optimizer));
    const FitOptions fo{.epochs = 2, .batch_size = 3, .seed = 8, .slices = 1};
    const Outcome one = train(optimizer, d, LinearTask::ova, fo, 1);
    FitOptions sliced = fo;
    sliced.slices = 4;
    expect_same(train(optimizer, d, LinearTask::ova, sliced, 2), one);
  }
}

TEST(OutputSlices, CheckpointsMidEpochAndResumingEndAsOneThread) {
  const auto d = eleven_classes(false);
  for (const std::string_view optimizer : {"adagrad", "adagrad-l1", "adagrad-rda"}) {
    SCOPED_TRACE(std::string(optimizer));
    const FitOptions fo{.epochs = 3, .batch_size = 4, .seed = 9, .slices = 3};
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
    // The checkpoints hold the whole model as one thread has it at that batch.
    {
      ThreadCount one(1);
      LinearModel m(LinearTask::squared_hinge, d.features.cols, 11);
      auto o = make_linear_optimizer(optimizer, options_for(optimizer));
      std::vector<Saved> plain;
      FitCheckpoints pc;
      pc.every = 23;
      pc.save = [&](const FitState& st) { plain.push_back({st, o->state(m), m.tensors()}); };
      FitOptions f1 = fo;
      f1.slices = 1;
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

TEST(OutputSlices, ABadRowMidRunLeavesTheModelAsOneThreadDoes) {
  auto d = eleven_classes(false);
  // Row 150's first feature is past the model's dim: the batch that holds it throws, in a run's middle.
  const std::int64_t at = d.features.indptr[150];
  d.features.indices[static_cast<std::size_t>(at)] = static_cast<std::int32_t>(d.features.cols + 5);
  auto after_error = [&](std::int64_t slices) {
    ThreadCount tc(2);
    LinearModel m(LinearTask::squared_hinge, d.features.cols, 11);
    auto opt = make_linear_optimizer("adagrad", options_for("adagrad"));
    EXPECT_THROW(fit(m, *opt, d, {.epochs = 1, .batch_size = 3, .shuffle = false, .slices = slices}), UsageError);
    std::vector<float> state;
    for (const auto& [k, t] : opt->state(m).tensors) state.insert(state.end(), t.data(), t.data() + t.numel());
    return std::make_tuple(weights_and_bias(m), state, opt->steps());
  };
  const auto [w1, s1, n1] = after_error(1);
  const auto [w2, s2, n2] = after_error(2);
  EXPECT_EQ(n1, 50);  // batches 0..49 stepped; batch 50 (rows 150-152) threw
  EXPECT_EQ(n2, n1);
  EXPECT_TRUE(same_bits(w2, w1));
  EXPECT_TRUE(same_bits(s2, s1));
}

TEST(OutputSlices, BadCountsAndSlicesNameTheField) {
  for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{257}}) {
    FitOptions fo;
    fo.slices = bad;
    try {
      fo.validate();
      ADD_FAILURE() << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, "slices");
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
  const LinearModel ova(LinearTask::ova, 50, 6), soft(LinearTask::softmax, 50, 6);
  EXPECT_THROW(soft.output_slice(0, 3, 0), UsageError);  // softmax couples its outputs
  EXPECT_THROW(ova.output_slice(4, 3, 0), UsageError);   // past the last output
  EXPECT_THROW(ova.output_slice(0, 0, 0), UsageError);
  EXPECT_THROW(ova.output_slice(-1, 2, 0), UsageError);
  const LinearModel part = ova.output_slice(2, 3, 0);
  EXPECT_TRUE(part.is_slice());
  EXPECT_EQ(part.first_output(), 2);
  EXPECT_EQ(part.outputs(), 3);
  EXPECT_THROW(part.output_slice(0, 1, 0), UsageError);  // a slice of a slice
  EXPECT_THROW((void)part.config(), UsageError);           // a slice is not a model to save
  LinearModel other(LinearTask::ova, 60, 6);
  EXPECT_THROW(other.put_output_slice(part), UsageError);  // another model's (dim 60)
  LinearModel whole = ova;
  const auto before = weights_and_bias(whole);
  EXPECT_NO_THROW(whole.put_output_slice(part));
  EXPECT_TRUE(same_bits(weights_and_bias(whole), before));  // a slice just taken changes nothing

  // The optimizer: another optimizer's slice, or a slice without room for the state.
  LinearModel m(LinearTask::ova, 50, 6);
  auto adagrad = make_linear_optimizer("adagrad", {});
  adagrad->bind(m);
  LinearModel p = m.output_slice(0, 3, adagrad->state_width(3));
  auto ftrl = make_linear_optimizer("ftrl", {});
  EXPECT_THROW(adagrad->slice_state(m, p, *ftrl), UsageError);
  LinearModel no_room = m.output_slice(0, 3, 0);
  auto into = make_linear_optimizer("adagrad", {});
  EXPECT_THROW(adagrad->slice_state(m, no_room, *into), UsageError);
  EXPECT_THROW(adagrad->slice_state(m, m, *into), UsageError);  // the whole model is no slice
  EXPECT_NO_THROW(adagrad->slice_state(m, p, *into));
  EXPECT_THROW(adagrad->put_slice_state(other, p, *into), UsageError);  // not this state's model
}

}  // namespace
