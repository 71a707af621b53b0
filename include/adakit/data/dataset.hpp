// Dataset: a table of samples in memory (features tensor + class labels or regression targets),
// with the seeded train/test split and the standard scaler that every model in adakit consumes.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "adakit/core/tensor.hpp"

namespace adakit::data {

struct Dataset {
  std::string name;
  Tensor features;                         // [n, ...sample shape]; images [n, C, H, W] in [0, 1]
  std::vector<std::int32_t> labels;        // classification: class ids in [0, num_classes); empty for regression
  Tensor targets;                          // regression: [n] or [n, k]; default-constructed for classification
  std::vector<std::string> class_names;    // classification
  std::vector<std::string> feature_names;  // one per feature of the flattened sample; may be empty

  std::int64_t size() const;               // n (0 when features holds nothing)
  // Classification unless `targets` holds a tensor (rank >= 1, possibly with zero rows).
  bool is_classification() const;
  // class_names.size() when names are given, else 1 + the largest label (0 for regression).
  std::int64_t num_classes() const;
  Shape sample_shape() const;              // features shape without the first dim
  std::int64_t sample_size() const;        // product of sample_shape
  // Copies the given rows (any order, repeats allowed), keeps names. UsageError on an index out of range.
  Dataset subset(std::span<const std::int64_t> rows) const;
};

// Views every sample as a flat vector: features [n, ...] -> [n, sample_size]. No copy.
void flatten_features(Dataset& d);

struct TrainTest {
  Dataset train, test;
  // Which rows of the source went where, in the order they appear in train / test.
  std::vector<std::int64_t> train_rows, test_rows;
};

// Seeded shuffle split, deterministic for a seed on every platform (adakit::Rng).
// test rows = ceil(test_fraction * n), as scikit-learn's train_test_split. With `stratify` and a
// classification dataset, each class is split in the same proportion (largest-remainder rounding of
// test_fraction * class count, so the total stays ceil(test_fraction * n)); regression ignores `stratify`.
// Both splits keep the order of one seeded permutation of the rows.
// UsageError when test_fraction is not in (0, 1) or when either split would be empty.
TrainTest train_test_split(const Dataset& d, double test_fraction, std::uint64_t seed, bool stratify = true);

// The rows of that split for any row-aligned data (sparse, text): `labels` empty for an unstratified
// split, else one class id per row. train_test_split(d, ...) is d.subset() of these rows.
struct SplitRows {
  std::vector<std::int64_t> train_rows, test_rows;
};
SplitRows split_rows(std::int64_t n, std::span<const std::int32_t> labels, double test_fraction, std::uint64_t seed);

// Standard scaling per feature of the flattened sample: x' = (x - mean) / scale, where scale is the
// population standard deviation (ddof = 0, as scikit-learn), or 1 for a constant feature.
// Fit on the training split only, then apply the same numbers to every split.
struct StandardScaler {
  std::vector<float> mean, scale;
  void fit(const Dataset& d);             // UsageError on an empty dataset
  void transform(Dataset& d) const;       // UsageError if not fitted or the sample size differs
  bool fitted() const { return !mean.empty(); }
};

}  // namespace adakit::data
