// Flag parsing and main() shared by the bench tools (adakit-step-timer, adakit-sparse-linear-bench): a
// usage message with exit code 2, strict integer flags, and the exit codes of errors. Benchmarks only;
// the adakit CLI uses CLI11.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "adakit/core/error.hpp"

namespace adakit::bench {

// Prints "<tool>: <why>" and the usage text to stderr, then exits with 2.
[[noreturn]] inline void usage_exit(const char* tool, const char* usage, const std::string& why) {
  std::fprintf(stderr, "%s: %s\nusage: %s", tool, why.c_str(), usage);
  std::exit(2);
}

// The whole of `text` as an integer; otherwise a usage exit naming the flag.
inline std::int64_t parse_int(const char* tool, const char* usage, const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    usage_exit(tool, usage, flag + " takes an integer, got '" + text + "'");
  }
}

// Runs the tool's body: its exit code; "<tool>: <what>" on stderr and 2 for a usage error, 1 for
// any other error.
template <class Body>
int run_tool(const char* tool, Body&& body) {
  try {
    return body();
  } catch (const adakit::UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  }
}

}  // namespace adakit::bench
