// Sparse linear models over CSR rows (LIBLINEAR-style): binary logistic regression, softmax
// (multinomial) regression, one-vs-all logistic regression (multilabel), L2-loss (squared hinge) SVMs and
// linear regression.
//
// Parameters: a weight table W [dim x outputs], row-major BY FEATURE (one feature's outputs are
// contiguous, so a feature is one "row" for optim::adagrad_step_rows), and a bias b [outputs].
// outputs = 1 for logistic, squared and a two-class squared hinge; = classes for softmax, ova and a
// squared hinge over more than two classes. Scores of a row x: z = Wᵀx + b.
//
// Training sums a row's scores by feature shard, the same for one thread and two (linear::fit on 2
// threads gives one thread's bits): each feature j belongs to shard s(j) in {0, 1} (shard_of), and
//   p_0 = b + Σ_{e: s(j_e) = 0} x_e W[j_e],   p_1 = 0 + Σ_{e: s(j_e) = 1} x_e W[j_e],   z = p_0 + p_1
// (each Σ term by term in the row's order). Two threads each own one shard: its rows of the table, its
// partial. s(j) = (j / 16) mod 2 (blocks of 16 ids, dealt alternately), unless the model was given its
// features' shards (set_feature_shards): a vocabulary's come from its terms (TextVectorizer::
// feature_shards), so that a grown vocabulary, which renumbers the old terms, keeps their shards and a
// warm start stays one pass bit for bit. gradient() (and linear::fit) sums so; scores(), for
// predictions, sums every entry in order from b.
//
// Storage: one table, one row per feature of row_stride() floats: the feature's `outputs` weights,
// then state_width() floats of per-feature optimizer state (none until an optimizer binds: see
// reserve_state). A lazy step reads and writes a feature's weights AND its optimizer state, and on
// a large hashed model each is a cache miss: side by side, both come in one line instead of two
// (Vowpal Wabbit keeps its weights and its adaptive state interleaved the same way, with a stride).
// With state, rows of up to 16 floats are padded to a power of two, and the table is 64-byte aligned,
// so such a row never straddles a cache line; without state a row is just the outputs weights. weights() is a [dim x outputs] view of the weights alone; saving,
// loading and the Python binding see the same [dim, outputs] weights whatever the state.
//
// Losses of one row (linear_loss), with their gradients dL/dz. Y is the row's set of classes: its one
// label, or its label set on multilabel data (ova only); s_c = +1 when c ∈ Y, −1 otherwise.
//   logistic  y ∈ {0, 1}, s = 2y − 1:  L = log(1 + exp(−s z)) = max(−s z, 0) + log1p(exp(−|s z|))
//             dL/dz = σ(z) − y
//   softmax   y ∈ [0, C):  L = log Σ_c exp(z_c) − z_y, computed with max_c z_c subtracted first
//             dL/dz_c = p_c − [c = y],  p = softmax(z)
//   ova       one-vs-all logistic (fastText's -loss ova): C independent binary problems,
//             L = Σ_c log(1 + exp(−s_c z_c)),  dL/dz_c = σ(z_c) − [c ∈ Y];  p(c | x) = σ(z_c), each its own
//   squared_hinge  the L2-loss SVM (LIBLINEAR -s 1/-s 2; Cortes and Vapnik 1995 with squared slack):
//             two classes, one output, s = 2y − 1:  L = max(0, 1 − s z)²,  dL/dz = −2 s max(0, 1 − s z);
//             C > 2: one-vs-rest as LIBLINEAR, L = Σ_c max(0, 1 − s_c z_c)²,  dL/dz_c = −2 s_c max(0, 1 − s_c z_c).
//             Its scores are margins, not probabilities: predict_proba reports σ(z) (logistic's map,
//             monotone in the margin, uncalibrated) unless the model carries a calibrator (--calibrate).
//   squared   y real:  L = ½ (z − y)²,  dL/dz = z − y
// The predicted class is argmax_c z_c (z > 0 with one output); on multilabel data a row counts as
// correct when that class is in Y (precision at 1).
//
// Minibatch gradient = the MEAN over the batch's B rows:
//   ∂L/∂W_jc = (1/B) Σ_r x_rj · dL_r/dz_c      ∂L/∂b_c = (1/B) Σ_r dL_r/dz_c
// gradient() reads only the weights of the features present in the batch (and the bias) and writes a
// SparseGradient over exactly those features: a batch costs O(nonzeros · outputs), never O(dim).
//
// Weights and optimizers: some optimizers (adagrad-l1, sgd with l1/l2, adagrad-rda) bring a feature's
// weights up to date only when it is next seen. After training by hand, call the optimizer's sync()
// before predicting or saving; linear::fit() does so on return.
#pragma once
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "adakit/core/prefetch.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/data/sparse.hpp"
#include "adakit/linear/calibrate.hpp"

