#include "adakit/report/curve.hpp"

#include <cmath>
#include <cstdio>

namespace adakit::report {

nlohmann::json curve_json(const std::string& x_name, const std::vector<double>& x, const NamedSeries& series,
                          std::size_t max_points) {
  std::vector<std::size_t> keep;
  const std::size_t n = x.size();
  if (n <= max_points || max_points < 2) {
    for (std::size_t i = 0; i < n; ++i) keep.push_back(i);
  } else {
    for (std::size_t k = 0; k < max_points; ++k) {
      const std::size_t i = k * (n - 1) / (max_points - 1);
      if (keep.empty() || keep.back() != i) keep.push_back(i);
    }
  }
  nlohmann::json points = nlohmann::json::array(), out_series = nlohmann::json::object();
  for (auto i : keep) points.push_back(number_or_null(x[i]));
  for (const auto& [name, ys] : series) {
    nlohmann::json a = nlohmann::json::array();
    for (auto i : keep) a.push_back(i < ys.size() ? number_or_null(ys[i]) : nlohmann::json(nullptr));
    out_series[name] = a;
  }
  return {{"x", x_name}, {"points", points}, {"series", out_series}};
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json history_curve(const std::vector<run::EpochReport>& history, bool regression, bool validation) {
  std::vector<double> x, loss, metric, vloss, vmetric;
  for (const auto& e : history) {
    x.push_back(static_cast<double>(e.epoch));
    loss.push_back(e.train.loss);
    metric.push_back(regression ? e.train.mse : e.train.accuracy);
    vloss.push_back(e.validation.loss);
    vmetric.push_back(regression ? e.validation.mse : e.validation.accuracy);
  }
  const std::string name = regression ? "mse" : "accuracy";
  NamedSeries series{{"train_loss", loss}, {"train_" + name, metric}};
  if (validation) {
    series.emplace_back("validation_loss", vloss);
    series.emplace_back("validation_" + name, vmetric);
  }
  return curve_json("epoch", x, series);
}

}  // namespace adakit::report
