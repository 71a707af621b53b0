#include "adakit/linear/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include <nlohmann/json.hpp>

#include "adakit/core/error.hpp"

namespace adakit::linear {
namespace {

using json = nlohmann::json;
std::size_t sz(std::int64_t i) { return static_cast<std::size_t>(i); }

void check_rows(std::size_t scores, std::size_t labels) {
  if (scores == 0) throw UsageError("no rows to calibrate on", {"", 0, "calibration"});
  if (scores != labels)
    throw UsageError(std::to_string(scores) + " scores but " + std::to_string(labels) + " labels", {"", 0, "calibration"});
}

// Lin, Lin and Weng's objective: Σ −t log p − (1 − t) log(1 − p) with p = 1 / (1 + exp(fApB)),
// written so that exp never overflows.
double platt_objective(std::span<const double> f, std::span<const double> t, double a, double b) {
  double v = 0.0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double fApB = f[i] * a + b;
    v += fApB >= 0 ? t[i] * fApB + std::log1p(std::exp(-fApB)) : (t[i] - 1.0) * fApB + std::log1p(std::exp(fApB));
  }
  return v;
}

[[noreturn]] void bad(const std::string& field, const std::string& what) { throw Error(what, {"", 0, field}); }

}  // namespace

std::string_view to_string(CalibrationMethod method) {
  return method == CalibrationMethod::platt ? "platt" : "isotonic";
}

CalibrationMethod calibration_method_from_string(std::string_view text) {
  if (text == "platt") return CalibrationMethod::platt;
  if (text == "isotonic") return CalibrationMethod::isotonic;
  throw UsageError("unknown calibration method '" + std::string(text) + "' (platt or isotonic)", {"", 0, "method"});
}

void CalibrationOptions::validate() const {
  if (max_iterations < 1) throw UsageError("max_iterations must be >= 1", {"", 0, "max_iterations"});
  if (!(min_step > 0.0 && min_step <= 1.0)) throw UsageError("min_step must be in (0, 1]", {"", 0, "min_step"});
  if (!(hessian_ridge >= 0.0) || !std::isfinite(hessian_ridge))
    throw UsageError("hessian_ridge must be a finite number >= 0", {"", 0, "hessian_ridge"});
  if (!(tolerance > 0.0) || !std::isfinite(tolerance))
    throw UsageError("tolerance must be a finite number > 0", {"", 0, "tolerance"});
}

double PlattScaling::operator()(double f) const {
  const double fApB = a * f + b;  // 1 / (1 + e^fApB), without overflow
  return fApB >= 0 ? std::exp(-fApB) / (1.0 + std::exp(-fApB)) : 1.0 / (1.0 + std::exp(fApB));
}

double IsotonicCurve::operator()(double f) const {
  if (std::isnan(f)) return y.front();
  if (f <= x.front()) return y.front();
  if (f >= x.back()) return y.back();
  const auto hi = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), f) - x.begin());  // x[hi-1] <= f < x[hi]
  const std::size_t lo = hi - 1;
  return y[lo] + (f - x[lo]) * (y[hi] - y[lo]) / (x[hi] - x[lo]);
}