namespace adakit::linear {

// Prefetch hint for `count` floats from `p` (core/prefetch.hpp). Touching memory early changes no value.
inline void prefetch_floats(const float* p, std::int64_t count) {
  prefetch_range(p, static_cast<std::size_t>(count) * sizeof(float));
}


enum class LinearTask { logistic, softmax, squared, ova, squared_hinge };
std::string_view to_string(LinearTask task);
// "logistic" | "softmax" | "squared" | "ova" | "squared_hinge"
LinearTask linear_task_from_string(std::string_view text);
// The outputs (score columns) a model of `classes` classes has: see the top.
std::int64_t linear_outputs(LinearTask task, std::int64_t classes);

// Loss of one row from its scores z (outputs values): `labels` the row's classes for the classifiers
// (one, except for ova on multilabel data), `target` for squared. Writes dL/dz into dz (z.size()
// values). UsageError on a label out of range, or more than one label for a single-label task.
double linear_loss(LinearTask task, std::span<const float> z, std::span<const std::int32_t> labels, float target,
                   std::span<float> dz);
inline double linear_loss(LinearTask task, std::span<const float> z, std::int32_t label, float target,
                          std::span<float> dz) {
  return linear_loss(task, z, std::span<const std::int32_t>(&label, 1), target, dz);
}
// The one-vs-rest losses' term of one output: ova's log(1 + exp(−s z)), squared_hinge's max(0, 1 − s z)²
// (s = +1 when `positive`), with its dL/dz written into dz. linear_loss sums these over the outputs.
double one_vs_rest_term(LinearTask task, float z, bool positive, float& dz);
// The terms of a one-vs-rest loss over more than one output (ova, squared_hinge), summed in output
// order: output c scores z[c], is positive when class c is one of `labels` (ascending), and gets its
// dL/dz in dz[c]. linear_loss over such a model is this.
double one_vs_rest_terms(LinearTask task, std::span<const float> z, std::span<const std::int32_t> labels,
                         std::span<float> dz);
// The class a classifier predicts from its scores z (outputs values): z > 0 with one output, else
// argmax_c z_c (the first on ties).
std::int32_t predicted_class(std::span<const float> z);
// Whether that class is one of `labels` (the row's classes).
bool predicted_right(std::span<const float> z, std::span<const std::int32_t> labels);

// Feature shards (the order of a training score's sum: see the top). Blocks of kShardBlock ids, so that
// a thread owning a shard owns whole runs of model rows (16 rows of any stride are a whole number of
// 64-byte lines: no line is written by two threads).
inline constexpr std::int64_t kFeatureShards = 2;
inline constexpr std::int64_t kShardBlock = 16;
constexpr std::int64_t feature_shard(std::int64_t feature) noexcept { return (feature / kShardBlock) % kFeatureShards; }

// The nonzeros of a batch grouped by feature: the batch's unique features (ascending) and, for each,
// its entries (row within the batch, value) in the order they were read (position ascending). Buffers
// are reused: no allocation once warm. Grouping is a stable LSD radix sort on the feature id (digits
// of at most 11 bits, only those that vary), skipped when the entries already come in order (one
// canonical row): O(nonzeros) per batch.
struct BatchFeatures {
  std::vector<std::int64_t> features;   // unique feature ids, ascending
  std::vector<std::int64_t> offsets;    // features.size() + 1: entries of features[i] are [offsets[i], offsets[i+1])
  std::vector<std::int32_t> positions;  // each entry's row within the batch, 0 .. B-1
  std::vector<float> values;            // each entry's value x

  // UsageError when a row is outside x or a feature id is outside [0, dim).
  void build(const data::CsrView& x, std::span<const std::int64_t> rows, std::int64_t dim);

