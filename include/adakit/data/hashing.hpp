// The hashing trick: MurmurHash3 (x86, 32-bit) and the feature column / sign it gives a term, exactly as
// scikit-learn's FeatureHasher / HashingVectorizer (sklearn.utils.murmurhash3_32, seed 0).
#pragma once
#include <cstdint>
#include <string_view>

namespace adakit::data {

// MurmurHash3_x86_32 (Austin Appleby, public domain) over the bytes, little-endian blocks.
// murmurhash3_32("", 0) = 0, ("a", 0) = 0x3c2569b2, ("hello", 0) = 0x248bfa47.
std::uint32_t murmurhash3_32(std::string_view bytes, std::uint32_t seed = 0);

struct HashedFeature {
  std::int32_t column;  // in [0, n_features)
  float sign;           // +1 or -1 (always +1 without alternate_sign)
};

// With h = the hash read as a signed 32-bit integer (scikit-learn's murmurhash3_32(term, seed=0)):
// column = |h| mod n_features (|-2^31| taken as 2^31), sign = +1 when h >= 0, else -1.
// Note: |h| mod n, not (unsigned) h mod n: the two differ for negative h, and scikit-learn uses |h|.
// n_features in [1, 2^31]; UsageError otherwise.
HashedFeature hash_feature(std::string_view term, std::int64_t n_features, bool alternate_sign = true);

}  // namespace adakit::data