PlattScaling fit_platt(std::span<const double> f, std::span<const std::uint8_t> positive, const CalibrationOptions& o) {
  o.validate();
  check_rows(f.size(), positive.size());
  double prior1 = 0.0;
  for (const auto p : positive) prior1 += p != 0 ? 1.0 : 0.0;
  const double prior0 = static_cast<double>(f.size()) - prior1;
  const double hi = (prior1 + 1.0) / (prior1 + 2.0), lo = 1.0 / (prior0 + 2.0);
  std::vector<double> t(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) t[i] = positive[i] != 0 ? hi : lo;
  PlattScaling s{0.0, std::log((prior0 + 1.0) / (prior1 + 1.0))};
  double fval = platt_objective(f, t, s.a, s.b);
  for (std::int32_t it = 0; it < o.max_iterations; ++it) {
    double h11 = o.hessian_ridge, h22 = o.hessian_ridge, h21 = 0.0, g1 = 0.0, g2 = 0.0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      const double fApB = f[i] * s.a + s.b;
      double p, q;  // p = P(y = 1), q = 1 − p
      if (fApB >= 0) {
        const double e = std::exp(-fApB);
        p = e / (1.0 + e);
        q = 1.0 / (1.0 + e);
      } else {
        const double e = std::exp(fApB);
        p = 1.0 / (1.0 + e);
        q = e / (1.0 + e);
      }
      const double d2 = p * q, d1 = t[i] - p;
      h11 += f[i] * f[i] * d2;
      h22 += d2;
      h21 += f[i] * d2;
      g1 += f[i] * d1;
      g2 += d1;
    }
    if (std::abs(g1) < o.tolerance && std::abs(g2) < o.tolerance) break;
    const double det = h11 * h22 - h21 * h21;
    const double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
    const double gd = g1 * dA + g2 * dB;
    double step = 1.0;
    while (step >= o.min_step) {
      const double na = s.a + step * dA, nb = s.b + step * dB;
      const double nf = platt_objective(f, t, na, nb);
      if (nf < fval + 1e-4 * step * gd) {
        s = {na, nb};
        fval = nf;
        break;
      }
      step /= 2.0;
    }
    if (step < o.min_step) break;  // the line search failed: keep the last point that improved
  }
  return s;
}

IsotonicCurve fit_isotonic(std::span<const double> f, std::span<const std::uint8_t> positive) {
  check_rows(f.size(), positive.size());
  for (const double v : f)
    if (!std::isfinite(v)) throw UsageError("a score that is not finite", {"", 0, "calibration"});
  std::vector<std::size_t> order(f.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return f[i] < f[j]; });
  // Equal scores pooled: unique x, the mean label y, the count w.
  std::vector<double> x, y, w;
  for (const std::size_t i : order) {
    const double label = positive[i] != 0 ? 1.0 : 0.0;
    if (!x.empty() && x.back() == f[i]) {
      y.back() += label;
      w.back() += 1.0;
    } else {
      x.push_back(f[i]);
      y.push_back(label);
      w.push_back(1.0);
    }
  }
  for (std::size_t i = 0; i < y.size(); ++i) y[i] /= w[i];
  // Pool adjacent violators: blocks of (mean, weight, end), merged while the previous mean is larger.
  struct Block {
    double mean, weight;
    std::size_t end;  // one past the block's last unique x
  };
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < x.size(); ++i) {
    blocks.push_back({y[i], w[i], i + 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].mean >= blocks.back().mean) {
      const Block top = blocks.back();
      blocks.pop_back();
      Block& prev = blocks.back();
      prev.mean = (prev.mean * prev.weight + top.mean * top.weight) / (prev.weight + top.weight);
      prev.weight += top.weight;
      prev.end = top.end;
    }
  }
  std::vector<double> fitted(x.size());
  std::size_t begin = 0;
  for (const Block& b : blocks) {
    std::fill(fitted.begin() + static_cast<std::ptrdiff_t>(begin), fitted.begin() + static_cast<std::ptrdiff_t>(b.end),
              std::clamp(b.mean, 0.0, 1.0));
    begin = b.end;
  }
  // As scikit-learn: keep the ends and every point whose value differs from its previous or next one.
  IsotonicCurve c;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const bool keep = i == 0 || i + 1 == x.size() || fitted[i - 1] != fitted[i] || fitted[i] != fitted[i + 1];
    if (!keep) continue;
    c.x.push_back(x[i]);
    c.y.push_back(fitted[i]);
  }
  return c;
}

