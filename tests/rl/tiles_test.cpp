// Tile coder and uniform bins: counts, ranges, sharing between near and far points, hashing, clipping.
#include "adakit/rl/tiles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "adakit/core/error.hpp"
#include "adakit/core/rng.hpp"

namespace {

using adakit::rl::BinsOptions;
using adakit::rl::TileCoder;
using adakit::rl::TileCoderOptions;
using adakit::rl::UniformBins;

TileCoderOptions box4(std::int64_t tilings = 8, std::int64_t tiles = 8, std::int64_t table = 0) {
  return {{-2.4, -3.0, -0.21, -3.5}, {2.4, 3.0, 0.21, 3.5}, tilings, tiles, table, 0};
}

std::size_t shared(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::size_t n = 0;
  for (std::size_t t = 0; t < a.size(); ++t) n += a[t] == b[t] ? 1 : 0;  // tiling t against tiling t
  return n;
}

TEST(TileCoder, OneActiveFeaturePerTilingInRange) {
  TileCoder coder(box4());
  EXPECT_FALSE(coder.hashed());
  EXPECT_EQ(coder.num_active(), 8);
  EXPECT_EQ(coder.num_features(), 8 * 9 * 9 * 9 * 9);  // tiles + 1 cells per dimension cover a shifted grid
  adakit::Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    const std::vector<double> x{rng.uniform(-2.4, 2.4), rng.uniform(-3, 3), rng.uniform(-0.21, 0.21),
                                rng.uniform(-3.5, 3.5)};
    const auto idx = coder.active(x);
    ASSERT_EQ(idx.size(), 8u);
    for (std::size_t t = 0; t < idx.size(); ++t) {
      EXPECT_GE(idx[t], static_cast<std::int64_t>(t) * 6561);  // tiling t owns its own block of indices
      EXPECT_LT(idx[t], static_cast<std::int64_t>(t + 1) * 6561);
    }
    EXPECT_EQ(idx, coder.active(x));  // deterministic
  }
}

TEST(TileCoder, NeighboursShareMostTilesAndFarPointsNone) {
  TileCoder coder(box4());
  const double width0 = 4.8 / 8;  // tile width in dimension 0
  adakit::Rng rng(2);
  for (int i = 0; i < 200; ++i) {
    std::vector<double> x{rng.uniform(-2.0, 1.0), rng.uniform(-3, 3), rng.uniform(-0.21, 0.21), rng.uniform(-3.5, 3.5)};
    auto near = x;
    near[0] += 0.1 * width0;  // a tenth of a tile: the 8 tilings' boundaries are 1/8 tile apart, so at most one changes
    EXPECT_GE(shared(coder.active(x), coder.active(near)), 7u);
    auto far = x;
    far[0] += 1.01 * width0;  // more than a tile away: a different tile in every tiling
    EXPECT_EQ(shared(coder.active(x), coder.active(far)), 0u);
    // Generalisation falls off with distance: half a tile shares about half the tilings.
    auto half = x;
    half[0] += 0.5 * width0;
    const auto s = shared(coder.active(x), coder.active(half));
    EXPECT_GE(s, 3u);
    EXPECT_LE(s, 5u);
  }
}

TEST(TileCoder, ClipsObservationsToTheBox) {
  TileCoder coder(box4());
  EXPECT_EQ(coder.active(std::vector<double>{100, 0, 0, 0}), coder.active(std::vector<double>{2.4, 0, 0, 0}));
  EXPECT_EQ(coder.active(std::vector<double>{0, -1e9, 0, 0}), coder.active(std::vector<double>{0, -3.0, 0, 0}));
}

