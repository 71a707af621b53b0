// One table-driven suite over every optimizer of the registry (plus AdaGrad's conventions and a few
// option variants): closed-form first steps, convergence on a quadratic and on logistic regression,
// reset, save/load/continue, and thread-count independence.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/core/parallel.hpp"
#include "adakit/core/parameter.hpp"
#include "adakit/core/rng.hpp"
#include "adakit/core/tensor.hpp"
#include "adakit/io/safetensors.hpp"
#include "adakit/optim/optimizer.hpp"
#include "adakit/optim/options.hpp"
#include "adakit/optim/registry.hpp"
#include "jacobi.hpp"

namespace {

namespace fs = std::filesystem;
using adakit::Parameter;
using adakit::Tensor;
using adakit::optim::OptionMap;
using adakit::optim::Optimizer;

// ---------------------------------------------------------------- the table

struct Row {
  std::string label;      // test name
  std::string optimizer;  // registry name
  OptionMap options;      // everything but lr
};

void PrintTo(const Row& row, std::ostream* os) { *os << row.label; }

// Per-row learning rates and budgets: a small map, chosen so that each row converges.
struct Tuning {
  double quad_lr;
  int quad_steps;         // budget to reach loss < quad_target * start
  double quad_target;
  double logreg_lr;
  int logreg_steps;       // steps run on logistic regression
  adakit::Shape big = {200000};  // the large tensor of the thread-count test (a matrix for tensor rules)
};

const std::map<std::string, Tuning>& tunings() {
  static const std::map<std::string, Tuning> t{
      // quadratic: lr, budget, target | logistic: lr, steps. The budgets are 2-4x what the rows need.
      {"adagrad", {0.5, 200, 1e-3, 0.5, 300}},
      {"adagrad_keras", {0.5, 200, 1e-3, 0.5, 300}},
      {"adagrad_optax", {0.5, 200, 1e-3, 0.5, 300}},
      {"adagrad_tf1", {0.5, 200, 1e-3, 0.5, 300}},
      // GloVe's first step is lr * g unnormalised (s0 = 1): with curvatures up to 100 a larger lr
      // throws x far away, and the accumulated sum then makes the way back slow (~4500 steps).
      {"adagrad_glove", {0.03, 10000, 1e-3, 0.5, 300}},
      {"adagrad_lr_decay", {0.5, 200, 1e-3, 0.5, 300}},
      {"sgd", {0.015, 200, 1e-3, 1.0, 400}},
      {"sgd_momentum", {0.01, 200, 1e-3, 0.5, 300}},
      {"sgd_nesterov", {0.01, 200, 1e-3, 0.5, 300}},
      {"adam", {0.05, 300, 1e-3, 0.05, 300}},
      {"adam_amsgrad", {0.05, 300, 1e-3, 0.05, 300}},
      {"adamw", {0.05, 300, 1e-3, 0.05, 300}},
      {"rmsprop", {0.01, 1000, 1e-3, 0.01, 300}},
      {"rmsprop_centered", {0.01, 1000, 1e-3, 0.01, 300}},
      {"rmsprop_centered_momentum", {0.005, 300, 1e-3, 0.005, 300}},
      {"adadelta", {5.0, 1000, 1e-3, 5.0, 600}},
      // The family beyond the diagonal (tensor rules).
      {"adagrad-norm", {1.0, 700, 1e-3, 1.0, 300, {300, 300}}},
      {"adagrad_norm_global", {1.0, 700, 1e-3, 1.0, 300, {300, 300}}},
      {"adagrad-full", {1.0, 100, 1e-3, 1.0, 100, {20, 15}}},
      {"adagrad_full_blocks", {0.5, 250, 1e-3, 0.5, 150, {3000}}},
      {"sm3", {0.5, 150, 1e-3, 0.5, 100, {300, 300}}},
      {"sm3_momentum", {0.5, 200, 1e-3, 0.5, 100, {300, 300}}},
      {"shampoo", {0.5, 150, 1e-3, 0.5, 120, {200, 150}}},
      {"shampoo_blocks", {0.5, 150, 1e-3, 0.5, 120, {30, 20}}},
      {"shampoo_no_graft", {1.0, 100, 1e-3, 1.0, 100, {200, 150}}},
      {"adafactor", {0.3, 250, 1e-3, 0.3, 250, {300, 300}}},
      {"adafactor_factored_momentum", {0.1, 500, 1e-3, 0.1, 500, {300, 300}}},
  };
  return t;
}

// Every optimizer the suite covers, written out by hand: CoversEveryRegistryEntry compares the registry
// with this list, so a row added to (or dropped from) the registry fails there until it is added here.
const std::vector<std::string>& suite_optimizers() {
  static const std::vector<std::string> names{"adagrad",      "sgd",          "adam", "adamw",   "rmsprop",  "adadelta",
                                              "adagrad-norm", "adagrad-full", "sm3",  "shampoo", "adafactor"};
  return names;
}

std::vector<Row> suite_rows() {
  std::vector<Row> rows;
  for (const auto& name : suite_optimizers()) rows.push_back({name, name, {}});
  for (const char* c : {"keras", "optax", "tf1", "glove"})
    rows.push_back({std::string("adagrad_") + c, "adagrad", {{"convention", c}}});
  rows.push_back({"adagrad_lr_decay", "adagrad", {{"lr_decay", "0.01"}}});
  rows.push_back({"sgd_momentum", "sgd", {{"momentum", "0.9"}, {"dampening", "0.1"}}});
  rows.push_back({"sgd_nesterov", "sgd", {{"momentum", "0.9"}, {"nesterov", "true"}}});
  rows.push_back({"adam_amsgrad", "adam", {{"amsgrad", "true"}}});
  rows.push_back({"rmsprop_centered", "rmsprop", {{"centered", "true"}}});
  rows.push_back({"rmsprop_centered_momentum", "rmsprop", {{"centered", "true"}, {"momentum", "0.9"}}});
  rows.push_back({"adagrad_norm_global", "adagrad-norm", {{"global", "true"}}});
  rows.push_back({"adagrad_full_blocks", "adagrad-full",
                  {{"block_size", "4"}, {"precondition_every", "2"}, {"eps_mode", "inside"}, {"eps", "1e-6"}}});
  rows.push_back({"sm3_momentum", "sm3", {{"momentum", "0.9"}}});
  rows.push_back({"shampoo_blocks", "shampoo", {{"block_size", "3"}, {"precondition_every", "2"}}});
  rows.push_back({"shampoo_no_graft", "shampoo", {{"graft", "false"}, {"eps", "1e-4"}}});
  // min_dim_size_to_factor = 2: the state tests' small matrices are factored.
  rows.push_back({"adafactor_factored_momentum", "adafactor",
                  {{"min_dim_size_to_factor", "2"}, {"beta1", "0.9"}, {"relative_step", "false"}}});
  return rows;
}

OptionMap with_lr(const Row& row, double lr) {
  OptionMap o = row.options;
  o["lr"] = adakit::optim::format_double(lr);
  return o;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

struct ThreadGuard {
  ~ThreadGuard() { adakit::set_num_threads(0); }
};

// ---------------------------------------------------------------- an independent float64 reference

// Every option of each optimizer, torch's defaults, from the header comments.
OptionMap defaults_of(const std::string& kind) {
  if (kind == "adagrad")
    return {{"lr", "0.01"}, {"lr_decay", "0"}, {"weight_decay", "0"}, {"initial_accumulator_value", "0"},
            {"eps", "1e-10"}, {"eps_mode", "outside"}, {"maximize", "false"},
            {"zero_update_where_sum_zero", "false"}, {"accumulate_after_update", "false"}};
  if (kind == "sgd")
    return {{"lr", "0.001"}, {"momentum", "0"}, {"dampening", "0"}, {"weight_decay", "0"}, {"nesterov", "false"},
            {"maximize", "false"}};
  if (kind == "adam" || kind == "adamw")
    return {{"lr", "0.001"}, {"beta1", "0.9"}, {"beta2", "0.999"}, {"eps", "1e-8"},
            {"weight_decay", kind == "adamw" ? "0.01" : "0"}, {"amsgrad", "false"}, {"maximize", "false"}};
  if (kind == "rmsprop")
    return {{"lr", "0.01"}, {"alpha", "0.99"}, {"eps", "1e-8"}, {"weight_decay", "0"}, {"momentum", "0"},
            {"centered", "false"}, {"maximize", "false"}};
  if (kind == "adadelta")
    return {{"lr", "1"}, {"rho", "0.9"}, {"eps", "1e-6"}, {"weight_decay", "0"}, {"maximize", "false"}};
  if (kind == "adagrad-norm") return {{"lr", "1"}, {"b0", "0.01"}, {"global", "false"}};
  if (kind == "adagrad-full")
    return {{"lr", "0.01"}, {"eps", "1e-10"}, {"eps_mode", "outside"}, {"precondition_every", "1"}, {"block_size", "1024"}};
  if (kind == "sm3") return {{"lr", "0.1"}, {"momentum", "0"}, {"eps", "0"}};
  if (kind == "shampoo")
    return {{"lr", "0.01"}, {"eps", "1e-6"}, {"precondition_every", "1"}, {"block_size", "128"}, {"graft", "true"},
            {"graft_eps", "1e-10"}};
  if (kind == "adafactor")
    return {{"lr", "0.01"}, {"relative_step", "true"}, {"scale_parameter", "true"}, {"decay_rate", "0.8"},
            {"clip_threshold", "1"}, {"eps", "1e-30"}, {"eps2", "0.001"}, {"beta1", "0"}, {"factored", "true"},
            {"min_dim_size_to_factor", "128"}};
  return {};
}

// AdaGrad presets (adagrad.hpp): pytorch | keras | optax | tf1 | glove.
OptionMap convention_of(const std::string& name) {
  if (name == "keras") return {{"initial_accumulator_value", "0.1"}, {"eps", "1e-7"}, {"eps_mode", "inside"}};
  if (name == "optax")
    return {{"initial_accumulator_value", "0.1"}, {"eps", "1e-7"}, {"eps_mode", "inside"},
            {"zero_update_where_sum_zero", "true"}};
  if (name == "tf1") return {{"initial_accumulator_value", "0.1"}, {"eps", "0"}, {"eps_mode", "inside"}};
  if (name == "glove") return {{"initial_accumulator_value", "1"}, {"eps", "0"}, {"accumulate_after_update", "true"}};
  return {};
}

class Reference {
 public:
  Reference(std::string kind, const OptionMap& given, std::size_t n) : kind_(std::move(kind)), o_(defaults_of(kind_)) {
    if (auto it = given.find("convention"); it != given.end())
      for (const auto& [k, v] : convention_of(it->second)) o_[k] = v;
    for (const auto& [k, v] : given)
      if (k != "convention") o_[k] = v;
    const double s0 = kind_ == "adagrad" ? num("initial_accumulator_value") : 0.0;
    a_.assign(n, s0);
    b_.assign(n, 0.0);
    c_.assign(n, 0.0);
  }
  bool known() const { return !o_.empty(); }

  void step(std::vector<double>& th, const std::vector<double>& grad) {
    ++t_;
    const double t = static_cast<double>(t_);
    if (vector_rule()) {
      vector_step(th, grad, t);
      return;
    }
    const double sign = flag("maximize") ? -1.0 : 1.0;
    const double lr = num("lr");
    for (std::size_t i = 0; i < th.size(); ++i) {
      double g = sign * grad[i];
      if (kind_ == "adagrad") {
        g += num("weight_decay") * th[i];
        const double clr = lr / (1.0 + (t - 1.0) * num("lr_decay"));
        const double s_new = a_[i] + g * g;
        const double u = flag("accumulate_after_update") ? a_[i] : s_new;
        const double eps = num("eps");
        const double den = o_.at("eps_mode") == "inside" ? std::sqrt(u + eps) : std::sqrt(u) + eps;
        double upd = g / den;
        if (flag("zero_update_where_sum_zero") && u == 0.0) upd = 0.0;
        th[i] -= clr * upd;
        a_[i] = s_new;
      } else if (kind_ == "sgd") {
        g += num("weight_decay") * th[i];
        const double mu = num("momentum");
        if (mu != 0.0) {
          a_[i] = t_ == 1 ? g : mu * a_[i] + (1.0 - num("dampening")) * g;
          g = flag("nesterov") ? g + mu * a_[i] : a_[i];
        }
        th[i] -= lr * g;
      } else if (kind_ == "adam" || kind_ == "adamw") {
        const double wd = num("weight_decay"), b1 = num("beta1"), b2 = num("beta2");
        if (kind_ == "adamw") th[i] *= 1.0 - lr * wd;
        else g += wd * th[i];
        a_[i] = b1 * a_[i] + (1.0 - b1) * g;      // m
        b_[i] = b2 * b_[i] + (1.0 - b2) * g * g;  // v
        double v = b_[i];
        if (flag("amsgrad")) v = c_[i] = std::max(c_[i], b_[i]);
        const double den = std::sqrt(v) / std::sqrt(1.0 - std::pow(b2, t)) + num("eps");
        th[i] -= lr / (1.0 - std::pow(b1, t)) * a_[i] / den;
      } else if (kind_ == "rmsprop") {
        g += num("weight_decay") * th[i];
        const double al = num("alpha"), mu = num("momentum");
        a_[i] = al * a_[i] + (1.0 - al) * g * g;  // v
        double den;
        if (flag("centered")) {
          b_[i] = al * b_[i] + (1.0 - al) * g;  // mean gradient
          den = std::sqrt(a_[i] - b_[i] * b_[i]) + num("eps");
        } else {
          den = std::sqrt(a_[i]) + num("eps");
        }
        if (mu > 0.0) {
          c_[i] = mu * c_[i] + g / den;
          th[i] -= lr * c_[i];
        } else {
          th[i] -= lr * g / den;
        }
      } else if (kind_ == "sm3") {  // one coordinate per cover set: ν = μ + g², μ = ν
        a_[i] += g * g;
        const double d = a_[i] + num("eps");
        double u = d > 0.0 ? g / std::sqrt(d) : 0.0;
        if (num("momentum") > 0.0) u = b_[i] = num("momentum") * b_[i] + (1.0 - num("momentum")) * u;
        th[i] -= lr * u;
      } else if (kind_ == "adadelta") {
        g += num("weight_decay") * th[i];
        const double rho = num("rho"), eps = num("eps");
        a_[i] = rho * a_[i] + (1.0 - rho) * g * g;  // square_avg
        const double delta = std::sqrt(b_[i] + eps) / std::sqrt(a_[i] + eps) * g;
        b_[i] = rho * b_[i] + (1.0 - rho) * delta * delta;  // acc_delta
        th[i] -= lr * delta;
      }
    }
  }

 private:
  bool vector_rule() const { return kind_ == "adagrad-norm" || kind_ == "adagrad-full" || kind_ == "shampoo" || kind_ == "adafactor"; }

  // The rules that see the whole (here: 3-element, one-block) vector, from their header comments.
  void vector_step(std::vector<double>& th, const std::vector<double>& g, double t) {
    const std::size_t n = th.size();
    const double lr = num("lr");
    if (kind_ == "adagrad-norm") {
      if (t_ == 1) b2_ = num("b0") * num("b0");
      for (double x : g) b2_ += x * x;
      for (std::size_t i = 0; i < n; ++i) th[i] -= lr * g[i] / std::sqrt(b2_);
      return;
    }
    const double eps = num("eps"), dn = static_cast<double>(n);
    if (kind_ != "adafactor") {
      if (t_ == 1) G_ = adakit_test::zeros(n, n);
      adakit_test::add_outer(G_, g);
    }
    const bool refresh = kind_ != "adafactor" && (t_ - 1) % std::stoll(o_.at("precondition_every")) == 0;
    if (kind_ == "adagrad-full") {
      if (refresh)
        P_ = adakit_test::symmetric_function(G_, [&](double l) {
          return o_.at("eps_mode") == "inside" ? 1.0 / std::sqrt(l + eps) : 1.0 / (std::sqrt(l) + eps);
        });
      auto u = adakit_test::matvec(P_, g);
      double un = 0.0;
      for (double x : u) un += x * x;
      if (!refresh && un > 1.0)  // a stale P's step is held to a fresh one's bound, ‖P g‖ <= 1
        for (auto& x : u) x /= std::sqrt(un);
      for (std::size_t i = 0; i < n; ++i) th[i] -= lr * u[i];
    } else if (kind_ == "shampoo") {  // a vector: D = (L + εI)^{-1/2} g, grafted onto AdaGrad's norm
      if (refresh) P_ = adakit_test::symmetric_function(G_, [&](double l) { return 1.0 / std::sqrt(l + eps); });
      auto d = adakit_test::matvec(P_, g);
      if (flag("graft")) {
        double ga = 0.0, gd = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
          a_[i] += g[i] * g[i];
          const double a = g[i] / (std::sqrt(a_[i]) + num("graft_eps"));
          ga += a * a;
          gd += d[i] * d[i];
        }
        for (auto& x : d) x *= std::sqrt(ga / gd);
      }
      for (std::size_t i = 0; i < n; ++i) th[i] -= lr * d[i];
    } else if (kind_ == "adafactor") {  // a vector is never factored
      const double beta = 1.0 - std::pow(t, -num("decay_rate"));
      std::vector<double> u(n);
      double su = 0.0, sp = 0.0;
      for (std::size_t i = 0; i < n; ++i) {
        a_[i] = beta * a_[i] + (1.0 - beta) * (g[i] * g[i] + num("eps"));
        u[i] = g[i] / std::sqrt(a_[i]);
        su += u[i] * u[i];
        sp += th[i] * th[i];
      }
      const double clip = num("clip_threshold") > 0 ? std::max(1.0, std::sqrt(su / dn) / num("clip_threshold")) : 1.0;
      const double rho = flag("relative_step") ? std::min(lr, 1.0 / std::sqrt(t)) : lr;
      const double alpha = flag("scale_parameter") ? std::max(num("eps2"), std::sqrt(sp / dn)) * rho : rho;
      for (std::size_t i = 0; i < n; ++i) {
        double s = alpha * u[i] / clip;
        if (num("beta1") > 0.0) s = b_[i] = num("beta1") * b_[i] + (1.0 - num("beta1")) * s;
        th[i] -= s;
      }
    }
  }

  double num(const std::string& k) const { return std::stod(o_.at(k)); }
  bool flag(const std::string& k) const { return o_.contains(k) && o_.at(k) == "true"; }
  std::string kind_;
  OptionMap o_;
  std::int64_t t_ = 0;
  std::vector<double> a_, b_, c_;
  double b2_ = 0.0;             // adagrad-norm
  adakit_test::Matrix G_, P_;   // adagrad-full, shampoo
};

// ---------------------------------------------------------------- problems

// f = 0.5 Σ a_i (x_i - c_i)², a_i log-spaced over 1..100.
struct Quadratic {
  std::vector<double> a, c;
  explicit Quadratic(std::size_t n) {
    const double cs[] = {1.0, -2.0, 0.5, 3.0, -1.0, 2.0, -0.5, 1.5, -3.0, 0.25};
    for (std::size_t i = 0; i < n; ++i) {
      a.push_back(std::pow(100.0, n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0));
      c.push_back(cs[i % 10] * (1.0 + 0.01 * static_cast<double>(i / 10)));
    }
  }
  double loss(std::span<const float> x) const {
    double f = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) f += 0.5 * a[i] * (x[i] - c[i]) * (x[i] - c[i]);
    return f;
  }
  void grad(std::span<const float> x, std::span<float> g) const {
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = static_cast<float>(a[i] * (x[i] - c[i]));
  }
};

