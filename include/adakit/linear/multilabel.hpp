// Multilabel predictions and their scores, for models whose class probabilities stand each on its own
// (the ova loss: p(c | x) = σ(z_c), linear/model.hpp) and for any classifier's top-k.
//
// The classes predicted for a row (top_classes): its k most probable classes (probability descending,
// then class id ascending; a NaN last), of those only the ones with probability >= threshold (all of
// them at threshold 0, a NaN too). fastText's `predict FILE k threshold` picks them the same way;
// adakit serve answers with them.
//
// Scores over n rows with label sets Y_i (multilabel_metrics), all micro-averaged (counts summed over the
// rows first), as fastText's `test FILE k` and scikit-learn's precision/recall/f1_score(average="micro"):
//   T_i = the k most probable classes of row i (top_classes with threshold 0)
//   P@k = Σ_i |T_i ∩ Y_i| / Σ_i |T_i|          R@k = Σ_i |T_i ∩ Y_i| / Σ_i |Y_i|
//   S_i = { c : p_ic >= t }  (t the threshold, 0.5 by default)
//   precision = Σ_i |S_i ∩ Y_i| / Σ_i |S_i|    recall = Σ_i |S_i ∩ Y_i| / Σ_i |Y_i|
//   F1 = 2 · precision · recall / (precision + recall)
// A ratio over an empty count (no class reaches t anywhere) is 0, as scikit-learn's zero_division=0.
// exact_match: the fraction of rows with S_i = Y_i (scikit-learn's accuracy_score on indicator rows).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/core/tensor.hpp"
#include "adakit/data/sparse.hpp"

namespace adakit::linear {

struct ClassProbability {
  std::int32_t class_id = 0;
  float probability = 0.0f;
};

// `probabilities` one row's (one per class). UsageError naming "top-k" on k < 1, "threshold" on a
// threshold outside [0, 1].
std::vector<ClassProbability> top_classes(std::span<const float> probabilities, std::int64_t k, double threshold = 0.0);

struct MultilabelMetrics {
  std::int64_t rows = 0, k = 1;
  double threshold = 0.5;
  double precision_at_k = 0.0, recall_at_k = 0.0;
  double precision = 0.0, recall = 0.0, f1 = 0.0, exact_match = 0.0;
};

// probabilities [rows, classes]; d's rows' classes (SparseDataView::row_labels: a label set, or the one
// label). UsageError naming "labels" when the rows differ or a class is out of range, "top-k" /
// "threshold" as top_classes.
MultilabelMetrics multilabel_metrics(const Tensor& probabilities, const data::SparseDataView& d, std::int64_t k = 1,
                                     double threshold = 0.5);
// {"rows", "k", "precision_at_k", "recall_at_k", "threshold", "precision", "recall", "f1", "exact_match"}
nlohmann::json to_json(const MultilabelMetrics& m);

}  // namespace adakit::linear
