#include "adakit/train/minimize.hpp"

#include <array>
#include <cmath>
#include <limits>

#include "adakit/core/error.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::train {
namespace {

constexpr auto kFunctions = std::to_array<TestFunctionInfo>({
    {"quadratic", "sum of x_i^2", 2, false},
    {"ill-conditioned", "sum of c_i x_i^2 with c_i from 1 to 1e4", 5, false},
    {"rosenbrock", "Rosenbrock's valley, n-D", 2, false},
    {"beale", "Beale's function, 2-D", 2, true},
    {"sparse", "sum of x_i^2; coordinate i gets its gradient with probability 1 .. 0.01", 10, false},
});
// Tripwires. The size follows the rows, so a new row fails the count until make_test_function builds it
// and minimize.hpp's list documents it.
static_assert(kFunctions.size() == 5, "a new function needs its row here, its case in make_test_function and docs");
constexpr Registry<TestFunctionInfo> kRegistry{kFunctions, {"unknown function '{name}' ({names})", "function"}};
static_assert(kRegistry.names_are_unique(), "two test functions share a name");

double spread(std::int64_t i, std::int64_t n, double decades) {
  return n <= 1 ? 1.0 : std::pow(10.0, decades * static_cast<double>(i) / static_cast<double>(n - 1));
}

// sum_i x_i^2, accumulated in double (the quadratic's and the sparse quadratic's value).
double sum_of_squares(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return s;
}
}  // namespace

std::span<const TestFunctionInfo> test_functions() { return kFunctions; }

TestFunction make_test_function(std::string_view name, std::int64_t dim) {
  const TestFunctionInfo& info = kRegistry.at(name);
  if (dim <= 0) dim = info.default_dim;
  if (info.fixed_dim && dim != info.default_dim)
    throw UsageError(std::string(name) + " is " + std::to_string(info.default_dim) + "-dimensional", {"", 0, "dim"});
  if (name == "rosenbrock" && dim < 2) throw UsageError("rosenbrock needs dim >= 2", {"", 0, "dim"});
  if (dim > 10'000'000) throw UsageError("dim is too large (at most 1e7)", {"", 0, "dim"});
  TestFunction f;
  f.name = std::string(name);
  f.dim = dim;
  const auto n = static_cast<std::size_t>(dim);
  if (name == "quadratic") {
    f.x0.assign(n, 5.0f);
    f.minimizer.assign(n, 0.0f);
    f.value = sum_of_squares;
    f.gradient = [](std::span<const float> x, std::span<float> g, Rng&) {
      for (std::size_t i = 0; i < x.size(); ++i) g[i] = 2.0f * x[i];
    };
  } else if (name == "ill-conditioned") {
    std::vector<double> c(n);
    for (std::size_t i = 0; i < n; ++i) c[i] = spread(static_cast<std::int64_t>(i), dim, 4.0);
    f.x0.assign(n, 1.0f);
    f.minimizer.assign(n, 0.0f);
    f.value = [c](std::span<const float> x) {
      double s = 0;
      for (std::size_t i = 0; i < x.size(); ++i) s += c[i] * x[i] * x[i];
      return s;
    };
    f.gradient = [c](std::span<const float> x, std::span<float> g, Rng&) {
      for (std::size_t i = 0; i < x.size(); ++i) g[i] = static_cast<float>(2.0 * c[i] * x[i]);
    };
  } else if (name == "rosenbrock") {
    f.x0.resize(n);
    for (std::size_t i = 0; i < n; ++i) f.x0[i] = i % 2 == 0 ? -1.2f : 1.0f;
    f.minimizer.assign(n, 1.0f);
    f.value = [](std::span<const float> x) {
      double s = 0;
      for (std::size_t i = 0; i + 1 < x.size(); ++i) {
        const double a = static_cast<double>(x[i + 1]) - static_cast<double>(x[i]) * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
      }
      return s;
    };
    f.gradient = [](std::span<const float> x, std::span<float> g, Rng&) {
      std::vector<double> gd(x.size(), 0.0);
      for (std::size_t i = 0; i + 1 < x.size(); ++i) {
        const double xi = x[i], a = static_cast<double>(x[i + 1]) - xi * xi;
        gd[i] += -400.0 * xi * a - 2.0 * (1.0 - xi);
        gd[i + 1] += 200.0 * a;
      }
      for (std::size_t i = 0; i < x.size(); ++i) g[i] = static_cast<float>(gd[i]);
    };
  } else if (name == "beale") {
    f.x0 = {1.0f, 1.0f};
    f.minimizer = {3.0f, 0.5f};
    f.value = [](std::span<const float> v) {
      const double x = v[0], y = v[1];
      const double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y;
      return a * a + b * b + c * c;
    };
    f.gradient = [](std::span<const float> v, std::span<float> g, Rng&) {
      const double x = v[0], y = v[1];
      const double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y;
      g[0] = static_cast<float>(2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1));
      g[1] = static_cast<float>(2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y);
    };
  } else {  // sparse
    std::vector<double> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = 1.0 / spread(static_cast<std::int64_t>(i), dim, 2.0);
    f.x0.assign(n, 1.0f);
    f.minimizer.assign(n, 0.0f);
    f.value = sum_of_squares;
    f.gradient = [p](std::span<const float> x, std::span<float> g, Rng& rng) {
      for (std::size_t i = 0; i < x.size(); ++i) g[i] = rng.bernoulli(p[i]) ? 2.0f * x[i] : 0.0f;
    };
  }
  return f;
}

