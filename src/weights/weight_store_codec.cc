#include "weights/weight_store_codec.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "codec/checked_record.h"

namespace urn::weights {
namespace {

constexpr uint32_t kVersion = 1;
constexpr char kChangeTag[4] = {'u', 'w', 'c', 'g'};
constexpr char kChunkTag[4] = {'u', 'w', 'c', 'k'};
constexpr char kHeadTag[4] = {'u', 'w', 'h', 'd'};

using Reader = codec::RecordReader;

class Writer : public codec::RecordWriter {
 public:
  Writer(const char* tag, size_t reserve) : RecordWriter(tag, kVersion, reserve) {}
};

}  // namespace

std::string EncodeChange(const WeightStore::Change& change) {
  const size_t k = change.slots.size();
  Writer w(kChangeTag, 17 + 16 * k);
  w.Put<uint64_t>(k);
  w.Put<uint64_t>(change.next_slot);
  w.Put<uint8_t>(change.keys.empty() ? 0 : 1);
  for (uint64_t s : change.slots) w.Put<uint64_t>(s);
  for (double p : change.priorities) w.Put<double>(p);
  for (const std::string& key : change.keys) w.PutString(key);
  return w.Finish();
}

absl::StatusOr<WeightStore::Change> DecodeChange(std::string_view bytes) {
  absl::StatusOr<Reader> r = Reader::Open(bytes, kChangeTag, kVersion, "change record");
  if (!r.ok()) return r.status();
  uint64_t k = 0;
  uint8_t has_keys = 0;
  WeightStore::Change change;
  if (!r->Get(&k) || !r->Get(&change.next_slot) || !r->Get(&has_keys) || has_keys > 1) {
    return r->Damaged("bad header");
  }
  if (k > r->remaining() / 16) return r->Damaged(absl::StrFormat("%d slots do not fit", k));
  change.slots.resize(k);
  change.priorities.resize(k);
  for (uint64_t& s : change.slots) r->Get(&s);
  for (double& p : change.priorities) r->Get(&p);
  if (has_keys) {
    change.keys.resize(k);
    for (std::string& key : change.keys) {
      if (!r->GetString(&key)) return r->Damaged("truncated key");
    }
  }
  if (r->remaining() != 0) return r->Damaged("trailing bytes");
  return change;
}

std::string EncodeChunk(const WeightStore::Chunk& chunk) {
  bool all_zero = true;
  for (double p : chunk.priorities) all_zero = all_zero && p == 0 && !std::signbit(p);
  Writer w(kChunkTag, 25 + (all_zero ? 0 : 8 * chunk.priorities.size()) + 16 * chunk.keys.size());
  w.Put<uint64_t>(chunk.first);
  w.Put<uint64_t>(chunk.priorities.size());
  w.Put<uint8_t>(all_zero ? 1 : 0);
  if (!all_zero) {
    for (double p : chunk.priorities) w.Put<double>(p);
  }
  w.Put<uint64_t>(chunk.keys.size());
  for (const auto& [slot, key] : chunk.keys) {
    w.Put<uint64_t>(slot);
    w.PutString(key);
  }
  return w.Finish();
}

absl::StatusOr<WeightStore::Chunk> DecodeChunk(std::string_view bytes, uint64_t capacity) {
  absl::StatusOr<Reader> r = Reader::Open(bytes, kChunkTag, kVersion, "snapshot chunk");
  if (!r.ok()) return r.status();
  WeightStore::Chunk chunk;
  uint64_t count = 0, keys = 0;
  uint8_t all_zero = 0;
  if (!r->Get(&chunk.first) || !r->Get(&count) || !r->Get(&all_zero) || all_zero > 1) {
    return r->Damaged("bad header");
  }
  if (chunk.first > capacity || count > capacity - chunk.first) {
    return r->Damaged(absl::StrFormat("slots [%d, %d + %d) reach past the store's capacity %d",
                                      chunk.first, chunk.first, count, capacity));
  }
  if (!all_zero && count > r->remaining() / 8) {
    return r->Damaged(absl::StrFormat("%d priorities do not fit", count));
  }
  chunk.priorities.assign(count, 0.0);
  if (!all_zero) {
    for (double& p : chunk.priorities) r->Get(&p);
  }
  if (!r->Get(&keys) || keys > r->remaining() / 12) return r->Damaged("bad key count");
  chunk.keys.resize(keys);
  for (auto& [slot, key] : chunk.keys) {
    if (!r->Get(&slot) || !r->GetString(&key)) return r->Damaged("truncated key");
  }
  if (r->remaining() != 0) return r->Damaged("trailing bytes");
  return chunk;
}

std::string EncodeSnapshotHead(const SnapshotHead& head) {
  Writer w(kHeadTag, 32);
  w.Put<uint64_t>(head.log_position);
  w.Put<uint64_t>(head.chunks);
  w.Put<uint64_t>(head.position.next_slot);
  w.Put<double>(head.position.max_priority);
  return w.Finish();
}

absl::StatusOr<SnapshotHead> DecodeSnapshotHead(std::string_view bytes) {
  absl::StatusOr<Reader> r = Reader::Open(bytes, kHeadTag, kVersion, "snapshot head");
  if (!r.ok()) return r.status();
  SnapshotHead head;
  if (!r->Get(&head.log_position) || !r->Get(&head.chunks) || !r->Get(&head.position.next_slot) ||
      !r->Get(&head.position.max_priority) || r->remaining() != 0) {
    return r->Damaged("bad fields");
  }
  return head;
}

}  // namespace urn::weights
