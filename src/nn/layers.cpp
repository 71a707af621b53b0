#include "adakit/nn/layers.hpp"

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "util.hpp"

namespace adakit::nn {

using detail::ensure_shape;
using detail::sample_shape;
using detail::scratch;
using detail::with_batch;
using json = nlohmann::json;

namespace {

void require_positive(std::int64_t v, const char* layer, const char* field) {
  if (v <= 0)
    throw UsageError(std::string(layer) + ": " + field + " must be positive, got " + std::to_string(v),
                     {"", 0, field});
}

void check_grad_shape(const Tensor& y, const Tensor& dy, const char* layer) {
  detail::check_same_shape(y, dy, "output", "output gradient", layer);
}

Parameter make_weight(Shape shape) { return Parameter("weight", Tensor(std::move(shape))); }

// [C, H, W] with the layer's name in the message.
void check_image(const Shape& input, const char* layer) {
  if (input.size() != 3)
    throw UsageError(std::string(layer) + ": expects per-sample input [C, H, W], got " + shape_to_string(input));
}

}  // namespace

std::int64_t Layer::num_parameters() const {
  std::int64_t n = 0;
  // parameters() is non-const by interface; counting only reads.
  for (const Parameter* p : const_cast<Layer*>(this)->parameters()) n += p->numel();
  return n;
}

// ---------------------------------------------------------------- Linear

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool bias, std::uint64_t seed, Init init)
    : in_(in_features), out_(out_features), seed_(seed), init_(init), weight_("weight", Tensor()) {
  require_positive(in_features, "linear", "in_features");
  require_positive(out_features, "linear", "out_features");
  weight_ = make_weight({out_, in_});
  if (bias) bias_.emplace("bias", Tensor({out_}));
  Rng rng(seed);
  initialize(init, weight_.value(), bias_ ? &bias_->value() : nullptr, rng);
}

Shape Linear::output_shape(const Shape& input) const {
  if (input.empty() || input.back() != in_)
    throw UsageError("linear: expects per-sample input [..., " + std::to_string(in_) + "], got " +
                     shape_to_string(input));
  Shape out = input;
  out.back() = out_;
  return out;
}

void Linear::forward(const Tensor& x, Tensor& y, bool) {
  if (x.rank() < 2 || x.shape().back() != in_)
    throw UsageError("linear: expects input [B, ..., " + std::to_string(in_) + "], got " + shape_to_string(x.shape()));
  const std::int64_t rows = x.numel() / in_;
  if (y.rank() != x.rank() || y.numel() != rows * out_ || y.shape().back() != out_ ||
      !std::equal(x.shape().begin(), x.shape().end() - 1, y.shape().begin())) {
    Shape s = x.shape();
    s.back() = out_;
    ensure_shape(y, s);
  }
  gemm(false, true, rows, out_, in_, 1.0f, x.data(), in_, weight_.value().data(), in_, 0.0f, y.data(), out_);
  if (bias_) bias_add_rows(y.data(), bias_->value().data(), rows, out_);
}

void Linear::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "linear");
  const std::int64_t rows = x.numel() / in_;
  if (weight_.requires_grad())
    gemm(true, false, out_, in_, rows, 1.0f, dy.data(), out_, x.data(), in_, 1.0f, weight_.grad().data(), in_);
  if (bias_ && bias_->requires_grad()) bias_grad_rows(dy.data(), rows, out_, bias_->grad().data());
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  gemm(false, false, rows, in_, out_, 1.0f, dy.data(), out_, weight_.value().data(), in_, 0.0f, dx.data(), in_);
}

std::vector<Parameter*> Linear::parameters() {
  if (bias_) return {&weight_, &*bias_};
  return {&weight_};
}

json Linear::config() const {
  return {{"kind", kind()}, {"in_features", in_}, {"out_features", out_}, {"bias", bias_.has_value()},
          {"seed", seed_},  {"init", std::string(init_name(init_))}};
}

// ---------------------------------------------------------------- Conv2d

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size, std::int64_t stride,
               std::int64_t padding, bool bias, std::uint64_t seed, Init init)
    : in_(in_channels),
      out_(out_channels),
      kernel_(kernel_size),
      stride_(stride),
      padding_(padding),
      seed_(seed),
      init_(init),
      weight_("weight", Tensor()) {
  require_positive(in_channels, "conv2d", "in_channels");
  require_positive(out_channels, "conv2d", "out_channels");
  require_positive(kernel_size, "conv2d", "kernel_size");
  require_positive(stride, "conv2d", "stride");
  if (padding < 0)
    throw UsageError("conv2d: padding must be >= 0, got " + std::to_string(padding), {"", 0, "padding"});
  weight_ = make_weight({out_, in_, kernel_, kernel_});
  if (bias) bias_.emplace("bias", Tensor({out_}));
  Rng rng(seed);
  initialize(init, weight_.value(), bias_ ? &bias_->value() : nullptr, rng);
}

