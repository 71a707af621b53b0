// Explanations of sparse linear models: per-input contributions x_j · W[j, c] and per-class top weights.
#include "adakit/linear/explain.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>

#include "adakit/core/error.hpp"
#include "adakit/data/hashing.hpp"
#include "adakit/linear/fit.hpp"

namespace adakit::linear {
namespace {

std::size_t sz(std::int64_t i) { return static_cast<std::size_t>(i); }

std::string class_list(const LinearModel& model) {
  std::string s;
  for (std::int64_t c = 0; c < model.classes(); ++c) {
    const auto& names = model.class_names();
    s += (s.empty() ? "" : ", ") + (sz(c) < names.size() ? names[sz(c)] : std::to_string(c));
  }
  return s;
}

std::string class_name(const LinearModel& model, std::int32_t id) {
  if (id < 0) return "";
  const auto& names = model.class_names();
  return sz(id) < names.size() ? names[sz(id)] : std::to_string(id);
}

// The classes reported: (class id, output column, sign of the view).
struct View {
  std::int32_t class_id;
  std::int64_t output;
  float sign;
};
std::vector<View> views(const LinearModel& model, std::optional<std::int32_t> class_id) {
  if (model.task() == LinearTask::squared) {
    if (class_id) throw UsageError("a regression model has no classes", {"", 0, "class"});
    return {{-1, 0, 1.0f}};
  }
  if (class_id && (*class_id < 0 || *class_id >= model.classes()))
    throw UsageError("class id " + std::to_string(*class_id) + " is not one of the model's " +
                         std::to_string(model.classes()) + " classes (" + class_list(model) + ")",
                     {"", 0, "class"});
  if (model.outputs() == 1) {  // logistic, a two-class squared hinge: one score, for class 1
    const std::int32_t c = class_id.value_or(1);
    return {{c, 0, c == 0 ? -1.0f : 1.0f}};
  }
  if (class_id) return {{*class_id, *class_id, 1.0f}};
  std::vector<View> all;
  for (std::int32_t c = 0; c < model.classes(); ++c) all.push_back({c, c, 1.0f});
  return all;
}

std::vector<ColumnTerm> kept_terms_of(const FeatureNames& names, std::int64_t column) {
  std::vector<ColumnTerm> out;
  if (names.bucket_terms == nullptr || !names.hashed()) return out;
  const auto& o = names.vectorizer->options();
  for (const auto& t : names.bucket_terms->of(column))
    out.push_back({std::string(t.term), t.count,
                   data::hash_feature(t.term, names.vectorizer->num_features(), o.alternate_sign).sign});
  return out;
}

nlohmann::json terms_json(const std::vector<ColumnTerm>& terms) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& t : terms) a.push_back({{"term", t.term}, {"count", t.count}, {"sign", t.sign}});
  return a;
}

}  // namespace

std::string FeatureNames::name(std::int64_t column) const {
  if (vectorizer == nullptr) return std::to_string(column + 1);  // LIBSVM's 1-based index
  if (hashed()) return "bucket " + std::to_string(column);
  if (column < 0 || column >= vectorizer->num_features()) return "column " + std::to_string(column);
  return std::string(vectorizer->feature_name(column));
}

std::int32_t class_id_of(const LinearModel& model, std::string_view name) {
  if (model.task() == LinearTask::squared)
    throw UsageError("a regression model has no classes; leave --class out", {"", 0, "class"});
  const auto& names = model.class_names();
  for (std::size_t c = 0; c < names.size(); ++c)
    if (names[c] == name) return static_cast<std::int32_t>(c);
  throw UsageError("no class '" + std::string(name) + "' (the classes: " + class_list(model) + ")", {"", 0, "class"});
}

