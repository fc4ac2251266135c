// DurableWeightStore: a weights::WeightStore whose every acknowledged change survives a crash,
// kept in the metadata store's RocksDB as a log of changes plus fuzzy snapshots.
//
// Keys, for a store with id ID (any string of [0-9a-z], fixed at creation):
//   wlog/ID/<position, 16 hex digits>            one change record per mutation (the log)
//   wsnap/ID/<position>/<chunk, 16 hex digits>   the chunks of the snapshot taken at position
//   whead/ID                                     the head of the latest complete snapshot
// (record formats: weights/weight_store_codec.h).
//
// Writes. A mutation is validated whole and planned (WeightStore::Plan*: its physical change
// computed, nothing changed), the change is appended to the log as one RocksDB write, and only
// then made in memory (WeightStore::Commit), all under one mutex per store, so the log's order is
// the order in which changes were made and no draw or read ever sees a change before its log
// write succeeded (which, without `sync_every_write`, a host crash may still undo). The call
// returns OK only after the write: with `sync_every_write` it is fsync'ed (survives a host crash),
// otherwise it is in the operating system (survives kill -9; a host crash may lose what came after
// the last SyncWal(), which the server calls every --fsync-interval). If the log write fails,
// nothing changes in memory, the call fails, and the store refuses every later mutation
// (Unavailable): a failed write may still have reached the disk, and memory and log would diverge
// if the store went on.
//
// Snapshots (an ARIES-style fuzzy checkpoint): remember the last log position s and the ring
// position, then copy the store chunk by chunk (one short shared lock per chunk of
// `chunk_slots` slots, so draws and updates are never blocked for long), write the chunks, then
// write the head (synced), then delete the log up to s and the previous snapshot. A chunk may
// hold changes made after s; replaying the log after s on top is still exact because changes
// are idempotent redo records (weights/weight_store.h). A crash at any point leaves the previous
// head, or the new one, valid.
//
// Recovery: load the head's snapshot, rebuild the tree, replay every log record after its
// position in order, check that positions are contiguous and the key index consistent, and
// remove leftovers of interrupted snapshots. Anything missing or damaged is DataLoss naming the
// store, the record and the reason; a damaged store is never served.
//
// Complexity: a mutation of k items O(k log n) plus one RocksDB write of ~16k bytes; a snapshot
// O(n) (all-zero chunks take a few bytes); recovery O(n + log).
//
// Thread safety: all methods may be called concurrently.
#ifndef URN_STORAGE_DURABLE_WEIGHT_STORE_H_
#define URN_STORAGE_DURABLE_WEIGHT_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "storage/metadata_store.h"
#include "weights/weight_store.h"

namespace urn::storage {

class DurableWeightStore {
 public:
  struct Config {
    // fsync each log write before acknowledging (--fsync=always).
    bool sync_every_write = false;
    // Slots per snapshot chunk.
    uint64_t chunk_slots = uint64_t{1} << 16;
  };

  // A new, empty store (nothing is written until the first mutation). REQUIRES: `db` outlives
  // the store; no other store uses `id`.
  static absl::StatusOr<std::unique_ptr<DurableWeightStore>> Create(
      MetadataStore* db, std::string id, const weights::WeightStoreOptions& options, Config config);
  // The store as it was at its last acknowledged mutation. DataLoss naming the damage.
  static absl::StatusOr<std::unique_ptr<DurableWeightStore>> Recover(
      MetadataStore* db, std::string id, const weights::WeightStoreOptions& options, Config config);
  // Deletes every record of store `id` (synced).
  static absl::Status Erase(MetadataStore* db, const std::string& id);

  // Reads and draws go to the in-memory store directly. Do not mutate it directly.
  weights::WeightStore& store() { return *store_; }
  const weights::WeightStore& store() const { return *store_; }

  // The mutations of weights::WeightStore, durable when they return OK.
  absl::StatusOr<std::vector<uint64_t>> Insert(absl::Span<const std::string> keys,
                                               absl::Span<const double> priorities);
  absl::Status UpdateSlots(absl::Span<const uint64_t> slots, absl::Span<const double> priorities);
  // Keys that are not stored are skipped (their indexes returned); nothing is logged when none
  // of the keys is stored.
  absl::StatusOr<std::vector<size_t>> UpdateKeys(absl::Span<const std::string> keys,
                                                 absl::Span<const double> priorities);

  // Refuses every later mutation and snapshot with `why` (e.g. the store is being deleted), after
  // any mutation in progress has been logged.
  void Close(const absl::Status& why);

  // Writes a snapshot and truncates the log before it (see above).
  absl::Status Snapshot();
  // Bytes appended to the log since the last snapshot.
  uint64_t LogBytesSinceSnapshot() const;
  // The position of the last logged change (0 before the first).
  uint64_t LogPosition() const;

 private:
  DurableWeightStore(MetadataStore* db, std::string id, Config config,
                     std::unique_ptr<weights::WeightStore> store)
      : db_(db), id_(std::move(id)), config_(config), store_(std::move(store)) {}

  // Appends a change planned under log_mu_.
  absl::Status Append(const weights::WeightStore::Change& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_);
  // A plan's error, or its change appended to the log and then committed to the store (which
  // takes the plan's keys).
  absl::Status LogAndCommit(absl::StatusOr<weights::WeightStore::Plan>& plan)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_);
  absl::Status CheckWritable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_);

  MetadataStore* const db_;
  const std::string id_;
  const Config config_;
  const std::unique_ptr<weights::WeightStore> store_;

  mutable absl::Mutex log_mu_;  // taken after snapshot_mu_ when both are held
  uint64_t position_ ABSL_GUARDED_BY(log_mu_) = 0;
  uint64_t bytes_since_snapshot_ ABSL_GUARDED_BY(log_mu_) = 0;
  absl::Status broken_ ABSL_GUARDED_BY(log_mu_);

  absl::Mutex snapshot_mu_;  // one snapshot at a time
  uint64_t snapshot_position_ ABSL_GUARDED_BY(snapshot_mu_) = 0;
  bool has_snapshot_ ABSL_GUARDED_BY(snapshot_mu_) = false;
};

}  // namespace urn::storage

#endif  // URN_STORAGE_DURABLE_WEIGHT_STORE_H_