Shape Conv2d::output_shape(const Shape& input) const {
  check_image(input, "conv2d");
  if (input[0] != in_)
    throw UsageError("conv2d: expects " + std::to_string(in_) + " input channels, got input " + shape_to_string(input));
  const Conv2dGeometry g{in_, input[1], input[2], kernel_, stride_, padding_};
  if (input[1] + 2 * padding_ < kernel_ || input[2] + 2 * padding_ < kernel_)
    throw UsageError("conv2d: input " + shape_to_string(input) + " (padding " + std::to_string(padding_) +
                     ") is smaller than the kernel " + std::to_string(kernel_));
  return {out_, g.out_height(), g.out_width()};
}

Conv2dGeometry Conv2d::geometry(const Tensor& x) const {
  if (x.rank() != 4)
    throw UsageError("conv2d: expects input [B, C, H, W], got " + shape_to_string(x.shape()));
  (void)output_shape(sample_shape(x, "conv2d"));  // checks channels and size
  return {in_, x.dim(2), x.dim(3), kernel_, stride_, padding_};
}

void Conv2d::forward(const Tensor& x, Tensor& y, bool) {
  const Conv2dGeometry g = geometry(x);
  const std::int64_t B = x.dim(0), P = g.out_plane(), N = B * P, R = g.col_rows();
  const std::int64_t image = g.channels * g.height * g.width;
  if (y.rank() != 4 || y.dim(0) != B || y.dim(1) != out_ || y.dim(2) != g.out_height() || y.dim(3) != g.out_width())
    ensure_shape(y, {B, out_, g.out_height(), g.out_width()});
  // Columns of all images side by side, cols[r][b * P + p] (backward reads them as one matrix);
  // each sample's output y_b [O, P] = W [O, R] · cols_b [R, P] + bias, samples over threads.
  float* cols = scratch(cols_, R * N);
  cols_valid_ = true;
  const float* w = weight_.value().data();
  const float* bias = bias_ ? bias_->value().data() : nullptr;
  parallel_items(B, detail::min_items_for_flops(R * P * (2 * out_ + 1)), [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      im2col(x.data() + b * image, g, cols + b * P, N);
      float* yb = y.data() + b * out_ * P;
      detail::gemm_one_call(false, false, out_, P, R, 1.0f, w, R, cols + b * P, N, 0.0f, yb, P);
      if (bias != nullptr) bias_add_planes(yb, bias, 1, out_, P);
    }
  });
}

void Conv2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "conv2d");
  const Conv2dGeometry g = geometry(x);
  const std::int64_t B = x.dim(0), P = g.out_plane(), N = B * P, R = g.col_rows();
  const std::int64_t image = g.channels * g.height * g.width;
  if (!cols_valid_ || cols_.numel() < R * N)
    throw UsageError("conv2d: backward() needs the matching forward() (once per backward())");
  float* cols = cols_.data();
  if (bias_ && bias_->requires_grad()) bias_grad_planes(dy.data(), B, out_, P, bias_->grad().data());
  if (weight_.requires_grad()) {
    // dW [O, R] += dY [O, B * P] · colsᵀ: one GEMM over the batch, dY regrouped from [B, O, P].
    const float* gy = dy.data();
    if (B > 1) {
      float* t = scratch(grad_t_, out_ * N);
      parallel_items(B * out_, detail::min_items(P), [&](std::int64_t q0, std::int64_t q1) {
        for (std::int64_t q = q0; q < q1; ++q) {
          const std::int64_t b = q / out_, o = q % out_;
          std::memcpy(t + o * N + b * P, dy.data() + q * P, static_cast<std::size_t>(P) * sizeof(float));
        }
      });
      gy = t;
    }
    gemm(false, true, out_, R, N, 1.0f, gy, N, cols, N, 1.0f, weight_.grad().data(), R);
  }
  if (!input_grad()) return;
  cols_valid_ = false;
  // Per sample: column gradient Wᵀ · dy_b (into the columns' own slot, no longer needed), folded into dx_b.
  ensure_shape(dx, x.shape());
  const float* w = weight_.value().data();
  parallel_items(B, detail::min_items_for_flops(R * P * (2 * out_ + 2)), [&](std::int64_t b0, std::int64_t b1) {
    for (std::int64_t b = b0; b < b1; ++b) {
      detail::gemm_one_call(true, false, R, P, out_, 1.0f, w, R, dy.data() + b * out_ * P, P, 0.0f, cols + b * P, N);
      float* img = dx.data() + b * image;
      std::fill_n(img, image, 0.0f);
      col2im(cols + b * P, g, N, img);
    }
  });
}