Calibrator Calibrator::fit(const Tensor& scores, std::span<const std::int32_t> labels, std::int64_t classes,
                           const CalibrationOptions& options) {
  options.validate();
  if (classes < 2) throw UsageError("calibration needs at least 2 classes", {"", 0, "calibration"});
  Calibrator c;
  c.method_ = options.method;
  c.classes_ = classes;
  const std::int64_t k = c.columns();
  if (scores.rank() != 2 || scores.dim(1) != k)
    throw UsageError("expected scores [rows, " + std::to_string(k) + "], got " + shape_to_string(scores.shape()),
                     {"", 0, "calibration"});
  const std::int64_t n = scores.dim(0);
  check_rows(sz(n), labels.size());
  for (const auto y : labels)
    if (y < 0 || y >= classes)
      throw UsageError("label " + std::to_string(y) + " is outside [0, " + std::to_string(classes) + ")", {"", 0, "calibration"});
  std::vector<double> f(sz(n));
  std::vector<std::uint8_t> positive(sz(n));
  for (std::int64_t col = 0; col < k; ++col) {
    const std::int32_t cls = classes == 2 ? 1 : static_cast<std::int32_t>(col);
    for (std::int64_t i = 0; i < n; ++i) {
      f[sz(i)] = scores.data()[i * k + col];
      positive[sz(i)] = labels[sz(i)] == cls ? 1 : 0;
    }
    if (options.method == CalibrationMethod::platt) c.platt_.push_back(fit_platt(f, positive, options));
    else c.isotonic_.push_back(fit_isotonic(f, positive));
  }
  return c;
}

void Calibrator::probabilities(std::span<const float> scores, std::span<float> out) const {
  const auto one = [&](std::size_t col) {
    const double f = scores[col];
    return method_ == CalibrationMethod::platt ? platt_[col](f) : isotonic_[col](f);
  };
  if (classes_ == 2) {
    const double p1 = one(0);
    out[0] = static_cast<float>(1.0 - p1);
    out[1] = static_cast<float>(p1);
    return;
  }
  std::vector<double> q(sz(classes_));
  double total = 0.0;
  for (std::size_t c = 0; c < q.size(); ++c) total += q[c] = one(c);
  for (std::size_t c = 0; c < q.size(); ++c)
    out[c] = static_cast<float>(total > 0.0 ? q[c] / total : 1.0 / static_cast<double>(classes_));
}

Tensor Calibrator::probabilities(const Tensor& scores) const {
  const std::int64_t k = columns();
  if (scores.rank() != 2 || scores.dim(1) != k)
    throw UsageError("expected scores [rows, " + std::to_string(k) + "], got " + shape_to_string(scores.shape()),
                     {"", 0, "calibration"});
  const std::int64_t n = scores.dim(0);
  Tensor out({n, classes_});
  for (std::int64_t r = 0; r < n; ++r)
    probabilities({scores.data() + r * k, sz(k)}, {out.data() + r * classes_, sz(classes_)});
  return out;
}

json Calibrator::to_json() const {
  json cols = json::array();
  for (const auto& p : platt_) cols.push_back({{"a", p.a}, {"b", p.b}});
  for (const auto& c : isotonic_) cols.push_back({{"x", c.x}, {"y", c.y}});
  return {{"method", std::string(to_string(method_))}, {"classes", classes_}, {"columns", cols}};
}

Calibrator Calibrator::from_json(const json& j) {
  if (!j.is_object()) bad("", "expected a JSON object");
  Calibrator c;
  if (!j.contains("method") || !j["method"].is_string()) bad("method", "expected \"platt\" or \"isotonic\"");
  const std::string method = j["method"].get<std::string>();
  if (method != "platt" && method != "isotonic") bad("method", "expected \"platt\" or \"isotonic\", got '" + method + "'");
  c.method_ = calibration_method_from_string(method);
  if (!j.contains("classes") || !j["classes"].is_number_integer()) bad("classes", "expected an integer");
  const auto classes = j["classes"].get<std::int64_t>();
  if (classes < 2 || classes > (std::int64_t{1} << 24)) bad("classes", "expected an integer in [2, 2^24]");
  c.classes_ = classes;
  if (!j.contains("columns") || !j["columns"].is_array()) bad("columns", "expected an array");
  const json& cols = j["columns"];
  if (static_cast<std::int64_t>(cols.size()) != c.columns())
    bad("columns", "expected " + std::to_string(c.columns()) + " calibrators for " + std::to_string(classes) +
                       " classes, got " + std::to_string(cols.size()));
  const auto number = [](const json& v, const std::string& field) {
    if (!v.is_number()) bad(field, "expected a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) bad(field, "expected a finite number");
    return d;
  };
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const std::string at = "columns[" + std::to_string(i) + "]";
    const json& col = cols[i];
    if (!col.is_object()) bad(at, "expected a JSON object");
    if (c.method_ == CalibrationMethod::platt) {
      for (const char* key : {"a", "b"})
        if (!col.contains(key)) bad(at + "." + key, "missing");
      c.platt_.push_back({number(col["a"], at + ".a"), number(col["b"], at + ".b")});
      continue;
    }
    IsotonicCurve curve;
    for (const char* key : {"x", "y"}) {
      const std::string field = at + "." + key;
      if (!col.contains(key) || !col[key].is_array() || col[key].empty()) bad(field, "expected a non-empty array of numbers");
      auto& v = key[0] == 'x' ? curve.x : curve.y;
      v.reserve(col[key].size());
      for (const json& e : col[key]) v.push_back(number(e, field));
    }
    if (curve.x.size() != curve.y.size())
      bad(at + ".y", std::to_string(curve.y.size()) + " values for " + std::to_string(curve.x.size()) + " breakpoints");
    for (std::size_t k = 0; k < curve.x.size(); ++k) {
      if (k > 0 && !(curve.x[k] > curve.x[k - 1])) bad(at + ".x", "breakpoints must increase strictly");
      if (!(curve.y[k] >= 0.0 && curve.y[k] <= 1.0)) bad(at + ".y", "values must be probabilities in [0, 1]");
      if (k > 0 && curve.y[k] < curve.y[k - 1]) bad(at + ".y", "values must not decrease");
    }
    c.isotonic_.push_back(std::move(curve));
  }
  return c;
}

