#include "samplers/permutation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"
#include "random/counter_rng.h"
#include "samplers/parallel_for.h"

namespace urn::samplers {
namespace {

// Positions handled per batch: small enough that the part arrays live in L1.
constexpr size_t kBlock = 1024;
// Positions per parallel work item; fixed, so the split never depends on the thread count.
constexpr uint64_t kChunk = uint64_t{1} << 16;

// Narrow round function: a 32-bit xor-shift-multiply hash (constants from Wellons' hash
// prospector, "lowbias32") of v XOR key, reduced to [0, m) by Lemire's multiply-shift.
// Branch-free 32-bit arithmetic, so loops over it vectorize.
inline uint32_t NarrowRound(uint32_t v, uint32_t key, uint32_t m) {
  uint32_t x = v ^ key;
  x ^= x >> 16;
  x *= 0x7FEB352DU;
  x ^= x >> 15;
  x *= 0x846CA68BU;
  x ^= x >> 16;
  return static_cast<uint32_t>((static_cast<uint64_t>(x) * m) >> 32);
}

// (x + f) mod m for x, f < m < 2^31, without a branch: if x + f < m, subtracting m wraps to a
// larger value and min keeps x + f.
inline uint32_t AddMod(uint32_t x, uint32_t f, uint32_t m) {
  const uint32_t t = x + f;
  return std::min(t, t - m);
}

// Wide round function (parts of 2^20 values or more): a 64-bit mix of v XOR key, reduced to
// [0, m) by a 64 x 64 -> 128-bit multiply-shift, so the reduction bias stays below 2^-40.
inline uint64_t WideRound(uint64_t v, uint64_t key, uint64_t m) {
  const uint64_t x = random::Mix64(v ^ key);
  return static_cast<uint64_t>((static_cast<unsigned __int128>(x) * m) >> 64);
}

struct Network {
  int rounds;
  uint32_t high_radix;  // a
  uint32_t low_radix;   // b
  const uint64_t* keys;
};

// Runs the narrow network on count (high, low) pairs in place, count <= kBlock. The round loop
// is outermost, so every inner loop is an independent, branch-free pass over 32-bit lanes: the
// compiler vectorizes it and the CPU overlaps its iterations (one element's rounds would
// otherwise serialize on their multiplies). Inlined into the per-ISA entry points below, so one
// source is compiled for each target; integer arithmetic makes them bit-identical.
template <int kRounds>
__attribute__((always_inline)) inline void NarrowRounds(const Network& net, uint32_t* high,
                                                        uint32_t* low, size_t count) {
  const uint32_t a = net.high_radix, b = net.low_radix;
  for (int r = 0; r < kRounds; r += 2) {
    const uint32_t k0 = static_cast<uint32_t>(net.keys[r]);
    const uint32_t k1 = static_cast<uint32_t>(net.keys[r + 1]);
    for (size_t i = 0; i < count; ++i) low[i] = AddMod(low[i], NarrowRound(high[i], k0, b), b);
    for (size_t i = 0; i < count; ++i) high[i] = AddMod(high[i], NarrowRound(low[i], k1, a), a);
  }
}

// Encrypts count split positions, joins them into out (x = high * b + low) and returns whether
// any value is >= n (to be cycle-walked), all in vectorizable loops.
__attribute__((always_inline)) inline bool NarrowKernel(const Network& net, uint32_t* high,
                                                        uint32_t* low, uint64_t* out, size_t count,
                                                        uint64_t n) {
  if (net.rounds == KeyedPermutation::kRoundsLarge) {
    NarrowRounds<KeyedPermutation::kRoundsLarge>(net, high, low, count);
  } else {
    NarrowRounds<KeyedPermutation::kRoundsSmall>(net, high, low, count);
  }
  const uint64_t b = net.low_radix;
  uint64_t outside = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t x = static_cast<uint64_t>(high[i]) * b + low[i];
    out[i] = x;
    outside |= x >= n;
  }
  return outside != 0;
}

__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw"))) bool NarrowAvx512(
    const Network& net, uint32_t* high, uint32_t* low, uint64_t* out, size_t count, uint64_t n) {
  return NarrowKernel(net, high, low, out, count, n);
}

