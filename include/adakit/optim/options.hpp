// Option tables: each optimizer's options struct lists its fields once (key, member, help), and
// everything generic — parsing "key=value" from the CLI, --help text, JSON in state dicts, the
// registry — walks that table. No option name is spelled twice.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace adakit::optim {

enum class EpsMode { outside, inside };  // sqrt(s)+eps (PyTorch) | sqrt(s+eps) (Keras 3, Optax)

std::string_view to_string(EpsMode mode);
EpsMode eps_mode_from_string(std::string_view text);  // "outside" | "inside"; UsageError otherwise

// Options given by name, as text: {"lr": "0.1", "nesterov": "true"}.
using OptionMap = std::map<std::string, std::string, std::less<>>;

template <class Options>
struct Field {
  std::string_view key;
  std::variant<double Options::*, bool Options::*, EpsMode Options::*, std::int64_t Options::*> member;
  std::string_view help;
};

// Parsing helpers shared by every table (strict: the whole text must be the value).
double parse_double(std::string_view key, std::string_view text);
bool parse_bool(std::string_view key, std::string_view text);
std::int64_t parse_int64(std::string_view key, std::string_view text);  // an integer, written as one
std::string format_double(double v);
[[noreturn]] void throw_unknown_option(std::string_view optimizer, std::string_view key, const std::string& valid);

// Validation helpers: throw UsageError naming the optimizer and field.
void require_finite_nonnegative(std::string_view optimizer, std::string_view field, double v);
void require_finite_positive(std::string_view optimizer, std::string_view field, double v);
void require_in_range(std::string_view optimizer, std::string_view field, double v, double lo, double hi,
                      bool hi_inclusive);
void require_at_least(std::string_view optimizer, std::string_view field, std::int64_t v, std::int64_t lo);

template <class Options>
void set_field(Options& o, const Field<Options>& f, std::string_view text) {
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(o.*member)>;
        if constexpr (std::is_same_v<T, double>) o.*member = parse_double(f.key, text);
        else if constexpr (std::is_same_v<T, bool>) o.*member = parse_bool(f.key, text);
        else if constexpr (std::is_same_v<T, std::int64_t>) o.*member = parse_int64(f.key, text);
        else o.*member = eps_mode_from_string(text);
      },
      f.member);
}

template <class Options>
std::string get_field(const Options& o, const Field<Options>& f) {
  return std::visit(
      [&](auto member) -> std::string {
        using T = std::remove_cvref_t<decltype(o.*member)>;
        if constexpr (std::is_same_v<T, double>) return format_double(o.*member);
        else if constexpr (std::is_same_v<T, bool>) return o.*member ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(o.*member);
        else return std::string(to_string(o.*member));
      },
      f.member);
}

// Applies every entry of `map` to `o`; a key the table lacks is a UsageError listing the valid keys.
template <class Options>
void apply_options(Options& o, std::span<const Field<Options>> fields, const OptionMap& map,
                   std::string_view optimizer, std::span<const std::string_view> extra_keys = {}) {
  for (const auto& [key, text] : map) {
    bool found = false;
    for (const auto& f : fields) {
      if (f.key == key) {
        set_field(o, f, text);
        found = true;
        break;
      }
    }
    for (auto k : extra_keys) found = found || k == key;
    if (!found) {
      std::string valid;
      for (const auto& f : fields) valid += (valid.empty() ? "" : ", ") + std::string(f.key);
      for (auto k : extra_keys) valid += ", " + std::string(k);
      throw_unknown_option(optimizer, key, valid);
    }
  }
}

template <class Options>
OptionMap options_to_map(const Options& o, std::span<const Field<Options>> fields) {
  OptionMap m;
  for (const auto& f : fields) m.emplace(std::string(f.key), get_field(o, f));
  return m;
}

}  // namespace adakit::optim
