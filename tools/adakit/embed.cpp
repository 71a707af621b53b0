// adakit embed: GloVe word embeddings trained with AdaGrad, reading and writing the reference tools'
// files (vocab_count, cooccur, shuffle, glove). Subcommands: vocab, cooccur, shuffle, train, nearest,
// analogy, and all (the whole pipeline into one directory).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/embed/cooccur.hpp"
#include "adakit/embed/glove.hpp"
#include "adakit/embed/vectors.hpp"
#include "adakit/embed/vocab.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/train/progress.hpp"
#include "common.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {
namespace fs = std::filesystem;
using namespace adakit::embed;

struct Output {
  bool json = false, quiet = false;
  bool talk() const { return !json && !quiet; }
};

void add_output_flags(CLI::App& app, Output& o) {
  app.add_flag("--json", o.json, "print one JSON object instead of the text");
  app.add_flag("--quiet,-q", o.quiet, "print nothing but errors");
}

// ---------------------------------------------------------------- shared flag groups

struct VocabFlags {
  VocabOptions options;
  std::string tokenizer = "whitespace";
};

void add_tokenizer_flag(CLI::App& app, std::string& tokenizer) {
  app.add_option("--tokenizer", tokenizer,
                 "whitespace (words between spaces/tabs, as GloVe's tools) | words (lower-cased runs of 2+ word "
                 "characters, adakit's text tokenizer)")
      ->capture_default_str()
      ->check(CLI::IsMember({"whitespace", "words"}));
}

void add_vocab_flags(CLI::App& app, VocabFlags& f) {
  app.add_option("--min-count", f.options.min_count, "drop words seen fewer times")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  app.add_option("--max-vocab", f.options.max_vocab, "keep at most this many words, most frequent first (0 = all)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{INT32_MAX}));
}

struct CooccurFlags {
  CooccurOptions options;
  std::string temp_dir;
};

void add_cooccur_flags(CLI::App& app, CooccurFlags& f) {
  app.add_option("--window", f.options.window, "context words on each side (left only with --symmetric 0)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--symmetric", f.options.symmetric, "1: left and right context; 0: left only")->capture_default_str();
  app.add_option("--distance-weighting", f.options.distance_weighting,
                 "1: a pair k words apart adds 1/k; 0: adds 1")
      ->capture_default_str();
  app.add_option("--memory", f.options.memory_gb,
                 "soft memory limit in GB for the counting tables; beyond it sorted runs spill to disk and are merged")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-product", f.options.max_product,
                 "dense table for word pairs whose frequency ranks multiply to at most this (0 = from --memory)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--overflow-length", f.options.overflow_length,
                 "records buffered before a sorted run is written to disk (0 = from --memory)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--temp-dir", f.temp_dir, "directory for the spilled runs (default: the output's directory)");
}

struct TrainFlags {
  GloveOptions options;
  std::string convention = "reference", shuffle = "once", init;
  std::optional<double> initial_accumulator;
  CLI::Option* vector_size = nullptr;
};

void add_train_flags(CLI::App& app, TrainFlags& f) {
  f.vector_size = app.add_option("--vector-size,-d", f.options.vector_size, "dimension of the word vectors")
                      ->capture_default_str()
                      ->check(CLI::Range(1, 100000));
  app.add_option("--iter", f.options.iterations, "passes over the co-occurrence records")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  app.add_option("--eta", f.options.step.eta, "AdaGrad's learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--x-max", f.options.x_max, "weighting cutoff: f(x) = min(1, (x / x_max)^alpha)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--alpha", f.options.alpha, "weighting exponent")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--grad-clip", f.options.step.grad_clip,
                 "clip gradient components to [-v, v] (reference: vector components only; 0 = off)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--convention", f.convention,
                 "reference: glove.c's AdaGrad (accumulators from 1, step with the sum before the gradient, eta "
                 "inside the sum, no eta on biases) | standard: adakit's AdaGrad (accumulate then step, eps)")
      ->capture_default_str()
      ->check(CLI::IsMember({"reference", "standard"}));
  app.add_option("--eps", f.options.step.eps, "standard convention: eps outside the root")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option_function<double>(
         "--initial-accumulator", [&f](const double& v) { f.initial_accumulator = v; },
         "AdaGrad's initial sum (default: reference 1, standard 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--shuffle", f.shuffle,
                 "record order: once (shuffled once, as shuffle + glove) | epoch (reshuffled every iteration) | "
                 "none (as in the file)")
      ->capture_default_str()
      ->check(CLI::IsMember({"once", "epoch", "none"}));
  app.add_option("--seed", f.options.seed, "seed of the initial vectors and the shuffles")->capture_default_str();
  app.add_option("--threads,-j", f.options.threads, "Hogwild threads (0 = adakit's thread count)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_option("--init", f.init,
                 "start from a binary parameter file (vectors.bin layout) instead of random vectors; d from its size")
      ->check(CLI::ExistingFile);
}

