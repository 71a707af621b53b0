// Checkpoints: a run interrupted at any batch and resumed from its last checkpoint ends bit-identical
// to the uninterrupted run, for every optimizer of the registry (with dropout, a schedule, clipping,
// validation and early stopping in play); the file layout; damaged files and mismatched models are
// refused with errors naming the file and the entry, leaving the model and the optimizer untouched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../data/test_util.hpp"
#include "adakit/adakit.hpp"
#include "adakit/io/checkpoint.hpp"

namespace {
using namespace adakit;
using adakit::test::contains;
namespace fs = std::filesystem;

// Checkpoints fsync the file and its directory; on tmpfs (/dev/shm) that costs nothing, which keeps
// these tests, with their hundreds of checkpoints, fast.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = base / (prefix + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(path_, ec);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

struct Task {
  data::Dataset train, validation;
  Task() {
    auto loaded = data::load_data({"iris", {}, {}});
    auto split = data::train_test_split(loaded.train, 0.2, 3);
    data::StandardScaler sc;
    sc.fit(split.train);
    sc.transform(split.train);
    sc.transform(split.test);
    train = std::move(split.train);
    validation = std::move(split.test);
  }
};
const Task& task() {
  static const Task t;
  return t;
}

// One run's model and optimizer, built the same way each time (as `adakit train` rebuilds them).
struct TrainRun {
  nn::Sequential model;
  std::unique_ptr<optim::Optimizer> opt;
  explicit TrainRun(const std::string& optimizer) : model(nn::mlp(4, {8, 6}, 3, "tanh", "", 5, 0.25)) {
    opt = optim::make_optimizer(optimizer, model.parameters());
    opt->set_schedule(optim::Schedule::parse("cosine:total=30,final=0.1,warmup=3"));
    opt->set_clip({2.0, 0.5});
  }
};

const train::FitOptions kFit{.epochs = 5, .batch_size = 16, .seed = 11, .patience = 2, .min_delta = 1e-4};

struct Killed {};
// Throws at the end of global batch `at`: the process "dies" there, after any checkpoint of that batch.
struct Killer : train::Callback {
  std::int64_t at;
  explicit Killer(std::int64_t a) : at(a) {}
  void on_state(const train::FitState& s, train::StatePoint p) override {
    if (p == train::StatePoint::batch_end && (s.epoch - 1) * s.batches_per_epoch + s.batch == at) throw Killed{};
  }
};

std::string bits(const Tensor& t) {
  return std::string(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
}

void expect_same_state(TrainRun& a, TrainRun& b) {
  const auto pa = a.model.parameters(), pb = b.model.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(bits(pa[i]->value()), bits(pb[i]->value())) << pa[i]->name();
  const auto sa = a.opt->state_dict(), sb = b.opt->state_dict();
  EXPECT_EQ(sa.counters, sb.counters);
  EXPECT_EQ(sa.metadata, sb.metadata);
  ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
  for (const auto& [k, t] : sa.tensors) EXPECT_EQ(bits(t), bits(sb.tensors.at(k))) << k;
  const auto ra = a.model.random_streams(), rb = b.model.random_streams();
  ASSERT_EQ(ra.size(), 2u);  // the two dropout layers
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].second->state().s, rb[i].second->state().s);
    EXPECT_EQ(ra[i].second->state().has_cached_normal, rb[i].second->state().has_cached_normal);
  }
}

train::FitResult fit(TrainRun& r, std::vector<train::Callback*> cbs, const train::FitState* resume = nullptr) {
  return train::fit(r.model, *r.opt, task().train, &task().validation, train::Objective::softmax_ce, kFit, cbs, resume);
}

TEST(Checkpoint, KilledAnywhereAndResumedEndsBitIdenticalForEveryOptimizer) {
  TempDir dir("adakit_ckpt_test_");
  for (const auto& info : optim::optimizers()) {
    const std::string name(info.name);
    SCOPED_TRACE(name);
    TrainRun whole(name);
    const auto expected = fit(whole, {});
    ASSERT_EQ((task().train.size() + 15) / 16, 8);  // 120 samples: 8 batches per epoch, 40 in all
    // Kill points: before the first checkpoint, mid-epoch, at an epoch's last batch, just after it, near the end.
    for (std::int64_t kill : {2, 7, 8, 9, 22, 39}) {
      SCOPED_TRACE("killed after batch " + std::to_string(kill));
      const fs::path path = dir / (name + std::to_string(kill) + ".safetensors");
      TrainRun first(name);
      io::CheckpointWriter writer(path, first.model, *first.opt, 3);
      Killer killer(kill);
      bool killed = false;
      try {
        fit(first, {&writer, &killer});
      } catch (const Killed&) {
        killed = true;
      }
      TrainRun second(name);
      io::CheckpointWriter writer2(path, second.model, *second.opt, 3);
      train::FitResult r;
      if (!fs::exists(path)) {
        ASSERT_LT(kill, 3);
        r = fit(second, {&writer2});
      } else {
        const io::Checkpoint c = io::read_checkpoint(path);
        const train::FitState st = io::restore_checkpoint(c, second.model, *second.opt, path.string());
        if (killed) {
          EXPECT_EQ((st.epoch - 1) * st.batches_per_epoch + st.batch, kill / 3 * 3);
        }
        r = fit(second, {&writer2}, &st);
      }
      expect_same_state(whole, second);
      ASSERT_EQ(r.history.size(), expected.history.size());
      for (std::size_t e = 0; e < r.history.size(); ++e) {
        EXPECT_EQ(r.history[e].train.loss, expected.history[e].train.loss) << "epoch " << e + 1;
        EXPECT_EQ(r.history[e].validation.loss, expected.history[e].validation.loss) << "epoch " << e + 1;
      }
      EXPECT_EQ(r.best_epoch, expected.best_epoch);
      EXPECT_EQ(r.stopped_early, expected.stopped_early);
      EXPECT_EQ(r.epochs_run, expected.epochs_run);
    }
  }
}

