// Warm start: a model saved with its optimizer (io::save_model) and continued on new data
// (io::read_warm_start, io::continue_optimizer) ends bit-identical to one run over both datasets, for
// every optimizer of the registry (with dropout, a schedule and clipping in play); the file layout; the
// saved scaler and classes applied to new data (io::prepare_for_model); flags that differ from the
// saved optimizer or architecture refused.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "../data/test_util.hpp"
#include "adakit/adakit.hpp"
#include "adakit/io/warm_start.hpp"

namespace {
using namespace adakit;
using adakit::test::contains;
using adakit::test::TempDir;

// Iris, scaled, in a seeded order: A = its first 48 rows, B = the other 72, AB = all 120.
struct Split {
  data::Dataset a, b, ab;
};
const Split& split() {
  static const Split s = [] {
    auto loaded = data::load_data({"iris", {}, {}});
    auto tt = data::train_test_split(loaded.train, 0.2, 3);
    data::StandardScaler sc;
    sc.fit(tt.train);
    sc.transform(tt.train);
    std::vector<std::int64_t> first(48), rest(72);
    std::iota(first.begin(), first.end(), 0);
    std::iota(rest.begin(), rest.end(), 48);
    Split out;
    out.a = tt.train.subset(first);
    out.b = tt.train.subset(rest);
    out.ab = std::move(tt.train);
    return out;
  }();
  return s;
}

nn::Sequential make_model() { return nn::mlp(4, {6, 5}, 3, "tanh", "", 5, 0.25); }  // two dropout layers
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, nn::Sequential& model) {
  auto opt = optim::make_optimizer(name, model.parameters());
  opt->set_schedule(optim::Schedule::parse("cosine:total=15,final=0.1,warmup=2"));
  opt->set_clip({2.0, 0.5});
  return opt;
}
// One pass in file order; 8 divides |A| = 48.
const train::FitOptions kOnePass{.epochs = 1, .batch_size = 8, .seed = 1, .shuffle = false};

train::FitResult fit(nn::Sequential& model, optim::Optimizer& opt, const data::Dataset& d) {
  return train::fit(model, opt, d, nullptr, train::Objective::softmax_ce, kOnePass);
}

io::ModelInfo iris_info() { return {"softmax_ce", {4}, split().ab.class_names, split().ab.feature_names, {}, {}, "a"}; }

std::string bits(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
}

void expect_same(nn::Sequential& a, const optim::Optimizer& oa, nn::Sequential& b, const optim::Optimizer& ob) {
  const auto pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(bits(pa[i]->value()), bits(pb[i]->value())) << pa[i]->name();
  const auto sa = oa.state_dict(), sb = ob.state_dict();
  EXPECT_EQ(sa.counters, sb.counters);
  EXPECT_EQ(sa.metadata, sb.metadata);
  ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
  for (const auto& [k, t] : sa.tensors) EXPECT_EQ(bits(t), bits(sb.tensors.at(k))) << k;
  const auto ra = a.random_streams(), rb = b.random_streams();
  ASSERT_EQ(ra.size(), 2u);
  for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].second->state().s, rb[i].second->state().s);
}

void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

TEST(WarmStart, SavedThenContinuedEqualsOneRunForEveryOptimizer) {
  TempDir dir("adakit_warm_test_");
  for (const auto& info : optim::optimizers()) {
    const std::string name(info.name);
    SCOPED_TRACE(name);
    nn::Sequential whole = make_model();
    auto whole_opt = make_optimizer(name, whole);
    fit(whole, *whole_opt, split().ab);
    ASSERT_EQ(whole_opt->steps(), 15);

    nn::Sequential first = make_model();
    auto first_opt = make_optimizer(name, first);
    fit(first, *first_opt, split().a);
    const auto path = dir / (name + ".safetensors");
    io::save_model(path, first, iris_info(), first_opt.get());

    io::WarmStart w = io::read_warm_start(path);
    ASSERT_TRUE(w.optimizer.has_value());
    EXPECT_EQ(w.optimizer->name, name);
    auto opt = io::continue_optimizer(*w.optimizer, w.model.parameters(), {}, path.string());
    EXPECT_EQ(opt->steps(), 6);  // 48 rows in batches of 8: the schedule and bias corrections go on from here
    fit(w.model, *opt, split().b);
    expect_same(w.model, *opt, whole, *whole_opt);
  }
}