std::vector<Parameter*> Conv2d::parameters() {
  if (bias_) return {&weight_, &*bias_};
  return {&weight_};
}

json Conv2d::config() const {
  return {{"kind", kind()},       {"in_channels", in_}, {"out_channels", out_},
          {"kernel_size", kernel_}, {"stride", stride_},  {"padding", padding_},
          {"bias", bias_.has_value()}, {"seed", seed_},   {"init", std::string(init_name(init_))}};
}

// ---------------------------------------------------------------- pooling

namespace {

Pool2dGeometry pool_geometry(const Shape& input, std::int64_t kernel, std::int64_t stride, const char* layer) {
  check_image(input, layer);
  if (input[1] < kernel || input[2] < kernel)
    throw UsageError(std::string(layer) + ": input " + shape_to_string(input) + " is smaller than the kernel " +
                     std::to_string(kernel));
  return {input[1], input[2], kernel, stride};
}

Pool2dGeometry pool_geometry(const Tensor& x, std::int64_t kernel, std::int64_t stride, const char* layer) {
  if (x.rank() != 4)
    throw UsageError(std::string(layer) + ": expects input [B, C, H, W], got " + shape_to_string(x.shape()));
  return pool_geometry(Shape{x.dim(1), x.dim(2), x.dim(3)}, kernel, stride, layer);
}

void ensure_pool_output(const Tensor& x, const Pool2dGeometry& g, Tensor& y) {
  if (y.rank() != 4 || y.dim(0) != x.dim(0) || y.dim(1) != x.dim(1) || y.dim(2) != g.out_height() ||
      y.dim(3) != g.out_width())
    ensure_shape(y, {x.dim(0), x.dim(1), g.out_height(), g.out_width()});
}

}  // namespace

MaxPool2d::MaxPool2d(std::int64_t kernel_size, std::int64_t stride)
    : kernel_(kernel_size), stride_(stride == 0 ? kernel_size : stride) {
  require_positive(kernel_, "max_pool2d", "kernel_size");
  require_positive(stride_, "max_pool2d", "stride");
}

Shape MaxPool2d::output_shape(const Shape& input) const {
  const Pool2dGeometry g = pool_geometry(input, kernel_, stride_, "max_pool2d");
  return {input[0], g.out_height(), g.out_width()};
}

void MaxPool2d::forward(const Tensor& x, Tensor& y, bool) {
  const Pool2dGeometry g = pool_geometry(x, kernel_, stride_, "max_pool2d");
  ensure_pool_output(x, g, y);
  argmax_.resize(static_cast<std::size_t>(y.numel()));
  max_pool2d_forward(x.data(), x.dim(0) * x.dim(1), g, y.data(), argmax_.data());
}

void MaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "max_pool2d");
  if (static_cast<std::int64_t>(argmax_.size()) != y.numel())
    throw UsageError("max_pool2d: backward() without the matching forward()");
  if (!input_grad()) return;
  const Pool2dGeometry g = pool_geometry(x, kernel_, stride_, "max_pool2d");
  ensure_shape(dx, x.shape());
  max_pool2d_backward(dy.data(), argmax_.data(), x.dim(0) * x.dim(1), g, dx.data());
}

json MaxPool2d::config() const { return {{"kind", kind()}, {"kernel_size", kernel_}, {"stride", stride_}}; }

AvgPool2d::AvgPool2d(std::int64_t kernel_size, std::int64_t stride)
    : kernel_(kernel_size), stride_(stride == 0 ? kernel_size : stride) {
  require_positive(kernel_, "avg_pool2d", "kernel_size");
  require_positive(stride_, "avg_pool2d", "stride");
}

Shape AvgPool2d::output_shape(const Shape& input) const {
  const Pool2dGeometry g = pool_geometry(input, kernel_, stride_, "avg_pool2d");
  return {input[0], g.out_height(), g.out_width()};
}