GloveOptions resolve(TrainFlags& f) {
  GloveOptions o = f.options;
  o.step.convention = glove_convention_from_string(f.convention);
  o.shuffle = shuffle_mode_from_string(f.shuffle);
  o.initial_accumulator = f.initial_accumulator;
  o.validate();
  return o;
}

struct SaveFlags {
  std::string text_out, binary_out, cost_csv, model = "2";
  bool header = false, no_unk = false;
};

void add_save_flags(CLI::App& app, SaveFlags& f, bool with_paths) {
  if (with_paths) {
    app.add_option("--text-out", f.text_out, "write text vectors (\"word v1 ... vn\" lines) here");
    app.add_option("--binary-out", f.binary_out, "write the parameters in GloVe's binary layout here (vectors.bin)");
    app.add_option("--cost-csv", f.cost_csv, "write iteration,cost,seconds lines here");
  }
  app.add_option("--model", f.model, "text vectors: 0 all (w, b, w~, b~) | 1 word (w) | 2 sum (w + w~)")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "2", "all", "word", "sum"}));
  app.add_flag("--header", f.header, "text vectors: first line \"V n\" (word2vec's header)");
  app.add_flag("--no-unk", f.no_unk, "text vectors: leave out the <unk> line (the mean of the 100 rarest words)");
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

// Training with the progress printer and the JSON numbers shared by train and all.
struct TrainRun {
  GloveModel model;
  GloveResult result;
};

TrainRun run_training(const Vocabulary& vocab, const std::vector<CooccurRecord>& records, TrainFlags& f,
                      const Output& out) {
  GloveOptions o = resolve(f);
  TrainRun run;
  if (!f.init.empty()) {
    run.model = read_vectors_binary(f.init, vocab.size());
    if (f.vector_size->count() > 0 && run.model.dim != o.vector_size)
      throw UsageError("--init holds " + std::to_string(run.model.dim) + "-dimensional vectors, --vector-size says " +
                           std::to_string(o.vector_size),
                       {f.init, 0, "vector_size"});
    o.vector_size = static_cast<std::int32_t>(run.model.dim);
    run.model.gradsq.assign(run.model.params.size(), o.accumulator_start());
  } else {
    run.model = init_glove(vocab.size(), o);
  }
  train::ProgressPrinter printer(stderr);
  std::vector<adakit::run::Callback*> callbacks;
  if (out.talk()) callbacks.push_back(&printer);
  run.result = train_glove(run.model, records, o, callbacks);
  return run;
}

nlohmann::json training_json(const TrainRun& run, std::int64_t records) {
  nlohmann::json costs = nlohmann::json::array(), secs = nlohmann::json::array();
  double train_seconds = 0;
  for (const auto& h : run.result.history) {
    costs.push_back(std::isfinite(h.cost) ? nlohmann::json(h.cost) : nlohmann::json(nullptr));
    secs.push_back(h.seconds);
    train_seconds += h.seconds;
  }
  const auto n = static_cast<double>(run.result.history.size());
  return {{"records", records},
          {"vector_size", run.model.dim},
          {"threads", run.result.threads},
          {"iterations", run.result.history.size()},
          {"costs", costs},
          {"iteration_seconds", secs},
          {"train_seconds", train_seconds},
          {"epochs_per_second", train_seconds > 0 ? nlohmann::json(n / train_seconds) : nlohmann::json(nullptr)},
          {"final_cost", run.result.history.empty() ? nlohmann::json(nullptr) : costs.back()}};
}