TEST(WarmStart, AFreshOptimizerOrDropoutStreamIsNotTheOneRun) {
  TempDir dir("adakit_warm_test_");
  nn::Sequential whole = make_model();
  auto whole_opt = make_optimizer("adam", whole);
  fit(whole, *whole_opt, split().ab);
  nn::Sequential first = make_model();
  auto first_opt = make_optimizer("adam", first);
  fit(first, *first_opt, split().a);
  io::save_model(dir / "plain.safetensors", first, iris_info());  // no optimizer, no streams
  io::WarmStart w = io::read_warm_start(dir / "plain.safetensors");
  EXPECT_FALSE(w.optimizer.has_value());
  EXPECT_NE(w.model.random_streams()[0].second->state().s, first.random_streams()[0].second->state().s);
  auto opt = make_optimizer("adam", w.model);
  fit(w.model, *opt, split().b);
  EXPECT_EQ(opt->steps(), 9);
  EXPECT_NE(bits(w.model.parameters()[0]->value()), bits(whole.parameters()[0]->value()));
}

TEST(WarmStart, ModelFileLayoutWithTheOptimizer) {
  TempDir dir("adakit_warm_test_");
  nn::Sequential model = make_model();
  auto opt = optim::make_optimizer("adagrad", model.parameters(), {{"lr", "0.1"}});
  fit(model, *opt, split().a);
  const auto path = dir / "m.safetensors";
  io::save_model(path, model, iris_info(), opt.get());
  const io::TensorFile f = io::read_safetensors(path);
  EXPECT_EQ(f.metadata.at("format"), "adakit.model.v1");  // still a model file
  EXPECT_EQ(f.metadata.at("optim.name"), "adagrad");
  EXPECT_EQ(f.metadata.at("optim.counter.optimizer.steps"), "6");
  EXPECT_EQ(f.metadata.at("optim.counter.0.weight.step"), "6");
  EXPECT_EQ(f.metadata.at("optim.meta.group.0.lr"), "0.1");
  EXPECT_EQ(f.metadata.at("optim.meta.schedule"), "constant");
  EXPECT_TRUE(f.metadata.contains("model.rng.2"));  // linear, tanh, dropout
  EXPECT_TRUE(f.metadata.contains("model.rng.5"));
  const auto* p0 = model.parameters()[0];
  EXPECT_EQ(bits(f.tensors.at("optim.adagrad.0.weight.sum")), bits(*opt->state(*p0)->buffer("sum")));
  EXPECT_EQ(f.tensors.size(), 2 * model.parameters().size());  // each parameter and its sum
  // What predict reads: the model, the state skipped.
  io::LoadedModel loaded = io::load_model(path);
  EXPECT_EQ(bits(loaded.model.parameters()[0]->value()), bits(p0->value()));
  EXPECT_EQ(loaded.info.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  // The same through the checkpoint writer: --init-model takes a checkpoint too.
  io::save_checkpoint(dir / "ck.safetensors", model, *opt, train::FitState{},
                      {{"adakit.task", io::task_json(iris_info())}});
  const io::WarmStart w = io::read_warm_start(dir / "ck.safetensors");
  ASSERT_TRUE(w.optimizer.has_value());
  EXPECT_EQ(w.optimizer->state.counters.at("optimizer.steps"), 6);
  EXPECT_EQ(w.optimizer->state.metadata.at("group.0.lr"), "0.1");
}

TEST(WarmStart, ReadRefusesAMissingFileAndASparseModel) {
  TempDir dir("adakit_warm_test_");
  try {
    (void)io::read_warm_start(dir / "none.safetensors");
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "init-model");
    EXPECT_TRUE(contains(e.what(), "none.safetensors")) << e.what();
    EXPECT_TRUE(contains(e.what(), "no such file")) << e.what();
  }
  write_text(dir / "linear.json", "{\"format\": \"adakit.linear.model.v1\"}");
  try {
    (void)io::read_warm_start(dir / "linear.json");
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_TRUE(contains(e.what(), "sparse linear model")) << e.what();
  }
}

