// Losses: each returns the mean loss (double) and writes the gradient of that mean w.r.t. its input
// (resizing the gradient tensor only when its shape changes). Sums are taken in double.
//
//   mse_loss                    L = Σ (p - t)² / n  over all n elements (torch.nn.MSELoss, 'mean')
//                               dp = 2 (p - t) / n
//   bce_with_logits_loss        L = Σ [max(z, 0) - z y + log1p(exp(-|z|))] / n   (stable for any z)
//                               dz = (σ(z) - y) / n          (torch.nn.BCEWithLogitsLoss, 'mean')
//   softmax_cross_entropy_loss  L = Σ_b [logsumexp(z_b) - z_b[label_b]] / B   (stable log-softmax)
//                               dz_b = (softmax(z_b) - onehot(label_b)) / B  (torch.nn.CrossEntropyLoss)
//
// Class weights (optional, one per class, finite and >= 0): row b counts v_b = weight[label_b] and the
// mean becomes the weighted mean, torch.nn.CrossEntropyLoss(weight=...)'s 'mean' reduction:
//   L = Σ_b v_b ℓ_b / Σ_b v_b,   dz_b = v_b ∂ℓ_b/∂z_b / Σ_b v_b      (L = 0, dz = 0 when Σ_b v_b = 0)
// for softmax_cross_entropy_loss (ℓ_b as above) and bce_with_logits_loss (label = the 0/1 target; the
// same normalisation, so that one logit and two give the same weighted objective).
//
// Predictions: logits [B, C] with C > 1 → argmax per row (first maximum on ties); a single logit per
// sample ([B] or [B, 1]) → class 1 when z > 0, else 0.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "adakit/core/tensor.hpp"

namespace adakit::nn {

// pred and target have the same shape; UsageError otherwise.
double mse_loss(const Tensor& pred, const Tensor& target, Tensor& dpred);
// logits [B] or [B, 1] (any shape in fact); targets with the same element count, values in [0, 1].
double bce_with_logits_loss(const Tensor& logits, const Tensor& targets, Tensor& dlogits);
// The class-weighted mean (above): targets must be 0 or 1; class_weights has 2 entries.
double bce_with_logits_loss(const Tensor& logits, const Tensor& targets, Tensor& dlogits,
                            std::span<const float> class_weights);
// logits [B, C]; labels.size() == B; a label outside [0, C) is a UsageError naming it and its row.
double softmax_cross_entropy_loss(const Tensor& logits, std::span<const std::int32_t> labels, Tensor& dlogits);
// The class-weighted mean (above); class_weights has C entries (UsageError otherwise).
double softmax_cross_entropy_loss(const Tensor& logits, std::span<const std::int32_t> labels, Tensor& dlogits,
                                  std::span<const float> class_weights);

// Predicted class per sample (see above); out.size() must be B.
void predict_classes(const Tensor& logits, std::span<std::int32_t> out);
std::vector<std::int32_t> predict_classes(const Tensor& logits);
// Number of samples whose predicted class equals the label, and that count / B (0 for B = 0).
std::int64_t count_correct(const Tensor& logits, std::span<const std::int32_t> labels);
double accuracy(const Tensor& logits, std::span<const std::int32_t> labels);
// Single-logit accuracy against float targets: prediction z > 0 vs target > 0.5.
double binary_accuracy(const Tensor& logits, const Tensor& targets);

// Row-wise softmax of logits [B, C] into probs (resized when needed).
void softmax(const Tensor& logits, Tensor& probs);

}  // namespace adakit::nn
