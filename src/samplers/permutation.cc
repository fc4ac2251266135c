#include "samplers/permutation.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "random/counter_rng.h"
#include "samplers/parallel_for.h"

namespace urn::samplers {
namespace {

// Positions handled per batch: small enough that the pending arrays live in L1.
constexpr size_t kBlock = 1024;
// Positions per parallel work item; fixed, so the split never depends on the thread count.
constexpr uint64_t kChunk = uint64_t{1} << 16;

// The round function: a 32-bit xor-shift-multiply hash (constants from Wellons' hash
// prospector, "lowbias32") of v XOR key. Branch-free and 32-bit only, so it vectorizes.
inline uint32_t RoundHash(uint32_t v, uint32_t key) {
  uint32_t x = v ^ key;
  x ^= x >> 16;
  x *= 0x7FEB352DU;
  x ^= x >> 15;
  x *= 0x846CA68BU;
  x ^= x >> 16;
  return x;
}

struct Network {
  int rounds;  // KeyedPermutation::kRoundsLarge or kRoundsSmall
  int low_bits;
  uint32_t low_mask;
  uint32_t high_mask;
  const uint32_t* keys;
};

// Encrypts values[0, count) in place, count <= kBlock. The parts live in two small arrays and
// the round loop is outermost, so every inner loop is an independent, branch-free pass over
// 32-bit lanes: the compiler vectorizes it and the CPU overlaps its iterations (a round's
// two multiplies would otherwise serialize). Inlined into the per-ISA entry points below, so
// the same source is compiled for each target; integer arithmetic makes them bit-identical.
template <int kRounds>
__attribute__((always_inline)) inline void EncryptRounds(const Network& net, uint64_t* values,
                                                         size_t count) {
  alignas(64) uint32_t lo[kBlock];
  alignas(64) uint32_t hi[kBlock];
  const int low_bits = net.low_bits;
  const uint32_t low_mask = net.low_mask, high_mask = net.high_mask;
  for (size_t i = 0; i < count; ++i) {
    lo[i] = static_cast<uint32_t>(values[i]) & low_mask;
    hi[i] = static_cast<uint32_t>(values[i] >> low_bits);
  }
  for (int r = 0; r < kRounds; r += 2) {
    const uint32_t k0 = net.keys[r], k1 = net.keys[r + 1];
    for (size_t i = 0; i < count; ++i) lo[i] ^= RoundHash(hi[i], k0) & low_mask;
    for (size_t i = 0; i < count; ++i) hi[i] ^= RoundHash(lo[i], k1) & high_mask;
  }
  for (size_t i = 0; i < count; ++i) {
    values[i] = (static_cast<uint64_t>(hi[i]) << low_bits) | lo[i];
  }
}

__attribute__((always_inline)) inline void EncryptKernel(const Network& net, uint64_t* values,
                                                         size_t count) {
  if (net.rounds == KeyedPermutation::kRoundsLarge) {
    EncryptRounds<KeyedPermutation::kRoundsLarge>(net, values, count);
  } else {
    EncryptRounds<KeyedPermutation::kRoundsSmall>(net, values, count);
  }
}

__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw"))) void EncryptAvx512(const Network& net,
                                                                                 uint64_t* values,
                                                                                 size_t count) {
  EncryptKernel(net, values, count);
}

__attribute__((target("avx2"))) void EncryptAvx2(const Network& net, uint64_t* values,
                                                 size_t count) {
  EncryptKernel(net, values, count);
}

void EncryptGeneric(const Network& net, uint64_t* values, size_t count) {
  EncryptKernel(net, values, count);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");
const bool kHasAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");

static_assert(KeyedPermutation::kRoundsLarge % 2 == 0 && KeyedPermutation::kRoundsSmall % 2 == 0,
              "rounds alternate low and high parts");

}  // namespace

KeyedPermutation::KeyedPermutation(uint64_t n, uint64_t seed, uint64_t epoch) : n_(n) {
  const random::KeyedStream stream(seed, random::Stream::kPermutation, epoch);
  if (n_ <= kTableMax) {
    // Fisher-Yates into the table, from the last position down; draw key: (n << 8) | i.
    for (uint64_t i = 0; i < n_; ++i) table_[i] = static_cast<uint8_t>(i);
    for (uint64_t i = n_; i-- > 1;) {
      std::swap(table_[i], table_[stream.Bounded((n_ << 8) | i, i + 1)]);
    }
    return;
  }
  const int bits = 64 - __builtin_clzll(n_ - 1);  // ceil(log2 n) > 8
  low_bits_ = bits / 2;
  const int high_bits = bits - low_bits_;
  low_mask_ = static_cast<uint32_t>((uint64_t{1} << low_bits_) - 1);
  high_mask_ = static_cast<uint32_t>((uint64_t{1} << high_bits) - 1);
  rounds_ = bits >= kLargeBits ? kRoundsLarge : kRoundsSmall;
  // Keys depend on n as well, so permutations of different sizes with one seed and epoch are
  // unrelated rather than restrictions of one network. Draw key: n * 32 + round.
  for (int r = 0; r < rounds_; ++r) keys_[r] = static_cast<uint32_t>(stream.Bits(n_ * 32 + r));
}

uint64_t KeyedPermutation::Encrypt(uint64_t x) const {
  uint32_t lo = static_cast<uint32_t>(x) & low_mask_;
  uint32_t hi = static_cast<uint32_t>(x >> low_bits_);
  for (int r = 0; r < rounds_; r += 2) {
    lo ^= RoundHash(hi, keys_[r]) & low_mask_;
    hi ^= RoundHash(lo, keys_[r + 1]) & high_mask_;
  }
  return (static_cast<uint64_t>(hi) << low_bits_) | lo;
}

uint64_t KeyedPermutation::At(uint64_t i) const {
  if (n_ <= kTableMax) return table_[i];
  uint64_t x = i;
  do {
    x = Encrypt(x);
  } while (x >= n_);  // cycle-walking: terminates because i's cycle contains i < n
  return x;
}

void KeyedPermutation::EncryptBatch(uint64_t* values, size_t count) const {
  const Network net{rounds_, low_bits_, low_mask_, high_mask_, keys_.data()};
  if (kHasAvx512) {
    EncryptAvx512(net, values, count);
  } else if (kHasAvx2) {
    EncryptAvx2(net, values, count);
  } else {
    EncryptGeneric(net, values, count);
  }
}

// values hold positions on entry and their images on return.
void KeyedPermutation::MapBlock(const uint64_t* positions, uint64_t* out, size_t count) const {
  if (n_ <= kTableMax) {
    for (size_t i = 0; i < count; ++i) out[i] = table_[positions[i]];
    return;
  }
  if (out != positions) std::memcpy(out, positions, count * sizeof(uint64_t));
  EncryptBatch(out, count);
  // Cycle-walk the values that left [0, n): compact them, encrypt again, repeat. At most half
  // of the domain lies outside [0, n), so each pass at least halves the pending list on
  // average.
  uint32_t where[kBlock];
  uint64_t pending[kBlock];
  size_t m = 0;
  for (size_t i = 0; i < count; ++i) {
    where[m] = static_cast<uint32_t>(i);
    pending[m] = out[i];
    m += out[i] >= n_;
  }
  while (m > 0) {
    EncryptBatch(pending, m);
    size_t kept = 0;
    for (size_t j = 0; j < m; ++j) {
      // Branch-free: store unconditionally (a value still out of range is overwritten when its
      // walk ends) and keep it pending iff it is out of range.
      const uint64_t v = pending[j];
      out[where[j]] = v;
      where[kept] = where[j];
      pending[kept] = v;
      kept += v >= n_;
    }
    m = kept;
  }
}

void KeyedPermutation::Map(const uint64_t* positions, uint64_t* out, size_t count) const {
  for (size_t done = 0; done < count; done += kBlock) {
    MapBlock(positions + done, out + done, std::min(kBlock, count - done));
  }
}

void KeyedPermutation::Fill(uint64_t start, uint64_t count, uint64_t* out, int threads) const {
  const uint64_t chunks = (count + kChunk - 1) / kChunk;
  ParallelFor(chunks, threads, [&](uint64_t c) {
    const uint64_t begin = c * kChunk;
    const uint64_t end = std::min(count, begin + kChunk);
    for (uint64_t b = begin; b < end; b += kBlock) {
      const size_t m = static_cast<size_t>(std::min<uint64_t>(kBlock, end - b));
      uint64_t* block = out + b;
      for (size_t j = 0; j < m; ++j) block[j] = start + b + j;
      MapBlock(block, block, m);
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
  const uint64_t n = permutation->size();
  uint64_t size = n / world;
  if (tail == ShardTail::kPad && n > 0) size += (n % world != 0);
  return PermutationShard(permutation, rank, world, size);
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