// Logistic regression on 200 points in 5 dimensions, labels from a fixed linear rule plus a little noise.
struct Logistic {
  static constexpr std::size_t kPoints = 200, kDim = 5;
  std::vector<double> x;  // kPoints * kDim
  std::vector<double> y;  // ±1
  Logistic() {
    adakit::Rng rng(2024);
    const double w_true[kDim] = {1.5, -2.0, 1.0, 0.5, -1.0};
    const double b_true = 0.25;
    for (std::size_t i = 0; i < kPoints; ++i) {
      double score = b_true;
      for (std::size_t j = 0; j < kDim; ++j) {
        const double v = rng.normal();
        x.push_back(v);
        score += w_true[j] * v;
      }
      score += 0.2 * rng.normal();
      y.push_back(score > 0.0 ? 1.0 : -1.0);
    }
  }
  double margin(std::size_t i, std::span<const float> w, float b) const {
    double z = b;
    for (std::size_t j = 0; j < kDim; ++j) z += w[j] * x[i * kDim + j];
    return y[i] * z;
  }
  double loss(std::span<const float> w, float b) const {
    double l = 0.0;
    for (std::size_t i = 0; i < kPoints; ++i) {
      const double m = margin(i, w, b);
      l += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
    }
    return l / kPoints;
  }
  double accuracy(std::span<const float> w, float b) const {
    int right = 0;
    for (std::size_t i = 0; i < kPoints; ++i) right += margin(i, w, b) > 0.0;
    return right / static_cast<double>(kPoints);
  }
  void grad(std::span<const float> w, float b, std::span<float> gw, float& gb) const {
    std::vector<double> dw(kDim, 0.0);
    double db = 0.0;
    for (std::size_t i = 0; i < kPoints; ++i) {
      const double m = margin(i, w, b);
      const double s = -y[i] / (1.0 + std::exp(m)) / kPoints;  // d loss / d z
      for (std::size_t j = 0; j < kDim; ++j) dw[j] += s * x[i * kDim + j];
      db += s;
    }
    for (std::size_t j = 0; j < kDim; ++j) gw[j] = static_cast<float>(dw[j]);
    gb = static_cast<float>(db);
  }
};

