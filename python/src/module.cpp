// The extension module adakit._adakit. The public Python API is python/adakit/*.py; this module holds
// the parts that touch C++ (optim.cpp, linear.cpp, nn.cpp, data.cpp, train.cpp, embed.cpp, rl.cpp,
// report.cpp) and maps adakit's errors to Python's:
// UsageError (a caller's mistake) -> ValueError, any other adakit::Error -> RuntimeError.
#include <pybind11/pybind11.h>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "convert.hpp"

namespace adakit::python {
void bind_optim(py::module_& m);
void bind_linear(py::module_& m);
void bind_nn(py::module_& m);
void bind_data(py::module_& m);
void bind_train(py::module_& m);
void bind_embed(py::module_& m);
void bind_rl(py::module_& m);
void bind_report(py::module_& m);
}  // namespace adakit::python

PYBIND11_MODULE(_adakit, m) {
  namespace py = pybind11;
  using namespace adakit::python;
  m.doc() = "adakit's C++ kernels (see the adakit package for the API)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const adakit::UsageError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const adakit::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.def("num_threads", &adakit::num_threads, "Threads adakit's kernels use (OMP_NUM_THREADS or the cores by default)");
  m.def("set_num_threads", &set_user_threads, py::arg("n"), "Threads for adakit's kernels; n <= 0 restores the default");
  bind_optim(m);
  bind_data(m);  // before linear: its functions take data::SparseDataset and TextVectorizer
  bind_linear(m);
  bind_nn(m);
  bind_train(m);
  bind_embed(m);
  bind_rl(m);
  bind_report(m);
}