void save_outputs(const Vocabulary& vocab, const TrainRun& run, const SaveFlags& s, const std::string& text_out,
                  const std::string& binary_out, const std::string& cost_csv) {
  if (!text_out.empty())
    write_vectors_text(text_out, vocab, run.model,
                       {.model = vectors_model_from_string(s.model), .header = s.header, .unk_vector = !s.no_unk});
  if (!binary_out.empty()) write_vectors_binary(binary_out, run.model);
  if (!cost_csv.empty()) {
    std::string csv = "iteration,cost,seconds\n";
    for (const auto& h : run.result.history)
      csv += std::to_string(h.iteration) + "," + format_number(h.cost) + "," + format_number(h.seconds) + "\n";
    io::write_file_atomic(cost_csv, csv);
  }
}

// ---------------------------------------------------------------- vocab, cooccur, shuffle

struct VocabCmd {
  std::string corpus, out;
  VocabFlags vocab;
  Output output;
};

int run_vocab(VocabCmd& c) {
  c.vocab.options.tokenizer = tokenizer_from_string(c.vocab.tokenizer);
  VocabStats st;
  const auto v = count_vocabulary(c.corpus, c.vocab.options, &st);
  if (v.size() == 0) throw Error("no word reaches --min-count " + std::to_string(c.vocab.options.min_count), {c.corpus, 0, ""});
  write_vocabulary(c.out, v);
  if (c.output.json)
    std::cout << nlohmann::json{{"corpus", c.corpus}, {"out", c.out}, {"tokens", st.tokens}, {"unique", st.unique},
                                {"vocab_size", v.size()}}.dump()
              << "\n";
  else if (!c.output.quiet)
    std::printf("%lld tokens, %lld distinct words; wrote %lld words to %s\n", static_cast<long long>(st.tokens),
                static_cast<long long>(st.unique), static_cast<long long>(v.size()), c.out.c_str());
  return 0;
}

struct CooccurCmd {
  std::string corpus, vocab, out, tokenizer = "whitespace";
  CooccurFlags cooccur;
  Output output;
};

CooccurOptions resolve(CooccurFlags& f, const std::string& tokenizer) {
  CooccurOptions o = f.options;
  o.temp_dir = f.temp_dir;
  o.tokenizer = tokenizer_from_string(tokenizer);
  o.validate();
  return o;
}

nlohmann::json cooccur_json(const CooccurStats& s) {
  return {{"tokens", s.tokens}, {"records", s.records}, {"runs", s.runs}, {"dense_entries", s.dense_entries},
          {"max_product", s.sizes.max_product}, {"overflow_length", s.sizes.overflow_length}};
}

int run_cooccur(CooccurCmd& c) {
  const auto o = resolve(c.cooccur, c.tokenizer);
  const auto vocab = read_vocabulary(c.vocab);
  const auto s = count_cooccurrences(c.corpus, vocab, c.out, o);
  if (c.output.json) {
    auto j = cooccur_json(s);
    j["out"] = c.out;
    std::cout << j.dump() << "\n";
  } else if (!c.output.quiet) {
    std::printf("%lld tokens; %lld nonzero co-occurrences (%lld runs spilled and merged) written to %s\n",
                static_cast<long long>(s.tokens), static_cast<long long>(s.records), static_cast<long long>(s.runs),
                c.out.c_str());
  }
  return 0;
}

struct ShuffleCmd {
  std::string in, out;
  std::uint64_t seed = 0;
  Output output;
};

int run_shuffle(const ShuffleCmd& c) {
  const auto n = shuffle_cooccurrence_file(c.in, c.out, c.seed);
  if (c.output.json)
    std::cout << nlohmann::json{{"in", c.in}, {"out", c.out}, {"records", n}, {"seed", c.seed}}.dump() << "\n";
  else if (!c.output.quiet)
    std::printf("shuffled %lld records into %s\n", static_cast<long long>(n), c.out.c_str());
  return 0;
}

// ---------------------------------------------------------------- train

struct TrainCmd {
  std::string cooccur, vocab;
  TrainFlags train;
  SaveFlags save;
  Output output;
};