 private:
  struct Entry {
    std::int32_t feature, position;
    float value;
  };
  std::vector<Entry> scratch_, sorted_;
};

// How many rows ahead LinearModel::gradient asks for the model rows of the features to come.
inline constexpr std::int64_t kPrefetchRowsAhead = 4;

// Gradient of a batch: rows of W for `features` only, plus the bias.
struct SparseGradient {
  std::int64_t outputs = 1;
  std::vector<std::int64_t> features;  // unique feature ids (those of the batch), ascending
  std::vector<float> values;           // features.size() x outputs, row-major
  std::vector<float> bias;             // outputs (zeros when the model fits no bias)
  std::vector<float> dz;               // scratch: the batch's dL/dz / B, B x outputs
  std::vector<float> z;                // the batch's scores before the step, B x outputs (LinearModel::gradient)
};

// What one batch's forward pass saw (before the step): summed loss, correct predictions
// (classification) and summed squared error (regression).
struct BatchStats {
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  double squared_error_sum = 0.0;
  std::int64_t count = 0;
};

// Row r of d scored z: adds its loss (writing dL/dz into dz), and whether the predicted class is one of its
// labels (classification) or its squared error (regression), to `st`. Labels and targets are not checked
// against the row count here (LinearModel::gradient and linear::evaluate do that).
void add_row_loss(LinearTask task, const data::SparseDataView& d, std::int64_t r, std::span<const float> z,
                  std::span<float> dz, BatchStats& st);

// The most weights (dim × outputs) a LinearModel holds: 2^31 float32 = 8 GiB; with the optimizer
// state, its table holds at most 2^33 floats.
inline constexpr std::int64_t kMaxLinearWeights = std::int64_t{1} << 31;
inline constexpr std::int64_t kMaxLinearTable = std::int64_t{1} << 33;

// A [rows x cols] matrix over rows `stride` floats apart (LinearModel::weights()). Element i is
// (i / cols, i % cols), so it reads like the flat row-major array it replaces: size(), [i], random-access
// begin()/end() (std::equal, std::fill, std::vector(begin, end)), row(r).
template <class T>
class WeightView {
 public:
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = std::remove_const_t<T>;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() = default;
    iterator(T* data, std::int64_t cols, std::int64_t stride, difference_type i)
        : data_(data), cols_(cols), stride_(stride), i_(i) {}
    reference operator*() const { return data_[(i_ / cols_) * stride_ + i_ % cols_]; }
    reference operator[](difference_type n) const { return *(*this + n); }
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { iterator t = *this; ++i_; return t; }
    iterator& operator--() { --i_; return *this; }
    iterator operator--(int) { iterator t = *this; --i_; return t; }
    iterator& operator+=(difference_type n) { i_ += n; return *this; }
    iterator& operator-=(difference_type n) { i_ -= n; return *this; }
    friend iterator operator+(iterator a, difference_type n) { return a += n; }
    friend iterator operator+(difference_type n, iterator a) { return a += n; }
    friend iterator operator-(iterator a, difference_type n) { return a -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) { return a.i_ - b.i_; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }
    friend auto operator<=>(const iterator& a, const iterator& b) { return a.i_ <=> b.i_; }

   private:
    T* data_ = nullptr;  // the view's fields, copied: an iterator outlives the temporary view it came from
    std::int64_t cols_ = 1, stride_ = 1;
    difference_type i_ = 0;
  };

  WeightView(T* data, std::int64_t rows, std::int64_t cols, std::int64_t stride)
      : data_(data), rows_(rows), cols_(cols), stride_(stride) {}
  std::size_t size() const noexcept { return static_cast<std::size_t>(rows_ * cols_); }
  std::int64_t rows() const noexcept { return rows_; }
  std::int64_t cols() const noexcept { return cols_; }
  std::int64_t stride() const noexcept { return stride_; }
  T& operator[](std::size_t i) const {
    const auto k = static_cast<std::size_t>(cols_);
    return data_[(i / k) * static_cast<std::size_t>(stride_) + i % k];
  }
  std::span<T> row(std::int64_t r) const { return {data_ + r * stride_, static_cast<std::size_t>(cols_)}; }
  iterator begin() const { return {data_, cols_, stride_, 0}; }
  iterator end() const { return {data_, cols_, stride_, static_cast<std::ptrdiff_t>(size())}; }

