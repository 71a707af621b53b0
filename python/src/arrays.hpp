// NumPy arrays at the boundary: strict checks (dtype, C order, alignment, writability, shape) that end
// in a clear TypeError or ValueError, views of an array's memory (never a copy), and handing an
// adakit::Tensor to NumPy without copying it.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "adakit/core/tensor.hpp"

namespace adakit::python {

namespace py = pybind11;

// `obj` must be a numpy.ndarray (a list or a torch tensor would need a copy): TypeError otherwise.
py::array as_array(const py::handle& obj, std::string_view what);

// The array's shape as adakit's Shape.
Shape shape_of(const py::array& a);
std::string shape_text(const py::array& a);

// float32, C-contiguous, aligned (and writable when `writable`): the pointer to its first element.
// TypeError on another dtype; ValueError on another layout or a read-only array, naming `what`.
float* float32_data(const py::array& a, std::string_view what, bool writable);

// A 1-D C-contiguous array of T (int32, int64, float32): a span over it. TypeError on another dtype,
// ValueError on another rank or layout.
template <class T>
std::span<const T> span_1d(const py::array& a, std::string_view what);

// True when `a` holds T (by dtype equivalence, byte order included).
template <class T>
bool has_dtype(const py::array& a) {
  return py::isinstance<py::array_t<T>>(a);
}

// Moves `t` into a NumPy array that owns it (the Tensor's storage, no copy).
py::array_t<float> to_numpy(Tensor&& t);
// A copy of `t` as a new NumPy array (state dicts: the caller may keep it after the optimizer moves on).
py::array_t<float> copy_to_numpy(const Tensor& t);

}  // namespace adakit::python
