// The pipeline's steps one at a time (embed/steps.hpp): each step's files equal the step-by-step API's,
// and its JSON object and text carry the step's numbers in `adakit embed`'s format.
#include "adakit/embed/steps.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../data/test_util.hpp"
#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"

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

TEST(EmbedSteps, VocabCooccurShuffle) {
  TempDir dir;
  const auto corpus = write_corpus(dir);
  const auto v = vocab_step(corpus, dir / "vocab.txt", {});
  EXPECT_EQ(v.json["tokens"], 360);
  EXPECT_EQ(v.json["unique"], 8);
  EXPECT_EQ(v.json["vocab_size"], 8);
  EXPECT_EQ(v.json["corpus"], corpus.string());
  EXPECT_EQ(v.text, "360 tokens, 8 distinct words; wrote 8 words to " + (dir / "vocab.txt").string() + "\n");
  EXPECT_EQ(read_vocabulary(dir / "vocab.txt").words().front(), "crown");
  VocabOptions vo;
  vo.max_vocab = 6;
  EXPECT_EQ(vocab_step(corpus, dir / "v6.txt", vo).json["vocab_size"], 6);
  vo.min_count = 46;
  EXPECT_THROW(vocab_step(corpus, dir / "none.txt", vo), adakit::Error);

  CooccurOptions co;
  co.window = 3;
  const auto c = cooccur_step(corpus, dir / "vocab.txt", dir / "co.bin", co);
  EXPECT_EQ(c.json["records"], 26);
  EXPECT_EQ(c.json["runs"], 0);
  EXPECT_EQ(c.json["out"], (dir / "co.bin").string());
  EXPECT_EQ(c.text, "360 tokens; 26 nonzero co-occurrences (0 runs spilled and merged) written to " +
                        (dir / "co.bin").string() + "\n");
  EXPECT_EQ(read_cooccurrences(dir / "co.bin").size(), 26u);
  co.window = 0;
  EXPECT_THROW(cooccur_step(corpus, dir / "vocab.txt", dir / "co0.bin", co), adakit::UsageError);

  const auto s = shuffle_step(dir / "co.bin", dir / "sh.bin", 3);
  EXPECT_EQ(s.json, nlohmann::json({{"in", (dir / "co.bin").string()}, {"out", (dir / "sh.bin").string()},
                                    {"records", 26}, {"seed", 3}}));
  EXPECT_EQ(s.text, "shuffled 26 records into " + (dir / "sh.bin").string() + "\n");
  auto records = read_cooccurrences(dir / "co.bin");
  shuffle_records(records, 3);
  EXPECT_EQ(read_cooccurrences(dir / "sh.bin"), records);
}

TEST(EmbedSteps, TrainEqualsTrainVectorsAndReportsIt) {
  TempDir dir;
  const auto corpus = write_corpus(dir);
  vocab_step(corpus, dir / "vocab.txt", {});
  CooccurOptions co;
  co.window = 3;
  cooccur_step(corpus, dir / "vocab.txt", dir / "co.bin", co);
  TrainStepOptions o;
  o.cooccur = dir / "co.bin";
  o.vocab = dir / "vocab.txt";
  o.glove.vector_size = 6;
  o.glove.iterations = 4;
  o.glove.x_max = 10;
  o.glove.threads = 1;
  o.save.text_out = dir / "vectors.txt";
  o.save.cost_csv = dir / "cost.csv";
  std::vector<std::string> stages;
  PipelineCallbacks cb;
  cb.on_stage = [&](std::string_view s) { stages.emplace_back(s); };
  const auto r = train_step(o, cb);

  const auto vocab = read_vocabulary(o.vocab);
  const auto records = read_cooccurrences(o.cooccur, vocab.size());
  const auto run = train_vectors(vocab, records, o.glove);
  ASSERT_EQ(stages, std::vector<std::string>{"train: 8 words, 26 co-occurrence records, reference convention"});
  EXPECT_EQ(r.json["final_cost"].get<double>(), run.result.history.back().cost);
  EXPECT_EQ(r.json["iterations"], 4);
  EXPECT_EQ(r.json["vocab_size"], 8);
  EXPECT_EQ(r.json["records"], 26);
  EXPECT_EQ(r.json["convention"], "reference");
  EXPECT_GE(r.json["seconds"].get<double>(), 0.0);
  EXPECT_EQ(r.text.substr(0, 23), "trained 4 iterations in");
  EXPECT_NE(r.text.find(adakit::format_printf("final cost %.6f\n", run.result.history.back().cost)), std::string::npos);
  EXPECT_NE(r.text.find("wrote " + (dir / "vectors.txt").string() + "\nwrote " + (dir / "cost.csv").string() + "\n"),
            std::string::npos);
  EXPECT_EQ(read_file(dir / "cost.csv").substr(0, 23), "iteration,cost,seconds\n");

  o.glove.step.eta = 0;  // validated after the files are read
  EXPECT_THROW(train_step(o), adakit::UsageError);
}

