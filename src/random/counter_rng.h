// Counter-based randomness: every random number urn uses is a pure function
//
//     U(seed, stream, key, draw)  ->  double in (0, 1]
//
// of the request's seed, a stream id naming the purpose (which sampler, which decision), the
// row's key or index, and a draw counter. Nothing is sequential, so a sample repeats exactly on
// any machine, thread count or shard split (see ../shared/ARCHITECTURE.md, "Randomness").
//
// Construction. The triple (seed, stream, draw) is folded once, through three rounds of a
// bijective 64-bit mixer, into a 64-bit `base`. A row's bits are then
//
//     bits(key) = Mix64(base + (key + 1) * kGolden)
//
// i.e. SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number generators",
// OOPSLA 2014) evaluated at counter `key` of the generator seeded with `base`. For a fixed base
// `bits` is a bijection of `key`, so distinct rows never share a draw within one stream, and
// consecutive keys pass BigCrush (as SplitMix64 does). Cost: two multiplies and three shifts,
// about 1 ns, with no state to carry between rows.
//
// Thread safety: every type here is an immutable value; share freely.
#ifndef URN_RANDOM_COUNTER_RNG_H_
#define URN_RANDOM_COUNTER_RNG_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace urn::random {

// Stream ids: one per purpose, so that two samplers with one seed draw independent numbers.
// Values are part of the reproducibility contract: never renumber, only append.
enum class Stream : uint64_t {
  kUniformWithReplacement = 1,
  kUniformWithoutReplacement = 2,
  kShuffle = 3,
  kPermutation = 4,
  kBernoulli = 5,
  kReservoir = 6,
  kWeighted = 7,             // exponential keys, without replacement
  kWeightedReplacement = 8,  // alias tables and Poisson arrivals
  kUniverse = 9,
  kDistinct = 10,
  kStratified = 11,
  kSumTree = 12,
  kWeightedShuffle = 13,
};

inline constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// A bijective 64-bit finalizer (Stafford's "Mix13", as used by SplitMix64).
constexpr uint64_t Mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Maps 64 random bits to a double in (0, 1]: 53 bits, never 0, so -log(u) is finite.
constexpr double BitsToUnit(uint64_t bits) {
  return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;
}

// The draws of one (seed, stream, draw) triple, indexed by row key. Cheap to construct (three
// mixes); build one per request and draw number, then call it per row.
class KeyedStream {
 public:
  constexpr KeyedStream(uint64_t seed, Stream stream, uint64_t draw = 0)
      : base_(Fold(seed, static_cast<uint64_t>(stream), draw)) {}

  // 64 uniformly distributed bits for `key`.
  constexpr uint64_t Bits(uint64_t key) const { return Mix64(base_ + (key + 1) * kGolden); }
  // out[i] = Bits(first_key + i): the same values, eight keys per instruction where the CPU has
  // AVX-512DQ (chosen at run time).
  void FillBits(uint64_t first_key, uint64_t* out, size_t count) const;

  // U(seed, stream, key, draw): uniform in (0, 1], resolution 2^-53.
  constexpr double Uniform(uint64_t key) const { return BitsToUnit(Bits(key)); }

  // A standard exponential variate, -ln(U); finite, >= 0.
  double Exponential(uint64_t key) const { return -std::log(Uniform(key)); }

  // An integer uniform on [0, n) without modulo bias (Lemire, "Fast random integer generation
  // in an interval", ACM TOMACS 2019). REQUIRES: n > 0. A rejection (probability below
  // n / 2^64) draws again from RetryBits(key, 1), RetryBits(key, 2), ...: fresh bits for the
  // same key, not a function of the rejected ones, so the result is exactly uniform and still a
  // pure function of the key.
  uint64_t Bounded(uint64_t key, uint64_t n) const { return BoundedFromBits(Bits(key), n, key); }

  // Bounded for callers that already hold Bits(key) (FillBits).
  uint64_t BoundedFromBits(uint64_t bits, uint64_t n, uint64_t key) const {
    unsigned __int128 m = static_cast<unsigned __int128>(bits) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      for (uint64_t attempt = 1; low < threshold; ++attempt) {
        m = static_cast<unsigned __int128>(RetryBits(key, attempt)) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // The bits of the attempt-th redraw of `key` (attempt >= 1): a sequence of its own, keyed by
  // the stream, the key and the attempt.
  constexpr uint64_t RetryBits(uint64_t key, uint64_t attempt) const {
    return Mix64(Mix64(base_ ^ 0x510E527FADE682D1ULL) + Mix64(key) + attempt * kGolden);
  }

  constexpr uint64_t base() const { return base_; }

 private:
  static constexpr uint64_t Fold(uint64_t seed, uint64_t stream, uint64_t draw) {
    uint64_t h = Mix64(seed ^ 0x6A09E667F3BCC908ULL);
    h = Mix64(h ^ (stream * 0xBB67AE8584CAA73BULL));
    return Mix64(h ^ (draw * 0x3C6EF372FE94F82BULL + 0xA54FF53A5F1D36F1ULL));
  }

  uint64_t base_;
};

// U(seed, stream, key, draw) as a free function, for one-off draws.
inline double U(uint64_t seed, Stream stream, uint64_t key, uint64_t draw = 0) {
  return KeyedStream(seed, stream, draw).Uniform(key);
}

// A 64-bit hash of a row key given as bytes (XXH3). Keys that are numbers should be hashed
// through their text, so that a file sampled locally and the same data on a server agree.
uint64_t HashKey(std::string_view key);

// A 64-bit hash of an integer key (a bijection, so distinct integers never collide).
constexpr uint64_t HashKey(uint64_t key) { return Mix64(key ^ 0x510E527FADE682D1ULL); }

}  // namespace urn::random

#endif  // URN_RANDOM_COUNTER_RNG_H_
