#include "adakit/nn/loss.hpp"

#include <cmath>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/logistic.hpp"
#include "adakit/nn/kernels.hpp"
#include "util.hpp"

namespace adakit::nn {

using detail::ensure_shape;

namespace {

// Logits [B, C] as (B, C); a rank-1 tensor is [B] with C = 1.
void rows_cols(const Tensor& logits, const char* where, std::int64_t& rows, std::int64_t& cols) {
  if (logits.rank() == 1) {
    rows = logits.dim(0);
    cols = 1;
  } else if (logits.rank() == 2) {
    rows = logits.dim(0);
    cols = logits.dim(1);
  } else {
    throw UsageError(std::string(where) + ": expects logits [B] or [B, C], got " + shape_to_string(logits.shape()));
  }
}

void check_labels(std::int64_t rows, std::size_t labels, const char* where) {
  if (static_cast<std::int64_t>(labels) != rows)
    throw UsageError(std::string(where) + ": " + std::to_string(rows) + " rows of logits but " +
                     std::to_string(labels) + " labels");
}

// One sample's class: argmax (first on ties), or z > 0 for a single logit.
std::int32_t predict_row(const float* z, std::int64_t cols) {
  if (cols == 1) return z[0] > 0.0f ? 1 : 0;
  std::int64_t best = 0;
  for (std::int64_t c = 1; c < cols; ++c)
    if (z[c] > z[best]) best = c;
  return static_cast<std::int32_t>(best);
}

}  // namespace

double mse_loss(const Tensor& pred, const Tensor& target, Tensor& dpred) {
  detail::check_same_shape(pred, target, "prediction", "target", "mse_loss");
  ensure_shape(dpred, pred.shape());
  const std::int64_t n = pred.numel();
  if (n == 0) return 0.0;
  const float scale = static_cast<float>(2.0 / static_cast<double>(n));
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float d = pred[i] - target[i];
    sum += static_cast<double>(d) * d;
    dpred[i] = scale * d;
  }
  return sum / static_cast<double>(n);
}

namespace {

// Both losses, one code path: `w` null = every row weighs 1 (then Σ v = n exactly, and each v · x below
// is x: the unweighted mean, bit for bit).
double bce_impl(const Tensor& logits, const Tensor& targets, Tensor& dlogits, const float* w) {
  if (logits.numel() != targets.numel())
    throw UsageError("bce_with_logits_loss: logits " + shape_to_string(logits.shape()) + " and targets " +
                     shape_to_string(targets.shape()) + " differ in size");
  ensure_shape(dlogits, logits.shape());
  const std::int64_t n = logits.numel();
  double total = static_cast<double>(n);
  if (w != nullptr) {
    total = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (targets[i] != 0.0f && targets[i] != 1.0f)
        throw UsageError("bce_with_logits_loss: class weights need 0/1 targets, element " + std::to_string(i) + " is " +
                         std::to_string(targets[i]));
      total += w[targets[i] == 1.0f ? 1 : 0];
    }
  }
  if (n == 0 || total == 0.0) {
    std::fill_n(dlogits.data(), n, 0.0f);
    return 0.0;
  }
  const double inv = 1.0 / total;
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = w != nullptr ? w[targets[i] == 1.0f ? 1 : 0] : 1.0;
    const auto l = logistic_loss<double>(logits[i], targets[i]);
    sum += v * l.loss;
    dlogits[i] = static_cast<float>(v * l.grad * inv);
  }
  return sum * inv;
}

double ce_impl(const Tensor& logits, std::span<const std::int32_t> labels, Tensor& dlogits, const float* w) {
  const std::int64_t B = logits.dim(0), C = logits.dim(1);
  check_labels(B, labels.size(), "softmax_cross_entropy_loss");
  double total = w != nullptr ? 0.0 : static_cast<double>(B);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::int32_t label = labels[static_cast<std::size_t>(b)];
    if (label < 0 || label >= C)
      throw UsageError("softmax_cross_entropy_loss: label " + std::to_string(label) + " (row " + std::to_string(b) +
                       ") is outside [0, " + std::to_string(C) + ")");
    if (w != nullptr) total += w[label];
  }
  ensure_shape(dlogits, logits.shape());
  if (B == 0 || total == 0.0) {
    std::fill_n(dlogits.data(), B * C, 0.0f);
    return 0.0;
  }
  log_softmax_rows(logits.data(), B, C, dlogits.data());
  const double inv = 1.0 / total;
  double sum = 0.0;
  for (std::int64_t b = 0; b < B; ++b) {
    float* d = dlogits.data() + b * C;
    const std::int32_t label = labels[static_cast<std::size_t>(b)];
    const double v = w != nullptr ? w[label] : 1.0;
    const auto scale = static_cast<float>(v * inv);
    sum -= v * d[label];
    for (std::int64_t c = 0; c < C; ++c) d[c] = std::exp(d[c]) * scale;
    d[label] -= scale;
  }
  return sum * inv;
}

}  // namespace

