// The numbers of a run's --json output: a learning curve that `adakit compare` averages and plots,
//   {"x": "epoch", "points": [...], "series": {"train_loss": [...], ...}}
// and the short number format of the text tables and CSV files.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "adakit/run/report.hpp"

namespace adakit::report {

using NamedSeries = std::vector<std::pair<std::string, std::vector<double>>>;

// Thinned to at most max_points evenly spaced points (the first and the last always kept); a
// non-finite value is written as null, a series shorter than x is padded with null.
nlohmann::json curve_json(const std::string& x_name, const std::vector<double>& x, const NamedSeries& series,
                          std::size_t max_points = 1000);

// curve_json over a run's epochs: x = epoch, "train_loss" and "train_accuracy" ("train_mse" when
// `regression`), and with `validation` also "validation_loss" and "validation_accuracy" / "_mse".
nlohmann::json history_curve(const std::vector<run::EpochReport>& history, bool regression, bool validation);

// printf's %.6g, with "nan", "inf" and "-inf" spelt out.
std::string format_number(double v);

// v, or null when v is not finite (JSON has no nan or inf).
nlohmann::json number_or_null(double v);

}  // namespace adakit::report