int run_train(TrainCmd& c) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto vocab = read_vocabulary(c.vocab);
  const auto records = read_cooccurrences(c.cooccur, vocab.size());
  if (c.output.talk())
    std::fprintf(stderr, "train: %lld words, %lld co-occurrence records, %s convention\n",
                 static_cast<long long>(vocab.size()), static_cast<long long>(records.size()), c.train.convention.c_str());
  const auto run = run_training(vocab, records, c.train, c.output);
  save_outputs(vocab, run, c.save, c.save.text_out, c.save.binary_out, c.save.cost_csv);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (c.output.json) {
    auto j = training_json(run, static_cast<std::int64_t>(records.size()));
    j["vocab_size"] = vocab.size();
    j["convention"] = c.train.convention;
    j["seconds"] = seconds;
    std::cout << j.dump() << "\n";
  } else if (!c.output.quiet) {
    if (!run.result.history.empty())
      std::printf("trained %zu iterations in %s; final cost %.6f\n", run.result.history.size(),
                  format_seconds(run.result.seconds).c_str(), run.result.history.back().cost);
    for (const auto& p : {c.save.text_out, c.save.binary_out, c.save.cost_csv})
      if (!p.empty()) std::printf("wrote %s\n", p.c_str());
  }
  return 0;
}

// ---------------------------------------------------------------- nearest, analogy

struct QueryFlags {
  std::string vectors, vocab, format = "auto", model = "2";
  std::int64_t k = 10;
  Output output;
};

void add_query_flags(CLI::App& app, QueryFlags& f, std::int64_t k) {
  f.k = k;
  app.add_option("--vectors", f.vectors, "vectors file: text (\"word v1 ... vn\") or GloVe's binary")->required();
  app.add_option("--vocab", f.vocab, "the vocabulary file (needed for a binary vectors file)");
  app.add_option("--format", f.format, "auto (binary when the name ends in .bin) | text | binary")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "text", "binary"}));
  app.add_option("--model", f.model, "binary vectors: which rows (0 all, 1 word, 2 sum)")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "2", "all", "word", "sum"}));
  app.add_option("-k,--top", f.k, "answers per query")->capture_default_str()->check(CLI::Range(1, 1000000));
  add_output_flags(app, f.output);
}

WordVectors load_vectors(const QueryFlags& f) {
  const bool binary = f.format == "binary" || (f.format == "auto" && fs::path(f.vectors).extension() == ".bin");
  if (!binary) return read_vectors_text(f.vectors);
  if (f.vocab.empty()) throw UsageError("a binary vectors file needs --vocab (it holds no words)", {"", 0, "vocab"});
  return read_vectors_binary_words(f.vectors, f.vocab, vectors_model_from_string(f.model));
}

nlohmann::json neighbours_json(const std::vector<Neighbour>& n) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& x : n) a.push_back({{"word", x.word}, {"similarity", x.similarity}});
  return a;
}

void print_neighbours(const std::string& title, const std::vector<Neighbour>& n) {
  std::printf("%s\n", title.c_str());
  for (const auto& x : n) std::printf("  %-24s %.4f\n", x.word.c_str(), x.similarity);
}

struct NearestCmd {
  QueryFlags q;
  std::vector<std::string> words;
};

int run_nearest(const NearestCmd& c) {
  const auto v = load_vectors(c.q);
  nlohmann::json j = nlohmann::json::object();
  for (const auto& w : c.words) {
    const auto n = nearest(v, w, c.q.k);
    if (c.q.output.json) j[w] = neighbours_json(n);
    else if (!c.q.output.quiet) print_neighbours(w + ":", n);
  }
  if (c.q.output.json) std::cout << j.dump() << "\n";
  return 0;
}

struct AnalogyCmd {
  QueryFlags q;
  std::vector<std::string> words;
};

int run_analogy(const AnalogyCmd& c) {
  const auto v = load_vectors(c.q);
  const auto n = analogy(v, c.words[0], c.words[1], c.words[2], c.q.k);
  if (c.q.output.json)
    std::cout << nlohmann::json{{"a", c.words[0]}, {"b", c.words[1]}, {"c", c.words[2]}, {"answers", neighbours_json(n)}}.dump()
              << "\n";
  else if (!c.q.output.quiet)
    print_neighbours(c.words[0] + " : " + c.words[1] + " :: " + c.words[2] + " : ?", n);
  return 0;
}

// ---------------------------------------------------------------- all

struct AllCmd {
  std::string corpus, out, tokenizer = "whitespace";
  std::vector<std::string> show;
  VocabFlags vocab;
  CooccurFlags cooccur;
  TrainFlags train;
  SaveFlags save;
  Output output;
};

