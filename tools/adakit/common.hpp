// Flags shared by the subcommands: optimizer selection and options (generated from the registry),
// schedule, clipping, threads. The CLI only parses and wires; the library does the work.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "adakit/optim/options.hpp"

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

struct OptimizerChoice {
  std::string name;
  optim::OptionMap options;
};
// Which registry names the optimizers: optim/registry.hpp (dense parameters) or linear/registry.hpp
// (lazy optimizers of the sparse linear models).
enum class OptimizerKind { dense, linear };

// Expands flags.optimizer ("all", "adagrad,adam", "sgd:lr=0.1") into runs. With one optimizer every
// given flag must apply to it; with several, each gets the flags it takes, and a flag that applies to
// none is an error. UsageError on a bad choice.
std::vector<OptimizerChoice> resolve_optimizers(const OptimizerFlags& flags, OptimizerKind kind = OptimizerKind::dense);

std::string format_number(double v);  // compact, "diverged"-safe (nan/inf written as text)

}  // namespace adakit::cli
