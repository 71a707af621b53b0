#include "adakit/linear/model.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <utility>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/logistic.hpp"
#include "adakit/core/parallel.hpp"
#include "batch_math.hpp"

namespace adakit::linear {
namespace {

std::size_t sz(std::int64_t v) { return static_cast<std::size_t>(v); }
// Features a thread takes at least when a table's state is zeroed (parallel_for).
constexpr std::int64_t kZeroGrain = 4096;

[[noreturn]] void bad_field(const std::string& field, const std::string& what) {
  throw Error("linear model: " + field + ": " + what, {"", 0, field});
}

}  // namespace

std::string_view to_string(LinearTask task) {
  switch (task) {
    case LinearTask::logistic: return "logistic";
    case LinearTask::softmax: return "softmax";
    case LinearTask::squared: return "squared";
    case LinearTask::ova: return "ova";
    case LinearTask::squared_hinge: return "squared_hinge";
  }
  return "?";
}

std::int64_t linear_outputs(LinearTask task, std::int64_t classes) {
  switch (task) {
    case LinearTask::logistic:
    case LinearTask::squared: return 1;
    case LinearTask::softmax:
    case LinearTask::ova: return classes;
    case LinearTask::squared_hinge: return classes == 2 ? 1 : classes;
  }
  return 1;
}

LinearTask linear_task_from_string(std::string_view text) {
  if (text == "logistic") return LinearTask::logistic;
  if (text == "softmax") return LinearTask::softmax;
  if (text == "squared") return LinearTask::squared;
  if (text == "ova") return LinearTask::ova;
  if (text == "squared_hinge") return LinearTask::squared_hinge;
  throw UsageError("unknown linear task '" + std::string(text) + "' (logistic, softmax, squared, ova, squared_hinge)",
                   {"", 0, "task"});
}

double one_vs_rest_term(LinearTask task, float z, bool positive, float& dz) {
  if (task == LinearTask::ova) {
    const auto l = logistic_loss<double>(z, positive ? 1 : 0);
    dz = static_cast<float>(l.grad);
    return l.loss;
  }
  const double s = positive ? 1.0 : -1.0;  // squared_hinge
  const double slack = std::max(0.0, 1.0 - s * static_cast<double>(z));
  dz = static_cast<float>(-2.0 * s * slack);
  return slack * slack;
}

double one_vs_rest_terms(LinearTask task, std::span<const float> z, std::span<const std::int32_t> labels,
                         std::span<float> dz) {
  // One binary term per output; labels are few: a merge walk over the sorted set.
  double loss = 0.0;
  std::size_t next = 0;
  for (std::size_t c = 0; c < z.size(); ++c) {
    const auto cls = static_cast<std::int64_t>(c);
    while (next < labels.size() && labels[next] < cls) ++next;
    loss += one_vs_rest_term(task, z[c], next < labels.size() && labels[next] == cls, dz[c]);
  }
  return loss;
}

double linear_loss(LinearTask task, std::span<const float> z, std::span<const std::int32_t> labels, float target,
                   std::span<float> dz) {
  if (task == LinearTask::squared) {
    const double r = static_cast<double>(z[0]) - target;
    dz[0] = static_cast<float>(r);
    return 0.5 * r * r;
  }
  // The classifiers: the row's classes, in range; one of them unless one-vs-all.
  const auto classes = static_cast<std::int32_t>(task == LinearTask::logistic || z.size() == 1 ? 2 : z.size());
  if (labels.empty() || (labels.size() > 1 && task != LinearTask::ova))
    throw UsageError(std::string(to_string(task)) + ": " + std::to_string(labels.size()) +
                         " labels for a row; several labels a row (multilabel data) take the ova loss",
                     {"", 0, "label"});
  for (const std::int32_t label : labels)
    if (label < 0 || label >= classes)
      throw UsageError(std::string(to_string(task)) + ": label " + std::to_string(label) + " is outside [0, " +
                           std::to_string(classes) + ")",
                       {"", 0, "label"});
  const std::int32_t label = labels[0];
  switch (task) {
    case LinearTask::logistic: {
      const auto l = logistic_loss<double>(z[0], label);
      dz[0] = static_cast<float>(l.grad);
      return l.loss;
    }
    case LinearTask::softmax: {
      const auto s = shifted_exp_sum<double>(z);
      for (std::size_t k = 0; k < z.size(); ++k)
        dz[k] = static_cast<float>(s.softmax(z[k]) - (static_cast<std::int64_t>(k) == label ? 1.0 : 0.0));
      return s.log_sum_exp() - z[sz(label)];
    }
    case LinearTask::ova:
    case LinearTask::squared_hinge:
      if (z.size() == 1) return one_vs_rest_term(task, z[0], label == 1, dz[0]);
      return one_vs_rest_terms(task, z, labels, dz);
    case LinearTask::squared: break;
  }
  return 0.0;
}

void add_row_loss(LinearTask task, const data::SparseDataView& d, std::int64_t r, std::span<const float> z,
                  std::span<float> dz, BatchStats& st) {
  if (task == LinearTask::squared) {
    st.loss_sum += linear_loss(task, z, {}, d.targets[sz(r)], dz);
    st.squared_error_sum += static_cast<double>(dz[0]) * dz[0];
  } else {
    const auto labels = d.row_labels(r);
    st.loss_sum += linear_loss(task, z, labels, 0.0f, dz);
    st.correct += predicted_right(z, labels) ? 1 : 0;
  }
}

std::int32_t predicted_class(std::span<const float> z) {
  if (z.size() == 1) return z[0] > 0.0f ? 1 : 0;
  return static_cast<std::int32_t>(std::max_element(z.begin(), z.end()) - z.begin());
}

bool predicted_right(std::span<const float> z, std::span<const std::int32_t> labels) {
  const std::int32_t c = predicted_class(z);
  return std::find(labels.begin(), labels.end(), c) != labels.end();
}

// ---- BatchFeatures ----

void BatchFeatures::build(const data::CsrView& x, std::span<const std::int64_t> rows, std::int64_t dim) {
  // One pass to check the rows and features and to see whether the entries come in feature order
  // already (one canonical row, the common batch of one): then they are copied straight in.
  std::uint32_t any_bits = 0;  // OR of the feature ids: which radix digits can be nonzero
  bool in_order = true;        // feature ids non-decreasing in reading order: already grouped
  std::int32_t last = 0;
  std::size_t n = 0;
  for (std::size_t p = 0; p < rows.size(); ++p) {
    const std::int64_t r = rows[p];
    if (r < 0 || r >= x.rows)
      throw UsageError("batch row " + std::to_string(r) + " is outside [0, " + std::to_string(x.rows) + ")");
    const auto idx = x.row_indices(r);
    for (const std::int32_t f : idx) {
      if (f < 0 || f >= dim) detail::feature_outside(f, r, dim);
      any_bits |= static_cast<std::uint32_t>(f);
      in_order = in_order && f >= last;
      last = f;
    }
    n += idx.size();
  }
  features.clear();
  offsets.clear();
  positions.resize(n);
  values.resize(n);
  // Entry i of the grouped order: a new feature starts a group.
  auto put = [&](std::size_t i, std::int32_t feature, std::int32_t position, float value) {
    if (features.empty() || features.back() != feature) {
      features.push_back(feature);
      offsets.push_back(static_cast<std::int64_t>(i));
    }
    positions[i] = position;
    values[i] = value;
  };
  if (in_order) {
    std::size_t i = 0;
    for (std::size_t p = 0; p < rows.size(); ++p) {
      const auto idx = x.row_indices(rows[p]);
      const auto val = x.row_values(rows[p]);
      for (std::size_t k = 0; k < idx.size(); ++k) put(i++, idx[k], static_cast<std::int32_t>(p), val[k]);
    }
    offsets.push_back(static_cast<std::int64_t>(n));
    return;
  }
  scratch_.clear();
  for (std::size_t p = 0; p < rows.size(); ++p) {
    const auto idx = x.row_indices(rows[p]);
    const auto val = x.row_values(rows[p]);
    for (std::size_t k = 0; k < idx.size(); ++k) scratch_.push_back({idx[k], static_cast<std::int32_t>(p), val[k]});
  }
  {
    // Stable LSD radix sort by feature: entries with equal features keep their reading order, which
    // is position order. The ids' significant bits are split into the fewest digits of at most 11
    // bits (2 passes up to 2^22 features); one histogram pass for all digits, then one scatter pass
    // per digit that is not the same for all entries.
    constexpr int kMaxWidth = 11, kMaxPasses = 3;  // 3 x 11 bits cover int32 ids
    const int bits = std::bit_width(any_bits);
    const int passes = (bits + kMaxWidth - 1) / kMaxWidth;
    const int width = (bits + passes - 1) / passes;
    const std::uint32_t mask = (std::uint32_t{1} << width) - 1, buckets = mask + 1;
    std::array<std::uint32_t, kMaxPasses << kMaxWidth> count;
    std::fill_n(count.begin(), sz(passes) * buckets, 0u);
    for (const Entry& e : scratch_) {
      const auto f = static_cast<std::uint32_t>(e.feature);
      for (int d = 0; d < passes; ++d) ++count[sz(d) * buckets + ((f >> (width * d)) & mask)];
    }
    sorted_.resize(n);
    for (int d = 0; d < passes; ++d) {
      std::uint32_t* c = count.data() + sz(d) * buckets;
      if (std::find(c, c + buckets, static_cast<std::uint32_t>(n)) != c + buckets) continue;  // one bucket
      std::uint32_t sum = 0;
      for (std::uint32_t i = 0; i < buckets; ++i) sum += std::exchange(c[i], sum);
      for (const Entry& e : scratch_) sorted_[c[(static_cast<std::uint32_t>(e.feature) >> (width * d)) & mask]++] = e;
      scratch_.swap(sorted_);
    }
  }
  for (std::size_t i = 0; i < n; ++i) put(i, scratch_[i].feature, scratch_[i].position, scratch_[i].value);
  offsets.push_back(static_cast<std::int64_t>(n));
}

// ---- LinearModel ----

LinearModel::LinearModel(LinearTask task, std::int64_t dim, std::int64_t classes, bool fit_bias)
    : task_(task), dim_(dim), outputs_(1), classes_(classes), fit_bias_(fit_bias) {
  if (dim < 1) throw UsageError("linear model: dim must be >= 1, got " + std::to_string(dim), {"", 0, "dim"});
  switch (task) {
    case LinearTask::logistic:
      if (classes != 2)
        throw UsageError("logistic regression has 2 classes, got " + std::to_string(classes), {"", 0, "classes"});
      break;
    case LinearTask::softmax:
    case LinearTask::ova:
    case LinearTask::squared_hinge:
      if (classes < 2)
        throw UsageError(std::string(to_string(task)) + " needs >= 2 classes, got " + std::to_string(classes),
                         {"", 0, "classes"});
      if (classes <= (std::int64_t{1} << 24)) outputs_ = linear_outputs(task, classes);
      break;
    case LinearTask::squared: classes_ = 0; break;
  }
  // dim × outputs weights: capped so that a corrupted size in a model file is an error, not a
  // many-gigabyte allocation (2^31 float32 = 8 GiB; adakit train's LIBSVM columns stop at 2^27).
  if (classes_ > (std::int64_t{1} << 24) || dim_ > kMaxLinearWeights / outputs_)
    throw UsageError("linear model: dim " + std::to_string(dim_) + " x " + std::to_string(outputs_) +
                         " outputs is more than 2^31 weights",
                     {"", 0, "dim"});
  row_stride_ = outputs_;
  table_ = Tensor({dim_, row_stride_});
  bias_.assign(sz(outputs_), 0.0f);
}

std::int64_t LinearModel::row_stride_for(std::int64_t outputs, std::int64_t state_width) {
  const std::int64_t stride = outputs + state_width;  // with state, rows of up to 16 floats padded: see the header
  return state_width > 0 && stride <= 16 ? static_cast<std::int64_t>(std::bit_ceil(static_cast<std::uint64_t>(stride)))
                                         : stride;
}

void LinearModel::reserve_state(std::int64_t width, std::uint64_t owner) {
  if (width < 0 || width > kMaxLinearTable)
    throw UsageError("linear model: optimizer state of " + std::to_string(width) + " floats per feature", {"", 0, "state"});
  const std::int64_t stride = row_stride_for(outputs_, width);
  if (stride > kMaxLinearTable / dim_)
    throw UsageError("linear model: dim " + std::to_string(dim_) + " x " + std::to_string(stride) +
                         " floats of weights and optimizer state is more than 2^33",
                     {"", 0, "dim"});
  if (stride == row_stride_) {  // same layout: zero the state in place
    parallel_for(dim_, kZeroGrain, [&](std::int64_t j0, std::int64_t j1) {
      for (std::int64_t j = j0; j < j1; ++j) {
        float* row = table_.data() + j * row_stride_;
        std::fill(row + outputs_, row + row_stride_, 0.0f);
      }
    });
  } else {
    Tensor t({dim_, stride});
    for (std::int64_t j = 0; j < dim_; ++j)
      std::copy_n(table_.data() + j * row_stride_, outputs_, t.data() + j * stride);
    table_ = std::move(t);
    row_stride_ = stride;
  }
  state_width_ = width;
  state_owner_ = width > 0 ? owner : 0;
}

void LinearModel::remap_features(std::int64_t new_dim, std::span<const std::int64_t> new_of_old) {
  const auto bad = [&](const std::string& what) {
    throw UsageError("linear model: cannot grow from " + std::to_string(dim_) + " to " + std::to_string(new_dim) +
                         " features: " + what,
                     {"", 0, "dim"});
  };
  if (new_dim < dim_) bad("a model does not shrink");
  if (new_dim > kMaxLinearWeights / outputs_ || row_stride_ > kMaxLinearTable / new_dim)
    bad("more than 2^31 weights or 2^33 floats of weights and optimizer state");
  if (!new_of_old.empty() && static_cast<std::int64_t>(new_of_old.size()) != dim_)
    bad(std::to_string(new_of_old.size()) + " new places for " + std::to_string(dim_) + " features");
  for (std::size_t j = 0; j < new_of_old.size(); ++j)
    if (new_of_old[j] < 0 || new_of_old[j] >= new_dim || (j > 0 && new_of_old[j] <= new_of_old[j - 1]))
      bad("the new places must increase within [0, " + std::to_string(new_dim) + ")");
  if (new_dim == dim_) return;  // increasing within [0, dim): the identity
  Tensor t({new_dim, row_stride_});  // zeros: a fresh feature's weights and state
  if (new_of_old.empty()) {
    std::copy_n(table_.data(), dim_ * row_stride_, t.data());
  } else {
    for (std::int64_t j = 0; j < dim_; ++j)
      std::copy_n(table_.data() + j * row_stride_, row_stride_, t.data() + new_of_old[sz(j)] * row_stride_);
  }
  table_ = std::move(t);
  if (!shards_.empty()) {  // given shards move with their features; new ones take the default
    std::vector<std::uint8_t> moved(sz(new_dim));
    for (std::int64_t j = 0; j < new_dim; ++j) moved[sz(j)] = static_cast<std::uint8_t>(feature_shard(j));
    for (std::int64_t j = 0; j < dim_; ++j) moved[sz(new_of_old.empty() ? j : new_of_old[sz(j)])] = shards_[sz(j)];
    shards_ = std::move(moved);
  }
  dim_ = new_dim;
}

LinearModel LinearModel::for_dataset(const data::SparseDataset& d, std::int64_t dim) {
  const std::int64_t n = dim > 0 ? dim : d.features.cols;
  if (!d.is_classification()) return LinearModel(LinearTask::squared, n);
  if (d.is_multilabel()) return for_dataset(d, dim, "ova");
  std::int64_t classes = d.num_classes();
  if (classes == 0)  // no names: one past the largest label
    for (auto l : d.labels) classes = std::max<std::int64_t>(classes, l + 1);
  LinearModel m(classes <= 2 ? LinearTask::logistic : LinearTask::softmax, n, std::max<std::int64_t>(classes, 2));
  if (d.num_classes() == m.classes()) m.set_class_names(d.class_names);
  return m;
}

LinearModel LinearModel::for_dataset(const data::SparseDataset& d, std::int64_t dim, std::string_view task) {
  if (task.empty() || task == "auto") return for_dataset(d, dim);
  const std::int64_t n = dim > 0 ? dim : d.features.cols;
  const std::int64_t classes = d.num_classes();
  const auto with_names = [&](LinearModel m) {
    m.set_class_names(d.class_names);
    return m;
  };
  if (d.is_multilabel() && task != "ova")
    throw UsageError("the data are multilabel (several labels a row): they take the ova loss, not " + std::string(task),
                     {"", 0, "model"});
  if (task == "logreg") {
    if (!d.is_classification()) throw UsageError("logreg is for class labels; use linreg", {"", 0, "model"});
    if (classes != 2)
      throw UsageError("logreg is binary but the data has " + std::to_string(classes) + " classes; use softmax",
                       {"", 0, "model"});
    return with_names(LinearModel(LinearTask::logistic, n, 2));
  }
  for (const LinearTask t : {LinearTask::softmax, LinearTask::ova, LinearTask::squared_hinge})
    if (task == to_string(t)) {
      if (!d.is_classification()) throw UsageError(std::string(task) + " is for class labels; use linreg", {"", 0, "model"});
      return with_names(LinearModel(t, n, std::max<std::int64_t>(2, classes)));
    }
  if (task == "linreg") {
    if (d.is_classification()) throw UsageError("linreg needs numeric targets (LIBSVM data read as regression)", {"", 0, "model"});
    return LinearModel(LinearTask::squared, n, 2);
  }
  throw UsageError("unknown model '" + std::string(task) +
                       "' for sparse data (auto, logreg, softmax, ova, squared_hinge, linreg)",
                   {"", 0, "model"});
}

void LinearModel::set_class_names(std::vector<std::string> names) {
  if (!names.empty() && static_cast<std::int64_t>(names.size()) != classes_)
    throw UsageError("linear model: " + std::to_string(names.size()) + " class names for " +
                         std::to_string(classes_) + " classes",
                     {"", 0, "class_names"});
  class_names_ = std::move(names);
}

void LinearModel::set_calibrator(std::optional<Calibrator> calibrator) {
  if (!calibrator) {
    calibrator_.reset();
    return;
  }
  if (task_ == LinearTask::squared)
    throw UsageError("a regression model has no class probabilities to calibrate", {"", 0, "calibration"});
  if (task_ == LinearTask::ova)
    throw UsageError("an ova model's class probabilities are independent (multilabel); calibration fits one "
                     "distribution over the classes: train logistic, softmax or squared_hinge to calibrate",
                     {"", 0, "calibration"});
  if (calibrator->classes() != classes_)
    throw UsageError("the calibrator is for " + std::to_string(calibrator->classes()) + " classes, the model has " +
                         std::to_string(classes_),
                     {"", 0, "calibration"});
  calibrator_ = std::make_shared<const Calibrator>(std::move(*calibrator));
}

std::span<float> LinearModel::weight_row(std::int64_t feature) {
  if (feature < 0 || feature >= dim_) throw UsageError("feature " + std::to_string(feature) + " is outside dim");
  return {table_.data() + feature * row_stride_, sz(outputs_)};
}

std::span<const float> LinearModel::weight_row(std::int64_t feature) const {
  if (feature < 0 || feature >= dim_) throw UsageError("feature " + std::to_string(feature) + " is outside dim");
  return {table_.data() + feature * row_stride_, sz(outputs_)};
}

std::int64_t LinearModel::count_nonzero_weights() const {
  std::int64_t n = 0;
  for (std::int64_t j = 0; j < dim_; ++j) {
    const float* w = table_.data() + j * row_stride_;
    n += std::count_if(w, w + outputs_, [](float v) { return v != 0.0f; });
  }
  return n;
}

std::int64_t LinearModel::count_nonzero_features() const {
  std::int64_t n = 0;
  for (std::int64_t j = 0; j < dim_; ++j) {
    const float* w = table_.data() + j * row_stride_;
    n += std::any_of(w, w + outputs_, [](float v) { return v != 0.0f; }) ? 1 : 0;
  }
  return n;
}

void LinearModel::scores(const data::CsrView& x, std::int64_t row, std::span<float> z) const {
  const auto idx = x.row_indices(row);
  detail::check_features(idx, row, dim_);
  partial_scores(idx, x.row_values(row), true, z);  // z_c = b_c + Σ_e v_e · W[j_e, c], in the row's order
}

void LinearModel::partial_scores(std::span<const std::int32_t> index, std::span<const float> value, bool with_bias,
                                 std::span<float> q) const {
  // Outputs 16 at a time, the entries inside: the 16 sums stay in one vector register across the entries
  // instead of going through memory at each entry (on a 35-output model, 2x faster than the entries
  // outside). Lanes past the outputs read nothing (masked) and add 0.
  constexpr std::int64_t kLanes = 16;
  const std::int64_t k = outputs_;
  for (std::int64_t c0 = 0; c0 < k; c0 += kLanes) {
    const std::int64_t m = std::min(kLanes, k - c0);
    float acc[kLanes];
    for (std::int64_t c = 0; c < kLanes; ++c) acc[c] = with_bias && c < m ? bias_[sz(c0 + c)] : 0.0f;
    for (std::size_t e = 0; e < index.size(); ++e) {
      const float* w = table_.data() + static_cast<std::int64_t>(index[e]) * row_stride_ + c0;
      const float v = value[e];
#pragma omp simd
      for (std::int64_t c = 0; c < kLanes; ++c) acc[c] += v * (c < m ? w[c] : 0.0f);
    }
    for (std::int64_t c = 0; c < m; ++c) q[sz(c0 + c)] = acc[c];
  }
}

void detail::training_scores(const LinearModel& model, const data::CsrView& x, std::int64_t r, std::span<float> z,
                             std::span<float> tmp) {
  // The row's entries grouped by shard, each shard's in the row's order: a stable counting sort without
  // a branch on the shard (half of them would be mispredicted).
  const auto idx = x.row_indices(r);
  const auto val = x.row_values(r);
  thread_local std::vector<std::int32_t> index;  // reused: no allocation per row once warm
  thread_local std::vector<float> value;
  index.resize(idx.size());
  value.resize(idx.size());
  std::size_t ones = 0;
  for (const std::int32_t j : idx) ones += model.shard_of(j) == 1 ? 1 : 0;
  std::size_t at[2] = {0, idx.size() - ones};
  for (std::size_t e = 0; e < idx.size(); ++e) {
    const std::size_t s = model.shard_of(idx[e]) == 1 ? 1 : 0;
    index[at[s]] = idx[e];
    value[at[s]++] = val[e];
  }
  const std::size_t h = idx.size() - ones;
  model.partial_scores(std::span(index).first(h), std::span(value).first(h), true, z);
  model.partial_scores(std::span(index).subspan(h), std::span(value).subspan(h), false, tmp);
  for (std::size_t c = 0; c < z.size(); ++c) z[c] += tmp[c];
}

void LinearModel::set_feature_shards(std::vector<std::uint8_t> shards) {
  if (!shards.empty() && static_cast<std::int64_t>(shards.size()) != dim_)
    throw UsageError("linear model: " + std::to_string(shards.size()) + " feature shards for " + std::to_string(dim_) +
                         " features",
                     {"", 0, "shards"});
  for (std::size_t j = 0; j < shards.size(); ++j)
    if (shards[j] >= kFeatureShards)
      throw UsageError("linear model: feature " + std::to_string(j) + "'s shard " + std::to_string(shards[j]) +
                           " is not below " + std::to_string(kFeatureShards),
                       {"", 0, "shards"});
  shards_ = std::move(shards);
}

void detail::feature_outside(std::int32_t feature, std::int64_t row, std::int64_t dim) {
  throw UsageError("feature " + std::to_string(feature) + " of row " + std::to_string(row) + " is outside the model's dim " +
                       std::to_string(dim),
                   {"", row + 1, "features"});
}

void detail::check_features(std::span<const std::int32_t> features, std::int64_t row, std::int64_t dim) {
  for (const std::int32_t j : features)
    if (j < 0 || j >= dim) feature_outside(j, row, dim);
}

void detail::check_gradient_data(const LinearModel& model, const data::SparseDataView& d) {
  const bool regression = model.task() == LinearTask::squared;
  if (regression ? d.targets.size() != sz(d.size()) : d.labels.size() != sz(d.size()))
    throw UsageError(std::string("linear gradient: the dataset has ") +
                         (regression ? std::to_string(d.targets.size()) + " targets" : std::to_string(d.labels.size()) + " labels") +
                         " for " + std::to_string(d.size()) + " rows",
                     {"", 0, regression ? "targets" : "labels"});
  if (!d.weights.empty() && d.weights.size() != sz(d.size()))
    throw UsageError("linear gradient: the dataset has " + std::to_string(d.weights.size()) + " weights for " +
                         std::to_string(d.size()) + " rows",
                     {"", 0, "weights"});
  if (d.is_multilabel() && d.label_offsets.size() != sz(d.size() + 1))
    throw UsageError("linear gradient: the dataset has " + std::to_string(d.label_offsets.size() - 1) +
                         " label sets for " + std::to_string(d.size()) + " rows",
                     {"", 0, "labels"});
}

void detail::batch_dz(const LinearModel& model, const data::SparseDataView& d, std::span<const std::int64_t> rows,
                      std::span<const float> z, std::span<float> dz, BatchStats& st) {
  const std::int64_t k = model.outputs();
  const auto b = static_cast<std::int64_t>(rows.size());
  st.count += b;
  for (std::int64_t p = 0; p < b; ++p) {
    const std::int64_t r = rows[sz(p)];
    const std::span<float> g(dz.data() + p * k, sz(k));
    add_row_loss(model.task(), d, r, z.subspan(sz(p * k), sz(k)), g, st);
    if (!d.weights.empty()) {  // a weighted row (after the stats, which stay unweighted): its loss, hence its dL/dz, counts w times
      const float w = d.weights[sz(r)];
      for (float& v : g) v *= w;
    }
  }
  const float inv_b = b > 0 ? 1.0f / static_cast<float>(b) : 0.0f;
  for (float& v : dz.first(sz(b * k))) v *= inv_b;
}

void detail::feature_gradients(const BatchFeatures& batch, std::int64_t batch_rows, std::int64_t outputs,
                               std::span<const float> dz, SparseGradient& out, std::int64_t first, std::int64_t last) {
  const std::int64_t k = outputs;
  if (last < 0) last = static_cast<std::int64_t>(batch.features.size());
  out.outputs = k;
  out.features.assign(batch.features.begin() + first, batch.features.begin() + last);
  out.values.resize(sz((last - first) * k));
  for (std::int64_t i = first; i < last; ++i) {
    float* g = out.values.data() + (i - first) * k;
    for (std::int64_t e = batch.offsets[sz(i)]; e < batch.offsets[sz(i) + 1]; ++e) {
      const std::int32_t p = batch.positions[sz(e)];
      if (p < 0 || p >= batch_rows) throw UsageError("linear gradient: the batch's features come from another batch");
      const float x = batch.values[sz(e)];
      const float* dzp = dz.data() + p * k;
      // g = 0 + Σ x·dz over the feature's entries in order; the first entry writes 0 + x·dz (the same
      // value and zero sign as adding it to a zeroed row, without zeroing the rows first).
      if (e == batch.offsets[sz(i)])
        for (std::int64_t c = 0; c < k; ++c) g[c] = 0.0f + x * dzp[c];
      else
        for (std::int64_t c = 0; c < k; ++c) g[c] += x * dzp[c];
    }
  }
}

void detail::bias_gradient(const LinearModel& model, std::int64_t batch_rows, std::span<const float> dz,
                           std::vector<float>& out) {
  const std::int64_t k = model.outputs();
  out.assign(sz(k), 0.0f);
  if (model.fit_bias())
    for (std::int64_t p = 0; p < batch_rows; ++p)
      for (std::int64_t c = 0; c < k; ++c) out[sz(c)] += dz[sz(p * k + c)];
}

BatchStats LinearModel::gradient(const data::SparseDataView& d, std::span<const std::int64_t> rows,
                                 const BatchFeatures& batch, SparseGradient& out,
                                 std::span<const std::int64_t> next_rows) const {
  const std::int64_t k = outputs_;
  const auto b = static_cast<std::int64_t>(rows.size());
  if (batch.offsets.size() != batch.features.size() + 1)
    throw UsageError("linear gradient: the batch's features were not built (BatchFeatures::build)");
  detail::check_gradient_data(*this, d);
  out.outputs = k;
  out.dz.resize(sz(b * k));  // every row's loss writes all its outputs' dL/dz
  out.z.resize(sz(b * k));
  // A large model does not fit in cache: ask for the rows (weights and optimizer state) of the
  // features of the row kPrefetchRowsAhead places ahead, in this batch or the next, while scoring this
  // one, so the misses overlap with the arithmetic. A hint: no value changes.
  const auto nb = static_cast<std::int64_t>(next_rows.size());
  auto prefetch_row = [&](std::int64_t p) {
    const std::int64_t r = p < b ? rows[sz(p)] : p - b < nb ? next_rows[sz(p - b)] : -1;
    if (r >= 0 && r < d.features.rows) detail::prefetch_model_rows(*this, d.features.row_indices(r));
  };
  if (nb == 0)  // nobody asked for this batch's rows ahead of time
    for (std::int64_t p = 0; p < std::min(b, kPrefetchRowsAhead); ++p) prefetch_row(p);
  for (std::int64_t p = 0; p < b; ++p) {
    prefetch_row(p + kPrefetchRowsAhead);
    const std::int64_t r = rows[sz(p)];
    if (r < 0 || r >= d.features.rows)
      throw UsageError("linear gradient: batch row " + std::to_string(r) + " is outside [0, " +
                       std::to_string(d.features.rows) + ")");
    detail::check_features(d.features.row_indices(r), r, dim_);
    detail::training_scores(*this, d.features, r, std::span<float>(out.z.data() + p * k, sz(k)),
                            std::span<float>(out.dz).first(sz(k)));
  }
  BatchStats st;
  detail::batch_dz(*this, d, rows, out.z, out.dz, st);
  detail::feature_gradients(batch, b, k, out.dz, out);
  detail::bias_gradient(*this, b, out.dz, out.bias);
  return st;
}

void detail::prefetch_model_rows(const LinearModel& model, std::span<const std::int32_t> features) {
  const float* table = model.table().data();
  const std::int64_t stride = model.row_stride(), dim = model.dim();
  for (const std::int32_t j : features)
    if (j >= 0 && j < dim) prefetch_floats(table + j * stride, stride);
}

// ---- saving ----

nlohmann::json LinearModel::config() const {
  return {{"task", std::string(to_string(task_))},
          {"dim", dim_},
          {"classes", classes_},
          {"fit_bias", fit_bias_},
          {"class_names", class_names_}};
}

std::map<std::string, Tensor> LinearModel::tensors() const {
  std::map<std::string, Tensor> out;
  Tensor w({dim_, outputs_});
  for (std::int64_t j = 0; j < dim_; ++j) std::copy_n(table_.data() + j * row_stride_, outputs_, w.data() + j * outputs_);
  out.emplace("weight", std::move(w));
  out.emplace("bias", Tensor({outputs_}, std::span<const float>(bias_)));
  return out;
}

namespace {

LinearModel model_from_config(const nlohmann::json& c) {
  if (!c.is_object()) bad_field("config", "is not an object");
  for (const char* key : {"task", "dim", "classes", "fit_bias"})
    if (!c.contains(key)) bad_field(key, "is missing");
  if (!c["task"].is_string()) bad_field("task", "is not a string");
  if (!c["dim"].is_number_integer()) bad_field("dim", "is not an integer");
  if (!c["classes"].is_number_integer()) bad_field("classes", "is not an integer");
  if (!c["fit_bias"].is_boolean()) bad_field("fit_bias", "is not a boolean");
  const auto task = linear_task_from_string(c["task"].get<std::string>());
  const auto classes = c["classes"].get<std::int64_t>();
  LinearModel m(task, c["dim"].get<std::int64_t>(), task == LinearTask::squared ? 2 : classes,
                c["fit_bias"].get<bool>());
  if (c.contains("class_names")) {
    if (!c["class_names"].is_array()) bad_field("class_names", "is not an array");
    m.set_class_names(c["class_names"].get<std::vector<std::string>>());
  }
  return m;
}

}  // namespace

LinearModel LinearModel::from_tensors(const nlohmann::json& config, const std::map<std::string, Tensor>& tensors) {
  LinearModel m = model_from_config(config);
  auto take = [&](const std::string& name, const Shape& shape, auto into) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) bad_field(name, "tensor is missing");
    if (it->second.shape() != shape)
      bad_field(name, "has shape " + shape_to_string(it->second.shape()) + ", expected " + shape_to_string(shape));
    std::copy(it->second.span().begin(), it->second.span().end(), into.begin());
  };
  take("weight", {m.dim(), m.outputs()}, m.weights());
  take("bias", {m.outputs()}, m.bias());
  return m;
}