int run_all(AllCmd& c) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = c.out;
  fs::create_directories(dir);
  const bool talk = c.output.talk();
  auto since = [&] { return format_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()); };

  c.vocab.options.tokenizer = tokenizer_from_string(c.tokenizer);
  const auto co = resolve(c.cooccur, c.tokenizer);
  resolve(c.train);  // usage errors before any work
  if (talk) std::fprintf(stderr, "[1/4] vocabulary of %s ...\n", c.corpus.c_str());
  VocabStats vs;
  const auto vocab = count_vocabulary(c.corpus, c.vocab.options, &vs);
  if (vocab.size() == 0) throw Error("no word reaches --min-count " + std::to_string(c.vocab.options.min_count), {c.corpus, 0, ""});
  write_vocabulary(dir / "vocab.txt", vocab);
  if (talk)
    std::fprintf(stderr, "      %lld tokens, %lld distinct, %lld kept -> %s (%s)\n", static_cast<long long>(vs.tokens),
                 static_cast<long long>(vs.unique), static_cast<long long>(vocab.size()), (dir / "vocab.txt").c_str(),
                 since().c_str());
  if (talk) std::fprintf(stderr, "[2/4] co-occurrences, window %d%s ...\n", co.window, co.symmetric ? "" : " (left)");
  auto cooc_opts = co;
  if (cooc_opts.temp_dir.empty()) cooc_opts.temp_dir = dir;
  const auto cs = count_cooccurrences(c.corpus, vocab, dir / "cooccurrence.bin", cooc_opts);
  if (talk)
    std::fprintf(stderr, "      %lld nonzero entries, %lld runs spilled -> %s (%s)\n", static_cast<long long>(cs.records),
                 static_cast<long long>(cs.runs), (dir / "cooccurrence.bin").c_str(), since().c_str());
  const auto records = read_cooccurrences(dir / "cooccurrence.bin", vocab.size());
  if (talk)
    std::fprintf(stderr, "[3/4] training %d-dimensional vectors, %d iterations (%s convention, shuffle %s)\n",
                 c.train.options.vector_size, c.train.options.iterations, c.train.convention.c_str(), c.train.shuffle.c_str());
  const auto run = run_training(vocab, records, c.train, c.output);
  if (talk) std::fprintf(stderr, "[4/4] saving ...\n");
  save_outputs(vocab, run, c.save, (dir / "vectors.txt").string(), (dir / "vectors.bin").string(),
               (dir / "cost.csv").string());
  nlohmann::json j = training_json(run, cs.records);
  j["corpus"] = c.corpus;
  j["out"] = c.out;
  j["tokens"] = vs.tokens;
  j["vocab_size"] = vocab.size();
  j["cooccur"] = cooccur_json(cs);
  j["convention"] = c.train.convention;
  j["files"] = {"vocab.txt", "cooccurrence.bin", "vectors.txt", "vectors.bin", "cost.csv", "summary.json"};
  nlohmann::json shown = nlohmann::json::object();
  if (!c.show.empty()) {
    const auto wv = word_vectors(run.model, vocab, VectorsModel::sum);
    for (const auto& w : c.show) {
      if (wv.index(w) < 0) throw UsageError("--show: '" + w + "' is not in the vocabulary", {"", 0, "show"});
      shown[w] = neighbours_json(nearest(wv, w, 8));
    }
    j["nearest"] = shown;
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  io::write_file_atomic(dir / "summary.json", j.dump(2) + "\n");
  if (c.output.json) {
    std::cout << j.dump() << "\n";
  } else if (!c.output.quiet) {
    if (!run.result.history.empty())
      std::printf("cost %.6f -> %.6f over %zu iterations\n", run.result.history.front().cost,
                  run.result.history.back().cost, run.result.history.size());
    for (const auto& [w, list] : shown.items()) {
      std::printf("%s:", w.c_str());
      for (const auto& x : list) std::printf(" %s", x.at("word").get<std::string>().c_str());
      std::printf("\n");
    }
    std::printf("wrote %s/{vocab.txt, cooccurrence.bin, vectors.txt, vectors.bin, cost.csv, summary.json}\n", c.out.c_str());
  }
  return 0;
}

}  // namespace

