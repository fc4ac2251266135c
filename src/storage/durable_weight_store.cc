#include "storage/durable_weight_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "weights/weight_store_codec.h"

namespace urn::storage {
namespace {

using weights::WeightStore;

std::string Hex(uint64_t v) { return absl::StrFormat("%016x", v); }
std::string LogPrefix(const std::string& id) { return absl::StrCat("wlog/", id, "/"); }
std::string LogKey(const std::string& id, uint64_t position) {
  return absl::StrCat(LogPrefix(id), Hex(position));
}
std::string SnapshotPrefix(const std::string& id) { return absl::StrCat("wsnap/", id, "/"); }
// Every chunk of the snapshot taken at `position`.
std::string SnapshotChunksPrefix(const std::string& id, uint64_t position) {
  return absl::StrCat(SnapshotPrefix(id), Hex(position), "/");
}
std::string SnapshotKey(const std::string& id, uint64_t position, uint64_t chunk) {
  return absl::StrCat(SnapshotChunksPrefix(id, position), Hex(chunk));
}
std::string HeadKey(const std::string& id) { return absl::StrCat("whead/", id); }

absl::Status Damaged(const std::string& id, const std::string& what, const absl::Status& why) {
  return absl::DataLossError(
      absl::StrCat("weight store ", id, ": ", what, ": ", std::string(why.message())));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DurableWeightStore>> DurableWeightStore::Create(
    MetadataStore* db, std::string id, const weights::WeightStoreOptions& options, Config config) {
  absl::StatusOr<std::unique_ptr<WeightStore>> store = WeightStore::Create(options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<DurableWeightStore>(
      new DurableWeightStore(db, std::move(id), config, *std::move(store)));
}

absl::StatusOr<std::unique_ptr<DurableWeightStore>> DurableWeightStore::Recover(
    MetadataStore* db, std::string id, const weights::WeightStoreOptions& options, Config config) {
  absl::StatusOr<std::unique_ptr<WeightStore>> created = WeightStore::Create(options);
  if (!created.ok()) return created.status();
  WeightStore& store = **created;

  // The latest complete snapshot, if any.
  std::optional<weights::SnapshotHead> head;
  absl::StatusOr<std::optional<std::string>> head_bytes = db->Get(HeadKey(id));
  if (!head_bytes.ok()) return head_bytes.status();
  if (head_bytes->has_value()) {
    absl::StatusOr<weights::SnapshotHead> decoded = weights::DecodeSnapshotHead(**head_bytes);
    if (!decoded.ok()) return Damaged(id, "snapshot head", decoded.status());
    head = *decoded;
    for (uint64_t c = 0; c < head->chunks; ++c) {
      const std::string key = SnapshotKey(id, head->log_position, c);
      absl::StatusOr<std::optional<std::string>> bytes = db->Get(key);
      if (!bytes.ok()) return bytes.status();
      if (!bytes->has_value()) {
        return Damaged(id, key, absl::DataLossError("snapshot chunk missing"));
      }
      absl::StatusOr<WeightStore::Chunk> chunk = weights::DecodeChunk(**bytes, options.capacity);
      if (!chunk.ok()) return Damaged(id, key, chunk.status());
      if (absl::Status s = store.ImportChunk(*chunk); !s.ok()) return Damaged(id, key, s);
    }
    if (absl::Status s = store.SetPosition(head->position); !s.ok()) {
      return Damaged(id, "snapshot head", s);
    }
  }
  if (absl::Status s = store.Rebuild(); !s.ok()) return Damaged(id, "snapshot", s);

  // Replay the log after the snapshot, in order, with no gaps.
  const uint64_t from = head ? head->log_position : 0;
  uint64_t position = from;
  uint64_t bytes_replayed = 0;
  absl::Status replay;
  const std::string prefix = LogPrefix(id);
  absl::Status scan =
      db->ScanFrom(prefix, LogKey(id, from + 1), [&](std::string_view key, std::string_view value) {
        const std::string name(key);
        uint64_t at = 0;
        if (!absl::SimpleHexAtoi(std::string(key.substr(prefix.size())), &at)) {
          replay = Damaged(id, name, absl::DataLossError("bad log key"));
          return false;
        }
        if (at != position + 1) {
          replay = Damaged(id, name,
                           absl::DataLossError(absl::StrFormat(
                               "log record %d follows %d: records are missing", at, position)));
          return false;
        }
        absl::StatusOr<WeightStore::Change> change = weights::DecodeChange(value);
        if (!change.ok()) {
          replay = Damaged(id, name, change.status());
          return false;
        }
        if (absl::Status s = store.ApplyChange(*change); !s.ok()) {
          replay = Damaged(id, name, s);
          return false;
        }
        position = at;
        bytes_replayed += value.size();
        return true;
      });
  if (!scan.ok()) return scan;
  if (!replay.ok()) return replay;
  if (absl::Status s = store.CheckConsistent(); !s.ok()) return Damaged(id, "key index", s);

  // Leftovers: log records the last snapshot covers, and chunks of other snapshots.
  if (absl::Status s = db->DeleteRange(LogKey(id, 0), LogKey(id, from + 1)); !s.ok()) return s;
  // Without a head, a chunk of a snapshot taken beyond the end of the log means the head was
  // lost after the log it covered was truncated: the store cannot be rebuilt. (Chunks of a
  // snapshot that crashed before its head are at or below the log's end, as the log is truncated
  // only after the head is written.)
  std::vector<std::pair<std::string, std::optional<std::string>>> stale;
  const std::string keep = head ? SnapshotChunksPrefix(id, from) : std::string();
  const std::string chunks = SnapshotPrefix(id);
  absl::Status headless;
  const auto sort_chunk = [&](std::string_view key, std::string_view) {
    uint64_t taken_at = 0;
    if (!head && absl::SimpleHexAtoi(std::string(key.substr(chunks.size(), 16)), &taken_at) &&
        taken_at > position) {
      headless = Damaged(id, "snapshot head",
                         absl::DataLossError(absl::StrFormat(
                             "missing, while %s holds a snapshot taken at log position %d and "
                             "the log ends at %d",
                             key, taken_at, position)));
      return false;
    }
    if (keep.empty() || key.substr(0, keep.size()) != keep) {
      stale.emplace_back(std::string(key), std::nullopt);
    }
    return true;
  };
  if (absl::Status s = db->Scan(chunks, sort_chunk); !s.ok()) return s;
  if (!headless.ok()) return headless;
  if (!stale.empty()) {
    if (absl::Status s = db->Write(stale); !s.ok()) return s;
  }

  auto durable = std::unique_ptr<DurableWeightStore>(
      new DurableWeightStore(db, std::move(id), config, *std::move(created)));
  {
    absl::MutexLock lock(&durable->log_mu_);
    durable->position_ = position;
    durable->bytes_since_snapshot_ = bytes_replayed;
  }
  absl::MutexLock lock(&durable->snapshot_mu_);
  durable->snapshot_position_ = from;
  durable->has_snapshot_ = head.has_value();
  return durable;
}

absl::Status DurableWeightStore::Erase(MetadataStore* db, const std::string& id) {
  for (const std::string& prefix : {LogPrefix(id), SnapshotPrefix(id)}) {
    if (absl::Status s = db->DeletePrefix(prefix); !s.ok()) return s;
  }
  return db->Delete(HeadKey(id));
}

absl::Status DurableWeightStore::CheckWritable() const {
  if (broken_.ok()) return absl::OkStatus();
  if (absl::IsFailedPrecondition(broken_)) return broken_;  // closed on purpose
  return absl::UnavailableError(absl::StrCat(
      "weight store refuses writes after a failed log write: ", std::string(broken_.message())));
}

void DurableWeightStore::Close(const absl::Status& why) {
  absl::MutexLock snapshot_lock(&snapshot_mu_);  // waits for a snapshot in progress
  absl::MutexLock lock(&log_mu_);
  broken_ = absl::FailedPreconditionError(std::string(why.message()));
}

absl::Status DurableWeightStore::Append(const WeightStore::Change& change) {
  const std::string bytes = weights::EncodeChange(change);
  absl::Status s =
      db_->Write({{LogKey(id_, position_ + 1), bytes}},
                 config_.sync_every_write ? Durability::kSynced : Durability::kProcess);
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  ++position_;
  bytes_since_snapshot_ += bytes.size();
  return absl::OkStatus();
}

absl::Status DurableWeightStore::LogAndCommit(absl::StatusOr<WeightStore::Plan>& plan) {
  if (!plan.ok()) return plan.status();
  if (absl::Status s = Append(plan->change); !s.ok()) return s;
  if (absl::Status s = store_->Commit(*plan); !s.ok()) {
    // Cannot happen while every mutation goes through this class (under log_mu_); if it did,
    // the log would hold a change that memory does not.
    broken_ = absl::InternalError(absl::StrCat("logged change not made: ", s.message()));
    return broken_;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> DurableWeightStore::Insert(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) {
  absl::MutexLock lock(&log_mu_);
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (keys.empty()) return std::vector<uint64_t>();  // nothing to log (nor to fsync)
  absl::StatusOr<WeightStore::Plan> plan = store_->PlanInsert(keys, priorities);
  if (absl::Status s = LogAndCommit(plan); !s.ok()) return s;
  return std::move(plan->change.slots);
}

absl::Status DurableWeightStore::UpdateSlots(absl::Span<const uint64_t> slots,
                                             absl::Span<const double> priorities) {
  absl::MutexLock lock(&log_mu_);
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (slots.empty() && priorities.empty()) return absl::OkStatus();  // nothing to log
  absl::StatusOr<WeightStore::Plan> plan = store_->PlanUpdateSlots(slots, priorities);
  return LogAndCommit(plan);
}

absl::StatusOr<std::vector<size_t>> DurableWeightStore::UpdateKeys(
    absl::Span<const std::string> keys, absl::Span<const double> priorities) {
  absl::MutexLock lock(&log_mu_);
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::StatusOr<WeightStore::Plan> plan = store_->PlanUpdateKeys(keys, priorities);
  if (plan.ok() && plan->change.slots.empty()) return std::move(plan->skipped);
  if (absl::Status s = LogAndCommit(plan); !s.ok()) return s;
  return std::move(plan->skipped);
}

absl::Status DurableWeightStore::Snapshot() {
  absl::MutexLock snapshot_lock(&snapshot_mu_);
  weights::SnapshotHead head;
  {
    absl::MutexLock lock(&log_mu_);
    if (absl::Status s = CheckWritable(); !s.ok()) return s;
    head.log_position = position_;
    head.position = store_->position();
    bytes_since_snapshot_ = 0;
  }
  if (has_snapshot_ && head.log_position == snapshot_position_) return absl::OkStatus();
  const uint64_t capacity = store_->capacity();
  const uint64_t step = std::max<uint64_t>(1, config_.chunk_slots);
  head.chunks = (capacity + step - 1) / step;
  // Chunks go out in batches of about 8 MiB, each copied under its own short shared lock.
  std::vector<std::pair<std::string, std::optional<std::string>>> batch;
  size_t batch_bytes = 0;
  for (uint64_t c = 0; c < head.chunks; ++c) {
    const uint64_t first = c * step;
    std::string bytes =
        weights::EncodeChunk(store_->ExportChunk(first, std::min(step, capacity - first)));
    batch_bytes += bytes.size();
    batch.emplace_back(SnapshotKey(id_, head.log_position, c), std::move(bytes));
    if (batch_bytes >= (8 << 20) || c + 1 == head.chunks) {
      if (absl::Status s = db_->Write(batch, Durability::kProcess); !s.ok()) return s;
      batch.clear();
      batch_bytes = 0;
    }
  }
  // The chunks are synced first without holding RocksDB's write queue (SyncWAL), so that the
  // synced head write, which holds it through its fsync, has little left to sync: before, that
  // fsync flushed every chunk while other stores' updates waited behind it.
  if (absl::Status s = db_->SyncWal(); !s.ok()) return s;
  if (absl::Status s = db_->Write({{HeadKey(id_), weights::EncodeSnapshotHead(head)}}); !s.ok()) {
    return s;
  }
  if (has_snapshot_) {
    const std::string old_prefix = SnapshotChunksPrefix(id_, snapshot_position_);
    if (absl::Status s = db_->DeletePrefix(old_prefix, Durability::kProcess); !s.ok()) {
      return s;
    }
  }
  snapshot_position_ = head.log_position;
  has_snapshot_ = true;
  return db_->DeleteRange(LogKey(id_, 0), LogKey(id_, head.log_position + 1), Durability::kProcess);
}

uint64_t DurableWeightStore::LogBytesSinceSnapshot() const {
  absl::MutexLock lock(&log_mu_);
  return bytes_since_snapshot_;
}

uint64_t DurableWeightStore::LogPosition() const {
  absl::MutexLock lock(&log_mu_);
  return position_;
}

}  // namespace urn::storage
