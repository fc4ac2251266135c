// Wire encoding of the batches the Sampling streams send, written straight into one gRPC
// slice: byte for byte what the generated v1::SampleBatch / v1::ShuffleBatch
// SerializeToString give for the same fields (fields in number order, repeated scalars
// packed, proto3 defaults omitted), so every client parses them as before.
//
// Why not the generated serializer: under 32 streams of 1024-row weighted batches (urn_load),
// copying the drawn ids into the message's repeated field, sizing each varint and
// serializing the field took ~11 us of CPU per batch, a fifth of urnd's share: the message's
// 8 KiB of ids are cold by the time it is reused (written two batches ago, read by gRPC on
// either core). Here the ids are read once from the buffer they were just drawn into and
// each varint is formed without a loop.
//
// Complexity: O(n) for n rows, two passes over the ids (sizes, then bytes), no allocation
// but the slice itself. Input: row ids < 2^63 (they are int64 on the wire); offsets >= 0.
#ifndef URN_SERVER_SAMPLING_BATCH_ENCODER_H_
#define URN_SERVER_SAMPLING_BATCH_ENCODER_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "grpcpp/support/byte_buffer.h"

namespace urn::server {

// A SampleBatch: row_ids = rows, weights = weights[0..rows.size()) (none when null),
// `columns` = the already serialized columns field (the bytes of a SampleBatch that holds
// only columns; may be empty), offset and total.
grpc::ByteBuffer EncodeSampleBatch(std::span<const uint64_t> rows, const double* weights,
                                   std::string_view columns, int64_t offset, int64_t total);

// A ShuffleBatch: row_ids = rows, next_offset.
grpc::ByteBuffer EncodeShuffleBatch(std::span<const uint64_t> rows, int64_t next_offset);

// For tests: encode as on a CPU without BMI2 and AVX-512 CD (true), or as this CPU allows.
// Not thread-safe; the output is the same either way.
void UsePortableBatchEncodingForTesting(bool portable);

}  // namespace urn::server

#endif  // URN_SERVER_SAMPLING_BATCH_ENCODER_H_