CalibrationMetrics calibration_metrics(const Tensor& p, std::span<const std::int32_t> labels, std::int32_t bins) {
  if (bins < 1) throw UsageError("bins must be >= 1", {"", 0, "bins"});
  if (p.rank() != 2 || p.dim(1) < 2 || p.dim(0) != static_cast<std::int64_t>(labels.size()))
    throw UsageError("expected probabilities [" + std::to_string(labels.size()) + ", classes >= 2], got " +
                         shape_to_string(p.shape()),
                     {"", 0, "labels"});
  const std::int64_t n = p.dim(0), k = p.dim(1);
  CalibrationMetrics m;
  m.rows = n;
  if (n == 0) return m;
  std::vector<double> bin_count(sz(bins)), bin_conf(sz(bins)), bin_correct(sz(bins));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = p.data() + i * k;
    const std::int32_t y = labels[sz(i)];
    if (y < 0 || y >= k)
      throw UsageError("label " + std::to_string(y) + " is outside [0, " + std::to_string(k) + ")", {"", 0, "labels"});
    if (k == 2) {
      const double e = static_cast<double>(row[1]) - (y == 1 ? 1.0 : 0.0);
      m.brier += e * e;
    } else {
      for (std::int64_t c = 0; c < k; ++c) {
        const double e = static_cast<double>(row[c]) - (c == y ? 1.0 : 0.0);
        m.brier += e * e;
      }
    }
    m.log_loss -= std::log(std::max(static_cast<double>(row[y]), 1e-15));
    const auto top = static_cast<std::int64_t>(std::max_element(row, row + k) - row);
    const double conf = row[top];
    const bool correct = top == y;
    m.accuracy += correct ? 1.0 : 0.0;
    // Bin m holds ((m − 1)/bins, m/bins]: ceil(conf · bins) − 1, with 0 in the first.
    const auto b = static_cast<std::size_t>(
        std::clamp<double>(std::ceil(conf * static_cast<double>(bins)) - 1.0, 0.0, static_cast<double>(bins - 1)));
    bin_count[b] += 1.0;
    bin_conf[b] += conf;
    bin_correct[b] += correct ? 1.0 : 0.0;
  }
  const auto dn = static_cast<double>(n);
  for (std::size_t b = 0; b < bin_count.size(); ++b)
    if (bin_count[b] > 0) m.ece += std::abs(bin_correct[b] - bin_conf[b]) / dn;  // |B|/n · |acc − conf|
  m.brier /= dn;
  m.log_loss /= dn;
  m.accuracy /= dn;
  return m;
}

json to_json(const CalibrationMetrics& m) {
  return {{"rows", m.rows}, {"brier", m.brier}, {"ece", m.ece}, {"log_loss", m.log_loss}, {"accuracy", m.accuracy}};
}

}  // namespace adakit::linear