void add_embed(CLI::App& root, std::function<int()>& action) {
  auto* embed = root.add_subcommand(
      "embed", "GloVe word embeddings trained with AdaGrad; reads and writes the GloVe tools' files");
  embed->require_subcommand(1);

  {
    auto* app = embed->add_subcommand("vocab", "count the words of a corpus into vocab.txt (\"word count\" lines)");
    auto c = std::make_shared<VocabCmd>();
    app->add_option("--corpus", c->corpus, "UTF-8 text, one document per line")->required()->check(CLI::ExistingFile);
    app->add_option("--out,-o", c->out, "vocabulary file to write")->required();
    add_vocab_flags(*app, c->vocab);
    add_tokenizer_flag(*app, c->vocab.tokenizer);
    add_output_flags(*app, c->output);
    action_for(app, action, [c] { return run_vocab(*c); });
  }
  {
    auto* app = embed->add_subcommand(
        "cooccur", "count word-word co-occurrences into GloVe's binary records (int32, int32, float64)");
    auto c = std::make_shared<CooccurCmd>();
    app->add_option("--corpus", c->corpus, "UTF-8 text, one document per line")->required()->check(CLI::ExistingFile);
    app->add_option("--vocab", c->vocab, "vocabulary file (from embed vocab or vocab_count)")->required()->check(CLI::ExistingFile);
    app->add_option("--out,-o", c->out, "co-occurrence file to write")->required();
    add_cooccur_flags(*app, c->cooccur);
    add_tokenizer_flag(*app, c->tokenizer);
    add_output_flags(*app, c->output);
    action_for(app, action, [c] { return run_cooccur(*c); });
  }
  {
    auto* app = embed->add_subcommand("shuffle", "shuffle a co-occurrence file's records (seeded)");
    auto c = std::make_shared<ShuffleCmd>();
    app->add_option("--in", c->in, "co-occurrence file")->required()->check(CLI::ExistingFile);
    app->add_option("--out,-o", c->out, "shuffled file to write")->required();
    app->add_option("--seed", c->seed, "seed of the permutation")->capture_default_str();
    add_output_flags(*app, c->output);
    action_for(app, action, [c] { return run_shuffle(*c); });
  }
  {
    auto* app = embed->add_subcommand("train", "train GloVe vectors with AdaGrad on a co-occurrence file");
    auto c = std::make_shared<TrainCmd>();
    app->add_option("--cooccur", c->cooccur, "co-occurrence file (from embed cooccur, or GloVe's cooccur / shuffle)")
        ->required()
        ->check(CLI::ExistingFile);
    app->add_option("--vocab", c->vocab, "vocabulary file the ids refer to")->required()->check(CLI::ExistingFile);
    add_train_flags(*app, c->train);
    add_save_flags(*app, c->save, true);
    add_output_flags(*app, c->output);
    action_for(app, action, [c] { return run_train(*c); });
  }
  {
    auto* app = embed->add_subcommand("nearest", "nearest neighbours of words by cosine similarity");
    auto c = std::make_shared<NearestCmd>();
    app->add_option("words", c->words, "words to look up")->required();
    add_query_flags(*app, c->q, 10);
    action_for(app, action, [c] { return run_nearest(*c); });
  }
  {
    auto* app = embed->add_subcommand("analogy", "a : b :: c : ?  (the words closest to b - a + c)");
    auto c = std::make_shared<AnalogyCmd>();
    app->add_option("words", c->words, "the three words a b c")->required()->expected(3);
    add_query_flags(*app, c->q, 5);
    action_for(app, action, [c] { return run_analogy(*c); });
  }
  {
    auto* app = embed->add_subcommand(
        "all", "the whole pipeline: vocab, cooccur, train, save (vocab.txt, cooccurrence.bin, vectors.txt, "
               "vectors.bin, cost.csv, summary.json in --out)");
    auto c = std::make_shared<AllCmd>();
    app->add_option("--corpus", c->corpus, "UTF-8 text, one document per line")->required()->check(CLI::ExistingFile);
    app->add_option("--out,-o", c->out, "directory for the files")->required();
    app->add_option("--show", c->show, "print the nearest neighbours of these words at the end")->delimiter(',');
    add_tokenizer_flag(*app, c->tokenizer);
    add_vocab_flags(*app, c->vocab);
    add_cooccur_flags(*app, c->cooccur);
    add_train_flags(*app, c->train);
    add_save_flags(*app, c->save, false);
    add_output_flags(*app, c->output);
    action_for(app, action, [c] { return run_all(*c); });
  }
}

}  // namespace adakit::cli