TEST(Checkpoint, EarlyStoppingStateSurvivesAResume) {
  // min_delta so large that only the first epoch improves: the run stops after epoch 3 and restores
  // epoch 1's weights; a resume after epoch 2 must still restore them.
  TempDir dir("adakit_ckpt_test_");
  const train::FitOptions fo{.epochs = 10, .batch_size = 16, .seed = 4, .patience = 2, .min_delta = 100.0};
  TrainRun whole("adagrad");
  const auto expected = train::fit(whole.model, *whole.opt, task().train, &task().validation,
                                   train::Objective::softmax_ce, fo);
  ASSERT_TRUE(expected.stopped_early);
  ASSERT_EQ(expected.best_epoch, 1);
  TrainRun first("adagrad");
  io::CheckpointWriter writer(dir / "c.safetensors", first.model, *first.opt, 0);  // every epoch
  Killer killer(2 * 8 + 3);
  std::vector<train::Callback*> cbs{&writer, &killer};
  EXPECT_THROW(train::fit(first.model, *first.opt, task().train, &task().validation, train::Objective::softmax_ce, fo, cbs),
               Killed);
  TrainRun second("adagrad");
  const auto c = io::read_checkpoint(dir / "c.safetensors");
  EXPECT_EQ(c.state.epoch, 3);
  EXPECT_EQ(c.state.batch, 0);
  EXPECT_EQ(c.best_weights.size(), second.model.parameters().size());
  const auto st = io::restore_checkpoint(c, second.model, *second.opt);
  const auto r = train::fit(second.model, *second.opt, task().train, &task().validation, train::Objective::softmax_ce, fo,
                            {}, &st);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.epochs_run, expected.epochs_run);
  expect_same_state(whole, second);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_bytes(const fs::path& p, const std::string& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
}

// A checkpoint after 10 batches of AdaGrad.
fs::path write_sample(const TempDir& dir, TrainRun& r) {
  const fs::path path = dir / "sample.safetensors";
  io::CheckpointWriter writer(path, r.model, *r.opt, 10, {{"note", "hello"}});
  Killer killer(10);
  try {
    fit(r, {&writer, &killer});
  } catch (const Killed&) {
  }
  return path;
}

TEST(Checkpoint, LayoutNamesAndMetadata) {
  TempDir dir("adakit_ckpt_test_");
  TrainRun r("adagrad");
  const fs::path path = write_sample(dir, r);
  const io::TensorFile f = io::read_safetensors(path);
  for (const char* name : {"0.weight", "0.bias", "3.weight", "6.bias", "optim.adagrad.0.weight.sum", "optim.adagrad.6.bias.sum"})
    EXPECT_TRUE(f.tensors.contains(name)) << name;
  EXPECT_EQ(bits(f.tensors.at("0.weight")), bits(r.model.parameters()[0]->value()));
  EXPECT_EQ(bits(f.tensors.at("optim.adagrad.0.weight.sum")), bits(*r.opt->state(*r.model.parameters()[0])->buffer("sum")));
  EXPECT_EQ(f.metadata.at("format"), "adakit.checkpoint.v1");
  EXPECT_EQ(f.metadata.at("optim.name"), "adagrad");
  EXPECT_EQ(f.metadata.at("optim.counter.optimizer.steps"), "10");
  EXPECT_EQ(f.metadata.at("optim.counter.0.weight.step"), "10");
  EXPECT_EQ(f.metadata.at("optim.meta.group.0.lr"), "0.01");
  EXPECT_EQ(f.metadata.at("optim.meta.schedule"), "cosine:total=30,final=0.1,warmup=3");
  EXPECT_EQ(f.metadata.at("train.epoch"), "2");
  EXPECT_EQ(f.metadata.at("train.batch"), "2");
  EXPECT_EQ(f.metadata.at("train.batches_per_epoch"), "8");
  EXPECT_TRUE(f.metadata.contains("train.shuffle_rng"));
  EXPECT_TRUE(f.metadata.contains("model.rng.2"));  // the first dropout layer (linear, tanh, dropout)
  EXPECT_EQ(nlohmann::json::parse(f.metadata.at("train.history")).size(), 1u);
  EXPECT_EQ(f.metadata.at("note"), "hello");
  const io::Checkpoint c = io::read_checkpoint(path);
  EXPECT_EQ(c.metadata.at("note"), "hello");
  EXPECT_EQ(c.optimizer.counters.at("optimizer.steps"), 10);
  // A checkpoint reads as a model too, when it carries the task (adakit train adds it).
  EXPECT_THROW(io::load_model(path), Error);  // this one carries no "adakit.task"
}

