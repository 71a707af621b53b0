// The pieces of a batch's gradient that LinearModel::gradient and linear::fit's threads (fit_threads.cpp)
// share, so that both compute the same numbers the same way (not installed).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "adakit/linear/model.hpp"

namespace adakit::linear::detail {

// UsageError naming "features" and row + 1: feature `feature` of row `row` is outside [0, dim).
[[noreturn]] void feature_outside(std::int32_t feature, std::int64_t row, std::int64_t dim);
// feature_outside for the first of `features` outside [0, dim), if any.
void check_features(std::span<const std::int32_t> features, std::int64_t row, std::int64_t dim);

// LinearModel::gradient's checks of `d`: one label (or target), one weight if any, one label set if
// multilabel, per row. UsageError naming the field.
void check_gradient_data(const LinearModel& model, const data::SparseDataView& d);
// A batch's dL/dz (B x outputs) from its rows' scores z (B x outputs): each row's loss terms, and
// whether it is predicted right, added to `st` (with B to its count), then its dL/dz times its weight,
// then all over B (the gradient is the batch's mean).
void batch_dz(const LinearModel& model, const data::SparseDataView& d, std::span<const std::int64_t> rows,
              std::span<const float> z, std::span<float> dz, BatchStats& st);
// out.features = batch.features[first, last) (all by default) and out.values their gradient rows:
// g_j = 0 + Σ x · dz[position] over feature j's entries in order (see the top of model.hpp).
// out.outputs = outputs.
void feature_gradients(const BatchFeatures& batch, std::int64_t batch_rows, std::int64_t outputs,
                       std::span<const float> dz, SparseGradient& out, std::int64_t first = 0, std::int64_t last = -1);
// The bias's gradient: Σ over the batch's rows of dz (zeros when the model fits no bias).
void bias_gradient(const LinearModel& model, std::int64_t batch_rows, std::span<const float> dz,
                   std::vector<float>& out);
// Row r's training scores, p_0 + p_1 by shard (the top of model.hpp), into z; tmp: outputs floats of scratch.
// Feature ids are not checked.
void training_scores(const LinearModel& model, const data::CsrView& x, std::int64_t r, std::span<float> z,
                     std::span<float> tmp);
// Prefetch hints for the model rows (weights and optimizer state) of these features (ids outside the
// model skipped).
void prefetch_model_rows(const LinearModel& model, std::span<const std::int32_t> features);

}  // namespace adakit::linear::detail
