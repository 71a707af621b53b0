// Internal to src/data: byte pixels to float32 in [0, 1].
#pragma once
#include <array>
#include <cstddef>
#include <span>

namespace adakit::data::detail {

// out[i] = in[i] / 255, exactly the float division (through a 256-entry table).
inline void bytes_to_unit_floats(std::span<const unsigned char> in, std::span<float> out) {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (std::size_t v = 0; v < t.size(); ++v) t[v] = static_cast<float>(v) / 255.0f;
    return t;
  }();
  const std::size_t n = in.size() < out.size() ? in.size() : out.size();
  for (std::size_t i = 0; i < n; ++i) out[i] = table[in[i]];
}

}  // namespace adakit::data::detail
