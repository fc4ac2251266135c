// The durable byte formats of a weight store (see weight_store.h, "Durability support"):
//  - a change record: one WeightStore::Change, the unit of the priority log;
//  - a snapshot chunk: one WeightStore::Chunk (a range of slots' priorities and keys);
//  - a snapshot head: the log position a snapshot starts from, its chunk count and the store's
//    WeightStore::Position at that log position.
// Each is little-endian, starts with a 4-byte tag and a version, and ends with the XXH3-64 of
// everything before it. Decoding is total: any byte string that is not an intact record gives
// DataLoss saying what is wrong (truncated, checksum, tag, version, or an impossible field) and
// never crashes or reads out of bounds. Encoding is O(size), decoding O(size).
#ifndef URN_WEIGHTS_WEIGHT_STORE_CODEC_H_
#define URN_WEIGHTS_WEIGHT_STORE_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "weights/weight_store.h"

namespace urn::weights {

std::string EncodeChange(const WeightStore::Change& change);
absl::StatusOr<WeightStore::Change> DecodeChange(std::string_view bytes);

std::string EncodeChunk(const WeightStore::Chunk& chunk);
// `capacity` is the store's: a chunk whose slots reach past it is refused before anything is
// allocated (an all-zero chunk of 2^31 slots is 41 bytes, its priorities 16 GiB).
absl::StatusOr<WeightStore::Chunk> DecodeChunk(std::string_view bytes, uint64_t capacity);

struct SnapshotHead {
  uint64_t log_position = 0;  // the snapshot holds every change up to this one (and maybe more)
  uint64_t chunks = 0;        // chunks 0 .. chunks-1
  WeightStore::Position position;
};
std::string EncodeSnapshotHead(const SnapshotHead& head);
absl::StatusOr<SnapshotHead> DecodeSnapshotHead(std::string_view bytes);

}  // namespace urn::weights

#endif  // URN_WEIGHTS_WEIGHT_STORE_CODEC_H_