// Elementwise quadratic over several parameters with per-element scales, for the state tests.
struct Bowl {
  std::deque<Parameter> params;
  std::vector<std::vector<double>> a, c;
  Bowl(const std::vector<std::pair<std::string, adakit::Shape>>& specs, std::uint64_t seed) {
    adakit::Rng rng(seed);
    for (const auto& [name, shape] : specs) {
      Tensor t(shape);
      rng.fill_uniform(t.span(), -1.0, 1.0);
      params.emplace_back(name, std::move(t));
      std::vector<double> ai, ci;
      for (std::int64_t i = 0; i < params.back().numel(); ++i) {
        ai.push_back(std::pow(100.0, rng.uniform()));
        ci.push_back(rng.uniform(-2.0, 2.0));
      }
      a.push_back(std::move(ai));
      c.push_back(std::move(ci));
    }
  }
  std::vector<Parameter*> pointers() {
    std::vector<Parameter*> out;
    for (auto& p : params) out.push_back(&p);
    return out;
  }
  // Gradients for `ps` (same shapes as this field's parameters) at their current values.
  void grad(std::span<Parameter* const> ps) const {
    for (std::size_t k = 0; k < ps.size(); ++k) {
      auto x = ps[k]->value().span();
      auto g = ps[k]->grad().span();
      for (std::size_t i = 0; i < x.size(); ++i) g[i] = static_cast<float>(a[k][i] * (x[i] - c[k][i]));
    }
  }
  void run(Optimizer& opt, std::span<Parameter* const> ps, int steps) const {
    for (int s = 0; s < steps; ++s) {
      grad(ps);
      opt.step();
    }
  }
};

