// Tensor: a float32 array with a shape, contiguous row-major storage aligned to 64 bytes — or, made
// with Tensor::borrow, a view of float32 memory owned by someone else (a NumPy array, a torch tensor).
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace adakit {

using Shape = std::vector<std::int64_t>;

// Number of elements of a shape; throws UsageError on a negative dimension.
std::int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

namespace detail {
// Tensor's deleter: frees what Tensor allocated, nothing for a borrowed tensor. (Outside the class:
// a nested class's default member initialiser would not count until Tensor is complete.)
struct TensorFree {
  bool owned = true;
  void operator()(float* p) const noexcept;
};
}  // namespace detail

class Tensor {
 public:
  static constexpr std::size_t kAlignment = 64;

  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::span<const float> values);
  static Tensor from(Shape shape, std::initializer_list<float> values);
  // A tensor over `numel(shape)` floats at `data` that it does not own: nothing is copied or freed.
  // The caller keeps that memory alive, and in place, for as long as the tensor (or whatever holds
  // it: a Parameter, an optimizer) uses it. Any alignment of 4 bytes is fine (the kernels never
  // assume 64). Copying a borrowed tensor makes an owning copy; moving it moves the borrow.
  // UsageError on a null `data` with a nonzero size.
  static Tensor borrow(Shape shape, float* data);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  const Shape& shape() const noexcept { return shape_; }
  std::int64_t dim(std::size_t axis) const { return shape_.at(axis); }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::int64_t numel() const noexcept { return numel_; }
  bool empty() const noexcept { return numel_ == 0; }
  // False for a tensor made by borrow().
  bool owns_data() const noexcept { return data_.get_deleter().owned; }

  float* data() noexcept { return data_.get(); }
  const float* data() const noexcept { return data_.get(); }
  std::span<float> span() noexcept { return {data_.get(), static_cast<std::size_t>(numel_)}; }
  std::span<const float> span() const noexcept { return {data_.get(), static_cast<std::size_t>(numel_)}; }
  float& operator[](std::int64_t i) noexcept { return data_[static_cast<std::size_t>(i)]; }
  float operator[](std::int64_t i) const noexcept { return data_[static_cast<std::size_t>(i)]; }

  void fill(float value) noexcept;
  // Same data, new shape with the same element count.
  void reshape(Shape shape);

 private:
  using AlignedFree = detail::TensorFree;
  Shape shape_;
  std::int64_t numel_ = 0;
  std::unique_ptr<float[], AlignedFree> data_;
};

}  // namespace adakit