TEST(TileCoder, HashedIndicesStayInTheTable) {
  TileCoder coder(box4(8, 8, 4096));
  EXPECT_TRUE(coder.hashed());
  EXPECT_EQ(coder.num_features(), 4096);
  adakit::Rng rng(3);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 500; ++i) {
    const std::vector<double> x{rng.uniform(-2.4, 2.4), rng.uniform(-3, 3), rng.uniform(-0.21, 0.21),
                                rng.uniform(-3.5, 3.5)};
    const auto idx = coder.active(x);
    ASSERT_EQ(idx.size(), 8u);
    for (auto v : idx) {
      EXPECT_GE(v, 0);
      EXPECT_LT(v, 4096);
      seen.insert(v);
    }
    auto near = x;
    near[2] += 0.001;
    EXPECT_GE(shared(idx, coder.active(near)), 7u);  // hashing keeps a tile's identity
  }
  EXPECT_GT(seen.size(), 1000u);  // spread over the table
  // A table at least as large as the unhashed count is not hashed.
  EXPECT_FALSE(TileCoder(box4(2, 2, 1000)).hashed());
  // Another hash seed, other indices.
  auto o = box4(8, 8, 4096);
  o.hash_seed = 99;
  const std::vector<double> x{0.1, 0.2, 0.01, -0.3};
  EXPECT_NE(TileCoder(o).active(x), coder.active(x));
}

TEST(TileCoder, RejectsBadOptionsAndObservations) {
  EXPECT_THROW(TileCoder({{0.0}, {0.0}, 8, 8, 0, 0}), adakit::UsageError);       // low == high
  EXPECT_THROW(TileCoder({{0.0, 1.0}, {1.0}, 8, 8, 0, 0}), adakit::UsageError);  // sizes differ
  EXPECT_THROW(TileCoder({{0.0}, {1.0}, 0, 8, 0, 0}), adakit::UsageError);       // no tiling
  EXPECT_THROW(TileCoder({{0.0}, {1.0}, 8, 0, 0, 0}), adakit::UsageError);       // no tile
  EXPECT_THROW(TileCoder({{0.0}, {1.0}, 8, 8, -1, 0}), adakit::UsageError);      // negative table
  // 8 tilings of 1000^4 tiles need hashing.
  EXPECT_THROW(TileCoder(box4(8, 1000, 0)), adakit::UsageError);
  EXPECT_NO_THROW(TileCoder(box4(8, 1000, 1 << 16)));
  TileCoder coder(box4());
  EXPECT_THROW(coder.active(std::vector<double>{0.0, 0.0}), adakit::UsageError);
  EXPECT_THROW(coder.active(std::vector<double>{0.0, 0.0, std::nan(""), 0.0}), adakit::UsageError);
}

TEST(TileCoder, UniformBinsAreATable) {
  UniformBins bins(BinsOptions{{-2.4, -3.0, -0.21, -3.5}, {2.4, 3.0, 0.21, 3.5}, {1, 1, 6, 12}});
  EXPECT_EQ(bins.num_features(), 72);
  EXPECT_EQ(bins.num_active(), 1);
  std::set<std::int64_t> cells;
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 12; ++b) {
      const double theta = -0.21 + (a + 0.5) * 0.42 / 6, omega = -3.5 + (b + 0.5) * 7.0 / 12;
      const auto idx = bins.active(std::vector<double>{0.3, -1.0, theta, omega});
      ASSERT_EQ(idx.size(), 1u);
      EXPECT_EQ(idx[0], 1 * 1 * a + 6 * b);  // index = sum c_d * prod of the earlier bin counts
      cells.insert(idx[0]);
    }
  EXPECT_EQ(cells.size(), 72u);
  // Edges and beyond go to the outer bins.
  EXPECT_EQ(bins.active(std::vector<double>{0, 0, 0.21, 3.5})[0], 5 + 6 * 11);
  EXPECT_EQ(bins.active(std::vector<double>{0, 0, -9, -9})[0], 0);
  // One count for every dimension.
  EXPECT_EQ(UniformBins(BinsOptions{{0, 0}, {1, 1}, {10}}).num_features(), 100);
  EXPECT_THROW(UniformBins(BinsOptions{{0, 0}, {1, 1}, {10, 10, 10}}), adakit::UsageError);
  EXPECT_THROW(UniformBins(BinsOptions{{0}, {1}, {0}}), adakit::UsageError);
}

}  // namespace