 private:
  T* data_;
  std::int64_t rows_, cols_, stride_;
};
static_assert(std::random_access_iterator<WeightView<float>::iterator>);
static_assert(std::random_access_iterator<WeightView<const float>::iterator>);

class LinearModel {
 public:
  // classes: 2 for logistic (one output), >= 2 for softmax, ova and squared_hinge (outputs: see
  // linear_outputs); ignored for squared. Weights and bias start at zero. UsageError on dim < 1, a bad class count (softmax: at
  // most 2^24), or more than kMaxLinearWeights weights.
  LinearModel(LinearTask task, std::int64_t dim, std::int64_t classes = 2, bool fit_bias = true);
  // Task chosen from the data: regression → squared, 2 classes → logistic, more → softmax.
  // dim 0 means the dataset's column count. Takes the class names.
  static LinearModel for_dataset(const data::SparseDataset& d, std::int64_t dim = 0);
  // The same with the task asked for (adakit train --model / --loss): "auto" as above; "logreg" (two
  // classes), "softmax" (class labels; max(2, classes) outputs), "ova" and "squared_hinge" (class
  // labels, max(2, classes) classes), "linreg" (numeric targets). Multilabel data take "ova" only (and
  // "auto" picks it). UsageError naming "model" when the task does not fit the data or is unknown.
  static LinearModel for_dataset(const data::SparseDataset& d, std::int64_t dim, std::string_view task);

  LinearTask task() const noexcept { return task_; }
  std::int64_t dim() const noexcept { return dim_; }
  std::int64_t outputs() const noexcept { return outputs_; }
  std::int64_t classes() const noexcept { return classes_; }  // 0 for squared
  bool fit_bias() const noexcept { return fit_bias_; }
  const std::vector<std::string>& class_names() const noexcept { return class_names_; }
  void set_class_names(std::vector<std::string> names);  // empty, or one per class
  // Calibrated probabilities (linear/calibrate.hpp, adakit train --calibrate): when set, predict_proba
  // and predict go through it. Not part of config(); model files carry it beside the weights. It was
  // fitted on these weights: training them further leaves it stale (adakit train drops it).
  // UsageError naming "calibration" when its classes are not the model's or the model is a regression.
  const Calibrator* calibrator() const noexcept { return calibrator_.get(); }
  void set_calibrator(std::optional<Calibrator> calibrator);

  // The weights, dim x outputs, row-major by feature (a strided view of the table: see the top).
  WeightView<float> weights() noexcept { return {table_.data(), dim_, outputs_, row_stride_}; }
  WeightView<const float> weights() const noexcept { return {table_.data(), dim_, outputs_, row_stride_}; }
  std::span<float> weight_row(std::int64_t feature);  // UsageError outside [0, dim)
  std::span<const float> weight_row(std::int64_t feature) const;

  // The table, for optimizers and kernels: feature j's row starts at table().data() + j * row_stride()
  // (outputs weights, then state_width() floats of optimizer state).
  std::span<float> table() noexcept { return table_.span(); }
  std::span<const float> table() const noexcept { return table_.span(); }
  std::int64_t row_stride() const noexcept { return row_stride_; }
  std::int64_t state_width() const noexcept { return state_width_; }
  // Lays the table out with `width` floats of optimizer state per feature, all 0, keeping the weights
  // (O(dim); the table moves when the stride changes), and records `owner`, the id of the optimizer
  // state that lives there (LinearOptimizer::reset). width 0 drops the state. UsageError on width < 0
  // or a table over kMaxLinearTable floats.
  void reserve_state(std::int64_t width, std::uint64_t owner);
  std::uint64_t state_owner() const noexcept { return state_owner_; }  // 0: no optimizer state
  // Growth (warm start on new data, streams): the model gets `new_dim` features; old feature j's row
  // (weights and optimizer state) moves to row new_of_old[j] (empty: j stays j), every other row holds
  // what a fresh model's does (zeros). O(new_dim). UsageError naming "dim" when new_dim is below dim()
  // or over the limits of the constructor, or new_of_old is not strictly increasing within
  // [0, new_dim) with one entry per feature. Call the optimizer's regrow(model) next. Given feature
  // shards move with their features; a new feature's is the default until set_feature_shards.
  void remap_features(std::int64_t new_dim, std::span<const std::int64_t> new_of_old = {});

