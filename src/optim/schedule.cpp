#include "adakit/optim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "adakit/core/error.hpp"
#include "adakit/optim/options.hpp"

namespace adakit::optim {

double Schedule::factor(std::int64_t step) const {
  const std::int64_t u = std::max<std::int64_t>(step - 1, 0);
  double w = 1.0;
  if (warmup_steps > 0 && u < warmup_steps) w = static_cast<double>(u + 1) / static_cast<double>(warmup_steps);
  const auto v = static_cast<double>(std::max<std::int64_t>(0, u - warmup_steps));
  const double T = static_cast<double>(total_steps);
  double f = 1.0;
  switch (kind) {
    case Kind::constant: break;
    case Kind::step: f = std::pow(gamma, std::floor(v / static_cast<double>(step_size))); break;
    case Kind::exponential: f = std::pow(gamma, v); break;
    case Kind::cosine:
      f = final_factor + (1.0 - final_factor) * (1.0 + std::cos(std::numbers::pi * std::min(v, T) / T)) / 2.0;
      break;
    case Kind::linear: f = 1.0 - (1.0 - final_factor) * std::min(v, T) / T; break;
  }
  return w * f;
}

void Schedule::validate() const {
  require_in_range("schedule", "gamma", gamma, 0.0, 1.0, true);
  require_in_range("schedule", "final", final_factor, 0.0, 1.0, true);
  if (step_size < 1) throw UsageError("schedule: size must be >= 1", {"", 0, "size"});
  if (total_steps < 1) throw UsageError("schedule: total must be >= 1", {"", 0, "total"});
  if (warmup_steps < 0) throw UsageError("schedule: warmup must be >= 0", {"", 0, "warmup"});
}

namespace {
std::int64_t parse_count(std::string_view key, std::string_view text) {
  const double v = parse_double(key, text);
  if (v != std::floor(v) || v < 0 || v > 1e15)
    throw UsageError("'" + std::string(text) + "' is not a whole number >= 0", {"", 0, std::string(key)});
  return static_cast<std::int64_t>(v);
}
}  // namespace

Schedule Schedule::parse(std::string_view spec) {
  Schedule s;
  const auto colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  if (kind == "constant") s.kind = Kind::constant;
  else if (kind == "step") s.kind = Kind::step;
  else if (kind == "exponential") { s.kind = Kind::exponential; s.gamma = 0.99; }
  else if (kind == "cosine") s.kind = Kind::cosine;
  else if (kind == "linear") s.kind = Kind::linear;
  else
    throw UsageError("unknown schedule '" + std::string(kind) + "' (constant, step, exponential, cosine, linear)",
                     {"", 0, "schedule"});
  if (colon != std::string_view::npos && colon + 1 == spec.size())
    throw UsageError("schedule '" + std::string(spec) + "' has nothing after ':'", {"", 0, "schedule"});
  std::string_view rest = colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    if (comma != std::string_view::npos && comma + 1 == rest.size())
      throw UsageError("schedule '" + std::string(spec) + "' ends with ','", {"", 0, "schedule"});
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      throw UsageError("schedule item '" + std::string(item) + "' is not key=value", {"", 0, "schedule"});
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "gamma") s.gamma = parse_double(key, value);
    else if (key == "size") s.step_size = parse_count(key, value);
    else if (key == "total") s.total_steps = parse_count(key, value);
    else if (key == "final") s.final_factor = parse_double(key, value);
    else if (key == "warmup") s.warmup_steps = parse_count(key, value);
    else
      throw UsageError("unknown schedule key '" + std::string(key) + "' (gamma, size, total, final, warmup)",
                       {"", 0, "schedule"});
  }
  s.validate();
  return s;
}

std::string Schedule::to_string() const {
  std::string out;
  switch (kind) {
    case Kind::constant: out = "constant"; break;
    case Kind::step: out = "step:size=" + std::to_string(step_size) + ",gamma=" + format_double(gamma); break;
    case Kind::exponential: out = "exponential:gamma=" + format_double(gamma); break;
    case Kind::cosine:
      out = "cosine:total=" + std::to_string(total_steps) + ",final=" + format_double(final_factor);
      break;
    case Kind::linear:
      out = "linear:total=" + std::to_string(total_steps) + ",final=" + format_double(final_factor);
      break;
  }
  if (warmup_steps > 0) out += std::string(kind == Kind::constant ? ":" : ",") + "warmup=" + std::to_string(warmup_steps);
  return out;
}

}  // namespace adakit::optim