Explanation explain_row(const LinearModel& model, const data::CsrView& x, std::int64_t row, const FeatureNames& names,
                        const ExplainOptions& options) {
  if (options.top < 0) throw UsageError("must be at least 0 (0: every feature)", {"", 0, "top"});
  if (row < 0 || row >= x.rows)
    throw UsageError("row " + std::to_string(row) + " is outside the " + std::to_string(x.rows) + " rows", {"", 0, "row"});
  const std::vector<View> shown = views(model, options.class_id);
  // The row alone, as adakit predict scores it.
  data::CsrMatrix one;
  one.rows = 1;
  one.cols = model.dim();
  const auto idx = x.row_indices(row);
  const auto val = x.row_values(row);
  one.indices.assign(idx.begin(), idx.end());
  one.values.assign(val.begin(), val.end());
  one.indptr = {0, static_cast<std::int64_t>(idx.size())};
  for (const std::int32_t j : idx)
    if (j < 0 || j >= model.dim())
      throw UsageError("feature column " + std::to_string(j) + " is outside the model's dim " + std::to_string(model.dim()),
                       {"", row + 1, "features"});
  const Tensor z = decision_function(model, one);

  Explanation e;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (val[i] == 0.0f) continue;  // adds nothing
    InputFeature f;
    f.column = idx[i];
    f.value = val[i];
    f.name = names.name(f.column);
    f.kept_terms = kept_terms_of(names, f.column);
    e.features.push_back(std::move(f));
  }
  for (const View& v : shown) {
    ClassScore cs;
    cs.class_id = v.class_id;
    cs.name = class_name(model, v.class_id);
    cs.bias = v.sign * model.bias()[sz(v.output)];
    cs.score = v.sign * z.data()[v.output];
    std::vector<Contribution> all;
    all.reserve(e.features.size());
    for (std::size_t i = 0; i < e.features.size(); ++i) {
      const float w = v.sign * model.weight_row(e.features[i].column)[sz(v.output)];
      all.push_back({i, w, e.features[i].value * w});
    }
    std::sort(all.begin(), all.end(), [&](const Contribution& a, const Contribution& b) {
      const float ma = std::fabs(a.contribution), mb = std::fabs(b.contribution);
      if (ma != mb) return ma > mb;
      return e.features[a.feature].column < e.features[b.feature].column;
    });
    const std::size_t keep = options.top > 0 ? std::min(all.size(), sz(options.top)) : all.size();
    for (std::size_t i = keep; i < all.size(); ++i) cs.other_sum += all[i].contribution;
    cs.other_features = static_cast<std::int64_t>(all.size() - keep);
    all.resize(keep);
    cs.contributions = std::move(all);
    e.classes.push_back(std::move(cs));
  }
  if (model.task() != LinearTask::squared) {
    e.predicted = predict(model, one)[0];
    const Tensor p = predict_proba(model, one);
    e.probabilities.assign(p.data(), p.data() + p.numel());
  }
  return e;
}

Explanation explain_text(const LinearModel& model, std::string_view text, const FeatureNames& names,
                         const ExplainOptions& options) {
  if (names.vectorizer == nullptr)
    throw UsageError("a text needs a model trained on text (this one reads LIBSVM features)", {"", 0, "text"});
  const data::TextVectorizer& v = *names.vectorizer;
  const std::string texts[] = {std::string(text)};
  const data::CsrMatrix x = v.transform(texts);
  Explanation e = explain_row(model, x, 0, names, options);
  if (!names.hashed()) return e;
  // The text's own terms in each hashed column: count and sign of each, hashed as the vectorizer does.
  std::map<std::int64_t, std::map<std::string, ColumnTerm>> by_column;
  for (auto& term : v.analyze(text)) {
    const data::HashedFeature h = data::hash_feature(term, v.num_features(), v.options().alternate_sign);
    ColumnTerm& t = by_column[h.column][term];
    t.term = term;
    t.sign = h.sign;
    ++t.count;
  }
  for (InputFeature& f : e.features) {
    const auto it = by_column.find(f.column);
    if (it == by_column.end()) continue;
    for (auto& [term, t] : it->second) f.terms.push_back(std::move(t));
    std::stable_sort(f.terms.begin(), f.terms.end(),
                     [](const ColumnTerm& a, const ColumnTerm& b) { return a.count > b.count; });  // ties stay in byte order
  }
  return e;
}

