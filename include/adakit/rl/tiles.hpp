// Sparse binary features of a continuous observation: a tile coder (Sutton & Barto 2018, section 9.5.4;
// Albus's CMAC) and uniform bins (a tabular discretisation). A feature map returns the indices of its
// active features — the features whose value is 1; every other feature is 0.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace adakit::rl {

class FeatureMap {
 public:
  virtual ~FeatureMap() = default;
  virtual std::int64_t num_features() const = 0;  // indices lie in [0, num_features())
  virtual std::int64_t num_active() const = 0;    // active features per observation (fixed)
  // Writes num_active() indices to `out`. UsageError when obs has the wrong size or is not finite.
  virtual void active(std::span<const double> obs, std::span<std::int64_t> out) const = 0;
  std::vector<std::int64_t> active(std::span<const double> obs) const;
};

struct TileCoderOptions {
  std::vector<double> low, high;  // the box tiled, per dimension; observations are clipped into it
  std::int64_t tilings = 8;       // offset grids
  std::int64_t tiles = 8;         // tiles per dimension of one grid spanning [low, high]
  std::int64_t table_size = 0;    // 0: one feature per tile of every tiling; else tiles hashed into this many
  std::uint64_t hash_seed = 0;
  void validate() const;  // UsageError naming the field
};

// `tilings` grids of tiles^D equal tiles, each grid shifted by a fraction of a tile: tiling t is shifted by
// ((t * (2d + 1)) mod tilings) / tilings of a tile width in dimension d (the asymmetric displacement
// 1, 3, 5, ... that Sutton & Barto recommend over the diagonal). A shifted grid needs tiles + 1 cells per
// dimension to cover the box. One active feature per tiling:
//   unhashed: t * (tiles+1)^D + sum_d c_d * (tiles+1)^d      (num_features = tilings * (tiles+1)^D)
//   hashed:   mix(hash_seed, t, c_0, ..., c_{D-1}) mod table_size   (collisions share a weight)
// Hashing is used only when table_size > 0 and smaller than the unhashed count.
class TileCoder final : public FeatureMap {
 public:
  explicit TileCoder(TileCoderOptions options);
  std::int64_t num_features() const override { return num_features_; }
  std::int64_t num_active() const override { return options_.tilings; }
  using FeatureMap::active;
  void active(std::span<const double> obs, std::span<std::int64_t> out) const override;
  bool hashed() const noexcept { return hashed_; }
  const TileCoderOptions& options() const noexcept { return options_; }

 private:
  TileCoderOptions options_;
  std::vector<double> inv_width_;  // tiles / (high - low) per dimension
  std::vector<double> offset_;     // [tiling][dim], in tile widths, in [0, 1)
  std::int64_t cells_per_tiling_ = 0;
  std::int64_t num_features_ = 0;
  bool hashed_ = false;
};

// One active feature: the cell of a grid of bins[d] equal bins over [low[d], high[d]] (clipped),
// index sum_d c_d * prod_{e<d} bins[e]. Q-learning over it is tabular Q-learning.
struct BinsOptions {
  std::vector<double> low, high;
  std::vector<std::int64_t> bins;  // per dimension, or one value for all
  void validate() const;
};

class UniformBins final : public FeatureMap {
 public:
  explicit UniformBins(BinsOptions options);
  std::int64_t num_features() const override { return num_features_; }
  std::int64_t num_active() const override { return 1; }
  using FeatureMap::active;
  void active(std::span<const double> obs, std::span<std::int64_t> out) const override;

 private:
  BinsOptions options_;
  std::int64_t num_features_ = 0;
};

}  // namespace adakit::rl
