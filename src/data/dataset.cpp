#include "adakit/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"

namespace adakit::data {

std::int64_t Dataset::size() const { return features.rank() == 0 ? 0 : features.dim(0); }

bool Dataset::is_classification() const { return targets.rank() == 0; }

std::int64_t Dataset::num_classes() const {
  if (!is_classification()) return 0;
  if (!class_names.empty()) return static_cast<std::int64_t>(class_names.size());
  std::int32_t top = -1;
  for (auto l : labels) top = std::max(top, l);
  return static_cast<std::int64_t>(top) + 1;
}

Shape Dataset::sample_shape() const {
  const Shape& s = features.shape();
  if (s.empty()) return {};
  return Shape(s.begin() + 1, s.end());
}

std::int64_t Dataset::sample_size() const { return features.rank() == 0 ? 0 : shape_numel(sample_shape()); }

namespace {
// Copies rows of a [n, ...] tensor.
Tensor gather_rows(const Tensor& t, std::span<const std::int64_t> rows) {
  Shape shape = t.shape();
  const std::int64_t n = shape.at(0);
  const std::int64_t row_size = n == 0 ? shape_numel(Shape(shape.begin() + 1, shape.end())) : t.numel() / n;
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor out(shape);
  const std::size_t bytes = static_cast<std::size_t>(row_size) * sizeof(float);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (bytes > 0) std::memcpy(out.data() + static_cast<std::int64_t>(i) * row_size, t.data() + rows[i] * row_size, bytes);
  }
  return out;
}

void check_consistent(const Dataset& d, const char* what) {
  const std::int64_t n = d.size();
  if (d.features.rank() == 0) throw UsageError(std::string(what) + ": dataset '" + d.name + "' has no features tensor");
  if (d.is_classification()) {
    if (static_cast<std::int64_t>(d.labels.size()) != n)
      throw UsageError(std::string(what) + ": dataset '" + d.name + "' has " + std::to_string(n) + " rows but " +
                       std::to_string(d.labels.size()) + " labels");
  } else if (d.targets.dim(0) != n) {
    throw UsageError(std::string(what) + ": dataset '" + d.name + "' has " + std::to_string(n) + " rows but " +
                     std::to_string(d.targets.dim(0)) + " targets");
  }
}
}  // namespace

Dataset Dataset::subset(std::span<const std::int64_t> rows) const {
  check_consistent(*this, "subset");
  const std::int64_t n = size();
  for (auto r : rows)
    if (r < 0 || r >= n)
      throw UsageError("subset: row " + std::to_string(r) + " out of range [0, " + std::to_string(n) + ") of dataset '" +
                       name + "'");
  Dataset out;
  out.name = name;
  out.class_names = class_names;
  out.feature_names = feature_names;
  out.features = gather_rows(features, rows);
  if (is_classification()) {
    out.labels.reserve(rows.size());
    for (auto r : rows) out.labels.push_back(labels[static_cast<std::size_t>(r)]);
  } else {
    out.targets = gather_rows(targets, rows);
  }
  return out;
}

void flatten_features(Dataset& d) {
  if (d.features.rank() == 0) return;
  d.features.reshape({d.size(), d.sample_size()});
}