TEST(WarmStart, ContinueOptimizerTakesTheSavedSettingsAndRefusesOthers) {
  nn::Sequential model = make_model();
  auto opt = optim::make_optimizer("adam", model.parameters(), {{"lr", "0.01"}});
  opt->set_schedule(optim::Schedule::parse("step:size=3,gamma=0.5"));
  opt->set_clip({1.0, 0.0});
  fit(model, *opt, split().a);
  io::TensorFile file;
  io::put_optimizer(file, *opt);
  const io::SavedOptimizer saved = io::read_optimizer(file, "m.safetensors");
  EXPECT_EQ(saved.name, "adam");
  EXPECT_EQ(saved.state.counters.at("optimizer.steps"), 6);

  nn::Sequential other = make_model();
  // Nothing asked, or the saved values asked again: the saved optimizer with its state.
  for (const io::OptimizerRequest& asked :
       {io::OptimizerRequest{}, io::OptimizerRequest{"adam", {{"lr", "0.010"}}, "step:size=3,gamma=0.5", 1.0, 0.0}}) {
    auto c = io::continue_optimizer(saved, other.parameters(), asked, "m.safetensors");
    EXPECT_EQ(c->name(), "adam");
    EXPECT_EQ(c->steps(), 6);
    EXPECT_EQ(c->lr(), 0.01);
    EXPECT_EQ(c->scheduled_lr(), 0.01 * 0.25);  // step 7: gamma^floor(6 / 3)
    EXPECT_EQ(c->clip().max_norm, 1.0);
    EXPECT_EQ(c->state_dict().counters, opt->state_dict().counters);
  }
  const auto refused = [&](const io::OptimizerRequest& asked, const std::string& part) {
    try {
      (void)io::continue_optimizer(saved, other.parameters(), asked, "m.safetensors");
      ADD_FAILURE() << part;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, "init-model");
      EXPECT_EQ(e.context().file, "m.safetensors");
      EXPECT_TRUE(contains(e.message(), part)) << e.message();
    }
  };
  io::OptimizerRequest asked;
  asked.name = "sgd";
  refused(asked, "the file keeps the state of optimizer 'adam', this run asks for 'sgd'");
  asked = {};
  asked.options = {{"lr", "0.5"}, {"beta1", "0.9"}};
  refused(asked, "--lr: saved 0.01, this run 0.5");
  asked.options = {{"beta2", "0.99"}};
  refused(asked, "--beta2: saved 0.999, this run 0.99");
  asked = {};
  asked.schedule = "constant";
  refused(asked, "--schedule: saved step:size=3,gamma=0.5, this run constant");
  asked = {};
  asked.clip_norm = 2.0;
  refused(asked, "--clip-norm: saved 1, this run 2");
  asked = {};
  asked.clip_value = 0.5;
  refused(asked, "--clip-value: saved 0, this run 0.5");
}

TEST(WarmStart, SameArchitectureIgnoresSeeds) {
  const nn::Sequential saved = nn::mlp(4, {6}, 3, "relu", "", 1, 0.2);
  EXPECT_NO_THROW(io::check_same_architecture(saved.config(), nn::mlp(4, {6}, 3, "relu", "", 7, 0.2).config(), "m"));
  for (const nlohmann::json& other : {nn::mlp(4, {7}, 3, "relu", "", 1, 0.2).config(),
                                      nn::mlp(4, {6}, 3, "tanh", "", 1, 0.2).config(),
                                      nn::mlp(4, {6}, 3, "relu", "", 1, 0.0).config()}) {
    try {
      io::check_same_architecture(saved.config(), other, "m.safetensors");
      ADD_FAILURE();
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, "model");
      EXPECT_TRUE(contains(e.what(), "m.safetensors")) << e.what();
    }
  }
}

