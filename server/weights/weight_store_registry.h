// WeightStoreRegistry: the weight stores urnd holds, by (owner, name), each a
// storage::DurableWeightStore whose definition is a synced record "wstore/<owner>/<name>".
//
// Load() recovers every store (snapshot + log). A store that cannot be recovered stays listed
// as damaged: Get() returns DataLoss naming it and the damage, so it is never served, and
// Delete() still removes it. Deleting writes a tombstone with the record's removal (one synced
// write), then erases the store's log and snapshots, then the tombstone; Load() finishes any
// deletion a crash interrupted.
//
// The synced record writes of Create and Delete run outside the registry's lock, so Get, List
// and every other tenant's calls go on during their fsync. While a create writes, its name is
// reserved (taken, and counted against the owner's plan) but not served or listed; while a
// delete writes, the store is still served, and a second Delete of it, or a Create of its name,
// is ABORTED. DeleteOwner waits for both.
//
// Maintenance: SnapshotDue() snapshots every store whose log grew past its threshold (the
// larger of `snapshot_log_bytes` and twice the store's snapshot size), and SyncLog() fsyncs the
// log; urnd calls each from its own background thread every --fsync-interval, so that a long
// snapshot never delays the fsync.
//
// Thread safety: all methods may be called concurrently. A store, once returned, stays valid
// (shared_ptr) even if it is deleted meanwhile.
#ifndef URN_SERVER_WEIGHTS_WEIGHT_STORE_REGISTRY_H_
#define URN_SERVER_WEIGHTS_WEIGHT_STORE_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "retired.h"
#include "storage/durable_weight_store.h"
#include "storage/metadata_store.h"
#include "test_hook.h"
#include "urn/internal/records.pb.h"

namespace urn::server {

struct HostedWeightStore {
  internal::WeightStoreRecord record;
  // Null when the store is damaged; `damage` says how.
  std::unique_ptr<storage::DurableWeightStore> durable;
  absl::Status damage;
};

class WeightStoreRegistry {
 public:
  // REQUIRES: `db` outlives the registry.
  WeightStoreRegistry(storage::MetadataStore* db, storage::DurableWeightStore::Config config,
                      uint64_t snapshot_log_bytes = uint64_t{64} << 20)
      : db_(db), config_(config), snapshot_log_bytes_(snapshot_log_bytes) {}

  absl::Status Load();

  // Creates and persists an empty store. ALREADY_EXISTS when the owner has one of that name (or
  // one is being created), ABORTED while one of that name is being deleted.
  // `admit` gets the number of stores the owner would have with this one and may refuse with its
  // error; it runs under the registry's lock, so concurrent creates cannot all pass it.
  // REQUIRES: the record's name, capacity and alpha were validated.
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> Create(
      internal::WeightStoreRecord record, absl::FunctionRef<absl::Status(int64_t stores)> admit =
                                              [](int64_t) { return absl::OkStatus(); });
  // For tests: Create runs `hook` between its first check and the authoritative one that
  // reserves the name (outside the lock), where a concurrent deletion of the owner may fall.
  void SetBeforeRegisterForTesting(std::function<void()> hook) {
    before_register_.Set(std::move(hook));
  }
  // For tests: Create and Delete run `hook` just before their synced record write, outside the
  // lock.
  void SetWritingForTesting(std::function<void()> hook) { writing_.Set(std::move(hook)); }
  // NOT_FOUND unless `owner` has a store `name`; DATA_LOSS when it is damaged.
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> Get(const std::string& owner,
                                                         const std::string& name) const;
  // At most `limit` stores of `owner` (every owner's when empty) after (after_owner, after_name).
  std::vector<std::shared_ptr<HostedWeightStore>> List(const std::string& owner,
                                                       const std::string& after_owner,
                                                       const std::string& after_name,
                                                       size_t limit) const;
  // NOT_FOUND unless `owner` has a store `name`; ABORTED while another Delete of it writes (its
  // outcome is not known yet: try again).
  absl::Status Delete(const std::string& owner, const std::string& name);
  // Deletes every store of `owner` and returns how many. REQUIRES: `owner` can no longer create
  // stores (their keys are invalid, so `admit` refuses). Waits for creates that passed `admit`
  // and for deletes under way, so that no store of `owner` outlives the call.
  absl::StatusOr<int> DeleteOwner(const std::string& owner);
  // Number of weight stores `owner` has (damaged ones included).
  size_t Count(const std::string& owner) const;
  // Number of weight stores of every owner (damaged ones included).
  size_t CountAll() const;
  // Memory of every owner's stores together: MemoryBudget::kStoreBytesPerSlot a slot (damaged
  // stores too) plus their stored keys (WeightStore::KeyMemoryBytes); deleted stores count, as
  // they were when deleted, until the last stream holding them ends.
  int64_t MemoryBytes() const;
  // The same for `owner`'s stores only.
  int64_t MemoryBytes(const std::string& owner) const;

  // Background maintenance (see above).
  void SnapshotDue();
  absl::Status SyncLog() { return db_->SyncWal(); }
  // Snapshots every store now (tests, shutdown).
  absl::Status SnapshotAll();

 private:
  using Key = std::pair<std::string, std::string>;  // (owner, name)
  // Stores `owner` has, with those being created (what `admit` counts).
  int64_t CountLocked(const std::string& owner) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // OK when a new store may take `key`'s name: ALREADY_EXISTS when a store has it or is being
  // created with it, ABORTED while one of that name is being deleted.
  absl::Status NameFree(const Key& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::vector<std::shared_ptr<HostedWeightStore>> All() const;

  storage::MetadataStore* const db_;
  const storage::DurableWeightStore::Config config_;
  const uint64_t snapshot_log_bytes_;
  mutable absl::Mutex mu_;
  std::map<Key, std::shared_ptr<HostedWeightStore>> stores_ ABSL_GUARDED_BY(mu_);
  // Names reserved by a create that writes its record; not in stores_.
  std::set<Key> creating_ ABSL_GUARDED_BY(mu_);
  // Stores in stores_ whose Delete writes the record's removal.
  std::set<Key> deleting_ ABSL_GUARDED_BY(mu_);
  // Deleted stores that streams still hold: counted by MemoryBytes().
  Retired<HostedWeightStore> retired_ ABSL_GUARDED_BY(mu_);
  TestHook before_register_;
  TestHook writing_;
};

// The core options a record describes.
weights::WeightStoreOptions StoreOptionsOf(const internal::WeightStoreRecord& record);

}  // namespace urn::server

#endif  // URN_SERVER_WEIGHTS_WEIGHT_STORE_REGISTRY_H_
