// Tensor: a float32 array with a shape, contiguous row-major storage aligned to 64 bytes.
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

class Tensor {
 public:
  static constexpr std::size_t kAlignment = 64;

  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::span<const float> values);
  static Tensor from(Shape shape, std::initializer_list<float> values);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  const Shape& shape() const noexcept { return shape_; }
  std::int64_t dim(std::size_t axis) const { return shape_.at(axis); }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::int64_t numel() const noexcept { return numel_; }
  bool empty() const noexcept { return numel_ == 0; }

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
  struct AlignedFree {
    void operator()(float* p) const noexcept;
  };
  Shape shape_;
  std::int64_t numel_ = 0;
  std::unique_ptr<float[], AlignedFree> data_;
};

}  // namespace adakit
