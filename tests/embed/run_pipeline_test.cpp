// embed::run_pipeline against the same steps done one by one with the step-by-step API (the files
// must be the same bytes), and the shared training / saving steps: --init, the cost CSV, the JSON.
#include "adakit/embed/pipeline.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"

namespace {
namespace fs = std::filesystem;
using namespace adakit::embed;
using adakit::test::TempDir;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Two topics of four words, 60 lines: each word 45 times (tests/cli/embed_test.sh's corpus).
fs::path write_corpus(const TempDir& dir) {
  const auto path = dir / "corpus.txt";
  std::ofstream out(path);
  for (int i = 0; i < 15; ++i)
    out << "king queen crown palace king crown\nqueen palace king crown queen palace\n"
        << "man woman street walks man street\nwoman walks man street woman walks\n";
  return path;
}

PipelineOptions tiny_options(const TempDir& dir) {
  PipelineOptions o;
  o.corpus = write_corpus(dir);
  o.out = dir / "all";
  o.cooccur.window = 3;
  o.glove.vector_size = 6;
  o.glove.iterations = 5;
  o.glove.x_max = 10;
  o.glove.threads = 1;
  return o;
}

TEST(EmbedPipeline, SameFilesAsTheStepByStepApi) {
  TempDir dir;
  auto o = tiny_options(dir);
  o.show = {"king"};
  std::vector<std::string> stages;
  PipelineCallbacks cb;
  cb.on_stage = [&](std::string_view s) { stages.emplace_back(s); };
  const auto r = run_pipeline(o, cb);

  // The same steps by hand.
  const fs::path by_hand = dir / "by_hand";
  fs::create_directories(by_hand);
  VocabStats vs;
  const auto vocab = count_vocabulary(o.corpus, o.vocab, &vs);
  write_vocabulary(by_hand / "vocab.txt", vocab);
  auto co = o.cooccur;
  co.temp_dir = by_hand;
  const auto cs = count_cooccurrences(o.corpus, vocab, by_hand / "cooccurrence.bin", co);
  const auto records = read_cooccurrences(by_hand / "cooccurrence.bin", vocab.size());
  auto model = init_glove(vocab.size(), o.glove);
  const auto result = train_glove(model, records, o.glove);
  write_vectors_text(by_hand / "vectors.txt", vocab, model);
  write_vectors_binary(by_hand / "vectors.bin", model);

  for (const char* f : {"vocab.txt", "cooccurrence.bin", "vectors.txt", "vectors.bin"})
    EXPECT_EQ(read_file(o.out / f), read_file(by_hand / f)) << f;
  EXPECT_EQ(vs.tokens, 360);
  EXPECT_EQ(r.vocab_stats.tokens, 360);
  EXPECT_EQ(r.vocab.size(), 8);
  EXPECT_EQ(r.cooccur.records, cs.records);
  ASSERT_EQ(r.run.result.history.size(), 5u);
  ASSERT_EQ(result.history.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(r.run.result.history[i].cost, result.history[i].cost);
  EXPECT_LT(r.run.result.history.back().cost, r.run.result.history.front().cost);

  // summary.json is the summary, with the numbers of the run.
  EXPECT_EQ(nlohmann::json::parse(read_file(o.out / "summary.json")), r.summary);
  EXPECT_EQ(r.summary["vocab_size"], 8);
  EXPECT_EQ(r.summary["tokens"], 360);
  EXPECT_EQ(r.summary["records"], cs.records);
  EXPECT_EQ(r.summary["vector_size"], 6);
  EXPECT_EQ(r.summary["iterations"], 5);
  EXPECT_EQ(r.summary["convention"], "reference");
  EXPECT_EQ(r.summary["final_cost"].get<double>(), result.history.back().cost);
  EXPECT_EQ(r.summary["nearest"]["king"].size(), 7u);  // 8 neighbours asked, 7 other words
  EXPECT_EQ(r.summary["cooccur"]["records"], cs.records);
  // The cost CSV: a header and one "iteration,cost,seconds" line per iteration.
  const auto csv = read_file(o.out / "cost.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "iteration,cost,seconds");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  char first[64];
  std::snprintf(first, sizeof first, "\n1,%.6g,", result.history[0].cost);
  EXPECT_NE(csv.find(first), std::string::npos) << csv;

  ASSERT_EQ(stages.size(), 6u);
  EXPECT_EQ(stages[0], "[1/4] vocabulary of " + o.corpus.string() + " ...");
  EXPECT_EQ(stages[2], "[2/4] co-occurrences, window 3 ...");
  EXPECT_EQ(stages[4], "[3/4] training 6-dimensional vectors, 5 iterations (reference convention, shuffle once)");
  EXPECT_EQ(stages[5], "[4/4] saving ...");
  EXPECT_EQ(stages[1].rfind("      360 tokens, 8 distinct, 8 kept -> ", 0), 0u) << stages[1];
}

TEST(EmbedPipeline, UsageErrorsBeforeAnyWork) {
  TempDir dir;
  auto o = tiny_options(dir);
  o.glove.x_max = -1;
  EXPECT_THROW(run_pipeline(o), adakit::UsageError);
  EXPECT_FALSE(fs::exists(o.out / "vocab.txt"));
  o = tiny_options(dir);
  o.show = {"emperor"};
  EXPECT_THROW(run_pipeline(o), adakit::UsageError);
  o = tiny_options(dir);
  o.vocab.min_count = 46;
  try {
    run_pipeline(o);
    ADD_FAILURE() << "no error";
  } catch (const adakit::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no word reaches --min-count 46"), std::string::npos) << e.what();
  }
}

TEST(EmbedPipeline, TrainVectorsFromAnInitFile) {
  TempDir dir;
  const auto o = tiny_options(dir);
  const auto vocab = count_vocabulary_text(read_file(o.corpus), o.vocab);
  const auto records = count_cooccurrences_text(read_file(o.corpus), vocab, o.cooccur);
  auto zero = o.glove;
  zero.iterations = 0;
  zero.vector_size = 4;
  const auto start = init_glove(vocab.size(), zero);
  write_vectors_binary(dir / "init.bin", start);

  // d comes from the file; the accumulators start at the convention's value.
  auto opts = o.glove;
  opts.shuffle = ShuffleMode::none;
  opts.iterations = 2;
  const auto run = train_vectors(vocab, records, opts, {dir / "init.bin", false});
  EXPECT_EQ(run.model.dim, 4);
  auto model = start;
  auto by_hand = opts;
  by_hand.vector_size = 4;
  const auto result = train_glove(model, records, by_hand);
  EXPECT_EQ(run.model.params, model.params);
  EXPECT_EQ(run.result.history.back().cost, result.history.back().cost);
  const auto j = training_json(run, static_cast<std::int64_t>(records.size()));
  EXPECT_EQ(j["vector_size"], 4);
  EXPECT_EQ(j["iterations"], 2);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["costs"].size(), 2u);
  // A vector size that differs from the file's.
  EXPECT_THROW(train_vectors(vocab, records, opts, {dir / "init.bin", true}), adakit::UsageError);
  // save_outputs writes the files asked for, as the writers do.
  save_outputs(vocab, run, {dir / "v.txt", "", dir / "cost.csv", {.model = VectorsModel::word}});
  write_vectors_text(dir / "w.txt", vocab, run.model, {.model = VectorsModel::word});
  EXPECT_EQ(read_file(dir / "v.txt"), read_file(dir / "w.txt"));
  EXPECT_EQ(read_file(dir / "cost.csv"), cost_csv(run.result));
}

}  // namespace
