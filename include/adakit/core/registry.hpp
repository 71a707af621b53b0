// A registry: one constant table of rows looked up by name. Every list of names in adakit (dense and
// linear optimizers, test functions, built-in datasets, text datasets, environments, RL recipes, tour
// demos) is a Registry over its own row type; what differs is the row and the wording of the error for an
// unknown name, which is data:
//
//   constexpr auto kDemos = std::to_array<DemoInfo>({...});   // the size follows the rows
//   static_assert(kDemos.size() == 13, "...");                 // so this tripwire can fail
//   constexpr Registry<DemoInfo> kDemoRegistry{kDemos, {"unknown demo '{name}' ({names}, all)", "demo"}};
//   static_assert(kDemoRegistry.names_are_unique());
//   kDemoRegistry.at("nope");  // UsageError "unknown demo 'nope' (basics, ..., all)", field "demo"
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "adakit/core/error.hpp"

namespace adakit {

// The names of `rows` (their member `key`) joined with `separator`, in table order.
template <class Row, class Key>
std::string names_of(std::span<const Row> rows, Key Row::*key, std::string_view separator = ", ") {
  std::string out;
  for (const Row& row : rows) {
    if (!out.empty()) out += separator;
    out += std::string_view(row.*key);
  }
  return out;
}
template <class Row>
std::string names_of(std::span<const Row> rows, std::string_view separator = ", ") {
  return names_of(rows, &Row::name, separator);
}

// How a registry reports an unknown name: `unknown` with "{name}" replaced by the name asked for and
// "{names}" by the valid names joined with ", "; the UsageError's context names `field`.
struct RegistryWording {
  std::string_view unknown;
  std::string_view field;
};

// A view of a table of rows, each with a std::string_view member `Key` (`name` unless told).
template <class Row, auto Key = &Row::name>
class Registry {
 public:
  constexpr Registry(std::span<const Row> rows, RegistryWording wording) : rows_(rows), wording_(wording) {}

  constexpr std::span<const Row> rows() const noexcept { return rows_; }
  constexpr std::string_view name_of(const Row& row) const noexcept { return row.*Key; }

  // The row with this name, or nullptr.
  constexpr const Row* find(std::string_view name) const noexcept {
    for (const Row& row : rows_)
      if (row.*Key == name) return &row;
    return nullptr;
  }
  // The row with this name; UsageError in the registry's wording when there is none.
  const Row& at(std::string_view name) const {
    if (const Row* row = find(name)) return *row;
    throw_unknown(name);
  }
  std::string names(std::string_view separator = ", ") const { return names_of(rows_, Key, separator); }

  std::string unknown_message(std::string_view name) const {
    constexpr std::string_view kName = "{name}", kNames = "{names}";
    std::string out;
    for (std::string_view rest = wording_.unknown; !rest.empty();) {
      if (rest.starts_with(kNames)) {
        out += names();
        rest.remove_prefix(kNames.size());
      } else if (rest.starts_with(kName)) {
        out += name;
        rest.remove_prefix(kName.size());
      } else {
        out += rest.front();
        rest.remove_prefix(1);
      }
    }
    return out;
  }
  [[noreturn]] void throw_unknown(std::string_view name) const {
    throw UsageError(unknown_message(name), {"", 0, std::string(wording_.field)});
  }

  // Compile-time tripwires for a constexpr table: every name is non-empty and appears once.
  constexpr bool names_are_unique() const noexcept {
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (std::string_view(rows_[i].*Key).empty()) return false;
      for (std::size_t j = 0; j < i; ++j)
        if (rows_[i].*Key == rows_[j].*Key) return false;
    }
    return true;
  }

 private:
  std::span<const Row> rows_;
  RegistryWording wording_;
};

}  // namespace adakit
