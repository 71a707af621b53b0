// Writes the committed seed corpus of each fuzz target (fuzz/corpus/<target>/): small valid inputs
// and a few near misses. Binary seeds (safetensors, checkpoints, IDX, CIFAR) come from adakit's own
// writers, so they track the formats. Run by `scripts/fuzz.sh --seeds`.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "adakit/data/text.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/checkpoint.hpp"
#include "adakit/io/compact_model.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/io/model.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/model.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"
#include "fuzz_model.hpp"

namespace fs = std::filesystem;
using namespace adakit;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

struct Killed {};
struct KillAt : train::Callback {
  std::int64_t at;
  explicit KillAt(std::int64_t a) : at(a) {}
  void on_state(const train::FitState& s, train::StatePoint p) override {
    if (p == train::StatePoint::batch_end && (s.epoch - 1) * s.batches_per_epoch + s.batch == at) throw Killed{};
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds CORPUS_DIR\n";
    return 2;
  }
  root = argv[1];
  // ---- csv
  put("csv", "header_text_labels", "a,b,label\n1,2,yes\n3,4.5,no\n-1e3,+7,yes\n");
  put("csv", "quoted_semicolon", "\"x\";\"y, z\";label\n1;2;3\n\"4\";5;6\n");
  put("csv", "no_header_numeric", "0.5,1,0\n1.5,2,1\n2.5,3,1\n\n");
  put("csv", "bom_crlf", "\xEF\xBB\xBFp,q\r\n1,a\r\n2,b\r\n");
  // ---- libsvm
  put("libsvm", "classification", "+1 1:0.5 3:1 # comment\n-1 qid:3 2:1 7:-2.5\n\n+1 4:1e-3\n");
  put("libsvm", "regression", "2.5 1:1 2:2\n-0.25 10:3\n");
  put("libsvm", "weighted", "1:2.5 1:0.5 3:1.5 # weighted\n0 2:1 3:-0.25\n1:0 1:1 4:2\n-1:0.125 qid:3 2:0.75\n");
  put("libsvm", "multilabel", "1,3 1:0.5 4:1\n2:0.5 2:1\n3,2,1 7:2\n");
  // ---- text_tsv
  put("text_tsv", "labels", "pos\tA good film, truly\nneg\tbad bad film\r\npos\t\xC3\x89t\xC3\xA9 fran\xC3\xA7" "ais\n");
  // ---- idx: 2-byte split, images (2 of 2x3), labels
  {
    const std::string images = be32(0x803) + be32(2) + be32(2) + be32(3) + std::string("\x00\x10\x20\x30\x40\xff\x01\x02\x03\x04\x05\x06", 12);
    const std::string labels = be32(0x801) + be32(2) + std::string("\x01\x00", 2);
    const auto n = static_cast<std::uint16_t>(images.size());
    put("idx", "two_images", std::string{static_cast<char>(n & 0xff), static_cast<char>(n >> 8)} + images + labels);
  }
  // ---- cifar: two records
  {
    std::string rec(3073, '\x07');
    rec[0] = 3;
    std::string rec2(3073, '\xf0');
    rec2[0] = 9;
    put("cifar", "two_records", rec + rec2);
  }
  // ---- model_json
  {
    auto m = fuzz::tiny_model();
    put("model_json", "sequential", m.config().dump());
    put("model_json", "layers", R"([{"kind":"conv2d","in_channels":1,"out_channels":2,"kernel_size":3,"padding":1,"seed":3},)"
                                R"({"kind":"max_pool2d","kernel_size":2},{"kind":"flatten"},{"kind":"embedding","num_embeddings":4,"embedding_dim":2}])");
    linear::LinearModel lm(linear::LinearTask::softmax, 6, 3);
    lm.weight_row(2)[1] = 0.5f;
    lm.bias()[0] = -1.0f;
    put("model_json", "linear", lm.to_json().dump());
    data::TextVectorizerOptions o;
    o.ngram_max = 2;
    o.weighting = data::TextWeighting::tfidf;
    data::TextVectorizer v(o);
    const std::vector<std::string> texts{"a good film", "bad film", "good good"};
    v.fit(texts);
    put("model_json", "vectorizer", v.to_json().dump());
  }
  // ---- glove: first byte = reader (0 vocab, 1 text vectors, 2 cooccurrences, 3 binary vectors,
  //      4 vocabulary + binary vectors), see fuzz_glove.cpp
  {
    auto doubles = [](std::initializer_list<double> v) {
      std::string b;
      for (double x : v) b.append(reinterpret_cast<const char*>(&x), sizeof x);
      return b;
    };
    put("glove", "vocab", std::string("\x00", 1) + "the 5\nof 3\ncat 2\r\n");
    put("glove", "vectors_header", std::string("\x01", 1) + "3 2\nthe 0.5 -1\nof 1e-3 2\ncat -0.25 0.125\n");
    put("glove", "vectors_plain", std::string("\x01", 1) + "a 1 0 0\nb 0 1 0\nc 0 0 1\nd 1 1 1\n");
    std::string records;
    for (auto [w1, w2, v] : {std::tuple{1, 2, 1.5}, std::tuple{2, 3, 0.5}, std::tuple{3, 1, 2.0}}) {
      const std::int32_t ids[2] = {w1, w2};
      records.append(reinterpret_cast<const char*>(ids), sizeof ids).append(doubles({v}));
    }
    put("glove", "cooccurrences", std::string("\x02", 1) + records);
    // 2 words, d = 2: 2 V (d + 1) float64 (word rows then context rows, each [vector, bias])
    const std::string params = doubles({0.5, -1, 0.25, 1, 2, -0.5, 0.125, 0.5, 0, -2, 1, 1});
    put("glove", "vectors_binary", std::string("\x03\x01", 2) + params);
    const std::string vocab = "a 2\nb 1\n";
    put("glove", "vocab_and_binary", std::string("\x04\x02", 2) + static_cast<char>(vocab.size()) + '\0' + vocab + params);
  }
  // ---- safetensors and checkpoints (written by adakit, read back as bytes)
  const fs::path tmp = fs::temp_directory_path() / "adakit_make_seeds.safetensors";
  {
    io::TensorFile f;
    f.tensors.emplace("w", Tensor::from({2, 2}, {1.f, -2.f, 3.5f, 0.f}));
    f.tensors.emplace("empty", Tensor({0, 3}));
    f.metadata["note"] = "x";
    io::write_safetensors(tmp, f);
    put("safetensors", "plain", slurp(tmp));
    auto m = fuzz::tiny_model();
    io::save_model(tmp, m, {"softmax_ce", {2}, {"a", "b", "c"}, {"x", "y"}, {0.f, 1.f}, {1.f, 2.f}, "tiny"});
    put("safetensors", "model", slurp(tmp));
  }
  const auto train = fuzz::tiny_dataset();
  for (const char* name : {"adagrad", "adam", "sgd"}) {
    for (std::int64_t kill : {5, 9}) {
      auto model = fuzz::tiny_model();
      auto opt = optim::make_optimizer(name, model.parameters());
      opt->set_schedule(optim::Schedule::parse("step:size=3,gamma=0.5"));
      io::CheckpointWriter writer(tmp, model, *opt, 1, {{"adakit.run", "{}"}});
      KillAt killer(kill);
      std::vector<train::Callback*> cbs{&writer, &killer};
      try {
        train::fit(model, *opt, train, &train, train::Objective::softmax_ce, fuzz::tiny_fit_options(), cbs);
      } catch (const Killed&) {
      }
      put("checkpoint", std::string(name) + "_batch" + std::to_string(kill), slurp(tmp));
    }
  }
  // Sparse linear runs: every linear optimizer, saved mid-epoch (after batch 4) and at the end.
  const auto sparse = fuzz::tiny_sparse_dataset();
  for (const auto& info : linear::linear_optimizers()) {
    auto model = linear::LinearModel::for_dataset(sparse);
    optim::OptionMap options;
    if (info.name != "adagrad") options = {{"l1", "0.01"}, {"l2", "0.1"}};
    auto opt = linear::make_linear_optimizer(info.name, options);
    int saves = 0;
    linear::FitCheckpoints cp;
    cp.every = 4;
    cp.save = [&](const linear::FitState& st) {
      if (++saves > 2 && st.epoch < fuzz::tiny_linear_fit_options().epochs) return;
      io::save_linear_checkpoint(tmp, model, opt->name(), opt->option_map(), opt->state(model), st, 5, 2,
                                 {{"adakit.run", "{}"}});
      put("linear_checkpoint", std::string(info.name) + "_" + std::to_string(st.epoch) + "_" + std::to_string(st.next),
          slurp(tmp));
    };
    linear::fit(model, *opt, sparse, fuzz::tiny_linear_fit_options(), {}, cp);
  }
  // ---- linear_model: binary model files (LIBSVM and text models, with and without a kept optimizer
  //      state), a JSON model file, and a linear checkpoint of a text model.
  {
    const auto save = [&](const std::string& name, const linear::LinearModel& m, const data::TextVectorizer* v,
                          const linear::LinearOptimizer* o) {
      const fs::path file = tmp.string() + (name.ends_with("json") ? ".json" : ".bin");
      io::save_linear_model(file, m, v, o);
      put("linear_model", name, slurp(file));
      fs::remove(file);
    };
    for (const char* name : {"adagrad", "ftrl"}) {
      auto model = linear::LinearModel::for_dataset(sparse);
      auto opt = linear::make_linear_optimizer(name, name == std::string("ftrl") ? optim::OptionMap{{"l1", "0.05"}}
                                                                                : optim::OptionMap{});
      linear::fit(model, *opt, sparse, fuzz::tiny_linear_fit_options());
      save(std::string("libsvm_") + name, model, nullptr, nullptr);
      save(std::string("libsvm_") + name + "_state", model, nullptr, opt.get());
      // Calibrated (adakit train --calibrate): the calibrator in the binary file's metadata and in JSON.
      if (name == std::string("adagrad"))
        for (const auto method : {linear::CalibrationMethod::platt, linear::CalibrationMethod::isotonic}) {
          linear::LinearModel calibrated = model;
          calibrated.set_calibrator(linear::Calibrator::fit(linear::decision_function(model, sparse.features),
                                                            sparse.labels, model.classes(), {.method = method}));
          const std::string tag = "libsvm_calibrated_" + std::string(linear::to_string(method));
          save(tag, calibrated, nullptr, nullptr);
          save(tag + "_json", calibrated, nullptr, nullptr);
        }
      // adakit export's compact files (io/compact_model.hpp): float32 and int8 with per-feature scales.
      io::LinearModelFile file;
      file.model = model;
      put("linear_model", std::string("compact_libsvm_") + name + "_none",
          io::compact_model_bytes(io::compact_model(file, {.quantize = io::Quantize::none})));
      put("linear_model", std::string("compact_libsvm_") + name + "_int8_feature",
          io::compact_model_bytes(io::compact_model(file, {.scale_by = io::QuantizeScale::feature})));
    }
    // The one-vs-rest losses (adakit train --loss squared_hinge / ova): their task names in the files.
    for (const char* task : {"squared_hinge", "ova"}) {
      auto model = linear::LinearModel::for_dataset(sparse, 0, task);
      auto opt = linear::make_linear_optimizer("adagrad", {});
      linear::fit(model, *opt, sparse, fuzz::tiny_linear_fit_options());
      save(std::string("libsvm_") + task, model, nullptr, opt.get());
    }
    for (const std::int32_t hash_bits : {0, 4}) {
      data::TextVectorizerOptions o;
      o.ngram_max = 2;
      o.weighting = data::TextWeighting::tfidf;
      o.hash_bits = hash_bits;
      data::TextDataset t;
      t.texts = {"a good film", "bad film", "good good fun", "awful bad plot"};
      t.labels = {1, 0, 1, 0};
      t.class_names = {"neg", "pos"};
      data::TextVectorizer v(o);
      v.fit(t.texts);
      const data::SparseDataset d = data::vectorize(t, v);
      auto model = linear::LinearModel::for_dataset(d);
      auto opt = linear::make_linear_optimizer("adagrad", {{"lr", "0.5"}});
      linear::fit(model, *opt, d, {.epochs = 2, .batch_size = 1, .seed = 1});
      const std::string kind = hash_bits > 0 ? "text_hashed" : "text";
      save(kind, model, &v, nullptr);
      save(kind + "_state", model, &v, opt.get());
      io::LinearModelFile file;
      file.model = model;
      file.vectorizer = v;
      // (Their idf is a table of document counts, "vectorizer.df"; the committed compact_text*_float64_idf
      // seeds are the same files as written before that table, kept for the reader's older path.)
      put("linear_model", "compact_" + kind, io::compact_model_bytes(io::compact_model(file, {})));
      if (hash_bits == 0)
        put("linear_model", "compact_text_kept_vocabulary",
            io::compact_model_bytes(io::compact_model(file, {.prune = 0.01, .keep_vocabulary = true})));
      if (hash_bits == 0) {
        save("text_json", model, &v, nullptr);
        io::save_linear_checkpoint(tmp, model, opt->name(), opt->option_map(), opt->state(model), {}, 1, 1,
                                   io::linear_model_metadata(&v));
        put("linear_model", "text_checkpoint", slurp(tmp));
      }
    }
  }
  // ---- serve_request: a mode byte (fuzz_serve_request.cpp: 0 text, 1 text learning, 2 LIBSVM, 3 LIBSVM
  //      learning), then request lines: texts, labelled texts, LIBSVM rows, commands, bad requests, a
  //      line over 64 bytes (the predicting stream servers' max_line_bytes), a last line without its newline.
  {
    const std::string text = "a good film\npos\tgood fun plot\nneg\tbad awful film\r\n!stats\nneutral\tfilm\n"
                             "\tno label\n  pos  \t spaced label\n!snapshot\na good film\n";
    const std::string libsvm = "1:1 3:0.5\n+1 2:1 4:-2\n-1 1:1 7:2\n3 5:1 6:1\n1\n2.5 1:1\n1 3:x\n1 5:1 3:1\n"
                               "-1 0:1\n1 qid:2 1:1\n1:1 99:1\n!snapshot\n!stats\n";
    const std::string bad = std::string("\xff\xfe\n\r\n\n \t \n!nope\na") + '\0' + "b\npos\t" + std::string(80, 'x') +
                            "\nfilm\n1 2:1 no newline";
    const std::string utf8 = "pos\t\xC3\xA9t\xC3\xA9 caf\xC3\xA9\n\xED\xA0\x80\n\xF4\x90\x80\x80\n\xE0\x80\xAF\n"
                             "\xF0\x9F\x98\x80 good\n\xC2\n";
    for (const char mode : {'\0', '\1'}) {
      put("serve_request", "text_" + std::to_string(mode), mode + text);
      put("serve_request", "utf8_" + std::to_string(mode), mode + utf8);
    }
    for (const char mode : {'\2', '\3'}) put("serve_request", "libsvm_" + std::to_string(mode), mode + libsvm);
    for (const char mode : {'\0', '\1', '\2', '\3'}) put("serve_request", "bad_" + std::to_string(mode), mode + bad);
  }
  fs::remove(tmp);
  return 0;
}
