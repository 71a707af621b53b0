#include "arrays.hpp"

#include <cstring>
#include <memory>
#include <utility>

namespace adakit::python {
namespace {

constexpr int kNpyAligned = 0x0100;  // NPY_ARRAY_ALIGNED

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

void require_layout(const py::array& a, std::string_view what) {
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(what) + ": the array is not C-contiguous (adakit updates it in place and "
                          "never copies; pass numpy.ascontiguousarray(...) and keep that array)");
  if (!(a.flags() & kNpyAligned)) throw py::value_error(std::string(what) + ": the array's data are not aligned");
}

}  // namespace

py::array as_array(const py::handle& obj, std::string_view what) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(what) + ": expected a numpy.ndarray, got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  return py::reinterpret_borrow<py::array>(obj);
}

Shape shape_of(const py::array& a) {
  Shape s;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s.push_back(static_cast<std::int64_t>(a.shape(i)));
  return s;
}

std::string shape_text(const py::array& a) { return shape_to_string(shape_of(a)); }

float* float32_data(const py::array& a, std::string_view what, bool writable) {
  if (!has_dtype<float>(a))
    throw py::type_error(std::string(what) + ": dtype is " + dtype_text(a) +
                         ", adakit needs float32 (it works in place and never converts: pass a float32 array, "
                         "e.g. numpy.asarray(x, dtype=numpy.float32), and keep that array)");
  require_layout(a, what);
  if (writable && !a.writeable())
    throw py::value_error(std::string(what) + ": the array is read-only, and adakit updates it in place");
  // A read-only array (a gradient) comes back as float* too, for Tensor::borrow; nothing writes it.
  return static_cast<float*>(const_cast<void*>(a.data()));
}

template <class T>
std::span<const T> span_1d(const py::array& a, std::string_view what) {
  if (!has_dtype<T>(a))
    throw py::type_error(std::string(what) + ": dtype is " + dtype_text(a) + ", expected " +
                         py::str(py::dtype::of<T>()).cast<std::string>());
  if (a.ndim() != 1) throw py::value_error(std::string(what) + ": expected a 1-D array, got shape " + shape_text(a));
  require_layout(a, what);
  return {static_cast<const T*>(a.data()), static_cast<std::size_t>(a.size())};
}

template std::span<const std::int32_t> span_1d<std::int32_t>(const py::array&, std::string_view);
template std::span<const std::int64_t> span_1d<std::int64_t>(const py::array&, std::string_view);
template std::span<const float> span_1d<float>(const py::array&, std::string_view);

py::array_t<float> to_numpy(Tensor&& t) {
  auto* owner = new Tensor(std::move(t));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  std::vector<py::ssize_t> shape(owner->shape().begin(), owner->shape().end());
  return py::array_t<float>(shape, owner->data(), free_when_done);
}

py::array_t<float> copy_to_numpy(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array_t<float> out(shape);
  if (t.numel() > 0) std::memcpy(out.mutable_data(), t.data(), static_cast<std::size_t>(t.numel()) * sizeof(float));
  return out;
}

}  // namespace adakit::python
