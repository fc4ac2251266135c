// MetadataStore: the durable home of urn's metadata (users, keys, dataset and weight-store
// definitions, usage counters) in a RocksDB database under `<data-dir>/meta`.
//
// Promise: a Put or Write that returned OK is synced to disk (WriteOptions::sync), so an
// acknowledged metadata change survives a host crash. A Write with Durability::kProcess (used for
// the high-rate priority log) is in the operating system's hands when it returns: it survives a
// crash of the process (kill -9), and a host crash once SyncWal() or any later synced write
// returned.
//
// A failed write. Once any write or sync fails (a full disk, an I/O error), the store refuses
// every later write and sync with Unavailable naming that first failure, without calling RocksDB
// again: after a failed write RocksDB's log writer is in an error state in which a sync would abort
// the process (an assertion in Debian's build), and the state only clears when the database is
// reopened, i.e. urnd restarted. Reads go on. broken() says so (urnd's health turns NOT_SERVING).
// Open refuses a filesystem with less than kMinFreeBytes free (RocksDB aborts starting there).
//
// Thread safety: all methods may be called concurrently (RocksDB serializes writers).
#ifndef URN_STORAGE_METADATA_STORE_H_
#define URN_STORAGE_METADATA_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace rocksdb {
class DB;
}

namespace urn::storage {

enum class Durability {
  kSynced,   // fsync'ed before the call returns
  kProcess,  // written to the OS (survives the process, not the host, until synced)
};

class MetadataStore {
 public:
  // Opens (creating if needed) the store at `path`. Fails with FailedPrecondition when another
  // process holds the store, and with DataLoss when its files are damaged (a log damaged before
  // its last record included; a torn last record is dropped).
  static absl::StatusOr<std::unique_ptr<MetadataStore>> Open(const std::string& path);

  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // The value at `key`, or nullopt when absent.
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const;

  // Synced single write.
  absl::Status Put(std::string_view key, std::string_view value);
  absl::Status Delete(std::string_view key);

  // Atomic batch: puts (value set) and deletes (value nullopt) applied together.
  absl::Status Write(const std::vector<std::pair<std::string, std::optional<std::string>>>& ops,
                     Durability durability = Durability::kSynced);
  // Deletes every key in [begin, end).
  absl::Status DeleteRange(std::string_view begin, std::string_view end,
                           Durability durability = Durability::kSynced);
  // Deletes every key that starts with `prefix`. REQUIRES: prefix is not empty and does not
  // end in byte 0xFF (urn's prefixes end in '/').
  absl::Status DeletePrefix(std::string_view prefix, Durability durability = Durability::kSynced);
  // Syncs every write made so far to disk.
  absl::Status SyncWal();

  // The first failed write or sync, after which every write fails (see above); OK before.
  absl::Status broken() const;
  static constexpr uint64_t kMinFreeBytes = uint64_t{16} << 20;

  // Calls `fn(key, value)` for every key starting with `prefix`, in key order, until it
  // returns false.
  absl::Status Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // The same, starting at the first key >= `start` (which should begin with `prefix`).
  absl::Status ScanFrom(std::string_view prefix, std::string_view start,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const;

  // True when the store holds no keys at all (a fresh data directory).
  absl::StatusOr<bool> Empty() const;

  // Tests only: every later write or sync (Put, Delete, Write, DeleteRange, DeletePrefix,
  // SyncWal) returns `status`, writing nothing, without breaking the store. OK: they work again.
  // With `breaks`, the next write fails as a real one does: the store is broken from then on.
  void FailWritesForTesting(absl::Status status, bool breaks = false);

 private:
  explicit MetadataStore(std::unique_ptr<rocksdb::DB> db);
  // Runs one write or sync unless the store is broken, and latches its failure.
  template <typename WriteFn>
  absl::Status Written(const WriteFn& write, const char* what);
  // Marks the store broken by `failed` (the first failure is the one reported).
  void Latch(const absl::Status& failed) ABSL_LOCKS_EXCLUDED(broken_mu_);
  std::unique_ptr<rocksdb::DB> db_;
  std::atomic<bool> broken_{false};  // set once, under broken_mu_, with broken_status_
  mutable absl::Mutex broken_mu_;
  absl::Status broken_status_ ABSL_GUARDED_BY(broken_mu_);
  // Unset in production: Write pays one relaxed atomic load.
  std::atomic<bool> fail_writes_{false};
  absl::Mutex fail_mu_;
  absl::Status fail_status_ ABSL_GUARDED_BY(fail_mu_);
  bool fail_breaks_ ABSL_GUARDED_BY(fail_mu_) = false;
};

}  // namespace urn::storage

#endif  // URN_STORAGE_METADATA_STORE_H_