__attribute__((target("avx2"))) bool NarrowAvx2(const Network& net, uint32_t* high, uint32_t* low,
                                                uint64_t* out, size_t count, uint64_t n) {
  return NarrowKernel(net, high, low, out, count, n);
}

bool NarrowGeneric(const Network& net, uint32_t* high, uint32_t* low, uint64_t* out, size_t count,
                   uint64_t n) {
  return NarrowKernel(net, high, low, out, count, n);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
const bool kHasAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");

using internal::PermutationIsa;
std::atomic<PermutationIsa> g_isa{kHasAvx512 ? PermutationIsa::kAvx512
                                  : kHasAvx2 ? PermutationIsa::kAvx2
                                             : PermutationIsa::kGeneric};

bool RunNarrow(const Network& net, uint32_t* high, uint32_t* low, uint64_t* out, size_t count,
               uint64_t n) {
  switch (g_isa.load(std::memory_order_relaxed)) {
    case PermutationIsa::kAvx512:
      return NarrowAvx512(net, high, low, out, count, n);
    case PermutationIsa::kAvx2:
      return NarrowAvx2(net, high, low, out, count, n);
    case PermutationIsa::kGeneric:
      break;
  }
  return NarrowGeneric(net, high, low, out, count, n);
}

static_assert(KeyedPermutation::kRoundsLarge % 2 == 0 && KeyedPermutation::kRoundsSmall % 2 == 0,
              "rounds alternate low and high parts");

}  // namespace

namespace internal {

bool ForcePermutationIsaForTesting(PermutationIsa isa) {
  if ((isa == PermutationIsa::kAvx512 && !kHasAvx512) ||
      (isa == PermutationIsa::kAvx2 && !kHasAvx2)) {
    return false;
  }
  g_isa.store(isa);
  return true;
}

}  // namespace internal

KeyedPermutation::KeyedPermutation(uint64_t n, uint64_t seed, uint64_t epoch) : n_(n) {
  const random::KeyedStream stream(seed, random::Stream::kPermutation, epoch);
  if (n_ <= kTableMax) {
    // Fisher-Yates into the table, from the last position down; draw key: 2^63 | (n << 8) | i.
    // The top bit keeps these draws apart from the round keys of the networks below (n * 32 +
    // round, below 2^63 for n below 2^58): without it the table of n = 40 and the network of
    // n = 320 shared 15 of their 16 keys.
    constexpr uint64_t kTableDraws = uint64_t{1} << 63;
    for (uint64_t i = 0; i < n_; ++i) table_[i] = static_cast<uint8_t>(i);
    for (uint64_t i = n_; i-- > 1;) {
      std::swap(table_[i], table_[stream.Bounded(kTableDraws | (n_ << 8) | i, i + 1)]);
    }
    return;
  }
  // a = ceil(sqrt(n)), b = ceil(n / a): a * b >= n and a * b - n < a (< 2a below).
  uint64_t a = static_cast<uint64_t>(std::sqrt(static_cast<double>(n_)));
  while (static_cast<unsigned __int128>(a) * a < n_) ++a;
  while (a > 1 && static_cast<unsigned __int128>(a - 1) * (a - 1) >= n_) --a;
  high_radix_ = a;
  low_radix_ = (n_ - 1) / a + 1;
  // A rotation of an odd radix is an even permutation, so with both radixes odd the network is
  // an even permutation of [0, a b), and cycle-walking past the few a b - n values outside [0, n)
  // changes its parity only in the rare case that one of them is a fixed point: the parity would
  // be all but fixed by n (odd for 288 = 17 * 17 - 1, even for 287 and for odd squares). An even
  // low radix (a * b - n < 2a: under 2 / sqrt(n) of the values walk) lets both parities occur.
  if (low_radix_ % 2 == 1 && a % 2 == 1) ++low_radix_;
  narrow_ = high_radix_ < kNarrowRadix && low_radix_ < kNarrowRadix;
  rounds_ = n_ >= kLargeSize ? kRoundsLarge : kRoundsSmall;
  // Keys depend on n as well, so permutations of different sizes with one seed and epoch are
  // unrelated rather than restrictions of one network. Draw key: n * 32 + round.
  for (int r = 0; r < rounds_; ++r) keys_[r] = stream.Bits(n_ * 32 + r);
}

