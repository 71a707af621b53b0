// Explanations of a sparse linear model (adakit explain): what each feature of one input adds to each
// class's score, and the features with the largest weights of the whole model, named as the user knows
// them (a vocabulary's n-gram, a hashed column with the n-grams that fell into it, a LIBSVM index).
//
// A linear model's score is a sum, so its explanation is exact: for an input x and output c,
//   z_c = b_c + Σ_j x_j · W[j, c]
// and the contribution of feature j is x_j · W[j, c] (computed in float, as the score is). The
// contributions plus the bias give the decision function's score up to the order of the float
// additions (LinearModel::scores adds them in column order).
//
// What is reported per task: logistic, the one output's score, read as the positive class's (class 1;
// its log-odds); asked for class 0, the negated view (weights -W, bias -b, score -z: class 0's
// log-odds). Softmax, one score per class. Squared, the prediction.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adakit/data/bucket_terms.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/data/text.hpp"
#include "adakit/linear/model.hpp"

namespace adakit::linear {

// How the model's columns are named: a text model's vectorizer (a vocabulary names a column by its
// n-gram; a hashed column is "bucket <column>"), with the terms kept at training time for hashed columns
// (optional); LIBSVM models (no vectorizer): the column's 1-based LIBSVM index.
struct FeatureNames {
  const data::TextVectorizer* vectorizer = nullptr;
  const data::BucketTerms* bucket_terms = nullptr;

  bool hashed() const { return vectorizer != nullptr && vectorizer->options().hash_bits > 0; }
  std::string name(std::int64_t column) const;
};

// A term of a hashed column: one of the input's own (count in the input, sign of its hash) or one kept
// at training time (count in the training texts, sign of its hash).
struct ColumnTerm {
  std::string term;
  std::int64_t count = 0;
  float sign = 1.0f;  // +1, or -1 where alternate_sign counts the term negatively
};

// One nonzero feature of the input.
struct InputFeature {
  std::int64_t column = 0;
  float value = 0.0f;                 // x_j as the model reads it (after the vectorizer's weighting)
  std::string name;                   // FeatureNames::name
  std::vector<ColumnTerm> terms;      // hashed text: this input's terms in the column, most frequent first
  std::vector<ColumnTerm> kept_terms;  // hashed text with bucket terms: the training texts' terms there
};

struct Contribution {
  std::size_t feature = 0;  // into Explanation::features
  float weight = 0.0f;      // the class's weight (logistic class 0: -W[j, 0])
  float contribution = 0.0f;  // value * weight
};

struct ClassScore {
  std::int32_t class_id = -1;  // -1: regression
  std::string name;            // the class's name ("" for regression, or a class without one)
  float bias = 0.0f;           // the class's bias (logistic class 0: -b)
  float score = 0.0f;          // the decision function's score (logistic class 0: -z)
  // The largest contributions by magnitude (ties: the smaller column first), at most ExplainOptions::top.
  std::vector<Contribution> contributions;
  // The rest: how many contributions were left out and their sum (in double).
  std::int64_t other_features = 0;
  double other_sum = 0.0;
};

struct Explanation {
  std::vector<InputFeature> features;  // the input's nonzero features, by column
  std::vector<ClassScore> classes;     // as ExplainOptions::class_id asks (see the top)
  std::int32_t predicted = -1;         // classification: the predicted class
  std::vector<double> probabilities;   // classification: predict_proba's row (one per class)
};

struct ExplainOptions {
  std::int64_t top = 0;                   // keep at most this many contributions per class (0: all)
  std::optional<std::int32_t> class_id;   // only this class (see the top); default: every class softmax has, class 1 of logistic
};

// The class id of `name` among the model's classes; UsageError naming "class" (listing the classes)
// for an unknown name or a regression model.
std::int32_t class_id_of(const LinearModel& model, std::string_view name);

// Row `row` of x (its columns within the model's dim: UsageError naming "features" otherwise).
// UsageError naming "class" for a class id the model does not have, "top" for top < 0.
Explanation explain_row(const LinearModel& model, const data::CsrView& x, std::int64_t row,
                        const FeatureNames& names = {}, const ExplainOptions& options = {});
// One text through the model's vectorizer (names.vectorizer, required: UsageError naming "text"
// otherwise); hashed columns list the text's own terms that fell into them.
Explanation explain_text(const LinearModel& model, std::string_view text, const FeatureNames& names,
                         const ExplainOptions& options = {});

// The whole model: for each class, the k features of largest weight toward it (ties: the smaller
// column first); zero weights are left out. Logistic: class 1 ranks W[:, 0], class 0 ranks -W[:, 0];
// softmax: class c ranks W[:, c]; squared: one list ranked by |W[:, 0]| (the weight keeps its sign).
struct TopFeature {
  std::int64_t column = 0;
  float weight = 0.0f;            // toward the class (logistic class 0: -W[j, 0])
  std::string name;
  std::vector<ColumnTerm> kept_terms;  // hashed text with bucket terms: the terms kept for the column
};
struct ClassTopFeatures {
  std::int32_t class_id = -1;
  std::string name;
  std::vector<TopFeature> features;
};
// UsageError naming "top-features" for k < 1, "class" for a class the model does not have.
// O(dim · outputs · log k).
std::vector<ClassTopFeatures> top_features(const LinearModel& model, std::int64_t k, const FeatureNames& names = {},
                                           std::optional<std::int32_t> class_id = std::nullopt);

// JSON of each (adakit explain --json). An explanation: {"predicted", "probabilities" (classification),
// "classes": [{"class", "class_id", "bias", "score", "contributions": [{"column", "name", "value",
// "weight", "contribution", "terms"?, "kept_terms"?}], "other_features", "other_sum"}]}; top features:
// [{"class", "class_id", "features": [{"column", "name", "weight", "kept_terms"?}]}].
nlohmann::json explanation_json(const Explanation& e, const LinearModel& model);
nlohmann::json top_features_json(const std::vector<ClassTopFeatures>& top);

}  // namespace adakit::linear
