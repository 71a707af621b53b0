// Flags shared by the subcommands: optimizer selection and options (generated from the registry),
// schedule, clipping, threads. The CLI only parses and wires; the library does the work.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <utility>
#include <string>
#include <vector>

#include "adakit/optim/options.hpp"
#include "adakit/report/curve.hpp"
#include "adakit/train/optimizer_choice.hpp"

namespace adakit::cli {

struct OptimizerFlags {
  std::string optimizer = "adagrad";               // name, comma list, or "all"
  std::map<std::string, std::string> values;       // option key -> text, only flags given
  std::string schedule = "constant";
  double clip_norm = 0.0, clip_value = 0.0;
};

// Adds --optimizer, one flag per optimizer option in the registry (--lr, --lr-decay, ...,
// --convention), --schedule, --clip-norm, --clip-value.
void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags);
// Adds --threads N (applied before the subcommand runs).
void add_threads_flag(CLI::App& app, int& threads);

// Choosing optimizers from either registry (train/optimizer_choice.hpp).
using train::OptimizerChoice;
using train::OptimizerKind;
using train::split_optimizer_list;
// train::resolve_optimizers over --optimizer and the option flags given.
inline std::vector<OptimizerChoice> resolve_optimizers(const OptimizerFlags& flags,
                                                       OptimizerKind kind = OptimizerKind::dense) {
  return train::resolve_optimizers(flags.optimizer, flags.values, kind);
}
// The one optimizer the flags name; UsageError naming "optimizer" with `refusal` when they name several.
OptimizerChoice one_optimizer(const OptimizerFlags& flags, OptimizerKind kind, const std::string& refusal);

// The library's number formats (report/curve.hpp): %.6g text, and a --json metric (null when not finite).
using report::format_number;
inline nlohmann::json metric_json(double v) { return report::number_or_null(v); }

// Final loss and accuracy (classification) or mse (regression) of a run on its training and test data.
struct Scores {
  double loss, accuracy, mse;
};
// "train_loss", "test_loss" and "train_mse", "test_mse" or "train_accuracy", "test_accuracy".
void add_scores(nlohmann::json& j, bool regression, const Scores& train, const Scores& test);
// "train mse ... test mse ..." or "train loss ... acc ...  test loss ... acc ..." on stdout.
void print_scores(bool regression, const Scores& train, const Scores& test);

// Prints `adakit predict`'s output: with --json {"predictions": rows, "accuracy", "mse", ...extra}, else
// one line per row (index, label or prediction — the chosen classes as name:probability when a row has
// "labels" — probabilities, and the row's text when predicting --text) and the accuracy, mse and
// extra's "multilabel" scores on stderr.
void report_predictions(const nlohmann::json& rows, std::optional<double> accuracy, std::optional<double> mse,
                        bool json, const std::vector<std::string>& texts,
                        const nlohmann::json& extra = nlohmann::json::object());

// The "curve" of a command's --json output, which `adakit compare` averages and plots (report/curve.hpp).
using report::curve_json;
using report::NamedSeries;

}  // namespace adakit::cli
