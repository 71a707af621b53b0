#include "adakit/train/optimizer_choice.hpp"

#include <algorithm>
#include <set>

#include "adakit/core/error.hpp"
#include "adakit/linear/registry.hpp"
#include "adakit/optim/registry.hpp"

namespace adakit::train {

std::vector<std::string> optimizer_names(OptimizerKind kind) {
  std::vector<std::string> names;
  if (kind == OptimizerKind::dense)
    for (const auto& info : optim::optimizers()) names.emplace_back(info.name);
  else
    for (const auto& info : linear::linear_optimizers()) names.emplace_back(info.name);
  return names;
}

std::vector<std::string> option_keys(OptimizerKind kind, const std::string& name) {
  std::vector<std::string> keys;
  const auto help = kind == OptimizerKind::dense ? optim::find_optimizer(name).options()
                                                 : linear::find_linear_optimizer(name).options();
  for (const auto& o : help) keys.push_back(o.key);
  return keys;
}

std::string option_flag(const std::string& key) {
  std::string f = "--" + key;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

std::vector<OptionFlagHelp> option_flag_help() {
  std::vector<OptionFlagHelp> out;
  const auto add = [&](std::string_view name, const std::vector<optim::OptionHelp>& options, const char* tag) {
    for (const auto& o : options) {
      auto it = std::find_if(out.begin(), out.end(), [&](const OptionFlagHelp& h) { return h.key == o.key; });
      if (it == out.end()) it = out.insert(out.end(), {o.key, o.help, ""});
      it->defaults += (it->defaults.empty() ? "" : ", ") + std::string(name) + tag + " " + o.default_value;
    }
  };
  for (const auto& info : optim::optimizers()) add(info.name, info.options(), "");
  for (const auto& info : linear::linear_optimizers()) add(info.name, info.options(), " (linear)");
  return out;
}

std::vector<std::string> split_optimizer_list(const std::string& s) {
  std::vector<std::string> specs;
  std::string item;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != ',') {
      item.push_back(s[i]);
      continue;
    }
    if (item.find('=') != std::string::npos && item.find(':') == std::string::npos && !specs.empty())
      specs.back() += "," + item;
    else if (!item.empty())
      specs.push_back(item);
    item.clear();
  }
  return specs;
}

std::vector<OptimizerChoice> resolve_optimizers(const std::string& list,
                                                const std::map<std::string, std::string>& values,
                                                OptimizerKind kind) {
  const std::vector<std::string> specs = list == "all" ? optimizer_names(kind) : split_optimizer_list(list);
  if (specs.empty()) throw UsageError("no optimizer given", {"", 0, "optimizer"});
  std::vector<OptimizerChoice> out;
  std::set<std::string> used;
  for (const auto& spec : specs) {
    auto [name, opts] = optim::parse_optimizer_spec(spec);
    const auto keys = option_keys(kind, name);
    for (const auto& [k, v] : values) {
      if (std::find(keys.begin(), keys.end(), k) != keys.end()) {
        if (!opts.contains(k)) opts[k] = v;
        used.insert(k);
      } else if (specs.size() == 1) {
        throw UsageError(option_flag(k) + " does not apply to " + name, {"", 0, k});
      }
    }
    out.push_back({name, opts});
  }
  for (const auto& [k, v] : values)
    if (!used.contains(k)) throw UsageError(option_flag(k) + " applies to none of the chosen optimizers", {"", 0, k});
  return out;
}

}  // namespace adakit::train
