// Minimises x² with AdaGrad through the installed headers and library; exits 0 when it converged.
#include <adakit/adakit.hpp>
#include <cmath>
#include <cstdio>

int main() {
  adakit::Parameter x("x", adakit::Tensor::from({1}, {5.0f}));
  adakit::optim::Adagrad opt({&x}, adakit::optim::AdagradOptions{.lr = 1.0});
  for (int t = 0; t < 500; ++t) {
    x.grad()[0] = 2.0f * x.value()[0];
    opt.step();
  }
  std::printf("x after 500 AdaGrad steps: %g\n", static_cast<double>(x.value()[0]));
  return std::abs(x.value()[0]) < 1e-3f ? 0 : 1;
}
