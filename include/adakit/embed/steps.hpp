// The GloVe pipeline one step at a time, as `adakit embed vocab | cooccur | shuffle | train | nearest |
// analogy | all` runs them: each step does its work and returns what the command reports, its JSON
// object (--json) and its text (stdout otherwise).
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "adakit/embed/pipeline.hpp"
#include "adakit/run/progress.hpp"

namespace adakit::embed {

struct StepReport {
  nlohmann::json json;  // the command's --json object
  std::string text;     // the command's text, lines ending in '\n'
};

// Counts the corpus's words and writes the vocabulary file. JSON: corpus, out, tokens, unique,
// vocab_size. Error naming the corpus when no word reaches min_count.
StepReport vocab_step(const std::filesystem::path& corpus, const std::filesystem::path& out,
                      const VocabOptions& options);
// Validates the options, reads the vocabulary, counts the co-occurrences into out. JSON: cooccur_json
// and out.
StepReport cooccur_step(const std::filesystem::path& corpus, const std::filesystem::path& vocab,
                        const std::filesystem::path& out, const CooccurOptions& options);
// Shuffles a co-occurrence file (shuffle_cooccurrence_file). JSON: in, out, records, seed.
StepReport shuffle_step(const std::filesystem::path& in, const std::filesystem::path& out, std::uint64_t seed);

struct TrainStepOptions {
  std::filesystem::path cooccur;  // co-occurrence file
  std::filesystem::path vocab;    // the vocabulary its ids refer to
  GloveOptions glove;
  GloveStart start;
  SaveOptions save;  // an empty path is not written
};
// Reads the files, trains (train_vectors) and saves (save_outputs). callbacks.on_stage hears one line
// before training ("train: V words, N co-occurrence records, C convention"); callbacks.glove go to
// the trainer. JSON: training_json and vocab_size, convention, seconds (files included).
StepReport train_step(const TrainStepOptions& options, const PipelineCallbacks& callbacks = {});

// Progress printed on `out`: callbacks.on_stage writes each stage line, callbacks.glove is a
// run::ProgressPrinter. It must outlive the run it reports; not copied (callbacks point at printer).
struct PipelineProgress {
  explicit PipelineProgress(std::FILE* out);
  PipelineProgress(const PipelineProgress&) = delete;
  PipelineProgress& operator=(const PipelineProgress&) = delete;
  run::ProgressPrinter printer;
  PipelineCallbacks callbacks;
};

// The text of `embed all`: the first and last cost, each shown word's neighbours, the files written.
std::string pipeline_text(const PipelineResult& result);

struct QueryOptions {
  std::filesystem::path vectors;           // text ("word v1 ... vn") or GloVe's binary
  std::filesystem::path vocab;             // needed for a binary file
  std::string format = "auto";             // auto (binary when the name ends in .bin) | text | binary
  VectorsModel model = VectorsModel::sum;  // binary: which rows
  std::int64_t k = 10;                     // answers per query
};
// UsageError for a binary file without a vocabulary, or another format.
WordVectors load_vectors(const QueryOptions& options);

// The title line and one "  word  similarity" line per neighbour.
std::string neighbours_text(const std::string& title, const std::vector<Neighbour>& neighbours);

// The k nearest neighbours of each word. JSON: {word: neighbours_json}. on_text hears each word's
// neighbours_text as soon as it is found, so the words before an unknown one (UsageError) are reported.
nlohmann::json nearest_step(const WordVectors& vectors, const std::vector<std::string>& words, std::int64_t k,
                            const std::function<void(const std::string&)>& on_text = {});

// a : b :: c : ? with the k best answers. JSON: a, b, c, answers (neighbours_json).
StepReport analogy_step(const WordVectors& vectors, const std::string& a, const std::string& b, const std::string& c,
                        std::int64_t k);

}  // namespace adakit::embed
