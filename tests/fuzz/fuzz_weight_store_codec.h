// The body of the weight-store durability fuzz target (fuzz_weight_store_codec.cc) and of its
// corpus replay (tests/core/fuzz_corpus_test.cc): a snapshot plus a log of changes, as urnd
// stores a weight store (storage/durable_weight_store.h), restores the store exactly, and when
// damaged is refused with the documented codes, never a crash nor a store that is not whole.
//
// Input: byte 0 gives the capacity (1 + b % 32), byte 1 the slots per snapshot chunk
// (1 + b % 8), byte 2 alpha (bits 0-1: 1, 0.5, 0, 2) and the initial priority (bit 2: 2.5, else
// the largest seen), byte 3 the number of operations, then the operations, 3 bytes each,
// [kind][a][b] by kind % 4: insert the key "k<a % 16>" with priority b / 8 (the initial priority
// when b is 255); set slot a (perhaps out of range) to b / 8; set the key "k<a % 16>" (perhaps
// unknown) to b / 8; take the snapshot (the first time only: changes before it are in the
// snapshot, changes after it in the log; without one, the snapshot is of the empty store).
// Then damages, 4 bytes each, applied to the records [head, chunks..., changes...] as
// fuzz_table_codec.h applies them to blocks, each record's checksum recomputed.
// The records are restored as DurableWeightStore::Recover does (head, its chunks, position,
// Rebuild, each change, CheckConsistent). Then:
//   - undamaged, the restored store equals the original: priorities, keys, ring position, the
//     tree's total bit for bit, and the draws of a seed;
//   - damaged, restoring fails with DataLoss (a record), InvalidArgument (a record that cannot
//     belong to the store) or Internal (the key index), or gives a consistent store whose draws
//     are slots in range with a positive priority and an importance weight in [0, 1].
// Anything else aborts.
#ifndef URN_TESTS_FUZZ_FUZZ_WEIGHT_STORE_CODEC_H_
#define URN_TESTS_FUZZ_FUZZ_WEIGHT_STORE_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz_table_codec.h"
#include "weights/weight_store.h"
#include "weights/weight_store_codec.h"