LinearModel LinearModel::from_config(const nlohmann::json& config) { return model_from_config(config); }

LinearModel::Rows LinearModel::nonzero_rows() const {
  Rows r;
  for (std::int64_t f = 0; f < dim_; ++f) {
    const float* w = table_.data() + f * row_stride_;
    if (std::none_of(w, w + outputs_, [](float v) { return v != 0.0f; })) continue;
    r.rows.push_back(f);
    r.values.insert(r.values.end(), w, w + outputs_);
  }
  return r;
}

void LinearModel::put_rows(std::span<const std::int64_t> rows, std::span<const float> values) {
  if (rows.size() > values.size() || values.size() != rows.size() * sz(outputs_))
    bad_field("values", "has " + std::to_string(values.size()) + " values for " + std::to_string(rows.size()) +
                            " rows of " + std::to_string(outputs_));
  for (const float v : values)
    if (!std::isfinite(v)) bad_field("values", "holds a value that is not finite");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= dim_)
      bad_field("rows", "feature " + std::to_string(rows[i]) + " is outside [0, " + std::to_string(dim_) + ")");
    if (i > 0 && rows[i] <= rows[i - 1]) bad_field("rows", "features are not increasing");
  }
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(i * sz(outputs_)), outputs_,
                table_.data() + rows[i] * row_stride_);
}

