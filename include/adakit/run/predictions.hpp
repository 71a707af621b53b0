// What a model predicts for a dataset's rows, as `adakit predict` reports it: train::predictions
// (nn models on dense data) and linear::predictions (sparse linear models) fill it, prediction_rows
// writes it as JSON.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adakit/core/tensor.hpp"

namespace adakit::run {

struct Predictions {
  std::int64_t rows = 0;
  std::vector<std::int32_t> classes;     // classification: one class id per row (empty: regression)
  std::vector<std::string> class_names;  // the model's (a class id past them has no label)
  // Regression: [rows, k] (k values per row), or [rows] (one number per row).
  Tensor outputs;
  // When asked for (classification): rows x classes, row-major. Doubles, so that probabilities
  // computed in double (a binary nn model's) keep their digits; float ones convert exactly.
  std::vector<double> probabilities;
  std::optional<double> accuracy, mse;  // when the data carry class labels / regression targets
};

// One object per row: {"index": i, "class": c, "label": class_names[c], "probabilities": [...]} for
// classification ("label" when c names one, "probabilities" when present), {"index": i, "prediction":
// [...] or x} for regression (an array for [rows, k] outputs, a number for [rows]).
nlohmann::json prediction_rows(const Predictions& p);

}  // namespace adakit::run
