// Rng: a seeded, deterministic random generator (xoshiro256**, seeded through SplitMix64).
// The same seed gives the same stream on every platform and compiler: the distributions below are
// written here, not taken from <random>, whose distributions are implementation-defined.
#pragma once
#include <array>
#include <cstdint>
#include <span>

namespace adakit {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0x5eed);
  void seed(std::uint64_t seed);

  std::uint64_t next_u64();
  double uniform();                         // [0, 1), 53 random bits
  double uniform(double lo, double hi);     // [lo, hi)
  double normal();                          // standard normal (Box-Muller, cached pair)
  double normal(double mean, double stddev);
  std::uint64_t below(std::uint64_t n);     // uniform integer in [0, n), unbiased
  bool bernoulli(double p);

  void fill_uniform(std::span<float> out, double lo, double hi);
  void fill_normal(std::span<float> out, double mean, double stddev);

  // Whole state, for checkpoints: four words, plus the cached normal.
  struct State {
    std::array<std::uint64_t, 4> s;
    bool has_cached_normal;
    double cached_normal;
  };
  State state() const { return {s_, has_cached_, cached_}; }
  void set_state(const State& st) { s_ = st.s; has_cached_ = st.has_cached_normal; cached_ = st.cached_normal; }

 private:
  std::array<std::uint64_t, 4> s_{};
  bool has_cached_ = false;
  double cached_ = 0.0;
};

}  // namespace adakit