void AvgPool2d::forward(const Tensor& x, Tensor& y, bool) {
  const Pool2dGeometry g = pool_geometry(x, kernel_, stride_, "avg_pool2d");
  ensure_pool_output(x, g, y);
  avg_pool2d_forward(x.data(), x.dim(0) * x.dim(1), g, y.data());
}

void AvgPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "avg_pool2d");
  if (!input_grad()) return;
  const Pool2dGeometry g = pool_geometry(x, kernel_, stride_, "avg_pool2d");
  ensure_shape(dx, x.shape());
  avg_pool2d_backward(dy.data(), x.dim(0) * x.dim(1), g, dx.data());
}

json AvgPool2d::config() const { return {{"kind", kind()}, {"kernel_size", kernel_}, {"stride", stride_}}; }

// ---------------------------------------------------------------- Flatten

Shape Flatten::output_shape(const Shape& input) const { return {shape_numel(input)}; }

void Flatten::forward(const Tensor& x, Tensor& y, bool) {
  if (x.rank() == 0) throw UsageError("flatten: input needs a batch dimension, got a scalar");
  const std::int64_t B = x.dim(0), n = B == 0 ? 0 : x.numel() / B;
  if (y.rank() != 2 || y.dim(0) != B || y.dim(1) != n) ensure_shape(y, {B, n});
  if (x.numel() > 0) std::memcpy(y.data(), x.data(), static_cast<std::size_t>(x.numel()) * sizeof(float));
}

void Flatten::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "flatten");
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  if (x.numel() > 0) std::memcpy(dx.data(), dy.data(), static_cast<std::size_t>(x.numel()) * sizeof(float));
}

json Flatten::config() const { return {{"kind", kind()}}; }

// ---------------------------------------------------------------- Dropout

Dropout::Dropout(double p, std::uint64_t seed) : p_(p), seed_(seed), rng_(seed) {
  if (!(p >= 0.0 && p < 1.0))
    throw UsageError("dropout: p must be in [0, 1), got " + std::to_string(p), {"", 0, "p"});
}

void Dropout::forward(const Tensor& x, Tensor& y, bool training) {
  ensure_shape(y, x.shape());
  masked_ = training && p_ > 0.0;
  if (!masked_) {
    if (x.numel() > 0) std::memcpy(y.data(), x.data(), static_cast<std::size_t>(x.numel()) * sizeof(float));
    return;
  }
  ensure_shape(mask_, x.shape());
  const float scale = static_cast<float>(1.0 / (1.0 - p_));
  float* m = mask_.data();
  for (std::int64_t i = 0; i < mask_.numel(); ++i) m[i] = rng_.uniform() < p_ ? 0.0f : scale;
  mul_elementwise(x.span(), mask_.span(), y.span());
}

void Dropout::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "dropout");
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  if (masked_) {
    mul_elementwise(dy.span(), mask_.span(), dx.span());
  } else if (x.numel() > 0) {
    std::memcpy(dx.data(), dy.data(), static_cast<std::size_t>(x.numel()) * sizeof(float));
  }
}

json Dropout::config() const { return {{"kind", kind()}, {"p", p_}, {"seed", seed_}}; }

// ---------------------------------------------------------------- activations

json Activation::config() const { return {{"kind", kind()}}; }

void ReLU::forward(const Tensor& x, Tensor& y, bool) {
  ensure_shape(y, x.shape());
  relu_forward(x.span(), y.span());
}

void ReLU::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "relu");
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  relu_backward(x.span(), dy.span(), dx.span());
}

void Tanh::forward(const Tensor& x, Tensor& y, bool) {
  ensure_shape(y, x.shape());
  tanh_forward(x.span(), y.span());
}

void Tanh::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "tanh");
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  tanh_backward(y.span(), dy.span(), dx.span());
}

void Sigmoid::forward(const Tensor& x, Tensor& y, bool) {
  ensure_shape(y, x.shape());
  sigmoid_forward(x.span(), y.span());
}

void Sigmoid::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "sigmoid");
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  sigmoid_backward(y.span(), dy.span(), dx.span());
}

// ---------------------------------------------------------------- Embedding

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim, std::uint64_t seed)
    : num_(num_embeddings), dim_(embedding_dim), seed_(seed), weight_("weight", Tensor()) {
  require_positive(num_embeddings, "embedding", "num_embeddings");
  require_positive(embedding_dim, "embedding", "embedding_dim");
  weight_ = make_weight({num_, dim_});
  Rng rng(seed);
  rng.fill_normal(weight_.value().span(), 0.0, 1.0);
}

