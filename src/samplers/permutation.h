// KeyedPermutation: a pseudorandom bijection on [0, n), computed on demand, never stored.
//
// What it gives. position i -> At(i), a permutation of [0, n) chosen by (seed, epoch). Any
// position costs O(1) expected time and the whole object is O(1) memory (under 512 bytes), so a
// shuffle of a dataset of any size can be served, resumed from any offset, or split between
// the ranks of a distributed job without materializing it. Same (n, seed, epoch) gives the same
// permutation on every machine and thread count; a new epoch gives an unrelated one.
//
// Algorithm. For n > kTableMax: a Feistel network on the numeral pair (h, l) in
// [0, a) x [0, b), a = ceil(sqrt(n)), b = ceil(n / a), plus 1 when both are odd (see below),
// position x <-> (x / b, x mod b), with
// modular addition instead of XOR (as the NIST FF1 format-preserving cipher does, SP 800-38G),
// and cycle-walking from [0, a b) to [0, n) (Black and Rogaway, "Ciphers with arbitrary finite
// domains", CT-RSA 2002). Round r replaces one part by (part + F(other part, key_r)) mod its
// radix, alternating l (mod b) and h (mod a). Each round is a bijection of [0, a) x [0, b), so
// the network is one, and cycle-walking (re-encrypting until the value is below n) is a
// bijection of [0, n). Since a b - n < 2a, under 2/sqrt(n) of the values need a second
// encryption: almost every position costs exactly one. Parity: a rotation of an odd radix is
// an even permutation, so with a and b both odd (a quarter of all sizes) the network is even
// and the few values cycle-walking skips would all but fix the parity by n; b is made even
// there, and both parities are equally likely (tested).
//   Round function F(v, k) into [0, m): parts below 2^20 (n up to about 2^40) use a 32-bit
//   xor-shift-multiply hash of v XOR k reduced by Lemire's multiply-shift (bias below 2^-12);
//   wider parts a 64-bit mix (random::Mix64) and a 128-bit multiply-shift.
//   Round keys: random::KeyedStream(seed, kPermutation, epoch).Bits(n * 32 + round), so
//   permutations of different sizes are unrelated (the tables below draw with keys of their
//   own, with the top bit set).
//   Rounds: 8 from n >= 2^16, 16 below. Tiny domains are where a Feistel network is weakest,
//   because each round function sees only a few input values: measured with an XOR network
//   over all orders with 100 epochs per order, 8 rounds give chi-square p = 1e-23 on n = 5, and
//   n = 8 is still rejected at 24 rounds and only passes at 32. So n <= kTableMax = 256 does
//   not use the network at all: the constructor runs an exact Fisher-Yates shuffle
//   (Durstenfeld 1964) into a 256-byte table, which At() reads. Above that,
//   tests/core/permutation_test.cc checks that positions are uniform over values and that
//   neighbouring positions are independent (chi-square p > 1e-4) at both round counts.
//   This is a statistical shuffle, not a cipher: do not use it where an adversary must not
//   predict or invert the order.
//
// Speed. Fill() splits a block of consecutive positions into parts by counting (one division
// per 1024 positions), runs the rounds as branch-free 32-bit passes over the block that the
// compiler vectorizes (AVX-512 or AVX2 when the CPU has them, chosen at run time; the results
// are bit-identical on every path), joins, and cycle-walks the rare out-of-range values in a
// compacted pass. With threads > 1 it splits the range into fixed chunks of 65,536 positions
// (the output never depends on the thread count). Parts of 2^20 or more use a scalar path.
// See bench/permutation_bench.cc.
//
// Thread safety: immutable after construction; share freely.
#ifndef URN_SAMPLERS_PERMUTATION_H_
#define URN_SAMPLERS_PERMUTATION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace urn::samplers {

class KeyedPermutation {
 public:
  // Sizes up to kTableMax use an explicit table; larger ones the Feistel network, with
  // kRoundsSmall rounds below kLargeSize and kRoundsLarge from there on; parts (radixes) below
  // kNarrowRadix use the vectorized 32-bit round function.
  static constexpr uint64_t kTableMax = 256;
  static constexpr uint64_t kLargeSize = uint64_t{1} << 16;
  static constexpr uint64_t kNarrowRadix = uint64_t{1} << 20;
  static constexpr int kRoundsSmall = 16;
  static constexpr int kRoundsLarge = 8;

  // The permutation of [0, n) selected by (seed, epoch). n = 0 is the empty permutation,
  // n = 1 the identity on {0}.
  KeyedPermutation(uint64_t n, uint64_t seed, uint64_t epoch = 0);

  uint64_t size() const { return n_; }

  // The value at position i. REQUIRES: i < size(). O(1) expected (1 + O(1/sqrt(n))
  // encryptions; tens of ns scalar, see BM_PermutationAt).
  uint64_t At(uint64_t i) const;