TEST(EmbedSteps, QueriesAndTheirText) {
  const WordVectors v({"a", "b", "c", "d"}, 2, {1, 0, 0.8f, 0.6f, 0, 1, -1, 0});
  std::vector<std::string> texts;
  const auto j = nearest_step(v, {"a", "c"}, 2, [&](const std::string& t) { texts.push_back(t); });
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0], "a:\n  b" + std::string(24, ' ') + "0.8000\n  c" + std::string(24, ' ') + "0.0000\n");
  EXPECT_EQ(j["a"][0]["word"], "b");
  EXPECT_EQ(j["c"][0]["word"], "b");
  EXPECT_NEAR(j["c"][0]["similarity"].get<double>(), 0.6, 1e-6);
  texts.clear();
  EXPECT_THROW(nearest_step(v, {"a", "zzz"}, 2, [&](const std::string& t) { texts.push_back(t); }), adakit::UsageError);
  EXPECT_EQ(texts.size(), 1u);  // the word before the unknown one was reported

  const auto an = analogy_step(v, "a", "b", "c", 1);
  const auto expected = analogy(v, "a", "b", "c", 1);
  EXPECT_EQ(an.json["a"], "a");
  EXPECT_EQ(an.json["answers"], neighbours_json(expected));
  EXPECT_EQ(an.text, adakit::format_printf("a : b :: c : ?\n  %-24s %.4f\n", expected[0].word.c_str(),
                                           expected[0].similarity));
}

TEST(EmbedSteps, LoadVectorsByFormat) {
  TempDir dir;
  const auto text = dir / "v.txt";
  std::ofstream(text) << "king 1 0\nqueen 0.9 0.1\n";
  QueryOptions q;
  q.vectors = text;
  EXPECT_EQ(load_vectors(q).size(), 2);
  q.vectors = dir / "v.bin";
  EXPECT_THROW(load_vectors(q), adakit::UsageError);  // binary by its name, no vocabulary
  q.vectors = text;
  q.format = "binary";
  EXPECT_THROW(load_vectors(q), adakit::UsageError);
  q.format = "csv";
  EXPECT_THROW(load_vectors(q), adakit::UsageError);
}

TEST(EmbedSteps, PipelineTextAndProgress) {
  TempDir dir;
  PipelineOptions o;
  o.corpus = write_corpus(dir);
  o.out = dir / "all";
  o.cooccur.window = 3;
  o.glove.vector_size = 6;
  o.glove.iterations = 3;
  o.glove.x_max = 10;
  o.glove.threads = 1;
  o.show = {"king"};
  std::FILE* log = std::tmpfile();
  ASSERT_NE(log, nullptr);
  const PipelineProgress progress(log);
  const auto r = run_pipeline(o, progress.callbacks);
  const auto& h = r.run.result.history;
  std::string want = adakit::format_printf("cost %.6f -> %.6f over 3 iterations\nking:", h.front().cost, h.back().cost);
  for (const auto& x : r.summary["nearest"]["king"]) want += " " + x["word"].get<std::string>();
  want += "\nwrote " + o.out.string() + "/{vocab.txt, cooccurrence.bin, vectors.txt, vectors.bin, cost.csv, summary.json}\n";
  EXPECT_EQ(pipeline_text(r), want);

  std::rewind(log);
  std::string logged;
  for (int ch; (ch = std::fgetc(log)) != EOF;) logged.push_back(static_cast<char>(ch));
  std::fclose(log);
  EXPECT_EQ(logged.rfind("[1/4] vocabulary of " + o.corpus.string() + " ...\n", 0), 0u);
  EXPECT_NE(logged.find("[4/4] saving ...\n"), std::string::npos);
  EXPECT_NE(logged.find("epoch 3/3"), std::string::npos);
}

}  // namespace