  // Feature j's shard (see the top): set_feature_shards's, else (j / 16) mod 2.
  std::int64_t shard_of(std::int64_t feature) const noexcept {
    return shards_.empty() ? feature_shard(feature) : shards_[static_cast<std::size_t>(feature)];
  }
  // Gives each feature its shard (dim() values, each 0 or 1; empty: back to the default). Copies of the
  // model keep them; model files do not (a text model's vectorizer gives them again). UsageError naming
  // "shards" otherwise.
  void set_feature_shards(std::vector<std::uint8_t> shards);
  const std::vector<std::uint8_t>& feature_shards() const noexcept { return shards_; }

  std::span<float> bias() noexcept { return bias_; }
  std::span<const float> bias() const noexcept { return bias_; }

  // Exact zeros are what L1 produces: count the weights (not the bias) that are not 0. O(dim).
  std::int64_t count_nonzero_weights() const;
  // Features with at least one nonzero weight. O(dim).
  std::int64_t count_nonzero_features() const;

  // z = Wᵀx_row + b (outputs values), b + the entries in order. Reads only the row's features.
  void scores(const data::CsrView& x, std::int64_t row, std::span<float> z) const;
  // q = start + Σ x_e W[j_e] over the entries given, in order (outputs values): start is the bias when
  // `with_bias`, else 0. A shard's partial of a training score (see the top). Feature ids are not checked.
  void partial_scores(std::span<const std::int32_t> index, std::span<const float> value, bool with_bias,
                      std::span<float> q) const;
  // Mean gradient over `rows` of d (see the top of this file). `batch` must have been built from the
  // same rows. Returns what the forward pass saw. `next_rows` (optional: the rows that come after these,
  // at least kPrefetchRowsAhead of them where there are, or a whole next batch) only steers prefetching:
  // the weights of the row kPrefetchRowsAhead places ahead are asked for while this row is scored,
  // across the batch boundary, so the misses come at a steady rate.
  BatchStats gradient(const data::SparseDataView& d, std::span<const std::int64_t> rows, const BatchFeatures& batch,
                      SparseGradient& out, std::span<const std::int64_t> next_rows = {}) const;

  // Saving: config() + tensors() for a safetensors file ("weight" [dim, outputs], "bias" [outputs]),
  // or one JSON document holding only the features with a nonzero weight (sparse models stay small):
  //   {"format": "adakit.linear", ...config..., "bias": [...], "rows": [feature ids], "values": [rows x outputs]}
  nlohmann::json config() const;  // {"task", "dim", "classes", "fit_bias", "class_names"}
  // A model of that config with zero weights; adakit::Error naming the field on a malformed config.
  static LinearModel from_config(const nlohmann::json& config);
  // The features with a nonzero weight, increasing, and their weights (rows x outputs): what model
  // files store. put_rows writes them back: adakit::Error naming "rows" (a feature outside [0, dim)
  // or not increasing) or "values" (count, or a value that is not finite).
  struct Rows {
    std::vector<std::int64_t> rows;
    std::vector<float> values;
  };
  Rows nonzero_rows() const;
  void put_rows(std::span<const std::int64_t> rows, std::span<const float> values);
  std::map<std::string, Tensor> tensors() const;
  static LinearModel from_tensors(const nlohmann::json& config, const std::map<std::string, Tensor>& tensors);
  nlohmann::json to_json() const;
  // adakit::Error naming the field on a malformed document.
  static LinearModel from_json(const nlohmann::json& j);

 private:
  static std::int64_t row_stride_for(std::int64_t outputs, std::int64_t state_width);

  LinearTask task_;
  std::int64_t dim_, outputs_, classes_;
  bool fit_bias_;
  std::vector<std::string> class_names_;
  std::int64_t state_width_ = 0, row_stride_ = 1;
  std::uint64_t state_owner_ = 0;
  Tensor table_;  // [dim, row_stride]
  std::vector<std::uint8_t> shards_;  // set_feature_shards (empty: by id)
  std::vector<float> bias_;
  std::shared_ptr<const Calibrator> calibrator_;  // immutable, shared by copies
};

}  // namespace adakit::linear