nlohmann::json LinearModel::to_json() const {
  nlohmann::json j = config();
  j["format"] = "adakit.linear";
  j["bias"] = bias_;
  Rows r = nonzero_rows();
  j["rows"] = r.rows;
  j["values"] = r.values;
  return j;
}

LinearModel LinearModel::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("format") || j["format"] != "adakit.linear")
    bad_field("format", "is not \"adakit.linear\"");
  LinearModel m = model_from_config(j);
  for (const char* key : {"bias", "rows", "values"})
    if (!j.contains(key) || !j[key].is_array()) bad_field(key, "is missing or not an array");
  // Strictly typed: integers for rows, finite float32 values (a double outside float range, or a
  // fraction where an index belongs, is an error rather than a conversion).
  const auto floats = [](const nlohmann::json& a, const char* key) {
    std::vector<float> v;
    v.reserve(a.size());
    for (const auto& x : a) {
      if (!x.is_number() || !(std::fabs(x.get<double>()) <= std::numeric_limits<float>::max()))
        bad_field(key, "holds " + x.dump() + ", expected finite float32 numbers");
      v.push_back(static_cast<float>(x.get<double>()));
    }
    return v;
  };
  const std::vector<float> bias = floats(j["bias"], "bias"), values = floats(j["values"], "values");
  std::vector<std::int64_t> rows;
  rows.reserve(j["rows"].size());
  for (const auto& x : j["rows"]) {
    if (!x.is_number_integer()) bad_field("rows", "holds " + x.dump() + ", expected integer feature indices");
    rows.push_back(x.get<std::int64_t>());
  }
  if (static_cast<std::int64_t>(bias.size()) != m.outputs())
    bad_field("bias", "has " + std::to_string(bias.size()) + " values, expected " + std::to_string(m.outputs()));
  m.put_rows(rows, values);
  std::copy(bias.begin(), bias.end(), m.bias().begin());
  return m;
}

}  // namespace adakit::linear
