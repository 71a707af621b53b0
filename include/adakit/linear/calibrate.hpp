// Calibrated probabilities for the sparse linear classifiers (adakit train --calibrate platt|isotonic):
// a map from a model's decision scores z = Wᵀx + b to probabilities, fitted on rows held out from
// training, as scikit-learn's CalibratedClassifierCV(cv="prefit") does.
//
// Platt scaling (J. Platt, "Probabilistic outputs for support vector machines and comparisons to
// regularized likelihood methods", 1999), fitted as in H.-T. Lin, C.-J. Lin and R. C. Weng, "A note on
// Platt's probabilistic outputs for support vector machines", Machine Learning 68 (2007), algorithm 1:
//   p(y = 1 | f) = 1 / (1 + exp(A f + B))
//   targets t_i = (N₊ + 1) / (N₊ + 2) for a positive row, 1 / (N₋ + 2) for a negative one
//   (A, B) = argmin Σ_i −t_i log p_i − (1 − t_i) log(1 − p_i), from A = 0, B = log((N₋ + 1) / (N₊ + 1)),
//   by Newton's method on the Hessian + ridge·I with a backtracking line search (step halved until the
//   objective drops by at least 1e-4 · step · gᵀd; stop when |∂/∂A| and |∂/∂B| < tolerance, after
//   max_iterations, or when the step falls below min_step).
// Isotonic regression (B. Zadrozny and C. Elkan, "Transforming classifier scores into accurate
// multiclass probability estimates", KDD 2002): the non-decreasing step function m minimising
// Σ_i (y_i − m(f_i))², by pool-adjacent-violators over the scores sorted ascending (rows with equal
// scores pooled first, their mean label weighted by count). As scikit-learn's
// IsotonicRegression(out_of_bounds="clip"): only the breakpoints where the fitted value changes are kept
// (the first and last score of each constant block), a score between two breakpoints is interpolated
// linearly, a score outside [first, last] is clipped to the end.
// Classes: a logistic model has one calibrator, on its single score, giving p₁ (p₀ = 1 − p₁). A softmax
// model has one per class c, fitted one-vs-rest on z_c (label [y = c]); the C calibrated values q_c are
// then normalised, p_c = q_c / Σ_k q_k (uniform 1/C when Σ_k q_k = 0), as CalibratedClassifierCV does.
//
// Metrics of probabilities p [rows, C] against labels y (calibration_metrics):
//   Brier score, binary (C = 2): mean_i (p_i1 − y_i)²   (scikit-learn's brier_score_loss, in [0, 1]);
//               C > 2: mean_i Σ_c (p_ic − [c = y_i])²  (G. W. Brier, Monthly Weather Review 78, 1950, in [0, 2])
//   expected calibration error (C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern
//   Neural Networks", ICML 2017, eq. 3): the top-class confidence ĉ_i = max_c p_ic and prediction
//   ŷ_i = argmax_c p_ic (first on ties) go in 15 equal-width bins B_m = ((m−1)/15, m/15] (ĉ = 0 in the
//   first); ECE = Σ_m |B_m| / n · |acc(B_m) − conf(B_m)|
//   log loss: mean_i −log max(p_iy, 1e-15);  accuracy: mean_i [ŷ_i = y_i]
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/core/tensor.hpp"

namespace adakit::linear {

enum class CalibrationMethod { platt, isotonic };
std::string_view to_string(CalibrationMethod method);
// "platt" | "isotonic"; UsageError naming "method" otherwise.
CalibrationMethod calibration_method_from_string(std::string_view text);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::platt;
  // Platt's Newton method (Lin, Lin and Weng's defaults).
  std::int32_t max_iterations = 100;  // >= 1
  double min_step = 1e-10;            // the line search gives up below this step, in (0, 1]
  double hessian_ridge = 1e-12;       // added to the Hessian's diagonal, >= 0
  double tolerance = 1e-5;            // on |gradient|, > 0
  // UsageError naming the field on a value outside its range.
  void validate() const;
};

// p = 1 / (1 + exp(a f + b)).
struct PlattScaling {
  double a = 0.0, b = 0.0;
  double operator()(double f) const;
};

// The fitted breakpoints: x strictly increasing, y non-decreasing in [0, 1], as many of each (>= 1).
struct IsotonicCurve {
  std::vector<double> x, y;
  double operator()(double f) const;  // linear interpolation, clipped outside [x.front(), x.back()]
};

// `positive[i]`: whether row i is of the positive class. UsageError naming "calibration" on no rows or
// lengths that differ.
PlattScaling fit_platt(std::span<const double> scores, std::span<const std::uint8_t> positive,
                       const CalibrationOptions& options = {});
IsotonicCurve fit_isotonic(std::span<const double> scores, std::span<const std::uint8_t> positive);

// One calibrator per column of scores: 1 for a binary (logistic) model, `classes` for softmax.
class Calibrator {
 public:
  Calibrator() = default;
  CalibrationMethod method() const noexcept { return method_; }
  std::int64_t classes() const noexcept { return classes_; }
  std::int64_t columns() const noexcept { return classes_ == 2 ? 1 : classes_; }
  const std::vector<PlattScaling>& platt() const noexcept { return platt_; }
  const std::vector<IsotonicCurve>& isotonic() const noexcept { return isotonic_; }

  // Fits on decision scores [rows, columns] (a logistic model's 1 column, a softmax model's `classes`)
  // and labels in [0, classes). UsageError naming "calibration" on no rows, a shape that does not fit
  // or a label out of range; the options' own errors name their field.
  static Calibrator fit(const Tensor& scores, std::span<const std::int32_t> labels, std::int64_t classes,
                        const CalibrationOptions& options = {});
  // Probabilities [rows, classes] of scores [rows, columns] (see the top of this file).
  Tensor probabilities(const Tensor& scores) const;
  // One row: `scores` columns() values, writes classes() probabilities.
  void probabilities(std::span<const float> scores, std::span<float> out) const;

  // {"method": "platt", "classes": C, "columns": [{"a": A, "b": B}, ...]} or
  // {"method": "isotonic", "classes": C, "columns": [{"x": [...], "y": [...]}, ...]}; doubles, written
  // so that they read back bit for bit.
  nlohmann::json to_json() const;
  // adakit::Error naming the field ("method", "classes", "columns[2].x", ...) on a malformed document.
  static Calibrator from_json(const nlohmann::json& j);

 private:
  CalibrationMethod method_ = CalibrationMethod::platt;
  std::int64_t classes_ = 2;
  std::vector<PlattScaling> platt_;
  std::vector<IsotonicCurve> isotonic_;
};

struct CalibrationMetrics {
  std::int64_t rows = 0;
  double brier = 0.0, ece = 0.0, log_loss = 0.0, accuracy = 0.0;
};
inline constexpr std::int32_t kEceBins = 15;
// probabilities [rows, classes], labels in [0, classes). UsageError naming "labels" when they do not fit.
CalibrationMetrics calibration_metrics(const Tensor& probabilities, std::span<const std::int32_t> labels,
                                       std::int32_t bins = kEceBins);
nlohmann::json to_json(const CalibrationMetrics& m);  // {"rows", "brier", "ece", "log_loss", "accuracy"}

}  // namespace adakit::linear
