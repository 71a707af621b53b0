// adakit export: a sparse model made small and predict-only (pruned features and weights, int8 weights,
// the vocabulary of the kept features), with its size and, on labelled data, its accuracy against the
// full model's. The library does the work (io/compact_model.hpp); this file wires flags to it and
// prints what it returns.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "adakit/core/error.hpp"
#include "adakit/core/file.hpp"
#include "adakit/io/compact_model.hpp"
#include "adakit/io/linear_model.hpp"
#include "adakit/linear/fit.hpp"
#include "adakit/linear/registry.hpp"
#include "common.hpp"
#include "flags.hpp"
#include "subcommands.hpp"

namespace adakit::cli {
namespace {

namespace fs = std::filesystem;

struct ExportFlags {
  std::string model, out, data, data_dir;
  std::string quantize = "int8", scale_by = "output";
  io::CompactOptions options;
  Output output;
  // --retrain-data: the training data the kept features learn on (io::compact_model_retrained).
  std::string retrain_data;
  std::int64_t epochs = 5;
  std::uint64_t seed = 1;
  OptimizerFlags opt;
  std::vector<std::string> retrain_flags_given;  // --epochs, --seed, --optimizer, --lr, ... (need --retrain-data)
  bool optimizer_given = false;                  // --optimizer or one of its option flags
};

// The optimizer the kept features retrain with, its state fresh: the one the flags name (--optimizer,
// --lr, ...: adagrad at its defaults for the options not given); with none of them, the one the model
// file keeps (saved with --save-state: its name and options, as it trained), else adagrad's defaults.
std::unique_ptr<linear::LinearOptimizer> retrain_optimizer(const ExportFlags& f, const io::LinearModelFile& full) {
  if (!f.optimizer_given && full.optimizer) return linear::make_linear_optimizer(full.optimizer->name(), full.optimizer->option_map());
  const OptimizerChoice choice = one_optimizer(f.opt, OptimizerKind::linear, "--retrain-data takes one optimizer");
  return linear::make_linear_optimizer(choice.name, choice.options);
}

// --out: a new file in an existing directory, not the model itself, not *.json (the file is binary).
void check_out(const ExportFlags& f) {
  const fs::path out(f.out), model(f.model);
  std::error_code ec;
  if (f.out.empty()) throw UsageError("--out needs a file name", {"", 0, "out"});
  if (fs::is_directory(out, ec)) throw UsageError("--out " + f.out + " is a directory; give a file name", {"", 0, "out"});
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw UsageError("--out " + f.out + ": the directory " + dir.string() + " does not exist", {"", 0, "out"});
  if (io::is_json_model_path(out))
    throw UsageError("--out " + f.out + ": the exported model is a binary file; give a name that does not end in .json",
                     {"", 0, "out"});
  const auto same = [&](const fs::path& other) {
    return fs::exists(out, ec) ? fs::equivalent(out, other, ec) : fs::weakly_canonical(out, ec) == fs::weakly_canonical(other, ec);
  };
  if (same(model)) throw UsageError("--out is the --model file; write the exported model to another file", {"", 0, "out"});
  if (!f.data.empty() && same(fs::path(f.data)))
    throw UsageError("--out is the --data file; write the exported model to another file", {"", 0, "out"});
}

io::LinearModelFile read_model(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error("cannot open the model file", {path, 0, "model"});
  if (!io::is_linear_model_file(path))
    throw UsageError(path + " is not a sparse model file (adakit train --save on LIBSVM or text data)", {path, 0, "model"});
  return io::read_linear_model(path);
}

std::string with_commas(std::int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return n < 0 ? "-" + s : s;
}

// Accuracy (or mse) of the full and the exported model on --data, and how often they agree.
nlohmann::json compare_on_data(const ExportFlags& f, const io::LinearModelFile& full, const io::LinearModelFile& small,
                               std::string& text) {
  const data::SparseDataset a = io::read_for_model(full, f.data, f.data_dir);
  const data::SparseDataset b = io::read_for_model(small, f.data, f.data_dir);
  const run::Predictions pa = linear::predictions(full.model, a, false);
  const run::Predictions pb = linear::predictions(small.model, b, false);
  nlohmann::json j = {{"data", f.data}, {"rows", pa.rows}};
  char line[512];
  if (!pa.classes.empty()) {
    std::int64_t same = 0;
    for (std::size_t i = 0; i < pa.classes.size(); ++i) same += pa.classes[i] == pb.classes[i] ? 1 : 0;
    const double agree = pa.rows > 0 ? static_cast<double>(same) / static_cast<double>(pa.rows) : 1.0;
    j["agreement"] = agree;
    if (pa.accuracy && pb.accuracy) {
      j["model_accuracy"] = *pa.accuracy;
      j["export_accuracy"] = *pb.accuracy;
      std::snprintf(line, sizeof line, "accuracy on %s (%s rows): model %.4f, export %.4f (%+.2f points); same class on %.2f%% of rows\n",
                    f.data.c_str(), with_commas(pa.rows).c_str(), *pa.accuracy, *pb.accuracy,
                    100.0 * (*pb.accuracy - *pa.accuracy), 100.0 * agree);
    } else {
      std::snprintf(line, sizeof line, "on %s (%s rows, no labels): same class on %.2f%% of rows\n", f.data.c_str(),
                    with_commas(pa.rows).c_str(), 100.0 * agree);
    }
  } else {
    if (pa.mse && pb.mse) {
      j["model_mse"] = metric_json(*pa.mse);
      j["export_mse"] = metric_json(*pb.mse);
    }
    std::snprintf(line, sizeof line, "mse on %s (%s rows): model %s, export %s\n", f.data.c_str(), with_commas(pa.rows).c_str(),
                  pa.mse ? format_number(*pa.mse).c_str() : "-", pb.mse ? format_number(*pb.mse).c_str() : "-");
  }
  text += line;
  return j;
}

int run_export(ExportFlags& f) {
  f.options.quantize = io::quantize_from_string(f.quantize);
  f.options.scale_by = io::quantize_scale_from_string(f.scale_by);
  f.options.validate();
  check_out(f);
  if (f.opt.schedule != "constant" || f.opt.clip_norm != 0.0 || f.opt.clip_value != 0.0)
    throw UsageError("--schedule, --clip-norm and --clip-value apply to dense models, not to a sparse model's retraining",
                     {"", 0, f.opt.schedule != "constant" ? "schedule" : f.opt.clip_norm != 0.0 ? "clip-norm" : "clip-value"});
  if (f.retrain_data.empty() && !f.retrain_flags_given.empty())
    throw UsageError("--" + f.retrain_flags_given.front() + " sets how the kept features retrain: it needs --retrain-data FILE",
                     {"", 0, f.retrain_flags_given.front()});
  const io::LinearModelFile full = read_model(f.model);
  io::CompactStats st;
  linear::FitResult retrained;
  std::unique_ptr<linear::LinearOptimizer> optimizer;
  const io::CompactModel compact = [&] {
    if (f.retrain_data.empty()) return io::compact_model(full, f.options, &st);
    optimizer = retrain_optimizer(f, full);
    const linear::FitOptions fo{.epochs = f.epochs, .batch_size = 1, .seed = f.seed};
    const auto read = [&](const io::LinearModelFile& pruned) { return io::read_for_model(pruned, f.retrain_data, f.data_dir); };
    return io::compact_model_retrained(full, f.options, read, *optimizer, fo, &st, &retrained);
  }();
  const std::string bytes = io::compact_model_bytes(compact);
  write_file_atomic(f.out, bytes);
  const io::LinearModelFile small = io::read_linear_model(f.out);  // what predict will read

  const auto model_bytes = static_cast<std::int64_t>(fs::file_size(f.model));
  const auto out_bytes = static_cast<std::int64_t>(bytes.size());
  const double ratio = static_cast<double>(out_bytes) / static_cast<double>(model_bytes);
  nlohmann::json j = {{"model", f.model},
                      {"out", f.out},
                      {"model_bytes", model_bytes},
                      {"out_bytes", out_bytes},
                      {"size_ratio", ratio},
                      {"quantize", f.quantize},
                      {"prune", f.options.prune},
                      {"prune_weights", f.options.prune_weights},
                      {"keep_vocabulary", f.options.keep_vocabulary},
                      {"outputs", full.model.outputs()},
                      {"features", {{"source_dim", st.source_dim}, {"source", st.source_features}, {"kept", st.kept},
                                    {"pruned", st.pruned}, {"quantized_away", st.quantized_away}}},
                      {"weights_zeroed", st.weights_zeroed},
                      {"max_abs_weight_error", st.max_abs_error}};
  if (f.options.quantize == io::Quantize::int8) j["scale_by"] = f.scale_by;
  if (full.vectorizer) j["terms"] = {{"before", st.terms_before}, {"after", st.terms_after}};
  if (optimizer) {
    j["retrain"] = {{"data", f.retrain_data}, {"epochs", f.epochs}, {"seed", f.seed}, {"optimizer", optimizer->name()},
                    {"options", optimizer->option_map()}, {"steps", retrained.steps}, {"seconds", retrained.seconds}};
    if (!retrained.history.empty()) j["retrain"]["train_loss"] = metric_json(retrained.history.back().train.loss);
  }

  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "model  %s: %s bytes, %s features with a weight x %lld outputs\n", f.model.c_str(),
                with_commas(model_bytes).c_str(), with_commas(st.source_features).c_str(),
                static_cast<long long>(full.model.outputs()));
  text += line;
  const std::string how = f.options.quantize == io::Quantize::int8 ? "int8, one scale per " + f.scale_by : "float32";
  std::snprintf(line, sizeof line, "export %s: %s bytes (%.2f%% of the model, %.1fx smaller), %s features kept, %s\n",
                f.out.c_str(), with_commas(out_bytes).c_str(), 100.0 * ratio, 1.0 / ratio, with_commas(st.kept).c_str(),
                how.c_str());
  text += line;
  std::snprintf(line, sizeof line, "  pruned %s features (|w| <= %s)%s%s; largest weight change %s\n",
                with_commas(st.pruned).c_str(), format_number(std::max(f.options.prune, f.options.prune_weights)).c_str(),
                st.quantized_away > 0 ? (", " + with_commas(st.quantized_away) + " more whose int8 weights are all 0").c_str() : "",
                st.weights_zeroed > 0 ? (", " + with_commas(st.weights_zeroed) + " single weights set to 0").c_str() : "",
                format_number(st.max_abs_error).c_str());
  text += line;
  if (optimizer) {
    std::snprintf(line, sizeof line, "  retrained the kept features on %s: %lld epochs of %s, %.2fs\n", f.retrain_data.c_str(),
                  static_cast<long long>(f.epochs), std::string(optimizer->name()).c_str(), retrained.seconds);
    text += line;
  }
  if (full.vectorizer && st.terms_before > 0) {
    std::snprintf(line, sizeof line, "  vocabulary %s -> %s terms\n", with_commas(st.terms_before).c_str(),
                  with_commas(st.terms_after).c_str());
    text += line;
  }
  if (!f.data.empty()) j["test"] = compare_on_data(f, full, small, text);
  return f.output.print(j, text);
}

}  // namespace

