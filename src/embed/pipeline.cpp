#include "adakit/embed/pipeline.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"

namespace adakit::embed {
namespace {

std::string format_g(double v) {  // %.6g, with nan / inf / -inf spelt out
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

}  // namespace

nlohmann::json neighbours_json(const std::vector<Neighbour>& n) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& x : n) a.push_back({{"word", x.word}, {"similarity", x.similarity}});
  return a;
}

GloveRun train_vectors(const Vocabulary& vocab, std::span<const CooccurRecord> records, GloveOptions options,
                       const GloveStart& start, const run::Callbacks& callbacks) {
  GloveRun run;
  if (!start.init.empty()) {
    run.model = read_vectors_binary(start.init, vocab.size());
    if (start.vector_size_given && run.model.dim != options.vector_size)
      throw UsageError("--init holds " + std::to_string(run.model.dim) + "-dimensional vectors, --vector-size says " +
                           std::to_string(options.vector_size),
                       {start.init.string(), 0, "vector_size"});
    options.vector_size = static_cast<std::int32_t>(run.model.dim);
    run.model.gradsq.assign(run.model.params.size(), options.accumulator_start());
  } else {
    run.model = init_glove(vocab.size(), options);
  }
  run.result = train_glove(run.model, records, options, callbacks);
  return run;
}

std::string cost_csv(const GloveResult& result) {
  std::string csv = "iteration,cost,seconds\n";
  for (const auto& h : result.history)
    csv += std::to_string(h.iteration) + "," + format_g(h.cost) + "," + format_g(h.seconds) + "\n";
  return csv;
}

void save_outputs(const Vocabulary& vocab, const GloveRun& run, const SaveOptions& options) {
  if (!options.text_out.empty()) write_vectors_text(options.text_out, vocab, run.model, options.text);
  if (!options.binary_out.empty()) write_vectors_binary(options.binary_out, run.model);
  if (!options.cost_csv.empty()) write_file_atomic(options.cost_csv, cost_csv(run.result));
}

nlohmann::json training_json(const GloveRun& run, std::int64_t records) {
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

nlohmann::json cooccur_json(const CooccurStats& s) {
  return {{"tokens", s.tokens}, {"records", s.records}, {"runs", s.runs}, {"dense_entries", s.dense_entries},
          {"max_product", s.sizes.max_product}, {"overflow_length", s.sizes.overflow_length}};
}

void require_words(const Vocabulary& vocab, const VocabOptions& options, const std::filesystem::path& corpus) {
  if (vocab.size() == 0)
    throw Error("no word reaches --min-count " + std::to_string(options.min_count), {corpus.string(), 0, ""});
}

PipelineResult run_pipeline(const PipelineOptions& o, const PipelineCallbacks& cb) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& dir = o.out;
  std::filesystem::create_directories(dir);
  auto since = [&] { return format_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()); };
  auto stage = [&](const std::string& line) {
    if (cb.on_stage) cb.on_stage(line);
  };
  auto cooc = o.cooccur;
  cooc.validate();
  o.glove.validate();  // usage errors before any work
  if (cooc.temp_dir.empty()) cooc.temp_dir = dir;

  PipelineResult r;
  stage("[1/4] vocabulary of " + o.corpus.string() + " ...");
  r.vocab = count_vocabulary(o.corpus, o.vocab, &r.vocab_stats);
  require_words(r.vocab, o.vocab, o.corpus);
  write_vocabulary(dir / "vocab.txt", r.vocab);
  stage("      " + std::to_string(r.vocab_stats.tokens) + " tokens, " + std::to_string(r.vocab_stats.unique) +
        " distinct, " + std::to_string(r.vocab.size()) + " kept -> " + (dir / "vocab.txt").string() + " (" + since() + ")");
  stage("[2/4] co-occurrences, window " + std::to_string(cooc.window) + (cooc.symmetric ? "" : " (left)") + " ...");
  r.cooccur = count_cooccurrences(o.corpus, r.vocab, dir / "cooccurrence.bin", cooc);
  stage("      " + std::to_string(r.cooccur.records) + " nonzero entries, " + std::to_string(r.cooccur.runs) +
        " runs spilled -> " + (dir / "cooccurrence.bin").string() + " (" + since() + ")");
  const auto records = read_cooccurrences(dir / "cooccurrence.bin", r.vocab.size());
  stage("[3/4] training " + std::to_string(o.glove.vector_size) + "-dimensional vectors, " +
        std::to_string(o.glove.iterations) + " iterations (" + std::string(to_string(o.glove.step.convention)) +
        " convention, shuffle " + std::string(to_string(o.glove.shuffle)) + ")");
  r.run = train_vectors(r.vocab, records, o.glove, o.start, cb.glove);
  stage("[4/4] saving ...");
  save_outputs(r.vocab, r.run, {dir / "vectors.txt", dir / "vectors.bin", dir / "cost.csv", o.text});

  auto& j = r.summary;
  j = training_json(r.run, r.cooccur.records);
  j["corpus"] = o.corpus.string();
  j["out"] = o.out.string();
  j["tokens"] = r.vocab_stats.tokens;
  j["vocab_size"] = r.vocab.size();
  j["cooccur"] = cooccur_json(r.cooccur);
  j["convention"] = to_string(o.glove.step.convention);
  j["files"] = {"vocab.txt", "cooccurrence.bin", "vectors.txt", "vectors.bin", "cost.csv", "summary.json"};
  if (!o.show.empty()) {
    nlohmann::json shown = nlohmann::json::object();
    const auto wv = word_vectors(r.run.model, r.vocab, VectorsModel::sum);
    for (const auto& w : o.show) {
      if (wv.index(w) < 0) throw UsageError("--show: '" + w + "' is not in the vocabulary", {"", 0, "show"});
      shown[w] = neighbours_json(nearest(wv, w, 8));
    }
    j["nearest"] = shown;
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_file_atomic(dir / "summary.json", j.dump(2) + "\n");
  return r;
}

}  // namespace adakit::embed