// ---------------------------------------------------------------- the suite

class OptimizerSuite : public ::testing::TestWithParam<Row> {
 protected:
  void SetUp() override {
    const Row& row = GetParam();
    auto it = tunings().find(row.label);
    ASSERT_NE(it, tunings().end()) << "row '" << row.label << "' needs an lr and budgets in tunings()";
    tune_ = it->second;
  }
  std::unique_ptr<Optimizer> make(std::vector<Parameter*> ps, double lr) const {
    return adakit::optim::make_optimizer(GetParam().optimizer, std::move(ps), with_lr(GetParam(), lr));
  }
  Tuning tune_{};
};

TEST_P(OptimizerSuite, FirstTwoStepsMatchTheClosedForm) {
  const Row& row = GetParam();
  Reference ref(row.optimizer, with_lr(row, tune_.quad_lr), 3);
  ASSERT_TRUE(ref.known()) << "no closed form in this test for optimizer '" << row.optimizer << "'";
  Parameter p("theta", Tensor::from({3}, {1.5f, -2.0f, 3.0f}));
  auto opt = make({&p}, tune_.quad_lr);
  std::vector<double> th{1.5, -2.0, 3.0};
  const std::vector<std::vector<double>> grads{{0.5, -1.0, 2.0}, {-0.25, 0.75, 1.5}};
  for (std::size_t s = 0; s < grads.size(); ++s) {
    const std::vector<double> before = th;
    for (std::size_t i = 0; i < 3; ++i) p.grad()[static_cast<std::int64_t>(i)] = static_cast<float>(grads[s][i]);
    opt->step();
    ref.step(th, grads[s]);
    for (std::size_t i = 0; i < 3; ++i) {
      const double got = p.value()[static_cast<std::int64_t>(i)];
      EXPECT_LE(std::abs(got - th[i]) / std::abs(th[i]), 1e-6)
          << "step " << s + 1 << " element " << i << ": adakit " << got << ", closed form " << th[i];
      EXPECT_GT(std::abs(th[i] - before[i]), 1e-4) << "the closed form barely moves: a vacuous check";
    }
  }
  EXPECT_EQ(opt->steps(), 2);
  ASSERT_NE(opt->state(p), nullptr);
  EXPECT_EQ(opt->state(p)->step, 2);
}

