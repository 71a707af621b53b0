#include "adakit/core/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

#include "adakit/core/error.hpp"

namespace adakit {

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw UsageError("negative dimension in shape " + shape_to_string(shape));
    if (__builtin_mul_overflow(n, d, &n)) throw UsageError("shape " + shape_to_string(shape) + " has more than 2^63 elements");
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void detail::TensorFree::operator()(float* p) const noexcept {
  if (owned) std::free(p);
}

namespace {
// Large tensors (a sparse model's weight table, an optimizer's state) are aligned to 2 MiB and asked
// to be backed by transparent huge pages: first touches then fault 2 MiB at a time instead of 4 KiB
// (loading a 17 MB model table takes 9 faults, not 4,200) and TLB misses drop. Linux only; where THP
// is off the advice is ignored.
constexpr std::size_t kHugePage = std::size_t{1} << 21;
constexpr std::size_t kHugeFrom = std::size_t{4} << 20;

float* allocate(std::int64_t n) {
  if (n == 0) return nullptr;
  std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
  const std::size_t align = bytes >= kHugeFrom ? kHugePage : Tensor::kAlignment;
  bytes = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) ::madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return static_cast<float*>(p);
}
}  // namespace

Tensor::Tensor(Shape shape, float fill_value)
    : shape_(std::move(shape)), numel_(shape_numel(shape_)), data_(allocate(numel_)) {
  fill(fill_value);
}

Tensor::Tensor(Shape shape, std::span<const float> values)
    : shape_(std::move(shape)), numel_(shape_numel(shape_)), data_(allocate(numel_)) {
  if (static_cast<std::int64_t>(values.size()) != numel_)
    throw UsageError("tensor of shape " + shape_to_string(shape_) + " needs " + std::to_string(numel_) +
                     " values, got " + std::to_string(values.size()));
  if (numel_ > 0) std::memcpy(data_.get(), values.data(), values.size() * sizeof(float));
}

Tensor Tensor::from(Shape shape, std::initializer_list<float> values) {
  return Tensor(std::move(shape), std::span<const float>(values.begin(), values.size()));
}

Tensor Tensor::borrow(Shape shape, float* data) {
  Tensor t;
  t.numel_ = shape_numel(shape);
  if (data == nullptr && t.numel_ > 0)
    throw UsageError("borrowed tensor of shape " + shape_to_string(shape) + " over a null pointer");
  t.shape_ = std::move(shape);
  t.data_ = std::unique_ptr<float[], AlignedFree>(data, AlignedFree{false});
  return t;
}

Tensor::Tensor(const Tensor& other)
    : shape_(other.shape_), numel_(other.numel_), data_(allocate(other.numel_)) {
  if (numel_ > 0) std::memcpy(data_.get(), other.data_.get(), static_cast<std::size_t>(numel_) * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    Tensor copy(other);
    *this = std::move(copy);
  }
  return *this;
}

void Tensor::fill(float value) noexcept { std::fill_n(data_.get(), numel_, value); }

void Tensor::reshape(Shape shape) {
  if (shape_numel(shape) != numel_)
    throw UsageError("cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  shape_ = std::move(shape);
}

}  // namespace adakit