TEST(Checkpoint, DamagedFilesAreRefusedNamingTheFile) {
  TempDir dir("adakit_ckpt_test_");
  TrainRun r("adagrad");
  const fs::path path = write_sample(dir, r);
  const std::string good = read_bytes(path);
  std::uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  const fs::path bad = dir / "bad.safetensors";
  const auto expect_error = [&](const std::string& bytes, const std::string& part) {
    write_bytes(bad, bytes);
    try {
      (void)io::read_checkpoint(bad);
      ADD_FAILURE() << "no error for " << part;
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), bad.string())) << e.what();
      EXPECT_TRUE(contains(e.what(), part)) << e.what();
    }
  };
  expect_error(good.substr(0, good.size() - 1), "outside the");                 // truncated payload
  expect_error(good.substr(0, 8 + n / 2), "header length");                     // truncated header
  expect_error(good.substr(0, 5), "truncated");                                 // not even the length
  std::string flipped = good;
  flipped[8 + n + 100] ^= 0x10;
  expect_error(flipped, "checksum mismatch: the tensor data");
  // One digit of the position in the header: the header checksum catches it.
  std::string moved = good;
  const auto at = moved.find("\"train.epoch\":\"2\"");
  ASSERT_NE(at, std::string::npos);
  moved[at + std::strlen("\"train.epoch\":\"")] = '3';
  expect_error(moved, "checksum mismatch: the header");
  // A model file is not a checkpoint.
  io::save_model(bad, r.model, io::ModelInfo{"softmax_ce", {4}, {"a", "b", "c"}, {}, {}, {}, "iris"});
  try {
    (void)io::read_checkpoint(bad);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "unsupported format 'adakit.model.v1'")) << e.what();
  }
  // Consistent checksums but an impossible position (written by hand through the safetensors writer).
  io::TensorFile f = io::read_safetensors(path);
  f.metadata["train.batch"] = "9";
  io::write_safetensors(bad, f);
  expect_error(read_bytes(bad), "outside an epoch of 8 batches");
  f = io::read_safetensors(path);
  f.metadata["train.shuffle_rng"] = "12,zz";
  io::write_safetensors(bad, f);
  expect_error(read_bytes(bad), "expected a random generator state");
  f = io::read_safetensors(path);
  f.metadata.erase("train.seen");
  io::write_safetensors(bad, f);
  expect_error(read_bytes(bad), "field 'train.seen': missing entry");
}

TEST(Checkpoint, MismatchedModelOrOptimizerIsRefusedAndChangesNothing) {
  TempDir dir("adakit_ckpt_test_");
  TrainRun r("adagrad");
  const fs::path path = write_sample(dir, r);
  const io::Checkpoint c = io::read_checkpoint(path);
  const auto snapshot = [](TrainRun& x) {
    std::string s;
    for (auto* p : x.model.parameters()) s += bits(p->value());
    return s + x.opt->state_dict().metadata.at("group.0.lr") + std::to_string(x.opt->steps());
  };
  {  // another architecture
    nn::Sequential other = nn::mlp(4, {8}, 3, "tanh", "", 5);
    auto opt = optim::make_optimizer("adagrad", other.parameters());
    try {
      io::restore_checkpoint(c, other, *opt, path.string());
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "field 'adakit.architecture'")) << e.what();
      EXPECT_TRUE(contains(e.what(), path.string())) << e.what();
    }
  }
  {  // another optimizer: nothing changes
    TrainRun other("adam");
    const std::string before = snapshot(other);
    try {
      io::restore_checkpoint(c, other.model, *other.opt, path.string());
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "optimizer 'adagrad'")) << e.what();
    }
    EXPECT_EQ(snapshot(other), before);
  }
  {  // a buffer of the wrong shape: nothing changes
    io::Checkpoint broken = c;
    broken.optimizer.tensors.at("0.weight.sum") = Tensor({2, 2});
    TrainRun other("adagrad");
    const std::string before = snapshot(other);
    EXPECT_THROW(io::restore_checkpoint(broken, other.model, *other.opt), Error);
    EXPECT_EQ(snapshot(other), before);
  }
  {  // a resumed state that does not fit the run (another batch size)
    TrainRun other("adagrad");
    const auto st = io::restore_checkpoint(c, other.model, *other.opt);
    auto fo = kFit;
    fo.batch_size = 32;
    try {
      train::fit(other.model, *other.opt, task().train, nullptr, train::Objective::softmax_ce, fo, {}, &st);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_TRUE(contains(e.what(), "cannot resume")) << e.what();
    }
  }
}

}  // namespace
