// Compact flag registration and output for the subcommands: a flag that shows its default, a choice
// the library converts, an optional value, --json / --quiet and printing what the library returns.
#pragma once
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace adakit::cli {

// A flag bound to `target`, its default shown in --help, with the given checks.
template <class T, class... Checks>
CLI::Option* add_value(CLI::App& app, const std::string& name, T& target, const std::string& help, Checks&&... checks) {
  auto* o = app.add_option(name, target, help)->capture_default_str();
  (o->check(std::forward<Checks>(checks)), ...);
  return o;
}

// A flag taking one of `choices` (default shown), handed to `set` (a library *_from_string).
template <class Set>
CLI::Option* add_choice(CLI::App& app, const std::string& name, const std::string& help,
                        const std::vector<std::string>& choices, const std::string& default_text, Set set) {
  return app.add_option_function<std::string>(name, set, help)->check(CLI::IsMember(choices))->default_str(default_text);
}

// An option whose default depends on something else: unset unless given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name, std::optional<T>& target, const std::string& help) {
  return app.add_option_function<T>(name, [&target](const T& v) { target = v; }, help);
}

// "a, b, c" of text(item) over a range.
template <class Range, class Text>
std::string join(const Range& items, Text text) {
  std::string s;
  for (const auto& x : items) s += (s.empty() ? "" : ", ") + std::string(text(x));
  return s;
}

struct Output {
  bool json = false, quiet = false;
  bool talk() const { return !json && !quiet; }
  // The JSON object (--json), else the text (unless --quiet), on stdout.
  int print(const nlohmann::json& j, const std::string& text) const {
    if (json) std::cout << j.dump() << "\n";
    else if (!quiet) std::cout << text;
    return 0;
  }
  template <class Report>  // {json, text}
  int print(const Report& r) const {
    return print(r.json, r.text);
  }
};

inline void add_output_flags(CLI::App& app, Output& o, const std::string& json_help) {
  app.add_flag("--json", o.json, json_help);
  app.add_flag("--quiet,-q", o.quiet, "print nothing but errors");
}

}  // namespace adakit::cli
