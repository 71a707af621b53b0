// Choosing optimizers by name from either registry: optim/registry.hpp (dense parameters: nn models,
// test functions) or linear/registry.hpp (the lazy optimizers of sparse linear models). What `adakit
// train`, `compare`, `minimize` and `rl` do with --optimizer and the option flags (--lr, --l1, ...).
//
//   auto runs = train::resolve_optimizers("adagrad,sgd:lr=0.1,momentum=0.9", {{"lr", "0.05"}});
//   // {"adagrad", {lr: 0.05}}, {"sgd", {lr: 0.1, momentum: 0.9}}: a spec's own value wins
#pragma once
#include <map>
#include <string>
#include <vector>

#include "adakit/optim/options.hpp"

namespace adakit::train {

// Which registry names the optimizers.
enum class OptimizerKind { dense, linear };

struct OptimizerChoice {
  std::string name;
  optim::OptionMap options;
};

// The registry's names, in its order.
std::vector<std::string> optimizer_names(OptimizerKind kind);
// The option keys of optimizer `name` in the registry (UsageError listing the names if unknown).
std::vector<std::string> option_keys(OptimizerKind kind, const std::string& name);
// "--" + key with '_' as '-': the flag of an option key ("lr_decay" -> "--lr-decay").
std::string option_flag(const std::string& key);

// Every option key of both registries once, in registry order (dense first), with its help and every
// optimizer's default: {"lr", "learning rate", "adagrad 0.01, sgd 0.001, ..., adagrad (linear) 0.1, ..."}.
struct OptionFlagHelp {
  std::string key, help, defaults;
};
std::vector<OptionFlagHelp> option_flag_help();

// "adagrad,sgd:lr=0.1,momentum=0.9,adam" -> {"adagrad", "sgd:lr=0.1,momentum=0.9", "adam"}: an item
// with '=' and no ':' continues the previous spec. No lookup.
std::vector<std::string> split_optimizer_list(const std::string& text);

// Expands `list` ("all", "adagrad,adam", "sgd:lr=0.1") into runs, each with the options of `values`
// (option key -> text, as given by flags) that its optimizer takes, unless its spec sets them. With one
// optimizer every value must apply to it ("--momentum does not apply to adagrad"); with several, a value
// that applies to none is an error. UsageError on an empty list, an unknown name or a bad spec.
std::vector<OptimizerChoice> resolve_optimizers(const std::string& list,
                                                const std::map<std::string, std::string>& values,
                                                OptimizerKind kind = OptimizerKind::dense);

}  // namespace adakit::train
