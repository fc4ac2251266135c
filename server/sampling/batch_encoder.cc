#include "sampling/batch_encoder.h"

#include <immintrin.h>

#include <bit>
#include <cstring>

#include "grpc/slice.h"
#include "grpcpp/support/slice.h"

namespace urn::server {
namespace {

static_assert(std::endian::native == std::endian::little,
              "packed doubles are copied as they lie in memory");

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
constexpr uint8_t kRowIdsTag = 1 << 3 | 2;      // SampleBatch and ShuffleBatch field 1
constexpr uint8_t kWeightsTag = 2 << 3 | 2;     // SampleBatch.weights
constexpr uint8_t kOffsetTag = 4 << 3 | 0;      // SampleBatch.offset
constexpr uint8_t kTotalTag = 5 << 3 | 0;       // SampleBatch.total
constexpr uint8_t kNextOffsetTag = 2 << 3 | 0;  // ShuffleBatch.next_offset

// Bytes of the varint of v: ceil(bit width / 7), as a multiply and a shift (exact for widths
// 1..64; checked below).
constexpr size_t VarintSizeOfWidth(size_t width) { return (width * 9 + 64) / 64; }
constexpr bool VarintSizesExact() {
  for (size_t w = 1; w <= 64; ++w) {
    if (VarintSizeOfWidth(w) != (w + 6) / 7) return false;
  }
  return true;
}
static_assert(VarintSizesExact());
inline size_t VarintSize(uint64_t v) {
  return VarintSizeOfWidth(static_cast<size_t>(std::bit_width(v | 1)));
}

inline uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v) | 0x80;
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// An int64 field; proto3 omits 0.
inline size_t ScalarSize(int64_t v) {
  return v == 0 ? 0 : 1 + VarintSize(static_cast<uint64_t>(v));
}
inline uint8_t* PutScalar(uint8_t* p, uint8_t tag, int64_t v) {
  if (v == 0) return p;
  *p++ = tag;
  return PutVarint(p, static_cast<uint64_t>(v));
}

// The bytes of the ids' varints. With AVX-512 (CD for the leading-zero count), 8 ids at a time.
[[gnu::target("avx512f,avx512cd")]] size_t IdsPayloadWide(std::span<const uint64_t> rows) {
  __m512i sum = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi64(1), sixty_four = _mm512_set1_epi64(64);
  size_t i = 0;
  for (; i + 8 <= rows.size(); i += 8) {
    const __m512i v = _mm512_or_si512(_mm512_loadu_si512(rows.data() + i), one);
    const __m512i width = _mm512_sub_epi64(sixty_four, _mm512_lzcnt_epi64(v));
    // VarintSizeOfWidth: (width * 9 + 64) / 64.
    // (The maskz shifts: GCC 12 warns of the plain ones' undefined pass-through operand.)
    const __m512i nine = _mm512_add_epi64(_mm512_maskz_slli_epi64(0xff, width, 3), width);
    sum =
        _mm512_add_epi64(sum, _mm512_maskz_srli_epi64(0xff, _mm512_add_epi64(nine, sixty_four), 6));
  }
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, sum);
  size_t bytes = 0;
  for (const uint64_t lane : lanes) bytes += lane;
  for (; i < rows.size(); ++i) bytes += VarintSize(rows[i]);
  return bytes;
}

// What the CPU offers, or less (UsePortableBatchEncodingForTesting).
struct Isa {
  bool avx512cd = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  // PDEP is microcoded, tens to hundreds of cycles, on AMD before Zen 3: byte by byte there.
  bool bmi2 = __builtin_cpu_supports("bmi2") && !__builtin_cpu_is("znver1") &&
              !__builtin_cpu_is("znver2") && !__builtin_cpu_is("bdver4");
};
Isa isa;

size_t IdsPayload(std::span<const uint64_t> rows) {
  if (isa.avx512cd) return IdsPayloadWide(rows);
  size_t bytes = 0;
  for (const uint64_t v : rows) bytes += VarintSize(v);
  return bytes;
}