void add_export(CLI::App& root, std::function<int()>& action) {
  auto* app = root.add_subcommand(
      "export", "write a small predict-only copy of a sparse model (pruned, int8), with its size and accuracy");
  auto f = std::make_shared<ExportFlags>();
  app->add_option("--model,-m", f->model, "a sparse model file (adakit train --save on LIBSVM or text data)")->required();
  app->add_option("--out,-o", f->out, "the compact model file to write (atomically; adakit predict and serve read it)")
      ->required();
  add_value(*app, "--prune", f->options.prune, "drop features whose weights are all |w| <= EPS (and their vocabulary terms)");
  add_value(*app, "--prune-weights", f->options.prune_weights,
            "also set single weights |w| <= EPS to 0 (0: none); zeros compress well");
  add_value(*app, "--quantize", f->quantize, "weights as int8 (symmetric, float32 scales) or none (float32, exact)")
      ->check(CLI::IsMember({"none", "int8"}));
  add_value(*app, "--scale-by", f->scale_by,
            "int8: one scale per output column (class) or per feature's row")
      ->check(CLI::IsMember({"output", "feature"}));
  app->add_flag("--keep-vocabulary", f->options.keep_vocabulary,
                "text models: keep every vocabulary term (tf-idf norms stay exact; a larger file)");
  app->add_option("--data,-d", f->data,
                  "labelled test data (the model's format: text-tsv or LIBSVM): accuracy of the model and the export");
  app->add_option("--data-dir", f->data_dir, "directory searched first for dataset files (also: $ADAKIT_DATA)");
  app->add_option("--retrain-data", f->retrain_data,
                  "training data (the model's format): after pruning, train the kept features on for --epochs "
                  "from their weights, then quantize (fastText's quantize -retrain); recovers what pruning lost");
  add_value(*app, "--epochs", f->epochs, "--retrain-data: epochs", CLI::Range(std::int64_t{1}, std::int64_t{1} << 20));
  add_value(*app, "--seed", f->seed, "--retrain-data: the shuffling seed");
  add_optimizer_flags(*app, f->opt);
  add_output_flags(*app, f->output, "print one JSON object (sizes, features, accuracies)");
  app->parse_complete_callback([app, f] {
    f->retrain_flags_given.clear();
    for (const char* name : {"--epochs", "--seed", "--optimizer"})
      if (app->get_option(name)->count() > 0) f->retrain_flags_given.emplace_back(name + 2);
    for (const auto& [key, value] : f->opt.values) f->retrain_flags_given.push_back(train::option_flag(key).substr(2));
    f->optimizer_given = app->get_option("--optimizer")->count() > 0 || !f->opt.values.empty();
  });
  action_for(app, action, [f] { return run_export(*f); });
}

}  // namespace adakit::cli
