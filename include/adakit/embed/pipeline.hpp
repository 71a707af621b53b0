// The GloVe pipeline in one call, as the reference's demo.sh runs vocab_count, cooccur, shuffle and
// glove: count the vocabulary, count the co-occurrences into a file, train, save. The steps it shares
// with `adakit embed train` (start and train a model, save its files, its JSON numbers) are here too.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/embed/cooccur.hpp"
#include "adakit/embed/glove.hpp"
#include "adakit/embed/vectors.hpp"
#include "adakit/embed/vocab.hpp"

namespace adakit::embed {

// Where training starts: init_glove's random vectors, or a binary parameter file (vectors.bin layout)
// whose size gives d.
struct GloveStart {
  std::filesystem::path init;      // empty: random vectors
  bool vector_size_given = false;  // with init: UsageError when options.vector_size differs from the file's d
};

struct GloveRun {
  GloveModel model;
  GloveResult result;
};

// Starts the model (accumulators at options.accumulator_start(), also for an init file) and trains it
// with train_glove.
GloveRun train_vectors(const Vocabulary& vocab, std::span<const CooccurRecord> records, GloveOptions options,
                       const GloveStart& start = {}, const run::Callbacks& callbacks = {});

// The files of a trained model; an empty path is not written.
struct SaveOptions {
  std::filesystem::path text_out;    // "word v1 ... vn" lines (write_vectors_text)
  std::filesystem::path binary_out;  // GloVe's binary layout (write_vectors_binary)
  std::filesystem::path cost_csv;    // cost_csv() below
  TextVectorsOptions text;
};
void save_outputs(const Vocabulary& vocab, const GloveRun& run, const SaveOptions& options);

// "iteration,cost,seconds" and one line per iteration, numbers as printf's %.6g.
std::string cost_csv(const GloveResult& result);

// A run's numbers: records, vector_size, threads, iterations, costs, iteration_seconds, train_seconds,
// epochs_per_second, final_cost (a non-finite cost as null).
nlohmann::json training_json(const GloveRun& run, std::int64_t records);

struct PipelineOptions {
  std::filesystem::path corpus;  // UTF-8 text, one document per line
  std::filesystem::path out;     // directory of vocab.txt, cooccurrence.bin, vectors.txt, vectors.bin, cost.csv, summary.json
  VocabOptions vocab;
  CooccurOptions cooccur;        // temp_dir empty: out
  GloveOptions glove;
  GloveStart start;
  TextVectorsOptions text;
  std::vector<std::string> show;  // words whose 8 nearest neighbours (sum vectors) go into the summary
};

struct PipelineCallbacks {
  std::function<void(std::string_view)> on_stage;  // one line per stage ("[1/4] vocabulary of ..."), no '\n'
  run::Callbacks glove;
};

struct PipelineResult {
  Vocabulary vocab;
  VocabStats vocab_stats;
  CooccurStats cooccur;
  GloveRun run;
  nlohmann::json summary;  // what summary.json holds: training_json and corpus, out, tokens, vocab_size,
                           // cooccur, convention, files, nearest (with show), seconds
};

// Every option is validated before any work. UsageError for a --show word not in the vocabulary,
// Error when no word reaches min_count.
PipelineResult run_pipeline(const PipelineOptions& options, const PipelineCallbacks& callbacks = {});

// The JSON numbers of a co-occurrence count: tokens, records, runs, dense_entries, max_product, overflow_length.
nlohmann::json cooccur_json(const CooccurStats& stats);

// [{"word", "similarity"}, ...] of nearest / analogy.
nlohmann::json neighbours_json(const std::vector<Neighbour>& neighbours);

// Error naming the corpus unless the vocabulary holds a word.
void require_words(const Vocabulary& vocab, const VocabOptions& options, const std::filesystem::path& corpus);

}  // namespace adakit::embed