TEST_P(OptimizerSuite, ConvergesOnAnIllConditionedQuadratic) {
  const Quadratic q(10);
  Parameter x("x", Tensor({10}, 0.0f));
  auto opt = make({&x}, tune_.quad_lr);
  const double start = q.loss(x.value().span());
  ASSERT_GT(start, 10.0);
  int reached = -1;
  double best = start;
  for (int s = 1; s <= tune_.quad_steps; ++s) {
    q.grad(x.value().span(), x.grad().span());
    opt->step();
    const double f = q.loss(x.value().span());
    ASSERT_TRUE(std::isfinite(f)) << "diverged at step " << s;
    best = std::min(best, f);
    if (f < tune_.quad_target * start) {
      reached = s;
      break;
    }
  }
  EXPECT_GT(reached, 0) << "loss " << best << " never fell below " << tune_.quad_target << " x start " << start
                        << " in " << tune_.quad_steps << " steps";
  RecordProperty("quadratic_steps", reached);
}

TEST_P(OptimizerSuite, LearnsLogisticRegression) {
  const Logistic data;
  Parameter w("w", Tensor({5}, 0.0f)), b("b", Tensor({1}, 0.0f));
  auto opt = make({&w, &b}, tune_.logreg_lr);
  const double start = data.loss(w.value().span(), b.value()[0]);
  EXPECT_NEAR(start, std::log(2.0), 1e-12);
  for (int s = 0; s < tune_.logreg_steps; ++s) {
    data.grad(w.value().span(), b.value()[0], w.grad().span(), b.grad()[0]);
    opt->step();
  }
  const double loss = data.loss(w.value().span(), b.value()[0]);
  const double acc = data.accuracy(w.value().span(), b.value()[0]);
  EXPECT_GE(acc, 0.95) << "loss " << loss;
  EXPECT_LT(loss, start / 4.0) << "accuracy " << acc;
  RecordProperty("logistic_loss", std::to_string(loss));
}