std::vector<ClassTopFeatures> top_features(const LinearModel& model, std::int64_t k, const FeatureNames& names,
                                           std::optional<std::int32_t> class_id) {
  if (k < 1) throw UsageError("must be at least 1, got " + std::to_string(k), {"", 0, "top-features"});
  const std::vector<View> shown = [&] {
    if (model.outputs() != 1 || model.task() == LinearTask::squared || class_id) return views(model, class_id);
    return std::vector<View>{{1, 0, 1.0f}, {0, 0, -1.0f}};  // both sides of the one output
  }();
  const bool by_magnitude = model.task() == LinearTask::squared;
  std::vector<ClassTopFeatures> out;
  for (const View& v : shown) {
    // Better first: a larger key, then the smaller column.
    using Item = std::pair<float, std::int64_t>;  // (key, column)
    const auto better = [](const Item& a, const Item& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; };
    std::priority_queue<Item, std::vector<Item>, decltype(better)> heap(better);  // the worst kept on top
    const auto w = model.weights();
    for (std::int64_t j = 0; j < model.dim(); ++j) {
      const float x = w.row(j)[sz(v.output)];
      if (x == 0.0f) continue;
      const Item item{by_magnitude ? std::fabs(x) : v.sign * x, j};
      if (static_cast<std::int64_t>(heap.size()) < k) heap.push(item);
      else if (better(item, heap.top())) {
        heap.pop();
        heap.push(item);
      }
    }
    ClassTopFeatures c;
    c.class_id = v.class_id;
    c.name = class_name(model, v.class_id);
    for (; !heap.empty(); heap.pop()) {
      const std::int64_t j = heap.top().second;
      c.features.push_back({j, v.sign * w.row(j)[sz(v.output)], names.name(j), kept_terms_of(names, j)});
    }
    std::reverse(c.features.begin(), c.features.end());
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json explanation_json(const Explanation& e, const LinearModel& model) {
  nlohmann::json j;
  if (model.task() != LinearTask::squared) {
    j["predicted"] = class_name(model, e.predicted);
    j["probabilities"] = e.probabilities;
  }
  nlohmann::json classes = nlohmann::json::array();
  for (const ClassScore& c : e.classes) {
    nlohmann::json jc;
    if (c.class_id >= 0) {
      jc["class"] = c.name;
      jc["class_id"] = c.class_id;
    }
    jc["bias"] = c.bias;
    jc[model.task() == LinearTask::squared ? "prediction" : "score"] = c.score;
    nlohmann::json contributions = nlohmann::json::array();
    for (const Contribution& k : c.contributions) {
      const InputFeature& f = e.features[k.feature];
      nlohmann::json jk = {{"column", f.column},  {"name", f.name}, {"value", f.value},
                           {"weight", k.weight},  {"contribution", k.contribution}};
      if (!f.terms.empty()) jk["terms"] = terms_json(f.terms);
      if (!f.kept_terms.empty()) jk["kept_terms"] = terms_json(f.kept_terms);
      contributions.push_back(std::move(jk));
    }
    jc["contributions"] = std::move(contributions);
    jc["other_features"] = c.other_features;
    jc["other_sum"] = c.other_sum;
    classes.push_back(std::move(jc));
  }
  j["classes"] = std::move(classes);
  return j;
}

nlohmann::json top_features_json(const std::vector<ClassTopFeatures>& top) {
  nlohmann::json a = nlohmann::json::array();
  for (const ClassTopFeatures& c : top) {
    nlohmann::json jc;
    if (c.class_id >= 0) {
      jc["class"] = c.name;
      jc["class_id"] = c.class_id;
    }
    nlohmann::json features = nlohmann::json::array();
    for (const TopFeature& f : c.features) {
      nlohmann::json jf = {{"column", f.column}, {"name", f.name}, {"weight", f.weight}};
      if (!f.kept_terms.empty()) jf["kept_terms"] = terms_json(f.kept_terms);
      features.push_back(std::move(jf));
    }
    jc["features"] = std::move(features);
    a.push_back(std::move(jc));
  }
  return a;
}

}  // namespace adakit::linear
