// MurmurHash3_x86_32, written from the algorithm's description (Austin Appleby's SMHasher, public domain).
#include "adakit/data/hashing.hpp"

#include <string>

#include "adakit/core/error.hpp"

namespace adakit::data {
namespace {

constexpr std::uint32_t rotl32(std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

constexpr std::uint32_t mix_k1(std::uint32_t k1) {
  k1 *= 0xcc9e2d51u;
  k1 = rotl32(k1, 15);
  k1 *= 0x1b873593u;
  return k1;
}

}  // namespace

std::uint32_t murmurhash3_32(std::string_view bytes, std::uint32_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  const std::size_t blocks = n / 4;
  std::uint32_t h1 = seed;
  for (std::size_t i = 0; i < blocks; ++i) {
    const unsigned char* b = p + 4 * i;
    const std::uint32_t k1 = static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
                             static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
    h1 ^= mix_k1(k1);
    h1 = rotl32(h1, 13);
    h1 = h1 * 5 + 0xe6546b64u;
  }
  const unsigned char* tail = p + 4 * blocks;
  std::uint32_t k1 = 0;
  switch (n & 3u) {
    case 3:
      k1 ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      h1 ^= mix_k1(k1);
      break;
    default:
      break;
  }
  h1 ^= static_cast<std::uint32_t>(n);
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6bu;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35u;
  h1 ^= h1 >> 16;
  return h1;
}

HashedFeature hash_feature(std::string_view term, std::int64_t n_features, bool alternate_sign) {
  if (n_features < 1 || n_features > (std::int64_t{1} << 31))
    throw UsageError("n_features " + std::to_string(n_features) + " outside [1, 2^31]", {"", 0, "n_features"});
  const auto h = static_cast<std::int32_t>(murmurhash3_32(term, 0));
  const std::int64_t magnitude = h < 0 ? -static_cast<std::int64_t>(h) : static_cast<std::int64_t>(h);
  return {static_cast<std::int32_t>(magnitude % n_features), alternate_sign && h < 0 ? -1.0f : 1.0f};
}

}  // namespace adakit::data
