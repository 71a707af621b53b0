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
#include "adakit/embed/pipeline.hpp"
#include "adakit/embed/vectors.hpp"
#include "adakit/embed/vocab.hpp"
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

GloveOptions glove_options(const TrainFlags& f) {  // validated by train_glove / run_pipeline
  GloveOptions o = f.options;
  o.step.convention = glove_convention_from_string(f.convention);
  o.shuffle = shuffle_mode_from_string(f.shuffle);
  o.initial_accumulator = f.initial_accumulator;
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


TextVectorsOptions text_options(const SaveFlags& s) {
  return {.model = vectors_model_from_string(s.model), .header = s.header, .unk_vector = !s.no_unk};
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
  require_words(v, c.vocab.options, c.corpus);
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
  const auto o = glove_options(c.train);
  o.validate();
  train::ProgressPrinter printer(stderr);
  std::vector<adakit::run::Callback*> progress;
  if (c.output.talk()) progress.push_back(&printer);
  const auto run = train_vectors(vocab, records, o, {c.train.init, c.train.vector_size->count() > 0}, progress);
  save_outputs(vocab, run, {c.save.text_out, c.save.binary_out, c.save.cost_csv, text_options(c.save)});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (c.output.json) {
    auto j = training_json(run, static_cast<std::int64_t>(records.size()));
    j["vocab_size"] = vocab.size();
    j["convention"] = c.train.convention;
    j["seconds"] = seconds;
    std::cout << j.dump() << "\n";
  } else if (!c.output.quiet) {
    if (!run.result.history.empty())
      std::printf("trained %zu iterations in %.2fs; final cost %.6f\n", run.result.history.size(), run.result.seconds,
                  run.result.history.back().cost);
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

void print_neighbours(const std::string& title, const std::vector<Neighbour>& n) {
  std::printf("%s\n", title.c_str());
  for (const auto& x : n) std::printf("  %-24s %.4f\n", x.word.c_str(), x.similarity);
}

struct QueryCmd {
  QueryFlags q;
  std::vector<std::string> words;
};

int run_nearest(const QueryCmd& c) {
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

int run_analogy(const QueryCmd& c) {
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
  PipelineOptions o;
  o.corpus = c.corpus;
  o.out = c.out;
  o.vocab = c.vocab.options;
  o.vocab.tokenizer = tokenizer_from_string(c.tokenizer);
  o.cooccur = c.cooccur.options;
  o.cooccur.temp_dir = c.cooccur.temp_dir;
  o.cooccur.tokenizer = o.vocab.tokenizer;
  o.glove = glove_options(c.train);
  o.start = {c.train.init, c.train.vector_size->count() > 0};
  o.text = text_options(c.save);
  o.show = c.show;
  train::ProgressPrinter printer(stderr);
  PipelineCallbacks cb;
  if (c.output.talk()) {
    cb.on_stage = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
    cb.glove = std::vector<adakit::run::Callback*>{&printer};
  }
  const auto r = run_pipeline(o, cb);
  if (c.output.json) {
    std::cout << r.summary.dump() << "\n";
  } else if (!c.output.quiet) {
    const auto& h = r.run.result.history;
    if (!h.empty()) std::printf("cost %.6f -> %.6f over %zu iterations\n", h.front().cost, h.back().cost, h.size());
    const auto shown = r.summary.value("nearest", nlohmann::json::object());
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
    auto c = std::make_shared<QueryCmd>();
    app->add_option("words", c->words, "words to look up")->required();
    add_query_flags(*app, c->q, 10);
    action_for(app, action, [c] { return run_nearest(*c); });
  }
  {
    auto* app = embed->add_subcommand("analogy", "a : b :: c : ?  (the words closest to b - a + c)");
    auto c = std::make_shared<QueryCmd>();
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
