#include "adakit/rl/tiles.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "adakit/core/error.hpp"

namespace adakit::rl {
namespace {

constexpr std::int64_t kMaxFeatures = std::int64_t{1} << 28;

void check_box(const std::vector<double>& low, const std::vector<double>& high, const char* who) {
  if (low.empty()) throw UsageError(std::string(who) + ": the box has no dimensions", {"", 0, "low"});
  if (low.size() != high.size())
    throw UsageError(
        std::string(who) + ": low has " + std::to_string(low.size()) + " values, high " + std::to_string(high.size()),
        {"", 0, "high"});
  for (std::size_t d = 0; d < low.size(); ++d)
    if (!std::isfinite(low[d]) || !std::isfinite(high[d]) || !(low[d] < high[d]))
      throw UsageError(std::string(who) + ": dimension " + std::to_string(d) + " needs finite low < high",
                       {"", 0, "bounds"});
}

void check_obs(std::span<const double> obs, std::size_t dims, const char* who) {
  if (obs.size() != dims)
    throw UsageError(std::string(who) + ": observation has " + std::to_string(obs.size()) + " values, expected " +
                     std::to_string(dims));
  for (double v : obs)
    if (std::isnan(v)) throw UsageError(std::string(who) + ": observation is NaN");
}

// Cell of x in a grid of `cells` cells of width 1/inv_width starting at low - shift.
std::int64_t cell(double x, double low, double high, double inv_width, double shift, std::int64_t cells) {
  const double clipped = std::clamp(x, low, high);
  const auto c = static_cast<std::int64_t>(std::floor((clipped - low) * inv_width + shift));
  return std::clamp<std::int64_t>(c, 0, cells - 1);
}

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  // SplitMix64's finaliser over the running hash and the next value.
  std::uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::vector<std::int64_t> FeatureMap::active(std::span<const double> obs) const {
  std::vector<std::int64_t> out(static_cast<std::size_t>(num_active()));
  active(obs, out);
  return out;
}

void TileCoderOptions::validate() const {
  check_box(low, high, "tile coder");
  if (tilings < 1 || tilings > 1024) throw UsageError("tile coder: tilings must be in [1, 1024]", {"", 0, "tilings"});
  if (tiles < 1 || tiles > 1 << 20) throw UsageError("tile coder: tiles must be in [1, 2^20]", {"", 0, "tiles"});
  if (table_size < 0 || table_size > kMaxFeatures)
    throw UsageError("tile coder: table_size must be in [0, 2^28]", {"", 0, "table_size"});
}

TileCoder::TileCoder(TileCoderOptions options) : options_(std::move(options)) {
  options_.validate();
  const auto dims = options_.low.size();
  const std::int64_t side = options_.tiles + 1;
  // Unhashed size, or "too many" once it passes the cap.
  std::int64_t cells = 1;
  bool too_many = false;
  for (std::size_t d = 0; d < dims && !too_many; ++d) {
    if (cells > kMaxFeatures / side)
      too_many = true;
    else
      cells *= side;
  }
  if (!too_many && cells > kMaxFeatures / options_.tilings) too_many = true;
  const std::int64_t full = too_many ? kMaxFeatures + 1 : cells * options_.tilings;
  if (options_.table_size > 0 && options_.table_size < full) {
    hashed_ = true;
    num_features_ = options_.table_size;
  } else if (too_many) {
    throw UsageError("tile coder: " + std::to_string(options_.tilings) + " tilings of " +
                         std::to_string(options_.tiles) + "^" + std::to_string(dims) +
                         " tiles are more than 2^28 features; set table_size to hash them",
                     {"", 0, "table_size"});
  } else {
    num_features_ = full;
  }
  cells_per_tiling_ = too_many ? 0 : cells;
  for (std::size_t d = 0; d < dims; ++d)
    inv_width_.push_back(static_cast<double>(options_.tiles) / (options_.high[d] - options_.low[d]));
  const auto n = options_.tilings;
  for (std::int64_t t = 0; t < n; ++t)
    for (std::size_t d = 0; d < dims; ++d)
      offset_.push_back(static_cast<double>((t * (2 * static_cast<std::int64_t>(d) + 1)) % n) / static_cast<double>(n));
}

void TileCoder::active(std::span<const double> obs, std::span<std::int64_t> out) const {
  const auto dims = options_.low.size();
  check_obs(obs, dims, "tile coder");
  if (out.size() != static_cast<std::size_t>(options_.tilings))
    throw UsageError("tile coder: output span must hold one index per tiling");
  const std::int64_t side = options_.tiles + 1;
  for (std::int64_t t = 0; t < options_.tilings; ++t) {
    const double* shift = offset_.data() + static_cast<std::size_t>(t) * dims;
    std::int64_t index = 0, stride = 1;
    std::uint64_t h = mix(options_.hash_seed, static_cast<std::uint64_t>(t));
    for (std::size_t d = 0; d < dims; ++d) {
      const std::int64_t c = cell(obs[d], options_.low[d], options_.high[d], inv_width_[d], shift[d], side);
      index += c * stride;
      stride *= hashed_ ? 1 : side;
      h = mix(h, static_cast<std::uint64_t>(c));
    }
    out[static_cast<std::size_t>(t)] = hashed_
                                           ? static_cast<std::int64_t>(h % static_cast<std::uint64_t>(num_features_))
                                           : t * cells_per_tiling_ + index;
  }
}

void BinsOptions::validate() const {
  check_box(low, high, "bins");
  if (bins.size() != 1 && bins.size() != low.size())
    throw UsageError("bins: give one bin count, or one per dimension (" + std::to_string(low.size()) + ")",
                     {"", 0, "bins"});
  for (auto b : bins)
    if (b < 1 || b > 1 << 20) throw UsageError("bins: each bin count must be in [1, 2^20]", {"", 0, "bins"});
}

UniformBins::UniformBins(BinsOptions options) : options_(std::move(options)) {
  options_.validate();
  if (options_.bins.size() == 1) options_.bins.assign(options_.low.size(), options_.bins[0]);
  num_features_ = 1;
  for (auto b : options_.bins) {
    if (num_features_ > kMaxFeatures / b) throw UsageError("bins: more than 2^28 cells", {"", 0, "bins"});
    num_features_ *= b;
  }
}

void UniformBins::active(std::span<const double> obs, std::span<std::int64_t> out) const {
  const auto dims = options_.low.size();
  check_obs(obs, dims, "bins");
  if (out.size() != 1) throw UsageError("bins: output span must hold one index");
  std::int64_t index = 0, stride = 1;
  for (std::size_t d = 0; d < dims; ++d) {
    const auto b = options_.bins[d];
    index += cell(obs[d], options_.low[d], options_.high[d],
                  static_cast<double>(b) / (options_.high[d] - options_.low[d]), 0.0, b) *
             stride;
    stride *= b;
  }
  out[0] = index;
}

}  // namespace adakit::rl