Shape Embedding::output_shape(const Shape& input) const {
  Shape out = input;
  out.push_back(dim_);
  return out;
}

void Embedding::forward(const Tensor& x, Tensor& y, bool) {
  if (x.rank() == 0) throw UsageError("embedding: input needs a batch dimension, got a scalar");
  if (y.rank() != x.rank() + 1 || y.shape().back() != dim_ ||
      !std::equal(x.shape().begin(), x.shape().end(), y.shape().begin())) {
    Shape s = x.shape();
    s.push_back(dim_);
    ensure_shape(y, s);
  }
  const float* table = weight_.value().data();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const float v = x[i];
    if (!(v >= 0.0f && v < static_cast<float>(num_)) || v != std::floor(v))
      throw UsageError("embedding: id " + std::to_string(v) + " at position " + std::to_string(i) +
                       " is not an integer in [0, " + std::to_string(num_) + ")");
    const auto id = static_cast<std::int64_t>(v);
    std::memcpy(y.data() + i * dim_, table + id * dim_, static_cast<std::size_t>(dim_) * sizeof(float));
  }
}

void Embedding::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_grad_shape(y, dy, "embedding");
  if (weight_.requires_grad()) {
    auto& sparse = weight_.sparse_grad();
    if (!sparse) sparse.emplace();
    sparse->indices.reserve(sparse->indices.size() + static_cast<std::size_t>(x.numel()));
    for (std::int64_t i = 0; i < x.numel(); ++i) sparse->indices.push_back(static_cast<std::int64_t>(x[i]));
    sparse->values.insert(sparse->values.end(), dy.data(), dy.data() + dy.numel());
  }
  if (!input_grad()) return;
  ensure_shape(dx, x.shape());
  dx.fill(0.0f);
}

json Embedding::config() const {
  return {{"kind", kind()}, {"num_embeddings", num_}, {"embedding_dim", dim_}, {"seed", seed_}};
}

// ---------------------------------------------------------------- make_layer

namespace {

// Reads one layer config strictly: every field typed, unknown fields rejected.
class ConfigReader {
 public:
  ConfigReader(const json& config, std::string kind) : config_(config), kind_(std::move(kind)) {}

  std::int64_t integer(const char* field) {
    const json& v = at(field);
    if (!v.is_number_integer()) fail(field, "must be an integer");
    return v.get<std::int64_t>();
  }
  std::int64_t integer(const char* field, std::int64_t fallback) { return has(field) ? integer(field) : fallback; }
  std::uint64_t seed() {
    if (!has("seed")) return 0;
    const json& v = at("seed");
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
      fail("seed", "must be a non-negative integer");
    return v.get<std::uint64_t>();
  }
  double number(const char* field) {
    const json& v = at(field);
    if (!v.is_number()) fail(field, "must be a number");
    return v.get<double>();
  }
  bool boolean(const char* field, bool fallback) {
    if (!has(field)) return fallback;
    const json& v = at(field);
    if (!v.is_boolean()) fail(field, "must be true or false");
    return v.get<bool>();
  }
  Init init() {
    if (!has("init")) return Init::torch_default;
    const json& v = at("init");
    if (!v.is_string()) fail("init", "must be a string");
    try {
      return parse_init(v.get<std::string>());
    } catch (const UsageError& e) {
      fail("init", e.message());
    }
  }
  // Every field read? Unknown fields are typos: reject them.
  void finish() const {
    for (const auto& item : config_.items()) {
      if (item.key() == "kind") continue;
      if (std::find(read_.begin(), read_.end(), item.key()) == read_.end())
        fail(item.key().c_str(), "is not a field of this layer");
    }
  }

 private:
  bool has(const char* field) const { return config_.contains(field); }
  const json& at(const char* field) {
    read_.emplace_back(field);
    if (!has(field)) fail(field, "is missing");
    return config_.at(field);
  }
  [[noreturn]] void fail(const char* field, const std::string& what) const {
    throw Error("layer config '" + kind_ + "': field '" + field + "' " + what, {"", 0, field});
  }

