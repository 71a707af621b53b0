// adakit serve's library: the request parser, UTF-8 checks, replies, learning equal to the
// OnlineLearner's (and so to train --init-model), and concurrent predictions while it learns.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>
#include <vector>

#include "adakit/linear/registry.hpp"
#include "adakit/serve/server.hpp"

namespace {
using namespace adakit;
using serve::RequestKind;

serve::ServerOptions options(bool learn, std::int64_t top_k = 1, bool probabilities = false,
                             std::filesystem::path save = {}, std::int64_t snapshot_every = 0) {
  serve::ServerOptions o;
  o.learn = learn;
  o.top_k = top_k;
  o.probabilities = probabilities;
  o.save = std::move(save);
  o.snapshot_every = snapshot_every;
  return o;
}

TEST(ServeRequest, KindsOfLines) {
  auto r = serve::parse_request("a good film\r", true);
  EXPECT_EQ(r.kind, RequestKind::predict);
  EXPECT_EQ(r.body, "a good film");
  r = serve::parse_request(" pos \ta good film", true);
  EXPECT_EQ(r.kind, RequestKind::labelled);
  EXPECT_EQ(r.label, "pos");
  EXPECT_EQ(r.body, "a good film");
  EXPECT_EQ(serve::parse_request("\tno label", true).kind, RequestKind::error);
  EXPECT_EQ(serve::parse_request("   ", true).kind, RequestKind::error);
  EXPECT_EQ(serve::parse_request("!stats", true).kind, RequestKind::command);
  r = serve::parse_request("3:1 7:0.5", false);
  EXPECT_EQ(r.kind, RequestKind::predict);
  r = serve::parse_request("+1 3:1 7:0.5", false);
  EXPECT_EQ(r.kind, RequestKind::labelled);
  EXPECT_EQ(r.label, "+1");
  EXPECT_EQ(r.body, "3:1 7:0.5");
  EXPECT_EQ(serve::parse_request(std::string("a\0b", 3), true).kind, RequestKind::error);
}

TEST(ServeRequest, Utf8) {
  EXPECT_TRUE(serve::valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(serve::valid_utf8("\xff"));
  EXPECT_FALSE(serve::valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(serve::valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(serve::valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(serve::valid_utf8("\xe2\x82"));          // truncated
  EXPECT_EQ(serve::parse_request("\xe2\x82", true).kind, RequestKind::error);
}

// A text model trained on a few lines by the OnlineLearner, with its optimizer kept.
io::LinearModelFile text_model(const std::string& lines) {
  io::LinearModelFile f;
  f.model = linear::LinearModel(linear::LinearTask::logistic, 1);
  f.model.set_class_names({"neg", "pos"});
  f.vectorizer.emplace();
  f.optimizer = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
  linear::OnlineLearner learner(f.model, *f.optimizer, &*f.vectorizer, {});
  learner.learn(lines, "train", 1);
  return f;
}

const char* kTrain = "pos\tgood great fun\nneg\tbad awful dull\npos\tgreat film\nneg\tdull film\n";

TEST(ModelServer, PredictsLearnsAndAnswersErrors) {
  serve::ModelServer server(text_model(kTrain), options(true, 2, true));
  auto j = nlohmann::json::parse(server.handle("a great fun film", 1));
  EXPECT_EQ(j["label"], "pos");
  EXPECT_EQ(j["top"].size(), 2u);
  EXPECT_NEAR(j["probabilities"]["pos"].get<double>() + j["probabilities"]["neg"].get<double>(), 1.0, 1e-6);
  j = nlohmann::json::parse(server.handle("neg\tfun new words", 2));
  EXPECT_EQ(j["learned"], true);
  EXPECT_GT(j["loss"].get<double>(), 0.0);
  j = nlohmann::json::parse(server.handle("maybe\tgood", 3));  // not a class of the model
  EXPECT_NE(j["error"].get<std::string>().find("'maybe' is not one of the model's classes"), std::string::npos);
  EXPECT_EQ(j["request"], 3);
  j = nlohmann::json::parse(server.handle("!stats", 4));
  EXPECT_EQ(j["learned"], 1);
  EXPECT_EQ(j["errors"], 1);
  EXPECT_EQ(j["features"], 9);  // 7 terms, then "new" and "words"
  j = nlohmann::json::parse(server.handle("!snapshot", 5));
  EXPECT_TRUE(j.contains("error"));  // no --save
}

TEST(ModelServer, LearningEqualsTheOnlineLearnerAndPredictionsMeanwhileChangeNothing) {
  std::string more;
  for (int i = 0; i < 200; ++i) more += std::string(i % 2 ? "pos\tgood " : "neg\tdull ") + "w" + std::to_string(i % 37) + "\n";
  io::LinearModelFile expected = text_model(kTrain);
  linear::OnlineLearner learner(expected.model, *expected.optimizer, &*expected.vectorizer, {});
  learner.learn(more, "more", 1);

  serve::ModelServer server(text_model(kTrain), options(true));
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<int> answered{0};
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&] {
      while (!done.load()) {
        const auto j = nlohmann::json::parse(server.handle("good dull w3 w5"));
        if (j.contains("label")) ++answered;
      }
    });
  std::size_t at = 0;
  for (std::int64_t n = 1; at < more.size(); ++n) {
    const auto nl = more.find('\n', at);
    const auto reply = nlohmann::json::parse(server.handle(std::string_view(more).substr(at, nl - at), n));
    EXPECT_EQ(reply["learned"], true);
    at = nl + 1;
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(answered.load(), 0);
  const auto s = nlohmann::json::parse(server.handle("!stats"));
  EXPECT_EQ(s["learned"], 200);
  // The served model, snapshotted, against the learner's.
  const auto path = std::filesystem::temp_directory_path() / ("adakit_serve_test_" + std::to_string(::getpid()) + ".bin");
  serve::ModelServer saver(text_model(kTrain), options(true, 1, false, path));
  at = 0;
  while (at < more.size()) {
    const auto nl = more.find('\n', at);
    saver.handle(std::string_view(more).substr(at, nl - at));
    at = nl + 1;
  }
  ASSERT_TRUE(saver.snapshot());
  io::LinearModelFile back = io::read_linear_model(path, /*sync_weights=*/false);
  std::filesystem::remove(path);
  ASSERT_EQ(back.model.dim(), expected.model.dim());
  EXPECT_EQ(0, std::memcmp(back.model.weights().row(0).data(), expected.model.weights().row(0).data(), sizeof(float)));
  for (std::int64_t j = 0; j < back.model.dim(); ++j)
    EXPECT_EQ(back.model.weights().row(j)[0], expected.model.weights().row(j)[0]) << j;
  EXPECT_EQ(back.optimizer->steps(), expected.optimizer->steps());
  EXPECT_EQ(back.vectorizer->feature_names(), expected.vectorizer->feature_names());
}

TEST(ModelServer, RefusesBadOptions) {
  EXPECT_THROW(serve::ModelServer(text_model(kTrain), options(false, 0)), UsageError);
  EXPECT_THROW(serve::ModelServer(text_model(kTrain), options(false, 1, false, {}, 5)), UsageError);
}

}  // namespace