  // out[j] = At(start + j) for j in [0, count). REQUIRES: start + count <= size(). Uses up to
  // `threads` threads when count is large; the output is the same for every thread count.
  void Fill(uint64_t start, uint64_t count, uint64_t* out, int threads = 1) const;

  // out[j] = At(positions[j]) for j in [0, count), batched. REQUIRES: every position < size().
  // `positions` and `out` may be the same array.
  void Map(const uint64_t* positions, uint64_t* out, size_t count) const;

  // The whole permutation as a vector (n words of memory): Fill(0, n, ...).
  std::vector<uint64_t> Materialize(int threads = 1) const;

  // For tests: a permutation that uses the wide (64-bit) round function whatever n is, to
  // exercise the path that is otherwise taken only for n above about 2^40. It is a different
  // permutation from KeyedPermutation(n, seed, epoch).
  static KeyedPermutation WideForTesting(uint64_t n, uint64_t seed, uint64_t epoch);

 private:
  // One pass of the network on (high, low) in [0, a) x [0, b), no cycle-walking.
  void EncryptParts(uint64_t* high, uint64_t* low) const;
  // Encrypts a block of split positions (count <= 1024, narrow network), joins them into out
  // and cycle-walks the values >= n.
  void FinishBlock(uint32_t* high, uint32_t* low, uint64_t* out, size_t count) const;

  uint64_t n_;
  uint64_t high_radix_ = 0;  // a
  uint64_t low_radix_ = 0;   // b
  bool narrow_ = false;      // a, b < kNarrowRadix
  int rounds_ = 0;
  std::array<uint64_t, kRoundsSmall> keys_{};
  std::array<uint8_t, kTableMax> table_{};  // the permutation itself when n <= kTableMax
};

// How a permutation is split between the w ranks of a distributed job (as PyTorch's
// DistributedSampler does): the sequence of positions is padded or cut to a multiple of w and
// rank r takes positions r, r + w, r + 2w, ...
enum class ShardTail {
  // Cut the last n mod w positions: every rank gets floor(n / w) values; slices are disjoint
  // and together cover all but n mod w values.
  kDropLast,
  // Extend the sequence by wrapping around to its start (positions n, n+1, ... read positions
  // 0, 1, ...): every rank gets ceil(n / w) values; without padding (w divides n) slices are
  // disjoint and cover everything, with it the first positions appear twice.
  kPad,
};

// Rank `rank` of `world` of a KeyedPermutation, computed on demand (O(1) memory). Keeps a
// pointer to the permutation, which must outlive it. Thread safety: immutable; share freely.
class PermutationShard {
 public:
  // InvalidArgument unless world >= 1 and rank < world.
  static absl::StatusOr<PermutationShard> Create(const KeyedPermutation* permutation, uint64_t rank,
                                                 uint64_t world, ShardTail tail);

  // The values each rank of `world` >= 1 gets of n: floor(n / world) with kDropLast, else
  // ceil(n / world) (0 for n = 0).
  static uint64_t SliceSize(uint64_t n, uint64_t world, ShardTail tail);

  uint64_t size() const { return size_; }
  // The j-th value of this rank. REQUIRES: j < size().
  uint64_t At(uint64_t j) const;
  // out[i] = At(start + i) for i in [0, count). REQUIRES: start + count <= size().
  void Fill(uint64_t start, uint64_t count, uint64_t* out) const;

 private:
  PermutationShard(const KeyedPermutation* p, uint64_t rank, uint64_t world, uint64_t size)
      : permutation_(p), rank_(rank), world_(world), size_(size) {}
  uint64_t Position(uint64_t j) const;

  const KeyedPermutation* permutation_;
  uint64_t rank_;
  uint64_t world_;
  uint64_t size_;
};

// Reads a shard in order from any offset (resumption): the values it yields are exactly
// shard.At(offset), shard.At(offset + 1), ..., shard.At(size - 1). Buffers a few hundred
// values at a time through PermutationShard::Fill. Keeps a pointer to the shard.
// Thread safety: not thread-safe (it has a position); use one per reader.
class PermutationCursor {
 public:
  PermutationCursor(const PermutationShard* shard, uint64_t offset);

  // Stores the next value and returns true, or returns false at the end.
  bool Next(uint64_t* value);
  // The offset of the value the next call to Next() returns.
  uint64_t offset() const { return offset_; }

 private:
  static constexpr size_t kBuffer = 512;
  const PermutationShard* shard_;
  uint64_t offset_;
  std::array<uint64_t, kBuffer> buffer_{};
  size_t buffered_ = 0;  // values in buffer_[next_ .. buffered_)
  size_t next_ = 0;
};

namespace internal {
enum class PermutationIsa { kGeneric, kAvx2, kAvx512 };
// Tests only: makes Fill and Map use the given instruction set (the default is the best the
// CPU has). Returns false, changing nothing, if the CPU lacks it. Not for concurrent use.
bool ForcePermutationIsaForTesting(PermutationIsa isa);
}  // namespace internal

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_PERMUTATION_H_
