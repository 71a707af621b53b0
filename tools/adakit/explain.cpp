// adakit explain: why a sparse linear model scores an input as it does (each feature's contribution
// x_j · W[j, c] to each class's score, linear/explain.hpp) and which features weigh most in the whole
// model (--top-features). The library does the work; this file wires flags and prints.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/data/prepare.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/explain.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

struct ExplainFlags {
  std::string model, data, data_dir, class_name;
  std::vector<std::string> texts;
  std::optional<std::int64_t> rows, top_features;
  std::int64_t top = 10;
  bool json = false;
};

// One explained input: where it came from and what the library says.
struct Explained {
  std::int64_t index;
  std::optional<std::string> text, label;
  linear::Explanation e;
};

std::string terms_text(const std::vector<linear::ColumnTerm>& terms, bool counts_in_input) {
  std::string s;
  for (const auto& t : terms) {
    s += (s.empty() ? "" : ", ") + t.term;
    if (counts_in_input ? t.count > 1 : true) s += (counts_in_input ? " x" : " ") + std::to_string(t.count);
    if (t.sign < 0) s += " (-)";
  }
  return s;
}

std::string feature_text(const std::string& name, const std::vector<linear::ColumnTerm>& terms,
                         const std::vector<linear::ColumnTerm>& kept) {
  std::string s = name;
  if (!terms.empty()) s += ": " + terms_text(terms, true);
  if (!kept.empty()) s += " [trained: " + terms_text(kept, false) + "]";
  return s;
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

void print_explained(const Explained& x, const linear::LinearModel& model) {
  const linear::Explanation& e = x.e;
  std::string head = "[" + std::to_string(x.index + 1) + "]";
  if (x.text) head += " " + quoted(*x.text);
  if (x.label) head += "  label " + *x.label;
  if (e.predicted >= 0) {
    const auto& names = model.class_names();
    const auto c = static_cast<std::size_t>(e.predicted);
    head += "  predicted " + (c < names.size() ? names[c] : std::to_string(c));
    if (c < e.probabilities.size()) head += " (p = " + format_number(e.probabilities[c]) + ")";
  }
  std::printf("%s\n", head.c_str());
  const bool regression = model.task() == linear::LinearTask::squared;
  for (const auto& c : e.classes) {
    std::printf("  %s %s = bias %s + %zu feature%s\n",
                regression ? "prediction" : ("class " + c.name + ": score").c_str(), format_number(c.score).c_str(),
                format_number(c.bias).c_str(), e.features.size(), e.features.size() == 1 ? "" : "s");
    if (c.contributions.empty()) continue;
    std::printf("    %13s %13s %13s  %s\n", "contribution", "weight", "value", "feature");
    for (const auto& k : c.contributions) {
      const auto& f = e.features[k.feature];
      std::printf("    %+13.6g %13.6g %13.6g  %s\n", static_cast<double>(k.contribution), static_cast<double>(k.weight),
                  static_cast<double>(f.value), feature_text(f.name, f.terms, f.kept_terms).c_str());
    }
    if (c.other_features > 0)
      std::printf("    %+13.6g %13s %13s  (%lld more feature%s: --top)\n", c.other_sum, "", "",
                  static_cast<long long>(c.other_features), c.other_features == 1 ? "" : "s");
  }
}

void print_top(const std::vector<linear::ClassTopFeatures>& top, bool regression) {
  for (const auto& c : top) {
    if (regression) std::printf("top %zu features by |weight|:\n", c.features.size());
    else std::printf("top %zu features of class %s (weight toward it):\n", c.features.size(), c.name.c_str());
    std::printf("    %13s  %s\n", "weight", "feature");
    for (const auto& f : c.features)
      std::printf("    %13.6g  %s\n", static_cast<double>(f.weight), feature_text(f.name, {}, f.kept_terms).c_str());
  }
}

int run_explain(const ExplainFlags& f) {
  if (!f.texts.empty() && !f.data.empty()) throw UsageError("give --text or --data, not both", {"", 0, "text"});
  if (f.texts.empty() && f.data.empty() && !f.top_features)
    throw UsageError("give --text \"...\", --data FILE or --top-features K", {"", 0, "text"});
  if (f.rows && f.data.empty()) throw UsageError("--rows counts the rows of --data FILE", {"", 0, "rows"});
  const io::LinearModelFile file = io::read_linear_model(f.model);
  const linear::LinearModel& model = file.model;
  if (!f.texts.empty() && !file.vectorizer)
    throw UsageError("--text needs a model trained on text (" + f.model + " was trained on LIBSVM features: give --data FILE)",
                     {"", 0, "text"});
  const linear::FeatureNames names{file.vectorizer ? &*file.vectorizer : nullptr,
                                   file.bucket_terms ? &*file.bucket_terms : nullptr};
  linear::ExplainOptions options{.top = f.top, .class_id = std::nullopt};
  if (!f.class_name.empty()) options.class_id = linear::class_id_of(model, f.class_name);

  std::vector<Explained> out;
  for (std::size_t i = 0; i < f.texts.size(); ++i)
    out.push_back({static_cast<std::int64_t>(i), f.texts[i], std::nullopt,
                   linear::explain_text(model, f.texts[i], names, options)});
  if (!f.data.empty() && file.vectorizer) {
    const data::TextDataset t = data::load_text(f.data, f.data_dir);
    const std::int64_t n = std::min(t.size(), f.rows.value_or(t.size()));
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      out.push_back({i, t.texts[u], t.class_names[static_cast<std::size_t>(t.labels[u])],
                     linear::explain_text(model, t.texts[u], names, options)});
    }
  } else if (!f.data.empty()) {
    const data::SparseDataset d = io::read_for_model(file, f.data, f.data_dir);
    const std::int64_t n = std::min(d.size(), f.rows.value_or(d.size()));
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      std::optional<std::string> label;
      if (d.is_classification() && u < d.labels.size()) label = d.class_names[static_cast<std::size_t>(d.labels[u])];
      else if (u < d.targets.size()) label = format_number(d.targets[u]);
      out.push_back({i, std::nullopt, label, linear::explain_row(model, d.features, i, names, options)});
    }
  }
  std::vector<linear::ClassTopFeatures> top;
  if (f.top_features) top = linear::top_features(model, *f.top_features, names, options.class_id);

  const bool regression = model.task() == linear::LinearTask::squared;
  if (f.json) {
    nlohmann::json j = {{"model", f.model},
                        {"task", std::string(linear::to_string(model.task()))},
                        {"input", file.vectorizer ? "text" : "libsvm"},
                        {"features", model.dim()},
                        {"hashed", names.hashed()},
                        {"bucket_terms", file.bucket_terms.has_value()}};
    nlohmann::json explained = nlohmann::json::array();
    for (const auto& x : out) {
      nlohmann::json jx = {{"index", x.index}};
      if (x.text) jx["text"] = *x.text;
      if (x.label) jx["label"] = *x.label;
      jx.update(linear::explanation_json(x.e, model));
      explained.push_back(std::move(jx));
    }
    if (!out.empty() || f.top_features) j["explanations"] = std::move(explained);
    if (f.top_features) j["top_features"] = linear::top_features_json(top);
    std::cout << j.dump() << "\n";
    return 0;
  }
  for (const auto& x : out) print_explained(x, model);
  if (f.top_features) print_top(top, regression);
  if (names.hashed() && !file.bucket_terms && f.top_features)
    std::fprintf(stderr, "(a hashed model: train with --keep-bucket-names to name the n-grams of each bucket)\n");
  return 0;
}

}  // namespace

void add_explain(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand("explain", "explain a sparse linear model's scores: each feature's contribution");
  auto f = std::make_shared<ExplainFlags>();
  app->add_option("--model,-m", f->model, "a sparse model file written by 'adakit train --save' (.bin or .json)")->required();
  app->add_option("--text", f->texts, "a text to explain with a text model (repeat for several)");
  app->add_option("--data,-d", f->data, "explain the rows of this file (text-tsv for a text model, else LIBSVM)");
  app->add_option("--data-dir", f->data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  add_optional(*app, "--rows", f->rows, "explain the first N rows of --data (default: every row)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 40));
  add_value(*app, "--top", f->top, "show the N largest contributions per class (the rest are summed)",
            CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
  add_optional(*app, "--top-features", f->top_features,
               "also list the N features of largest weight toward each class, for the whole model")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 31));
  app->add_option("--class", f->class_name,
                  "only this class (logistic: default the positive class; the other gives the negated view)");
  app->add_flag("--json", f->json, "print one JSON object");
  action_for(app, action, [f] { return run_explain(*f); });
}

}  // namespace adakit::cli