SplitRows split_rows(std::int64_t n, std::span<const std::int32_t> labels, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw UsageError("test_fraction must be in (0, 1), got " + std::to_string(test_fraction), {"", 0, "test_fraction"});
  if (!labels.empty() && static_cast<std::int64_t>(labels.size()) != n)
    throw UsageError("split_rows: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) + " rows");
  const auto n_test = static_cast<std::int64_t>(std::ceil(test_fraction * static_cast<double>(n) - 1e-9));
  if (n_test < 1 || n_test >= n)
    throw UsageError("test_fraction " + std::to_string(test_fraction) + " of " + std::to_string(n) +
                         " rows leaves an empty train or test split",
                     {"", 0, "test_fraction"});

  // One seeded permutation (Fisher-Yates with our own Rng: the same on every platform).
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), std::int64_t{0});
  Rng rng(seed);
  for (std::size_t i = perm.size() - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);

  std::vector<char> in_test(static_cast<std::size_t>(n), 0);
  if (!labels.empty()) {
    // Per class: quota = test_fraction * count; floor each, then hand the remaining test rows to the
    // classes with the largest fractional parts (ties: lower class id).
    std::map<std::int32_t, std::int64_t> counts;
    for (auto l : labels) ++counts[l];
    struct Quota {
      std::int32_t label;
      std::int64_t take;
      double rest;
    };
    std::vector<Quota> quotas;
    std::int64_t assigned = 0;
    for (const auto& [label, count] : counts) {
      const double q = test_fraction * static_cast<double>(count);
      const auto fl = static_cast<std::int64_t>(std::floor(q + 1e-9));
      quotas.push_back({label, fl, std::max(0.0, q - static_cast<double>(fl))});
      assigned += fl;
    }
    std::vector<std::size_t> order(quotas.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return quotas[a].rest > quotas[b].rest; });
    for (std::size_t k = 0; assigned < n_test && k < order.size(); ++k) {
      auto& q = quotas[order[k]];
      if (q.take < counts[q.label]) {
        ++q.take;
        ++assigned;
      }
    }
    std::map<std::int32_t, std::int64_t> left;
    for (const auto& q : quotas) left[q.label] = q.take;
    for (auto r : perm) {
      auto& k = left[labels[static_cast<std::size_t>(r)]];
      if (k > 0) {
        in_test[static_cast<std::size_t>(r)] = 1;
        --k;
      }
    }
  } else {
    for (std::int64_t i = 0; i < n_test; ++i) in_test[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])] = 1;
  }

  SplitRows out;
  for (auto r : perm) (in_test[static_cast<std::size_t>(r)] ? out.test_rows : out.train_rows).push_back(r);
  return out;
}

TrainTest train_test_split(const Dataset& d, double test_fraction, std::uint64_t seed, bool stratify) {
  check_consistent(d, "train_test_split");
  auto rows = split_rows(d.size(), stratify && d.is_classification() ? std::span<const std::int32_t>(d.labels)
                                                                     : std::span<const std::int32_t>{},
                         test_fraction, seed);
  TrainTest out;
  out.train_rows = std::move(rows.train_rows);
  out.test_rows = std::move(rows.test_rows);
  out.train = d.subset(out.train_rows);
  out.test = d.subset(out.test_rows);
  return out;
}

void StandardScaler::fit(const Dataset& d) {
  const std::int64_t n = d.size();
  const std::int64_t f = d.sample_size();
  if (n == 0 || f == 0) throw UsageError("StandardScaler::fit: dataset '" + d.name + "' is empty");
  std::vector<double> sum(static_cast<std::size_t>(f), 0.0), sq(static_cast<std::size_t>(f), 0.0);
  const float* x = d.features.data();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < f; ++j) sum[static_cast<std::size_t>(j)] += x[i * f + j];
  const double inv_n = 1.0 / static_cast<double>(n);
  for (auto& s : sum) s *= inv_n;  // now the mean
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < f; ++j) {
      const double c = x[i * f + j] - sum[static_cast<std::size_t>(j)];
      sq[static_cast<std::size_t>(j)] += c * c;
    }
  mean.assign(static_cast<std::size_t>(f), 0.0f);
  scale.assign(static_cast<std::size_t>(f), 1.0f);
  for (std::size_t j = 0; j < static_cast<std::size_t>(f); ++j) {
    mean[j] = static_cast<float>(sum[j]);
    const double sd = std::sqrt(sq[j] * inv_n);
    // A constant feature (or one whose spread is lost in float32) keeps scale 1, as scikit-learn.
    scale[j] = sd > 1e-12 * std::max(1.0, std::fabs(sum[j])) ? static_cast<float>(sd) : 1.0f;
  }
}

void StandardScaler::transform(Dataset& d) const {
  if (!fitted()) throw UsageError("StandardScaler::transform: call fit first");
  const std::int64_t f = d.sample_size();
  if (f != static_cast<std::int64_t>(mean.size()))
    throw UsageError("StandardScaler::transform: dataset '" + d.name + "' has " + std::to_string(f) +
                     " features per sample, the scaler was fitted on " + std::to_string(mean.size()));
  float* x = d.features.data();
  const std::int64_t n = d.size();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < f; ++j) {
      const auto k = static_cast<std::size_t>(j);
      x[i * f + j] = (x[i * f + j] - mean[k]) / scale[k];
    }
}

}  // namespace adakit::data
