#include "adakit/embed/steps.hpp"

#include <chrono>

#include "adakit/core/error.hpp"
#include "adakit/core/format.hpp"

namespace adakit::embed {

StepReport vocab_step(const std::filesystem::path& corpus, const std::filesystem::path& out,
                      const VocabOptions& options) {
  VocabStats st;
  const auto v = count_vocabulary(corpus, options, &st);
  require_words(v, options, corpus);
  write_vocabulary(out, v);
  return {{{"corpus", corpus.string()}, {"out", out.string()}, {"tokens", st.tokens}, {"unique", st.unique},
           {"vocab_size", v.size()}},
          format_printf("%lld tokens, %lld distinct words; wrote %lld words to %s\n", static_cast<long long>(st.tokens),
                        static_cast<long long>(st.unique), static_cast<long long>(v.size()), out.c_str())};
}

StepReport cooccur_step(const std::filesystem::path& corpus, const std::filesystem::path& vocab,
                        const std::filesystem::path& out, const CooccurOptions& options) {
  options.validate();
  const auto s = count_cooccurrences(corpus, read_vocabulary(vocab), out, options);
  StepReport r{cooccur_json(s),
               format_printf("%lld tokens; %lld nonzero co-occurrences (%lld runs spilled and merged) written to %s\n",
                             static_cast<long long>(s.tokens), static_cast<long long>(s.records),
                             static_cast<long long>(s.runs), out.c_str())};
  r.json["out"] = out.string();
  return r;
}

StepReport shuffle_step(const std::filesystem::path& in, const std::filesystem::path& out, std::uint64_t seed) {
  const auto n = shuffle_cooccurrence_file(in, out, seed);
  return {{{"in", in.string()}, {"out", out.string()}, {"records", n}, {"seed", seed}},
          format_printf("shuffled %lld records into %s\n", static_cast<long long>(n), out.c_str())};
}

StepReport train_step(const TrainStepOptions& o, const PipelineCallbacks& cb) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto vocab = read_vocabulary(o.vocab);
  const auto records = read_cooccurrences(o.cooccur, vocab.size());
  const std::string convention(to_string(o.glove.step.convention));
  if (cb.on_stage)
    cb.on_stage(format_printf("train: %lld words, %lld co-occurrence records, %s convention",
                              static_cast<long long>(vocab.size()), static_cast<long long>(records.size()),
                              convention.c_str()));
  o.glove.validate();
  const auto run = train_vectors(vocab, records, o.glove, o.start, cb.glove);
  save_outputs(vocab, run, o.save);
  StepReport r{training_json(run, static_cast<std::int64_t>(records.size())), ""};
  r.json["vocab_size"] = vocab.size();
  r.json["convention"] = convention;
  r.json["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& h = run.result.history;
  if (!h.empty())
    r.text = format_printf("trained %zu iterations in %.2fs; final cost %.6f\n", h.size(), run.result.seconds,
                           h.back().cost);
  for (const auto& p : {o.save.text_out, o.save.binary_out, o.save.cost_csv})
    if (!p.empty()) r.text += "wrote " + p.string() + "\n";
  return r;
}

PipelineProgress::PipelineProgress(std::FILE* out) : printer(out) {
  callbacks.on_stage = [out](std::string_view line) {
    std::fprintf(out, "%.*s\n", static_cast<int>(line.size()), line.data());
  };
  callbacks.glove = std::vector<run::Callback*>{&printer};
}

std::string pipeline_text(const PipelineResult& r) {
  std::string text;
  const auto& h = r.run.result.history;
  if (!h.empty()) text = format_printf("cost %.6f -> %.6f over %zu iterations\n", h.front().cost, h.back().cost, h.size());
  const auto shown = r.summary.value("nearest", nlohmann::json::object());
  for (const auto& [w, list] : shown.items()) {
    text += w + ":";
    for (const auto& x : list) text += " " + x.at("word").get<std::string>();
    text += "\n";
  }
  return text + "wrote " + r.summary.at("out").get<std::string>() +
         "/{vocab.txt, cooccurrence.bin, vectors.txt, vectors.bin, cost.csv, summary.json}\n";
}

WordVectors load_vectors(const QueryOptions& o) {
  if (o.format != "auto" && o.format != "text" && o.format != "binary")
    throw UsageError("unknown vectors format '" + o.format + "' (auto, text, binary)", {"", 0, "format"});
  const bool binary = o.format == "binary" || (o.format == "auto" && o.vectors.extension() == ".bin");
  if (!binary) return read_vectors_text(o.vectors);
  if (o.vocab.empty()) throw UsageError("a binary vectors file needs --vocab (it holds no words)", {"", 0, "vocab"});
  return read_vectors_binary_words(o.vectors, o.vocab, o.model);
}

std::string neighbours_text(const std::string& title, const std::vector<Neighbour>& neighbours) {
  std::string text = title + "\n";
  for (const auto& x : neighbours) text += format_printf("  %-24s %.4f\n", x.word.c_str(), x.similarity);
  return text;
}

nlohmann::json nearest_step(const WordVectors& vectors, const std::vector<std::string>& words, std::int64_t k,
                            const std::function<void(const std::string&)>& on_text) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& w : words) {
    const auto n = nearest(vectors, w, k);
    j[w] = neighbours_json(n);
    if (on_text) on_text(neighbours_text(w + ":", n));
  }
  return j;
}

StepReport analogy_step(const WordVectors& vectors, const std::string& a, const std::string& b, const std::string& c,
                        std::int64_t k) {
  const auto n = analogy(vectors, a, b, c, k);
  return {{{"a", a}, {"b", b}, {"c", c}, {"answers", neighbours_json(n)}},
          neighbours_text(a + " : " + b + " :: " + c + " : ?", n)};
}

}  // namespace adakit::embed
