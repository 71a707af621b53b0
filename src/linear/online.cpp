#include "adakit/linear/online.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>

#include "adakit/core/error.hpp"
#include "adakit/data/libsvm.hpp"
#include "adakit/data/prepare.hpp"

namespace adakit::linear {
namespace {

std::optional<double> number(std::string_view text) {
  const std::string s(text);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// Errors of a chunk's parser name lines from 1: shift them to the stream's.
template <class F>
auto at_line(std::int64_t first_line, F&& f) {
  try {
    return f();
  } catch (const UsageError& e) {
    const auto& c = e.context();
    throw UsageError(e.message(), {c.file, c.line > 0 ? c.line + first_line - 1 : 0, c.field});
  } catch (const Error& e) {
    const auto& c = e.context();
    throw Error(e.message(), {c.file, c.line > 0 ? c.line + first_line - 1 : 0, c.field});
  }
}

bool blank(std::string_view lines) {
  return std::all_of(lines.begin(), lines.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

bool same_class(std::string_view a, std::string_view b, bool numeric) {
  if (a == b) return true;
  if (!numeric) return false;
  const auto x = number(a), y = number(b);
  return x && y && *x == *y;
}

void number_classes(data::SparseDataset& d, const std::vector<std::string>& names, bool numeric,
                    const std::string& source) {
  std::vector<std::int32_t> id_of(d.class_names.size(), -1);
  for (std::size_t c = 0; c < d.class_names.size(); ++c) {
    const std::string& name = d.class_names[c];
    for (std::size_t k = 0; k < names.size() && id_of[c] < 0; ++k)
      if (same_class(name, names[k], numeric)) id_of[c] = static_cast<std::int32_t>(k);
    if (id_of[c] < 0 && std::find(d.labels.begin(), d.labels.end(), static_cast<std::int32_t>(c)) != d.labels.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw Error("class '" + name + "' is not one of the model's classes (" + known + ")", {source, 0, "label"});
    }
  }
  for (auto& l : d.labels) l = id_of[static_cast<std::size_t>(l)];
  if (d.is_multilabel()) d.label_sets.renumber(id_of, d.labels);  // each set renumbered; labels[r] its first
  d.class_names = names;
}

OnlineLearner::OnlineLearner(LinearModel& model, LinearOptimizer& optimizer, data::TextVectorizer* vectorizer,
                             OnlineOptions options)
    : model_(model), optimizer_(optimizer), vectorizer_(vectorizer), options_(options) {
  FitOptions{.epochs = 1, .batch_size = options_.batch_size}.validate();
}

void OnlineLearner::grow_to(std::int64_t dim, std::span<const std::int64_t> new_of_old) {
  if (dim <= model_.dim() && new_of_old.empty()) return;
  const std::int64_t before = model_.dim();
  model_.remap_features(dim, new_of_old);
  if (optimizer_.bound()) optimizer_.regrow(model_, new_of_old);
  added_ += model_.dim() - before;
}

data::SparseDataset OnlineLearner::examples(std::string_view lines, const std::string& source, std::int64_t first_line) {
  data::SparseDataset d;
  d.name = source;
  if (blank(lines)) {
    d.features.cols = model_.dim();
    d.features.indptr = {0};
    d.labels.clear();
    if (model_.task() == LinearTask::squared) d.targets.clear();
    return d;
  }
  const bool regression = model_.task() == LinearTask::squared;
  const bool multilabel = model_.task() == LinearTask::ova;  // a line's label may be a comma-separated set
  if (vectorizer_ != nullptr) {
    if (regression) throw UsageError("a text model classifies: it has no regression targets", {source, 0, "model"});
    data::TextDataset t = at_line(first_line, [&] { return data::parse_text_tsv(lines, source, false, multilabel); });
    // Check the labels before anything grows: a bad chunk changes nothing.
    d.class_names = t.class_names;
    d.labels = t.labels;
    d.label_sets = std::move(t.label_sets);
    at_line(first_line, [&] {
      number_classes(d, model_.class_names(), false, source);
      return 0;
    });
    if (!vectorizer_->fitted()) {
      vectorizer_->fit(t.texts);
    } else if (options_.grow && vectorizer_->can_grow()) {
      const auto new_of_old = vectorizer_->grow(t.texts);
      if (!new_of_old.empty()) grow_to(vectorizer_->num_features(), new_of_old);
    }
    grow_to(vectorizer_->num_features(), {});  // a fresh model (dim 1) to the vocabulary or the hashed space
    if (shards_for_ != vectorizer_->num_features()) {  // the columns' training shards, from their terms
      auto shards = vectorizer_->feature_shards();
      if (static_cast<std::int64_t>(shards.size()) == model_.dim()) model_.set_feature_shards(std::move(shards));
      shards_for_ = vectorizer_->num_features();
    }
    d.features = vectorizer_->transform(t.texts);
    return d;
  }
  data::LibsvmOptions o;
  o.max_index = options_.max_dim;
  o.task = regression ? data::LibsvmOptions::Task::regression : data::LibsvmOptions::Task::classification;
  o.multilabel = multilabel;
  d = at_line(first_line, [&] { return data::parse_libsvm(lines, source, o); });
  d.name = source;
  if (!regression)
    at_line(first_line, [&] {
      number_classes(d, model_.class_names(), true, source);
      return 0;
    });
  if (d.features.cols > model_.dim()) {
    if (!options_.grow)
      throw Error("feature index " + std::to_string(d.features.cols) + " is beyond the model's " +
                      std::to_string(model_.dim()) + " features",
                  {source, first_line, "index"});
    grow_to(d.features.cols, {});
  }
  data::fit_columns(d.features, model_.dim());
  return d;
}

FitResult OnlineLearner::learn(std::string_view lines, const std::string& source, std::int64_t first_line,
                               const run::Callbacks& callbacks) {
  return learn(examples(lines, source, first_line), callbacks);
}

FitResult OnlineLearner::learn(const data::SparseDataset& d, const run::Callbacks& callbacks) {
  if (d.size() == 0) return {};
  const FitOptions o{.epochs = 1, .batch_size = options_.batch_size, .seed = 0, .shuffle = false, .sync = false};
  FitResult r = fit(model_, optimizer_, d, o, callbacks);
  seen_ += d.size();
  return r;
}

}  // namespace adakit::linear
