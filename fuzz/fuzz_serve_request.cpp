// libFuzzer target: the requests of adakit serve (serve/server.hpp). The first byte picks the server
// (mod 4), the rest is split at '\n' into request lines:
//   0  text model, 2 classes, predicting (top 2, probabilities)      1  the same, learning (adagrad
//   2  LIBSVM model, 3 classes, predicting (top 3, probabilities)       with its state, --save)
//   3  learning LIBSVM: softmax with adagrad-l1 (lazy: predictions refresh the weights they read) and
//      regression with a fresh optimizer (the file keeps none)
// The models are trained once (linear::fit) and parsed back from their files as adakit serve reads them.
// Every request line goes to serve::parse_request (text and LIBSVM): its views lie inside the line, it
// is an error exactly when it says why, and serve::valid_utf8 agrees with a reference decoder
// (Unicode's table of well-formed byte sequences). Then ModelServer::handle: every reply is one line
// holding one JSON object; a request that parses as an error gets an "error" reply; a prediction names
// a class of the model, with top-k and probabilities that add up to 1; a learning server says
// "learned" exactly on the labelled requests it takes; the stats count the replies. Predicting, the
// whole input also goes to serve::serve_stream (max_line_bytes 64): one reply line per request line,
// the same as handle()'s for a line that fits, the too-long error for one that does not. Learning text,
// a !snapshot (the first of an input) after the last learnt request writes a file that reads back and
// predicts as the server does. Learning LIBSVM servers skip lines with an index of 4 digits or more
// (the model grows to the largest index: up to 2^27 columns, more than the fuzzer's 2 GiB).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/data/text.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/serve/server.hpp"
#include "fuzz_util.hpp"

namespace fs = std::filesystem;
using namespace adakit;
using nlohmann::json;

// A broken promise: a message naming it, then abort() (libFuzzer keeps the input).
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "fuzz_serve_request: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace {

// Unicode 15, table 3-7: the well-formed UTF-8 byte sequences.
bool reference_utf8(std::string_view s) {
  const auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const std::size_t left = s.size() - i;
    const unsigned char c = b(0);
    if (c <= 0x7F) {
      i += 1;
    } else if (in(c, 0xC2, 0xDF)) {
      if (left < 2 || !in(b(1), 0x80, 0xBF)) return false;
      i += 2;
    } else if (in(c, 0xE0, 0xEF)) {
      const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (left < 3 || !in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3;
    } else if (in(c, 0xF0, 0xF4)) {
      const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (left < 4 || !in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// A LIBSVM index of 4 digits or more: a digit run of that length right before a ':'.
bool large_index(std::string_view line) {
  std::size_t run = 0;
  for (const char c : line) {
    if (c >= '0' && c <= '9') {
      ++run;
    } else {
      if (c == ':' && run >= 4) return true;
      run = 0;
    }
  }
  return false;
}

std::string saved_bytes(const linear::LinearModel& m, const data::TextVectorizer* v, const linear::LinearOptimizer* o,
                        const fs::path& dir, const char* name) {
  const fs::path file = dir / name;
  io::save_linear_model(file, m, v, o);
  std::string bytes = read_file_bytes(file);
  fs::remove(file);
  return bytes;
}

// The tiny models as model files (bytes), trained once.
struct Models {
  fs::path dir;  // snapshots go here (tmpfs when there is one: a snapshot fsyncs)
  std::string text_state, libsvm, libsvm_lazy_state, regression;
  std::vector<std::string> text_classes, libsvm_classes;
};

const Models& models() {
  static const Models m = [] {
    Models out;
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    out.dir = base / ("adakit_fuzz_serve." + std::to_string(::getpid()));
    fs::create_directories(out.dir);
    static const fs::path cleanup = out.dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(cleanup, ec);
    });
    {
      const data::TextDataset t = data::parse_text_tsv(
          "pos\ta good film\nneg\tbad film\npos\tgood good fun\nneg\tawful bad plot\npos\tfun plot\n", "seed");
      data::TextVectorizerOptions o;
      o.ngram_max = 2;
      data::TextVectorizer v(o);
      v.fit(t.texts);
      const data::SparseDataset d = data::vectorize(t, v);
      auto model = linear::LinearModel::for_dataset(d);
      auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
      linear::fit(model, *opt, d, {.epochs = 2, .batch_size = 1, .seed = 1, .sync = false});
      out.text_state = saved_bytes(model, &v, opt.get(), out.dir, "text.bin");
      out.text_classes = model.class_names();
    }
    {
      const data::SparseDataset d =
          data::parse_libsvm("+1 1:1 3:0.5\n-1 2:1 4:-2\n3 5:1 6:1\n+1 1:0.5 6:1\n-1 2:2\n3 5:0.25\n", "seed");
      auto model = linear::LinearModel::for_dataset(d);
      auto opt = linear::make_linear_optimizer("adagrad-l1", {{"lr", "0.5"}, {"l1", "0.01"}});
      linear::fit(model, *opt, d, {.epochs = 3, .batch_size = 2, .seed = 2, .sync = false});
      out.libsvm_lazy_state = saved_bytes(model, nullptr, opt.get(), out.dir, "libsvm_state.bin");
      opt->sync(model);
      out.libsvm = saved_bytes(model, nullptr, nullptr, out.dir, "libsvm.bin");
      out.libsvm_classes = model.class_names();
    }
    {
      data::LibsvmOptions o;
      o.task = data::LibsvmOptions::Task::regression;
      const data::SparseDataset d = data::parse_libsvm("2.5 1:1 2:2\n-0.25 3:3\n1 1:0.5 3:1\n", "seed", o);
      auto model = linear::LinearModel::for_dataset(d);
      auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.1"}});
      linear::fit(model, *opt, d, {.epochs = 2, .batch_size = 1, .seed = 3});
      out.regression = saved_bytes(model, nullptr, nullptr, out.dir, "regression.bin");
    }
    return out;
  }();
  return m;
}

// As adakit serve reads its file: a learning server keeps a lazy optimizer's weights as saved.
// `verify`: check the payload's checksum (on a second thread: a thread per call, slow under ASan).
std::unique_ptr<serve::ModelServer> make_server(const std::string& bytes, serve::ServerOptions o,
                                                std::unique_ptr<linear::LinearOptimizer> fresh = nullptr,
                                                bool verify = false) {
  const bool sync_weights = !o.learn;
  return std::make_unique<serve::ModelServer>(io::parse_linear_model(bytes, "fuzz", verify, sync_weights),
                                              std::move(o), std::move(fresh));
}

// One server and what its replies said, checked reply by reply.
struct Checked {
  Checked(serve::ModelServer& s, const std::vector<std::string>* c) : server(s), classes(c), before(s.stats()) {}
  serve::ModelServer& server;
  const std::vector<std::string>* classes;  // null: regression
  const serve::ServerStats before;          // the counters of earlier inputs (the servers made once)
  std::int64_t requests = 0, errors = 0, learned = 0, predictions = 0;

  std::string handle(std::string_view line, std::int64_t n) {
    const std::string reply = server.handle(line, n);
    ++requests;
    FUZZ_CHECK(reply.find('\n') == std::string::npos, "a reply is one line");
    const json j = json::parse(reply, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(j.is_object(), "a reply is a JSON object");
    const serve::Request r = serve::parse_request(line, server.text_model());
    if (r.kind == serve::RequestKind::error) FUZZ_CHECK(j.contains("error"), "a bad request gets an error reply");
    if (j.contains("error")) {
      ++errors;
      FUZZ_CHECK(j.at("error").is_string() && j.size() == (n > 0 ? 2u : 1u) && (n <= 0 || j.at("request") == n),
                 "an error reply holds the error and the request number");
      return reply;
    }
    FUZZ_CHECK(r.kind != serve::RequestKind::error, "a bad request is answered");
    if (r.kind == serve::RequestKind::command) return reply;
    ++predictions;
    const bool learnt = j.contains("learned");
    if (learnt) ++learned;
    FUZZ_CHECK(learnt == (server.options().learn && r.kind == serve::RequestKind::labelled),
               "exactly the labelled requests of a learning server are learnt");
    if (classes == nullptr) {
      FUZZ_CHECK(j.contains("prediction") && !j.contains("label"), "a regression reply holds the prediction");
      return reply;
    }
    FUZZ_CHECK(j.contains("label") && j.at("label").is_string(), "a classification reply holds a label");
    const auto label = j.at("label").get<std::string>();
    FUZZ_CHECK(std::find(classes->begin(), classes->end(), label) != classes->end(), "the label is a class");
    if (server.options().top_k > 1) {
      const auto k = std::min(classes->size(), static_cast<std::size_t>(server.options().top_k));
      FUZZ_CHECK(j.contains("top") && j.at("top").is_array() && j.at("top").size() == k,
                 "top holds min(k, classes) entries");
      FUZZ_CHECK(j.at("top").at(0).at("label") == j.at("label"), "the first of top is the label");
    }
    if (server.options().probabilities) {
      FUZZ_CHECK(j.contains("probabilities") && j.at("probabilities").is_object() &&
                     j.at("probabilities").size() == classes->size(),
                 "probabilities of every class");
      double sum = 0.0;
      bool finite = true;
      for (const auto& [name, p] : j.at("probabilities").items()) {
        finite = finite && p.is_number() && std::isfinite(p.get<double>());
        if (finite) sum += p.get<double>();
      }
      FUZZ_CHECK(!finite || std::fabs(sum - 1.0) < 1e-3, "the probabilities add up to 1");
    }
    return reply;
  }

  void check_stats() const {
    const serve::ServerStats s = server.stats();
    FUZZ_CHECK(s.requests - before.requests == requests && s.errors - before.errors == errors &&
                   s.learned - before.learned == learned && s.predictions - before.predictions == predictions,
               "the stats count the replies");
  }
};

std::vector<std::string_view> split_lines(std::string_view input) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < input.size()) {
    const std::size_t nl = input.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(input.substr(start));
      break;
    }
    lines.push_back(input.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// serve_stream over `input`: its replies, one string per line.
std::vector<std::string> stream_replies(serve::ModelServer& server, const std::uint8_t* data, std::size_t size) {
  static fuzz::MemFile file("serve_request");
  std::FILE* in = std::fopen(file.write(data, size).c_str(), "rb");
  FUZZ_CHECK(in != nullptr, "the input file opens");
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* out = ::open_memstream(&buf, &len);
  FUZZ_CHECK(out != nullptr, "a memory stream");
  serve::serve_stream(server, in, out);
  std::fclose(out);
  std::fclose(in);
  const std::string text(buf, len);
  std::free(buf);
  FUZZ_CHECK(text.empty() || text.back() == '\n', "each reply ends its line");
  std::vector<std::string> replies;
  for (const auto l : split_lines(text)) replies.emplace_back(l);
  return replies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Models& m = models();
  const int mode = data[0] % 4;
  ++data, --size;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> lines = split_lines(input);

  for (const auto line : lines) {
    std::string_view unended = line;
    if (!unended.empty() && unended.back() == '\r') unended.remove_suffix(1);
    const bool utf8 = reference_utf8(unended);
    FUZZ_CHECK(serve::valid_utf8(unended) == utf8, "valid_utf8 agrees with the reference decoder");
    for (const bool text : {true, false}) {
      const serve::Request r = serve::parse_request(line, text);
      FUZZ_CHECK((r.kind == serve::RequestKind::error) == !r.error.empty(), "an error request says why");
      FUZZ_CHECK(inside(r.line, line) && inside(r.label, r.line) && inside(r.body, r.line), "views inside the line");
      if (!utf8) FUZZ_CHECK(r.kind == serve::RequestKind::error, "invalid UTF-8 is an error");
      if (r.kind == serve::RequestKind::labelled) FUZZ_CHECK(!r.label.empty(), "a labelled request has its label");
      if (text && r.kind == serve::RequestKind::predict)
        FUZZ_CHECK(line.find('\t') == std::string_view::npos, "a text to predict has no tab");
    }
  }

  if (mode == 0 || mode == 2) {
    // Predicting: the servers change nothing but their counters, so they are made once. serve_stream
    // (max_line_bytes 64) over the same requests replies as handle() does.
    static auto text_predict = make_server(m.text_state, {.top_k = 2, .probabilities = true});
    static auto libsvm_predict = make_server(m.libsvm, {.top_k = 3, .probabilities = true});
    static auto text_stream = make_server(m.text_state, {.top_k = 2, .probabilities = true, .max_line_bytes = 64});
    static auto libsvm_stream = make_server(m.libsvm, {.top_k = 3, .probabilities = true, .max_line_bytes = 64});
    const bool text = mode == 0;
    Checked checked(text ? *text_predict : *libsvm_predict, text ? &m.text_classes : &m.libsvm_classes);
    std::vector<std::string> direct;
    for (std::size_t i = 0; i < lines.size(); ++i)
      direct.push_back(checked.handle(lines[i], static_cast<std::int64_t>(i + 1)));
    checked.check_stats();
    const std::vector<std::string> streamed = stream_replies(text ? *text_stream : *libsvm_stream, data, size);
    FUZZ_CHECK(streamed.size() == lines.size(), "serve_stream answers every line");
    for (std::size_t i = 0; i < streamed.size(); ++i) {
      const serve::Request r = serve::parse_request(lines[i], text);
      if (lines[i].size() > 64) {
        FUZZ_CHECK(streamed[i].find("--max-line-bytes") != std::string::npos, "a long line gets the too-long error");
      } else if (!(r.kind == serve::RequestKind::command && r.body == "stats")) {
        FUZZ_CHECK(streamed[i] == direct[i], "serve_stream replies as handle()");
      }
    }
  } else if (mode == 1) {
    // Learning, text: made for each input (learning changes the model).
    const fs::path snapshot = m.dir / "snapshot.bin";
    std::error_code ec;
    fs::remove(snapshot, ec);
    auto server = make_server(m.text_state, {.learn = true, .top_k = 2, .save = snapshot});
    Checked checked(*server, &m.text_classes);
    bool snapshot_taken = false;
    std::int64_t learned_at_snapshot = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const serve::Request r = serve::parse_request(lines[i], true);
      const bool snapshot_request = r.kind == serve::RequestKind::command && r.body == "snapshot";
      if (snapshot_request && snapshot_taken) continue;  // one an input: a snapshot is slow (a 1 MiB buffer, fsync)
      checked.handle(lines[i], static_cast<std::int64_t>(i + 1));
      if (snapshot_request) snapshot_taken = true, learned_at_snapshot = checked.learned;
    }
    checked.check_stats();
    if (snapshot_taken) FUZZ_CHECK(fs::exists(snapshot), "!snapshot wrote the snapshot");
    // A !snapshot after the last learnt request: the snapshot reads back (checksums verified) and
    // predicts as the server does.
    if (snapshot_taken && checked.learned == learned_at_snapshot) {
      auto again = make_server(read_file_bytes(snapshot), {.top_k = 2}, nullptr, /*verify=*/true);
      for (const char* probe : {"a good film", "bad plot fun", "\xC3\xA9t\xC3\xA9 good"})
        FUZZ_CHECK(again->handle(probe) == server->handle(probe), "the snapshot predicts as the server");
      const json a = json::parse(again->handle("!stats")), b = json::parse(server->handle("!stats"));
      FUZZ_CHECK(a.at("features") == b.at("features"), "the snapshot has the server's features");
    }
  } else {
    // Learning, LIBSVM: a lazy optimizer (its predictions refresh the weights they read) and a
    // regression model with a fresh optimizer. Lines with a large index are skipped (see the top).
    auto lazy = make_server(m.libsvm_lazy_state, {.learn = true, .top_k = 3, .probabilities = true});
    auto regression =
        make_server(m.regression, {.learn = true}, linear::make_linear_optimizer("adagrad", {{"lr", "0.05"}}));
    Checked checked_lazy(*lazy, &m.libsvm_classes), checked_regression(*regression, nullptr);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (large_index(lines[i])) continue;
      checked_lazy.handle(lines[i], static_cast<std::int64_t>(i + 1));
      checked_regression.handle(lines[i], static_cast<std::int64_t>(i + 1));
    }
    checked_lazy.check_stats();
    checked_regression.check_stats();
  }
  return 0;
}