MinimizeResult minimize(const TestFunction& f, const MinimizeOptions& o,
                        const std::function<void(const TraceRow&)>& on_step) {
  if (o.steps < 0) throw UsageError("steps must be >= 0", {"", 0, "steps"});
  std::vector<float> x0 = o.x0.empty() ? f.x0 : o.x0;
  if (x0.size() == 1 && f.dim > 1) x0.assign(static_cast<std::size_t>(f.dim), x0[0]);
  if (static_cast<std::int64_t>(x0.size()) != f.dim)
    throw UsageError("x0 has " + std::to_string(x0.size()) + " values, " + f.name + " has dim " +
                         std::to_string(f.dim),
                     {"", 0, "x0"});
  Parameter x("x", Tensor({f.dim}, x0));
  auto opt = optim::make_optimizer(o.optimizer, {&x}, o.optimizer_options);
  opt->set_schedule(optim::Schedule::parse(o.schedule));
  opt->set_clip({o.clip_norm, o.clip_value});
  Rng rng(o.seed);
  MinimizeResult r;
  r.initial_loss = f.value(x.value().span());
  r.loss = r.initial_loss;
  std::vector<float> before(x0.size()), grad(x0.size());
  std::vector<double> eff(x0.size());
  for (std::int64_t t = 1; t <= o.steps; ++t) {
    f.gradient(x.value().span(), x.grad().span(), rng);
    std::copy(x.grad().span().begin(), x.grad().span().end(), grad.begin());
    std::copy(x.value().span().begin(), x.value().span().end(), before.begin());
    opt->step();
    const auto xv = x.value().span();
    for (std::size_t i = 0; i < xv.size(); ++i)
      eff[i] = grad[i] == 0.0f ? std::numeric_limits<double>::quiet_NaN()
                               : std::abs((static_cast<double>(xv[i]) - before[i]) / grad[i]);
    r.loss = f.value(xv);
    r.steps = t;
    if (on_step) on_step({t, r.loss, xv, grad, eff});
    bool finite = std::isfinite(r.loss);
    for (float v : xv) finite = finite && std::isfinite(v);
    if (!finite) {
      r.finite = false;
      break;
    }
  }
  r.x.assign(x.value().span().begin(), x.value().span().end());
  return r;
}

}  // namespace adakit::train