KeyedPermutation KeyedPermutation::WideForTesting(uint64_t n, uint64_t seed, uint64_t epoch) {
  KeyedPermutation p(n, seed, epoch);
  p.narrow_ = false;
  return p;
}

void KeyedPermutation::EncryptParts(uint64_t* high, uint64_t* low) const {
  const uint64_t a = high_radix_, b = low_radix_;
  uint64_t h = *high, l = *low;
  for (int r = 0; r < rounds_; r += 2) {
    if (narrow_) {
      l = AddMod(static_cast<uint32_t>(l),
                 NarrowRound(static_cast<uint32_t>(h), static_cast<uint32_t>(keys_[r]),
                             static_cast<uint32_t>(b)),
                 static_cast<uint32_t>(b));
      h = AddMod(static_cast<uint32_t>(h),
                 NarrowRound(static_cast<uint32_t>(l), static_cast<uint32_t>(keys_[r + 1]),
                             static_cast<uint32_t>(a)),
                 static_cast<uint32_t>(a));
    } else {
      const uint64_t f = WideRound(h, keys_[r], b);
      l = l >= b - f ? l - (b - f) : l + f;  // (l + f) mod b without overflow
      const uint64_t g = WideRound(l, keys_[r + 1], a);
      h = h >= a - g ? h - (a - g) : h + g;
    }
  }
  *high = h;
  *low = l;
}

uint64_t KeyedPermutation::At(uint64_t i) const {
  if (n_ <= kTableMax) return table_[i];
  uint64_t h = i / low_radix_, l = i % low_radix_;
  for (;;) {
    EncryptParts(&h, &l);
    // h * b + l < a * b; cycle-walking ends because i's cycle contains i < n.
    const unsigned __int128 x = static_cast<unsigned __int128>(h) * low_radix_ + l;
    if (x < n_) return static_cast<uint64_t>(x);
  }
}

// Finishes a block whose positions are split into parts (narrow network only): encrypts,
// joins into out, and cycle-walks the few values that landed in [n, a * b) (fewer than 2a of
// the a * b values, so under 2/sqrt(n) of them; most blocks have none).
void KeyedPermutation::FinishBlock(uint32_t* high, uint32_t* low, uint64_t* out,
                                   size_t count) const {
  const Network net{rounds_, static_cast<uint32_t>(high_radix_), static_cast<uint32_t>(low_radix_),
                    keys_.data()};
  if (!RunNarrow(net, high, low, out, count, n_)) return;
  uint32_t where[kBlock];
  uint32_t pending_high[kBlock];
  uint32_t pending_low[kBlock];
  uint64_t pending_out[kBlock];
  size_t m = 0;
  for (size_t i = 0; i < count; ++i) {
    if (out[i] < n_) continue;
    where[m] = static_cast<uint32_t>(i);
    pending_high[m] = high[i];
    pending_low[m] = low[i];
    ++m;
  }
  while (m > 0) {
    RunNarrow(net, pending_high, pending_low, pending_out, m, n_);
    size_t kept = 0;
    for (size_t j = 0; j < m; ++j) {
      if (pending_out[j] < n_) {
        out[where[j]] = pending_out[j];
        continue;
      }
      where[kept] = where[j];
      pending_high[kept] = pending_high[j];
      pending_low[kept] = pending_low[j];
      ++kept;
    }
    m = kept;
  }
}

