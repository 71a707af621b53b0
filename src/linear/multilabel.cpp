#include "adakit/linear/multilabel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"

namespace adakit::linear {
namespace {

void check_choice(std::int64_t k, double threshold) {
  if (k < 1) throw UsageError("must be at least 1, got " + std::to_string(k), {"", 0, "top-k"});
  if (!(threshold >= 0.0 && threshold <= 1.0))
    throw UsageError("must be a probability in [0, 1], got " + std::to_string(threshold), {"", 0, "threshold"});
}

double ratio(std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

}  // namespace

std::vector<ClassProbability> top_classes(std::span<const float> probabilities, std::int64_t k, double threshold) {
  check_choice(k, threshold);
  std::vector<ClassProbability> all(probabilities.size());
  for (std::size_t c = 0; c < all.size(); ++c) all[c] = {static_cast<std::int32_t>(c), probabilities[c]};
  const auto key = [](const ClassProbability& p) { return std::isnan(p.probability) ? -1.0f : p.probability; };
  const auto keep = static_cast<std::size_t>(std::min<std::int64_t>(k, static_cast<std::int64_t>(all.size())));
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep), all.end(),
                    [&](const ClassProbability& a, const ClassProbability& b) {
                      return key(a) != key(b) ? key(a) > key(b) : a.class_id < b.class_id;
                    });
  all.resize(keep);
  if (threshold > 0.0)
    std::erase_if(all, [&](const ClassProbability& p) { return !(static_cast<double>(p.probability) >= threshold); });
  return all;
}

MultilabelMetrics multilabel_metrics(const Tensor& probabilities, const data::SparseDataView& d, std::int64_t k,
                                     double threshold) {
  check_choice(k, threshold);
  if (probabilities.rank() != 2 || probabilities.shape()[0] != d.size())
    throw UsageError("multilabel metrics: " + shape_to_string(probabilities.shape()) + " probabilities for " +
                         std::to_string(d.size()) + " rows",
                     {"", 0, "labels"});
  if (d.is_multilabel() ? d.label_offsets.size() != static_cast<std::size_t>(d.size()) + 1
                        : d.labels.size() != static_cast<std::size_t>(d.size()))
    throw UsageError("multilabel metrics: the data do not have one label (set) per row", {"", 0, "labels"});
  const std::int64_t classes = probabilities.shape()[1];
  MultilabelMetrics m;
  m.rows = d.size();
  m.k = k;
  m.threshold = threshold;
  std::int64_t top_hits = 0, top_count = 0, gold = 0, hits = 0, chosen = 0, exact = 0;
  std::vector<std::uint8_t> in_set(static_cast<std::size_t>(classes), 0);
  for (std::int64_t r = 0; r < d.size(); ++r) {
    const auto labels = d.row_labels(r);
    for (const std::int32_t l : labels) {
      if (l < 0 || l >= classes)
        throw UsageError("multilabel metrics: row " + std::to_string(r) + " has class " + std::to_string(l) + " of " +
                             std::to_string(classes),
                         {"", r + 1, "labels"});
      in_set[static_cast<std::size_t>(l)] = 1;
    }
    const std::span<const float> p(probabilities.data() + r * classes, static_cast<std::size_t>(classes));
    for (const ClassProbability& t : top_classes(p, k)) top_hits += in_set[static_cast<std::size_t>(t.class_id)];
    top_count += std::min(k, classes);
    std::int64_t row_hits = 0, row_chosen = 0;
    for (std::int64_t c = 0; c < classes; ++c)
      if (static_cast<double>(p[static_cast<std::size_t>(c)]) >= threshold) {
        ++row_chosen;
        row_hits += in_set[static_cast<std::size_t>(c)];
      }
    const auto row_gold = static_cast<std::int64_t>(std::count(in_set.begin(), in_set.end(), 1));
    exact += row_hits == row_gold && row_chosen == row_gold ? 1 : 0;
    gold += row_gold;
    hits += row_hits;
    chosen += row_chosen;
    for (const std::int32_t l : labels) in_set[static_cast<std::size_t>(l)] = 0;
  }
  m.precision_at_k = ratio(top_hits, top_count);
  m.recall_at_k = ratio(top_hits, gold);
  m.precision = ratio(hits, chosen);
  m.recall = ratio(hits, gold);
  m.f1 = m.precision + m.recall > 0.0 ? 2.0 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  m.exact_match = ratio(exact, m.rows);
  return m;
}

nlohmann::json to_json(const MultilabelMetrics& m) {
  return {{"rows", m.rows},           {"k", m.k},           {"precision_at_k", m.precision_at_k},
          {"recall_at_k", m.recall_at_k}, {"threshold", m.threshold}, {"precision", m.precision},
          {"recall", m.recall},       {"f1", m.f1},         {"exact_match", m.exact_match}};
}

}  // namespace adakit::linear