TEST_P(OptimizerSuite, ResetThenRerunIsBitIdentical) {
  Bowl f({{"w", {4, 5}}, {"b", {5}}}, 7);
  const auto ps = f.pointers();
  std::vector<Tensor> initial;
  for (auto* p : ps) initial.push_back(p->value());
  auto opt = make(ps, tune_.quad_lr);
  f.run(*opt, ps, 9);
  std::vector<Tensor> first;
  for (auto* p : ps) first.push_back(p->value());
  EXPECT_FALSE(same_bits(first[0].span(), initial[0].span())) << "nothing moved";

  for (std::size_t k = 0; k < ps.size(); ++k) ps[k]->value() = initial[k];
  opt->reset();
  EXPECT_EQ(opt->steps(), 0);
  for (auto* p : ps) EXPECT_EQ(opt->state(*p), nullptr);
  f.run(*opt, ps, 9);
  for (std::size_t k = 0; k < ps.size(); ++k)
    EXPECT_TRUE(same_bits(ps[k]->value().span(), first[k].span())) << ps[k]->name();
  EXPECT_EQ(opt->steps(), 9);
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = fs::temp_directory_path() / ("adakit_suite_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST_P(OptimizerSuite, SaveLoadContinueIsBitIdentical) {
  const Row& row = GetParam();
  Bowl f({{"layer.w", {3, 4}}, {"layer.b", {4}}}, 11);
  const auto ps = f.pointers();
  auto opt = make(ps, tune_.quad_lr);
  f.run(*opt, ps, 5);

  TempDir dir;
  const fs::path file = dir.path() / "state.safetensors";
  adakit::io::save_state_dict(file, opt->state_dict());

  // Fresh parameters holding the saved values, and a fresh optimizer with default options: the
  // options, the state and the step counts all come from the file.
  std::deque<Parameter> fresh;
  std::vector<Parameter*> fps;
  for (auto* p : ps) {
    fresh.emplace_back(p->name(), p->value());
    fps.push_back(&fresh.back());
  }
  auto restored = adakit::optim::make_optimizer(row.optimizer, fps, {});
  restored->load_state_dict(adakit::io::load_state_dict(file));
  EXPECT_EQ(restored->steps(), opt->steps());
  EXPECT_EQ(restored->group_options(0), opt->group_options(0));

  f.run(*opt, ps, 6);
  f.run(*restored, fps, 6);
  for (std::size_t k = 0; k < ps.size(); ++k)
    EXPECT_TRUE(same_bits(ps[k]->value().span(), fps[k]->value().span())) << ps[k]->name();
  const auto d1 = opt->state_dict(), d2 = restored->state_dict();
  EXPECT_EQ(d1.counters, d2.counters);
  EXPECT_EQ(d1.metadata, d2.metadata);
  ASSERT_EQ(d1.tensors.size(), d2.tensors.size());
  for (const auto& [k, t] : d1.tensors) {
    ASSERT_TRUE(d2.tensors.contains(k)) << k;
    EXPECT_TRUE(same_bits(t.span(), d2.tensors.at(k).span())) << k;
  }

  // Into another optimizer type: an Error, and the target is left as it was.
  const std::string other = row.optimizer == "adagrad" ? "sgd" : "adagrad";
  std::deque<Parameter> fresh2;
  std::vector<Parameter*> fps2;
  for (auto* p : ps) {
    fresh2.emplace_back(p->name(), p->value());
    fps2.push_back(&fresh2.back());
  }
  auto wrong = adakit::optim::make_optimizer(other, fps2, {});
  EXPECT_THROW(wrong->load_state_dict(adakit::io::load_state_dict(file)), adakit::Error);
  EXPECT_EQ(wrong->steps(), 0);
  // And into the same type over differently named parameters.
  Parameter stranger("stranger", Tensor({3, 4}));
  auto mismatched = adakit::optim::make_optimizer(row.optimizer, {&stranger}, {});
  EXPECT_THROW(mismatched->load_state_dict(adakit::io::load_state_dict(file)), adakit::Error);
}

TEST_P(OptimizerSuite, ThreadCountDoesNotChangeTheResult) {
  ThreadGuard guard;
  std::vector<Tensor> results;
  for (int threads : {1, 2}) {
    adakit::set_num_threads(threads);
    Bowl f({{"big", {tune_.big}}, {"small", {7}}}, 3);
    const auto ps = f.pointers();
    auto opt = make(ps, tune_.quad_lr);
    f.run(*opt, ps, 4);
    results.push_back(f.params[0].value());
    results.push_back(f.params[1].value());
  }
  EXPECT_TRUE(same_bits(results[0].span(), results[2].span()));
  EXPECT_TRUE(same_bits(results[1].span(), results[3].span()));
}

INSTANTIATE_TEST_SUITE_P(AllOptimizers, OptimizerSuite, ::testing::ValuesIn(suite_rows()),
                         [](const ::testing::TestParamInfo<Row>& row) {
                           std::string name = row.param.label;  // registry names may hold '-'
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// The table really covers the registry (the hand-written list is the registry, in its order), and every
// row is tuned and has a float64 reference.
TEST(OptimizerSuiteTable, CoversEveryRegistryEntry) {
  std::vector<std::string> registry;
  for (const auto& info : adakit::optim::optimizers()) registry.emplace_back(info.name);
  EXPECT_EQ(registry, suite_optimizers());
  const auto rows = suite_rows();
  for (const auto& name : suite_optimizers()) {
    EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [&](const Row& r) { return r.label == name; }), 1) << name;
    EXPECT_TRUE(Reference(name, {}, 1).known()) << name;
  }
  for (const auto& r : rows) EXPECT_TRUE(tunings().contains(r.label)) << r.label;
  for (const char* c : {"keras", "optax", "tf1", "glove"})
    EXPECT_TRUE(std::any_of(rows.begin(), rows.end(), [&](const Row& r) {
      return r.options.contains("convention") && r.options.at("convention") == c;
    })) << c;
}

}  // namespace