void KeyedPermutation::Map(const uint64_t* positions, uint64_t* out, size_t count) const {
  if (n_ <= kTableMax || !narrow_) {
    for (size_t i = 0; i < count; ++i) out[i] = At(positions[i]);
    return;
  }
  alignas(64) uint32_t high[kBlock];
  alignas(64) uint32_t low[kBlock];
  for (size_t done = 0; done < count; done += kBlock) {
    const size_t m = std::min(kBlock, count - done);
    for (size_t i = 0; i < m; ++i) {
      const uint64_t x = positions[done + i];
      high[i] = static_cast<uint32_t>(x / low_radix_);
      low[i] = static_cast<uint32_t>(x % low_radix_);
    }
    FinishBlock(high, low, out + done, m);
  }
}

void KeyedPermutation::Fill(uint64_t start, uint64_t count, uint64_t* out, int threads) const {
  if (n_ <= kTableMax || !narrow_) {
    for (uint64_t i = 0; i < count; ++i) out[i] = At(start + i);
    return;
  }
  const uint64_t chunks = (count + kChunk - 1) / kChunk;
  ParallelFor(chunks, threads, [&](uint64_t c) {
    alignas(64) uint32_t high[kBlock];
    alignas(64) uint32_t low[kBlock];
    const uint64_t begin = c * kChunk;
    const uint64_t end = std::min(count, begin + kChunk);
    const uint32_t b = static_cast<uint32_t>(low_radix_);
    for (uint64_t first = begin; first < end; first += kBlock) {
      const size_t m = static_cast<size_t>(std::min<uint64_t>(kBlock, end - first));
      // Consecutive positions: one division per block, then runs of equal high part.
      uint32_t h = static_cast<uint32_t>((start + first) / b);
      uint32_t l = static_cast<uint32_t>((start + first) % b);
      for (size_t j = 0; j < m; ++h, l = 0) {
        const size_t run = std::min<size_t>(m - j, b - l);
        for (size_t t = 0; t < run; ++t) {
          high[j + t] = h;
          low[j + t] = l + static_cast<uint32_t>(t);
        }
        j += run;
      }
      FinishBlock(high, low, out + first, m);
    }
  });
}

std::vector<uint64_t> KeyedPermutation::Materialize(int threads) const {
  std::vector<uint64_t> out(n_);
  Fill(0, n_, out.data(), threads);
  return out;
}

absl::StatusOr<PermutationShard> PermutationShard::Create(const KeyedPermutation* permutation,
                                                          uint64_t rank, uint64_t world,
                                                          ShardTail tail) {
  if (world == 0 || rank >= world) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "shard rank %d of world %d: need world >= 1 and rank < world", rank, world));
  }
  return PermutationShard(permutation, rank, world, SliceSize(permutation->size(), world, tail));
}

uint64_t PermutationShard::SliceSize(uint64_t n, uint64_t world, ShardTail tail) {
  return n / world + (tail == ShardTail::kPad && n % world != 0 ? 1 : 0);
}

uint64_t PermutationShard::Position(uint64_t j) const {
  const uint64_t global = rank_ + j * world_;
  const uint64_t n = permutation_->size();
  return global < n ? global : global % n;  // padding wraps to the start
}

uint64_t PermutationShard::At(uint64_t j) const { return permutation_->At(Position(j)); }

void PermutationShard::Fill(uint64_t start, uint64_t count, uint64_t* out) const {
  if (world_ == 1 && start + count <= permutation_->size()) {
    permutation_->Fill(start, count, out);
    return;
  }
  for (uint64_t j = 0; j < count; ++j) out[j] = Position(start + j);
  permutation_->Map(out, out, count);
}

PermutationCursor::PermutationCursor(const PermutationShard* shard, uint64_t offset)
    : shard_(shard), offset_(std::min(offset, shard->size())) {}

bool PermutationCursor::Next(uint64_t* value) {
  if (next_ == buffered_) {
    const uint64_t left = shard_->size() - offset_;
    if (left == 0) return false;
    buffered_ = static_cast<size_t>(std::min<uint64_t>(kBuffer, left));
    shard_->Fill(offset_, buffered_, buffer_.data());
    next_ = 0;
  }
  *value = buffer_[next_++];
  ++offset_;
  return true;
}

}  // namespace urn::samplers