double bce_with_logits_loss(const Tensor& logits, const Tensor& targets, Tensor& dlogits) {
  return bce_impl(logits, targets, dlogits, nullptr);
}

double bce_with_logits_loss(const Tensor& logits, const Tensor& targets, Tensor& dlogits,
                            std::span<const float> class_weights) {
  if (class_weights.size() != 2)
    throw UsageError("bce_with_logits_loss: " + std::to_string(class_weights.size()) + " class weights, expected 2",
                     {"", 0, "class_weight"});
  return bce_impl(logits, targets, dlogits, class_weights.data());
}

double softmax_cross_entropy_loss(const Tensor& logits, std::span<const std::int32_t> labels, Tensor& dlogits) {
  if (logits.rank() != 2)
    throw UsageError("softmax_cross_entropy_loss: expects logits [B, C], got " + shape_to_string(logits.shape()));
  return ce_impl(logits, labels, dlogits, nullptr);
}

double softmax_cross_entropy_loss(const Tensor& logits, std::span<const std::int32_t> labels, Tensor& dlogits,
                                  std::span<const float> class_weights) {
  if (logits.rank() != 2)
    throw UsageError("softmax_cross_entropy_loss: expects logits [B, C], got " + shape_to_string(logits.shape()));
  if (static_cast<std::int64_t>(class_weights.size()) != logits.dim(1))
    throw UsageError("softmax_cross_entropy_loss: " + std::to_string(class_weights.size()) + " class weights for " +
                         std::to_string(logits.dim(1)) + " classes",
                     {"", 0, "class_weight"});
  return ce_impl(logits, labels, dlogits, class_weights.data());
}

void predict_classes(const Tensor& logits, std::span<std::int32_t> out) {
  std::int64_t rows, cols;
  rows_cols(logits, "predict_classes", rows, cols);
  if (static_cast<std::int64_t>(out.size()) != rows)
    throw UsageError("predict_classes: " + std::to_string(rows) + " rows but room for " + std::to_string(out.size()));
  for (std::int64_t r = 0; r < rows; ++r) out[static_cast<std::size_t>(r)] = predict_row(logits.data() + r * cols, cols);
}

std::vector<std::int32_t> predict_classes(const Tensor& logits) {
  std::int64_t rows, cols;
  rows_cols(logits, "predict_classes", rows, cols);
  std::vector<std::int32_t> out(static_cast<std::size_t>(rows));
  predict_classes(logits, out);
  return out;
}

std::int64_t count_correct(const Tensor& logits, std::span<const std::int32_t> labels) {
  std::int64_t rows, cols;
  rows_cols(logits, "accuracy", rows, cols);
  check_labels(rows, labels.size(), "accuracy");
  std::int64_t correct = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    correct += predict_row(logits.data() + r * cols, cols) == labels[static_cast<std::size_t>(r)] ? 1 : 0;
  return correct;
}

double accuracy(const Tensor& logits, std::span<const std::int32_t> labels) {
  const std::int64_t correct = count_correct(logits, labels);
  return labels.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(labels.size());
}

double binary_accuracy(const Tensor& logits, const Tensor& targets) {
  if (logits.numel() != targets.numel())
    throw UsageError("binary_accuracy: logits " + shape_to_string(logits.shape()) + " and targets " +
                     shape_to_string(targets.shape()) + " differ in size");
  if (logits.numel() == 0) return 0.0;
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < logits.numel(); ++i) correct += (logits[i] > 0.0f) == (targets[i] > 0.5f) ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(logits.numel());
}

void softmax(const Tensor& logits, Tensor& probs) {
  if (logits.rank() != 2) throw UsageError("softmax: expects logits [B, C], got " + shape_to_string(logits.shape()));
  ensure_shape(probs, logits.shape());
  softmax_rows(logits.data(), logits.dim(0), logits.dim(1), probs.data());
}

}  // namespace adakit::nn