  const json& config_;
  std::string kind_;
  std::vector<std::string> read_;
};

using Factory = std::unique_ptr<Layer> (*)(ConfigReader&);

struct LayerEntry {
  std::string_view kind;
  Factory make;
};

std::int64_t pool_stride(ConfigReader& r) { return r.integer("stride", 0); }

const LayerEntry kLayers[] = {
    {"linear",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const auto in = r.integer("in_features"), out = r.integer("out_features");
       const bool bias = r.boolean("bias", true);
       const auto seed = r.seed();
       return std::make_unique<Linear>(in, out, bias, seed, r.init());
     }},
    {"conv2d",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const auto in = r.integer("in_channels"), out = r.integer("out_channels"), k = r.integer("kernel_size");
       const auto stride = r.integer("stride", 1), padding = r.integer("padding", 0);
       const bool bias = r.boolean("bias", true);
       const auto seed = r.seed();
       return std::make_unique<Conv2d>(in, out, k, stride, padding, bias, seed, r.init());
     }},
    {"max_pool2d",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const auto k = r.integer("kernel_size");
       return std::make_unique<MaxPool2d>(k, pool_stride(r));
     }},
    {"avg_pool2d",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const auto k = r.integer("kernel_size");
       return std::make_unique<AvgPool2d>(k, pool_stride(r));
     }},
    {"flatten", [](ConfigReader&) -> std::unique_ptr<Layer> { return std::make_unique<Flatten>(); }},
    {"dropout",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const double p = r.number("p");
       return std::make_unique<Dropout>(p, r.seed());
     }},
    {"relu", [](ConfigReader&) -> std::unique_ptr<Layer> { return std::make_unique<ReLU>(); }},
    {"tanh", [](ConfigReader&) -> std::unique_ptr<Layer> { return std::make_unique<Tanh>(); }},
    {"sigmoid", [](ConfigReader&) -> std::unique_ptr<Layer> { return std::make_unique<Sigmoid>(); }},
    {"embedding",
     [](ConfigReader& r) -> std::unique_ptr<Layer> {
       const auto num = r.integer("num_embeddings"), dim = r.integer("embedding_dim");
       return std::make_unique<Embedding>(num, dim, r.seed());
     }},
};
static_assert(std::size(kLayers) == 10, "a new layer kind: add it to the table and to nn/layers.hpp's list");

}  // namespace

std::span<const std::string_view> layer_kinds() {
  static const std::vector<std::string_view> kinds = [] {
    std::vector<std::string_view> k;
    for (const LayerEntry& e : kLayers) k.push_back(e.kind);
    return k;
  }();
  return kinds;
}

std::int64_t declared_parameters(const json& c) {
  if (!c.is_object() || !c.contains("kind") || !c.at("kind").is_string()) return 0;
  const auto field = [&](const char* k) -> std::int64_t {
    if (!c.contains(k) || !c.at(k).is_number_integer()) return 0;
    const auto v = c.at(k).get<std::int64_t>();
    return v > 0 ? v : 0;
  };
  const auto product = [](std::initializer_list<std::int64_t> xs) {
    std::int64_t n = 1;
    for (auto x : xs)
      if (__builtin_mul_overflow(n, x, &n)) return std::numeric_limits<std::int64_t>::max();
    return n;
  };
  const auto plus = [](std::int64_t a, std::int64_t b) {
    std::int64_t n = 0;
    return __builtin_add_overflow(a, b, &n) ? std::numeric_limits<std::int64_t>::max() : n;
  };
  const std::string kind = c.at("kind").get<std::string>();
  if (kind == "linear") return plus(product({field("in_features"), field("out_features")}), field("out_features"));
  if (kind == "conv2d")
    return plus(product({field("out_channels"), field("in_channels"), field("kernel_size"), field("kernel_size")}),
                field("out_channels"));
  if (kind == "embedding") return product({field("num_embeddings"), field("embedding_dim")});
  return 0;
}

std::unique_ptr<Layer> make_layer(const json& config) {
  if (!config.is_object()) throw Error("layer config must be a JSON object, got " + std::string(config.type_name()));
  if (!config.contains("kind") || !config.at("kind").is_string())
    throw Error("layer config needs a string field 'kind'", {"", 0, "kind"});
  const std::string kind = config.at("kind").get<std::string>();
  for (const LayerEntry& entry : kLayers) {
    if (entry.kind != kind) continue;
    ConfigReader reader(config, kind);
    auto layer = entry.make(reader);
    reader.finish();
    return layer;
  }
  std::string known;
  for (auto k : layer_kinds()) known += (known.empty() ? "" : ", ") + std::string(k);
  throw Error("unknown layer kind '" + kind + "' (known: " + known + ")", {"", 0, "kind"});
}

}  // namespace adakit::nn
