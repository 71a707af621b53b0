// adakit embed: GloVe word embeddings trained with AdaGrad, reading and writing the reference tools'
// files (vocab_count, cooccur, shuffle, glove). Subcommands: vocab, cooccur, shuffle, train, nearest,
// analogy, and all (the whole pipeline into one directory). Flags bind to the library's option structs.
#include <iostream>

#include "adakit/embed/steps.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {
using namespace adakit::embed;
using Path = std::filesystem::path;

const std::vector<std::string> model_choices{"0", "1", "2", "all", "word", "sum"};

const std::string json_help = "print one JSON object instead of the text";

void add_tokenizer_flag(CLI::App& app, Tokenizer& t, Tokenizer* also = nullptr) {
  add_choice(app, "--tokenizer",
             "whitespace (words between spaces/tabs, as GloVe's tools) | words (lower-cased runs of 2+ word "
             "characters, adakit's text tokenizer)",
             {"whitespace", "words"}, "whitespace", [&t, also](const std::string& s) {
               t = tokenizer_from_string(s);
               if (also) *also = t;
             });
}

void add_vocab_flags(CLI::App& app, VocabOptions& o) {
  add_value(app, "--min-count", o.min_count, "drop words seen fewer times", CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  add_value(app, "--max-vocab", o.max_vocab, "keep at most this many words, most frequent first (0 = all)",
            CLI::Range(std::int64_t{0}, std::int64_t{INT32_MAX}));
}

void add_cooccur_flags(CLI::App& app, CooccurOptions& o) {
  add_value(app, "--window", o.window, "context words on each side (left only with --symmetric 0)", CLI::Range(1, 100000));
  add_value(app, "--symmetric", o.symmetric, "1: left and right context; 0: left only");
  add_value(app, "--distance-weighting", o.distance_weighting, "1: a pair k words apart adds 1/k; 0: adds 1");
  add_value(app, "--memory", o.memory_gb,
            "soft memory limit in GB for the counting tables; beyond it sorted runs spill to disk and are merged",
            CLI::PositiveNumber);
  add_value(app, "--max-product", o.max_product,
            "dense table for word pairs whose frequency ranks multiply to at most this (0 = from --memory)",
            CLI::NonNegativeNumber);
  add_value(app, "--overflow-length", o.overflow_length,
            "records buffered before a sorted run is written to disk (0 = from --memory)", CLI::NonNegativeNumber);
  app.add_option("--temp-dir", o.temp_dir, "directory for the spilled runs (default: the output's directory)");
}

void add_train_flags(CLI::App& app, GloveOptions& o, GloveStart& start) {
  add_value(app, "--vector-size,-d", o.vector_size, "dimension of the word vectors", CLI::Range(1, 100000))
      ->each([&start](const std::string&) { start.vector_size_given = true; });
  add_value(app, "--iter", o.iterations, "passes over the co-occurrence records", CLI::Range(0, 1000000));
  add_value(app, "--eta", o.step.eta, "AdaGrad's learning rate", CLI::PositiveNumber);
  add_value(app, "--x-max", o.x_max, "weighting cutoff: f(x) = min(1, (x / x_max)^alpha)", CLI::PositiveNumber);
  add_value(app, "--alpha", o.alpha, "weighting exponent", CLI::NonNegativeNumber);
  add_value(app, "--grad-clip", o.step.grad_clip,
            "clip gradient components to [-v, v] (reference: vector components only; 0 = off)", CLI::NonNegativeNumber);
  add_choice(app, "--convention",
             "reference: glove.c's AdaGrad (accumulators from 1, step with the sum before the gradient, eta inside "
             "the sum, no eta on biases) | standard: adakit's AdaGrad (accumulate then step, eps)",
             {"reference", "standard"}, "reference",
             [&o](const std::string& s) { o.step.convention = glove_convention_from_string(s); });
  add_value(app, "--eps", o.step.eps, "standard convention: eps outside the root", CLI::NonNegativeNumber);
  add_optional(app, "--initial-accumulator", o.initial_accumulator,
               "AdaGrad's initial sum (default: reference 1, standard 0)")
      ->check(CLI::NonNegativeNumber);
  add_choice(app, "--shuffle",
             "record order: once (shuffled once, as shuffle + glove) | epoch (reshuffled every iteration) | none "
             "(as in the file)",
             {"once", "epoch", "none"}, "once", [&o](const std::string& s) { o.shuffle = shuffle_mode_from_string(s); });
  add_value(app, "--seed", o.seed, "seed of the initial vectors and the shuffles");
  add_value(app, "--threads,-j", o.threads, "Hogwild threads (0 = adakit's thread count)", CLI::Range(0, 1024));
  app.add_option("--init", start.init,
                 "start from a binary parameter file (vectors.bin layout) instead of random vectors; d from its size")
      ->check(CLI::ExistingFile);
}

// The text vectors' flags; with paths also the files to write.
void add_save_flags(CLI::App& app, TextVectorsOptions& text, SaveOptions* paths) {
  if (paths) {
    app.add_option("--text-out", paths->text_out, "write text vectors (\"word v1 ... vn\" lines) here");
    app.add_option("--binary-out", paths->binary_out, "write the parameters in GloVe's binary layout here (vectors.bin)");
    app.add_option("--cost-csv", paths->cost_csv, "write iteration,cost,seconds lines here");
  }
  add_choice(app, "--model", "text vectors: 0 all (w, b, w~, b~) | 1 word (w) | 2 sum (w + w~)", model_choices, "2",
             [&text](const std::string& s) { text.model = vectors_model_from_string(s); });
  app.add_flag("--header", text.header, "text vectors: first line \"V n\" (word2vec's header)");
  app.add_flag_callback("--no-unk", [&text] { text.unk_vector = false; },
                        "text vectors: leave out the <unk> line (the mean of the 100 rarest words)");
}

void add_query_flags(CLI::App& app, QueryOptions& q, Output& out, std::int64_t k) {
  q.k = k;
  app.add_option("--vectors", q.vectors, "vectors file: text (\"word v1 ... vn\") or GloVe's binary")->required();
  app.add_option("--vocab", q.vocab, "the vocabulary file (needed for a binary vectors file)");
  add_value(app, "--format", q.format, "auto (binary when the name ends in .bin) | text | binary",
            CLI::IsMember({"auto", "text", "binary"}));
  add_choice(app, "--model", "binary vectors: which rows (0 all, 1 word, 2 sum)", model_choices, "2",
             [&q](const std::string& s) { q.model = vectors_model_from_string(s); });
  add_value(app, "-k,--top", q.k, "answers per query", CLI::Range(1, 1000000));
  add_output_flags(app, out, json_help);
}

// A required input file.
CLI::Option* add_input(CLI::App& app, const std::string& name, Path& target, const std::string& help) {
  return app.add_option(name, target, help)->required()->check(CLI::ExistingFile);
}

struct StepCmd {
  Path corpus, vocab, in, out;
  VocabOptions vocab_options;
  CooccurOptions cooccur;
  std::uint64_t seed = 0;
  TrainStepOptions train;
  QueryOptions query;
  std::vector<std::string> words;
  PipelineOptions all;
  Output output;
};

// Progress on stderr while the command talks.
PipelineCallbacks progress(const StepCmd& c, const PipelineProgress& printer) {
  return c.output.talk() ? printer.callbacks : PipelineCallbacks{};
}

// A subcommand of embed with its StepCmd and the action run with it.
std::shared_ptr<StepCmd> step(CLI::App& embed, std::function<int()>& action, const std::string& name,
                              const std::string& help, std::function<int(StepCmd&)> run, CLI::App** app) {
  *app = embed.add_subcommand(name, help);
  auto c = std::make_shared<StepCmd>();
  action_for(*app, action, [c, run] { return run(*c); });
  return c;
}

}  // namespace