namespace urn::weights::fuzz {

using Store = std::unique_ptr<WeightStore>;

// Runs the operations on `store`, recording into `snapshot` (head and chunks, at the first
// snapshot operation) and `log` (the changes after it).
inline void Run(std::string_view ops, uint64_t chunk_slots, WeightStore& store,
                std::vector<std::string>& snapshot, std::vector<std::string>& log) {
  const auto take_snapshot = [&] {
    SnapshotHead head;
    head.position = store.position();
    head.chunks = (store.capacity() + chunk_slots - 1) / chunk_slots;
    snapshot.push_back(EncodeSnapshotHead(head));
    for (uint64_t first = 0; first < store.capacity(); first += chunk_slots) {
      const uint64_t n = std::min(chunk_slots, store.capacity() - first);
      snapshot.push_back(EncodeChunk(store.ExportChunk(first, n)));
    }
  };
  bool snapshot_taken = false;
  for (size_t i = 0; i + 3 <= ops.size(); i += 3) {
    const auto kind = static_cast<uint8_t>(ops[i]) % 4;
    const auto a = static_cast<uint8_t>(ops[i + 1]);
    const auto b = static_cast<uint8_t>(ops[i + 2]);
    const std::string key = absl::StrCat("k", a % 16);
    const double priority = b / 8.0;
    if (kind == 3) {
      if (!snapshot_taken) take_snapshot();
      snapshot_taken = true;
      continue;
    }
    WeightStore::Change change;
    WeightStore::Change* record = snapshot_taken ? &change : nullptr;
    absl::Status s;
    if (kind == 0) {
      std::vector<double> p;
      if (b != 255) p.push_back(priority);
      s = store.Insert({key}, p, record).status();
    } else if (kind == 1) {
      s = store.UpdateSlots({a}, {priority}, record);
    } else {
      s = store.UpdateKeys({key}, {priority}, record).status();
    }
    if (s.ok() && record != nullptr) log.push_back(EncodeChange(change));
  }
}

// Restores the records into `store` (fresh from Create) as DurableWeightStore::Recover does.
inline absl::Status Restore(const std::vector<std::string>& records, WeightStore& store) {
  if (records.empty()) return absl::DataLossError("no snapshot head");
  absl::StatusOr<SnapshotHead> head = DecodeSnapshotHead(records[0]);
  if (!head.ok()) return head.status();
  size_t at = 1;
  for (uint64_t c = 0; c < head->chunks; ++c, ++at) {
    if (at >= records.size()) return absl::DataLossError("snapshot chunk missing");
    absl::StatusOr<WeightStore::Chunk> chunk = DecodeChunk(records[at], store.capacity());
    if (!chunk.ok()) return chunk.status();
    if (absl::Status s = store.ImportChunk(*chunk); !s.ok()) return s;
  }
  if (absl::Status s = store.SetPosition(head->position); !s.ok()) return s;
  if (absl::Status s = store.Rebuild(); !s.ok()) return s;
  for (; at < records.size(); ++at) {
    absl::StatusOr<WeightStore::Change> change = DecodeChange(records[at]);
    if (!change.ok()) return change.status();
    if (absl::Status s = store.ApplyChange(*change); !s.ok()) return s;
  }
  return store.CheckConsistent();
}

// Everything a user can observe of a store, as text (draws with a fixed seed included).
inline std::string Describe(const WeightStore& store) {
  const WeightStore::Chunk all = store.ExportChunk(0, store.capacity());
  std::string out = absl::StrCat("next ", store.position().next_slot, " max ",
                                 store.position().max_priority, " total ", store.total(), "\n");
  for (double p : all.priorities) absl::StrAppend(&out, p, " ");
  for (const auto& [slot, key] : all.keys) absl::StrAppend(&out, "\n", slot, "=", key);
  return out;
}

inline std::string Draws(WeightStore& store) {
  WeightStore::SampleRequest request;
  request.batch_size = 8;
  request.seed = 1;
  absl::StatusOr<std::vector<WeightStore::Draw>> draws = store.Sample(request);
  if (!draws.ok()) return draws.status().ToString();
  std::string out;
  for (const WeightStore::Draw& d : *draws) {
    if (d.slot >= store.capacity() || !(d.priority > 0) || !(d.importance_weight >= 0) ||
        !(d.importance_weight <= 1)) {
      return absl::StrCat("bad draw: slot ", d.slot, " priority ", d.priority, " weight ",
                          d.importance_weight);
    }
    absl::StrAppend(&out, d.slot, ":", d.key, ":", d.probability, ":", d.importance_weight, " ");
  }
  return out;
}

// Empty when the input keeps the promises above; otherwise what went wrong.
inline std::string DurabilityViolation(const uint8_t* data, size_t size) {
  if (size < 4) return std::string();
  WeightStoreOptions options;
  options.capacity = 1 + data[0] % 32;
  const uint64_t chunk_slots = 1 + data[1] % 8;
  constexpr double kAlphas[] = {1, 0.5, 0, 2};
  options.alpha = kAlphas[data[2] & 3];
  if (data[2] & 4) options.initial_priority = 2.5;
  const std::string_view rest(reinterpret_cast<const char*>(data + 4), size - 4);
  const std::string_view ops = rest.substr(0, std::min<size_t>(rest.size(), 3 * size_t{data[3]}));
  const std::string_view damages = rest.substr(ops.size());

  std::string program(ops.substr(0, ops.size() / 3 * 3));
  bool snapshot_op = false;
  for (size_t i = 0; i < program.size(); i += 3)
    snapshot_op |= static_cast<uint8_t>(program[i]) % 4 == 3;
  if (!snapshot_op) program.insert(0, std::string("\x03\x00\x00", 3));  // of the empty store

  Store original = *WeightStore::Create(options);
  std::vector<std::string> snapshot, log;
  Run(program, chunk_slots, *original, snapshot, log);
  std::vector<std::string> records = std::move(snapshot);
  for (std::string& change : log) records.push_back(std::move(change));
  table::fuzz::Blocks blocks;
  for (std::string& r : records) blocks.emplace_back(std::string(), std::move(r));
  table::fuzz::Damage(damages, blocks);
  records.clear();
  for (auto& [name, bytes] : blocks) records.push_back(std::move(bytes));

  Store restored = *WeightStore::Create(options);
  const absl::Status s = Restore(records, *restored);
  if (damages.size() < 4) {
    if (!s.ok()) return "undamaged records did not restore: " + s.ToString();
    const std::string want = Describe(*original), got = Describe(*restored);
    if (want != got) return "the restored store differs\nwant:\n" + want + "\ngot:\n" + got;
    const std::string want_draws = Draws(*original), got_draws = Draws(*restored);
    if (want_draws != got_draws) {
      return "the restored store draws differently\nwant: " + want_draws + "\ngot: " + got_draws;
    }
    return std::string();
  }
  if (!s.ok()) {
    if (absl::IsDataLoss(s) || absl::IsInvalidArgument(s) || absl::IsInternal(s)) {
      return std::string();
    }
    return "damage gave an undocumented status: " + s.ToString();
  }
  const std::string draws = Draws(*restored);
  if (draws.rfind("bad draw", 0) == 0) return draws;
  return std::string();
}

inline int FuzzDurability(const uint8_t* data, size_t size) {
  return table::fuzz::AbortOnViolation(DurabilityViolation(data, size));
}

}  // namespace urn::weights::fuzz

#endif  // URN_TESTS_FUZZ_FUZZ_WEIGHT_STORE_CODEC_H_
