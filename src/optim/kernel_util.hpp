// Internal helpers for the optimizer kernels: turning run-time flags into compile-time ones (so each
// variant's inner loop is branch-free and vectorises), and the threading grain.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "adakit/core/error.hpp"

namespace adakit::optim::detail {

// Elements per thread below which a step runs on one thread (a thread start costs more).
inline constexpr std::int64_t kGrain = 1 << 15;
// Row-sparse steps prefetch the row this many rows ahead of the one they update.
inline constexpr std::int64_t kPrefetchAhead = 32;

template <class F>
void with_flag(bool flag, F&& f) {
  if (flag) f(std::true_type{});
  else f(std::false_type{});
}

inline void check_same_size(std::string_view kernel, std::string_view what, std::size_t got, std::size_t want) {
  if (got != want)
    throw UsageError(std::string(kernel) + ": " + std::string(what) + " has " + std::to_string(got) +
                     " elements, the parameter has " + std::to_string(want));
}

inline void check_step(std::string_view kernel, std::int64_t step) {
  if (step < 1) throw UsageError(std::string(kernel) + ": step counts from 1, got " + std::to_string(step));
}

}  // namespace adakit::optim::detail
