#include "adakit/optim/options.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "adakit/core/error.hpp"

namespace adakit::optim {

std::string_view to_string(EpsMode mode) { return mode == EpsMode::inside ? "inside" : "outside"; }

EpsMode eps_mode_from_string(std::string_view text) {
  if (text == "outside") return EpsMode::outside;
  if (text == "inside") return EpsMode::inside;
  throw UsageError("eps_mode must be 'outside' (sqrt(s)+eps) or 'inside' (sqrt(s+eps)), got '" + std::string(text) +
                   "'", {"", 0, "eps_mode"});
}

double parse_double(std::string_view key, std::string_view text) {
  double v = 0.0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (text.empty() || ec != std::errc() || ptr != last)
    throw UsageError("'" + std::string(text) + "' is not a number", {"", 0, std::string(key)});
  return v;
}

bool parse_bool(std::string_view key, std::string_view text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  throw UsageError("'" + std::string(text) + "' is not a boolean (true/false)", {"", 0, std::string(key)});
}

std::int64_t parse_int64(std::string_view key, std::string_view text) {
  std::int64_t v = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (text.empty() || ec != std::errc() || ptr != last)
    throw UsageError("'" + std::string(text) + "' is not an integer", {"", 0, std::string(key)});
  return v;
}

std::string format_double(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that round-trips
  return std::string(buf, ptr);
}

void throw_unknown_option(std::string_view optimizer, std::string_view key, const std::string& valid) {
  throw UsageError("option '" + std::string(key) + "' does not apply to " + std::string(optimizer) +
                       " (its options: " + valid + ")",
                   {"", 0, std::string(key)});
}

void require_finite_nonnegative(std::string_view optimizer, std::string_view field, double v) {
  if (!std::isfinite(v) || v < 0.0)
    throw UsageError(std::string(optimizer) + ": " + std::string(field) + " must be finite and >= 0, got " +
                         format_double(v),
                     {"", 0, std::string(field)});
}

void require_finite_positive(std::string_view optimizer, std::string_view field, double v) {
  if (!std::isfinite(v) || v <= 0.0)
    throw UsageError(std::string(optimizer) + ": " + std::string(field) + " must be finite and > 0, got " +
                         format_double(v),
                     {"", 0, std::string(field)});
}

void require_in_range(std::string_view optimizer, std::string_view field, double v, double lo, double hi,
                      bool hi_inclusive) {
  if (!std::isfinite(v) || v < lo || (hi_inclusive ? v > hi : v >= hi))
    throw UsageError(std::string(optimizer) + ": " + std::string(field) + " must be in [" + format_double(lo) + ", " +
                         format_double(hi) + (hi_inclusive ? "]" : ")") + ", got " + format_double(v),
                     {"", 0, std::string(field)});
}

}  // namespace adakit::optim

namespace adakit::optim {

void require_at_least(std::string_view optimizer, std::string_view field, std::int64_t v, std::int64_t lo) {
  if (v < lo)
    throw UsageError(std::string(optimizer) + ": " + std::string(field) + " must be >= " + std::to_string(lo) +
                         ", got " + std::to_string(v),
                     {"", 0, std::string(field)});
}

}  // namespace adakit::optim
