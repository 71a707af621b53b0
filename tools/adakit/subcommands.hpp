#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace adakit::cli {
// Each subcommand registers its flags and, when chosen, the action main() runs.
void add_minimize(CLI::App& root, std::function<int()>& action);
void add_train(CLI::App& root, std::function<int()>& action);
void add_predict(CLI::App& root, std::function<int()>& action);
void add_rl(CLI::App& root, std::function<int()>& action);
void add_demo(CLI::App& root, std::function<int()>& action);
void add_compare(CLI::App& root, std::function<int()>& action);
void add_embed(CLI::App& root, std::function<int()>& action);
void add_serve(CLI::App& root, std::function<int()>& action);
void add_explain(CLI::App& root, std::function<int()>& action);
void add_export(CLI::App& root, std::function<int()>& action);

inline void action_for(CLI::App* app, std::function<int()>& action, std::function<int()> run) {
  app->callback([&action, run = std::move(run)] { action = run; });
}
}  // namespace adakit::cli