// A packed field of `payload` bytes with its tag and length; proto3 omits an empty one.
inline size_t PackedSize(size_t payload) {
  return payload == 0 ? 0 : 1 + VarintSize(payload) + payload;
}

// The ids' varints, one after another. With a fast BMI2 (Intel since Haswell, AMD since Zen 3)
// an id below
// 2^56 (every real one) is formed in a register: PDEP spreads its 7-bit groups to bytes, the
// continuation bits of all but its last byte are or-ed in, and one unaligned 8-byte store
// writes it, while 8 bytes remain before `end`. Otherwise byte by byte.
[[gnu::target("bmi2")]] uint8_t* PutVarintsBmi2(uint8_t* p, const uint8_t* end,
                                                std::span<const uint64_t> rows) {
  for (const uint64_t v : rows) {
    const size_t len = VarintSize(v);
    if (len <= 8 && end - p >= 8) {
      const uint64_t continuation = uint64_t{0x8080808080808080} >> (64 - 8 * len);
      const uint64_t x = _pdep_u64(v, 0x7f7f7f7f7f7f7f7f) | (continuation >> 8);
      std::memcpy(p, &x, sizeof(x));
      p += len;
    } else {
      p = PutVarint(p, v);
    }
  }
  return p;
}

uint8_t* PutVarintsBytewise(uint8_t* p, std::span<const uint64_t> rows) {
  for (const uint64_t v : rows) p = PutVarint(p, v);
  return p;
}

// The row ids as one packed field of `payload` bytes (omitted when empty).
uint8_t* PutIds(uint8_t* p, const uint8_t* end, std::span<const uint64_t> rows, size_t payload) {
  if (payload == 0) return p;
  *p++ = kRowIdsTag;
  p = PutVarint(p, payload);
  return isa.bmi2 ? PutVarintsBmi2(p, end, rows) : PutVarintsBytewise(p, rows);
}

grpc::ByteBuffer ToByteBuffer(grpc_slice slice) {
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

}  // namespace

void UsePortableBatchEncodingForTesting(bool portable) {
  isa = portable ? Isa{false, false} : Isa();
}

grpc::ByteBuffer EncodeSampleBatch(std::span<const uint64_t> rows, const double* weights,
                                   std::string_view columns, int64_t offset, int64_t total) {
  const size_t ids = IdsPayload(rows);
  const size_t weight_bytes = weights == nullptr ? 0 : rows.size() * sizeof(double);
  const size_t size = PackedSize(ids) + PackedSize(weight_bytes) + columns.size() +
                      ScalarSize(offset) + ScalarSize(total);
  grpc_slice slice = grpc_slice_malloc(size);
  uint8_t* p = GRPC_SLICE_START_PTR(slice);
  uint8_t* const end = p + size;
  p = PutIds(p, end, rows, ids);
  if (weight_bytes > 0) {
    *p++ = kWeightsTag;
    p = PutVarint(p, weight_bytes);
    std::memcpy(p, weights, weight_bytes);
    p += weight_bytes;
  }
  if (!columns.empty()) {
    std::memcpy(p, columns.data(), columns.size());
    p += columns.size();
  }
  p = PutScalar(p, kOffsetTag, offset);
  PutScalar(p, kTotalTag, total);
  return ToByteBuffer(slice);
}

grpc::ByteBuffer EncodeShuffleBatch(std::span<const uint64_t> rows, int64_t next_offset) {
  const size_t ids = IdsPayload(rows);
  const size_t size = PackedSize(ids) + ScalarSize(next_offset);
  grpc_slice slice = grpc_slice_malloc(size);
  uint8_t* p = GRPC_SLICE_START_PTR(slice);
  p = PutIds(p, p + size, rows, ids);
  PutScalar(p, kNextOffsetTag, next_offset);
  return ToByteBuffer(slice);
}

}  // namespace urn::server