void add_embed(CLI::App& root, std::function<int()>& action) {
  auto* embed = root.add_subcommand(
      "embed", "GloVe word embeddings trained with AdaGrad; reads and writes the GloVe tools' files");
  embed->require_subcommand(1);
  const std::string corpus_help = "UTF-8 text, one document per line";
  CLI::App* app = nullptr;

  auto c = step(*embed, action, "vocab", "count the words of a corpus into vocab.txt (\"word count\" lines)",
                [](StepCmd& s) { return s.output.print(vocab_step(s.corpus, s.out, s.vocab_options)); }, &app);
  add_input(*app, "--corpus", c->corpus, corpus_help);
  app->add_option("--out,-o", c->out, "vocabulary file to write")->required();
  add_vocab_flags(*app, c->vocab_options);
  add_tokenizer_flag(*app, c->vocab_options.tokenizer);
  add_output_flags(*app, c->output, json_help);

  c = step(*embed, action, "cooccur", "count word-word co-occurrences into GloVe's binary records (int32, int32, float64)",
           [](StepCmd& s) { return s.output.print(cooccur_step(s.corpus, s.vocab, s.out, s.cooccur)); }, &app);
  add_input(*app, "--corpus", c->corpus, corpus_help);
  add_input(*app, "--vocab", c->vocab, "vocabulary file (from embed vocab or vocab_count)");
  app->add_option("--out,-o", c->out, "co-occurrence file to write")->required();
  add_cooccur_flags(*app, c->cooccur);
  add_tokenizer_flag(*app, c->cooccur.tokenizer);
  add_output_flags(*app, c->output, json_help);

  c = step(*embed, action, "shuffle", "shuffle a co-occurrence file's records (seeded)",
           [](StepCmd& s) { return s.output.print(shuffle_step(s.in, s.out, s.seed)); }, &app);
  add_input(*app, "--in", c->in, "co-occurrence file");
  app->add_option("--out,-o", c->out, "shuffled file to write")->required();
  add_value(*app, "--seed", c->seed, "seed of the permutation");
  add_output_flags(*app, c->output, json_help);

  c = step(*embed, action, "train", "train GloVe vectors with AdaGrad on a co-occurrence file", [](StepCmd& s) {
    const PipelineProgress printer(stderr);
    return s.output.print(train_step(s.train, progress(s, printer)));
  }, &app);
  add_input(*app, "--cooccur", c->train.cooccur, "co-occurrence file (from embed cooccur, or GloVe's cooccur / shuffle)");
  add_input(*app, "--vocab", c->train.vocab, "vocabulary file the ids refer to");
  add_train_flags(*app, c->train.glove, c->train.start);
  add_save_flags(*app, c->train.save.text, &c->train.save);
  add_output_flags(*app, c->output, json_help);

  c = step(*embed, action, "nearest", "nearest neighbours of words by cosine similarity", [](StepCmd& s) {
    const auto j = nearest_step(load_vectors(s.query), s.words, s.query.k, [&s](const std::string& text) {
      if (s.output.talk()) std::cout << text;
    });
    return s.output.print(j, "");
  }, &app);
  app->add_option("words", c->words, "words to look up")->required();
  add_query_flags(*app, c->query, c->output, 10);

  c = step(*embed, action, "analogy", "a : b :: c : ?  (the words closest to b - a + c)", [](StepCmd& s) {
    return s.output.print(analogy_step(load_vectors(s.query), s.words[0], s.words[1], s.words[2], s.query.k));
  }, &app);
  app->add_option("words", c->words, "the three words a b c")->required()->expected(3);
  add_query_flags(*app, c->query, c->output, 5);

  c = step(*embed, action, "all",
           "the whole pipeline: vocab, cooccur, train, save (vocab.txt, cooccurrence.bin, vectors.txt, vectors.bin, "
           "cost.csv, summary.json in --out)",
           [](StepCmd& s) {
             const PipelineProgress printer(stderr);
             const auto r = run_pipeline(s.all, progress(s, printer));
             return s.output.print(r.summary, pipeline_text(r));
           },
           &app);
  add_input(*app, "--corpus", c->all.corpus, corpus_help);
  app->add_option("--out,-o", c->all.out, "directory for the files")->required();
  app->add_option("--show", c->all.show, "print the nearest neighbours of these words at the end")->delimiter(',');
  add_tokenizer_flag(*app, c->all.vocab.tokenizer, &c->all.cooccur.tokenizer);
  add_vocab_flags(*app, c->all.vocab);
  add_cooccur_flags(*app, c->all.cooccur);
  add_train_flags(*app, c->all.glove, c->all.start);
  add_save_flags(*app, c->all.text, nullptr);
  add_output_flags(*app, c->output, json_help);
}

}  // namespace adakit::cli