// The saved scaler (not a refitted one), the model's class ids, the model's task.
TEST(PrepareForModel, AppliesTheSavedScalerAndClasses) {
  TempDir dir;
  const io::ModelInfo info{"softmax_ce", {2}, {"a", "b", "c"}, {"u", "v"}, {1.0f, 2.0f}, {2.0f, 4.0f}, "old.csv"};
  write_text(dir / "new.csv", "u,v,label\n3,6,c\n1,2,a\n-1,10,c\n");
  write_text(dir / "test.csv", "u,v,label\n5,10,b\n");
  data::PrepareOptions o;
  o.data = (dir / "new.csv").string();
  o.test_data = (dir / "test.csv").string();
  o.scale = "on";  // not used: nothing is fitted
  const data::PreparedData d = io::prepare_for_model(o, info, "m.safetensors");
  ASSERT_EQ(d.train.size(), 3);
  EXPECT_EQ(d.train.sample_shape(), (Shape{2}));
  EXPECT_EQ(std::vector<float>(d.train.features.data(), d.train.features.data() + 6),
            (std::vector<float>{1.0f, 1.0f, 0.0f, 0.0f, -1.0f, 2.0f}));  // (x - mean) / scale
  EXPECT_EQ(d.train.labels, (std::vector<std::int32_t>{2, 0, 2}));     // c, a, c as the model numbers them
  EXPECT_EQ(d.train.class_names, info.class_names);
  ASSERT_EQ(d.test.size(), 1);
  EXPECT_EQ(d.test.features[0], 2.0f);
  EXPECT_EQ(d.test.features[1], 2.0f);
  EXPECT_EQ(d.test.labels, (std::vector<std::int32_t>{1}));
  EXPECT_EQ(d.scaler.mean, info.scaler_mean);
  EXPECT_EQ(d.scaler.scale, info.scaler_scale);

  // Integer labels of a regression model are targets.
  const io::ModelInfo reg{"mse", {2}, {}, {}, {}, {}, "old.csv"};
  write_text(dir / "reg.csv", "1,2,3\n4,5,6\n7,8,9\n");
  o.data = (dir / "reg.csv").string();
  o.test_data.clear();
  o.test_split = 0.34;
  const data::PreparedData r = io::prepare_for_model(o, reg, "m.safetensors");
  EXPECT_FALSE(r.train.is_classification());
  EXPECT_EQ(r.train.size() + r.test.size(), 3);
  EXPECT_TRUE(r.scaler.mean.empty());
}

TEST(PrepareForModel, RefusesWhatTheModelCannotTake) {
  TempDir dir;
  const io::ModelInfo info{"softmax_ce", {2}, {"a", "b", "c"}, {"u", "v"}, {}, {}, "old.csv"};
  data::PrepareOptions o;
  o.test_split = 0.5;
  const auto refused = [&](const std::string& csv, const io::ModelInfo& i, const std::string& field,
                           const std::string& part) {
    const auto path = dir / "new.csv";
    write_text(path, csv);
    o.data = path.string();
    try {
      (void)io::prepare_for_model(o, i, "m.safetensors");
      ADD_FAILURE() << part;
    } catch (const UsageError& e) {
      EXPECT_EQ(e.context().field, field);
      EXPECT_TRUE(contains(e.what(), part)) << e.what();
    }
  };
  refused("u,v,label\n1,2,a\n3,4,d\n1,1,b\n", info, "label",
          "new.csv: field 'label': class 'd' is not one of the classes of the model in m.safetensors (a, b, c)");
  refused("v,u,label\n1,2,a\n3,4,b\n", info, "features", "column 1 is 'v', the model in m.safetensors takes 'u'");
  refused("u,v,w,label\n1,2,3,a\n3,4,5,b\n", info, "features",
          "the data has samples of shape [3], the model takes [2]");
  // A regression model on a classification dataset (a built-in's task is its own).
  o.data = "iris";
  try {
    (void)io::prepare_for_model(o, {"mse", {4}, {}, {}, {}, {}, "r.csv"}, "m.safetensors");
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context().field, "init-model");
    EXPECT_TRUE(contains(e.what(), "trained for mse (regression), but iris is a classification dataset")) << e.what();
  }
}

}  // namespace
