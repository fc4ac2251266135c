// DatasetRegistry: the datasets urnd holds, by (owner, name), as immutable columnar tables in
// memory, persisted in the metadata store so that a restart restores them.
//
// Storage: a dataset is kept as columnar blocks (table/table_codec.h), so Load() copies arrays
// back instead of parsing text. An upload is parsed as it arrives; Commit() writes the table's
// blocks, then the dataset's record with a synced write (which syncs the blocks with it): the
// dataset exists from that moment. A crash before that leaves only blocks of an unfinished
// upload, removed at the next Load(). A dataset whose blocks are missing, damaged or
// inconsistent with its record is reported by Load() as DataLoss naming the dataset, the column
// and the block, and is never served. Data directories from before the blocks hold the uploaded
// text in chunks; Load() parses those once and rewrites them as blocks.
//
// Thread safety: all methods may be called concurrently. Readers share a lock; a table, once
// returned, stays valid (shared_ptr) even if the dataset is deleted meanwhile.
#ifndef URN_SERVER_DATASETS_DATASET_REGISTRY_H_
#define URN_SERVER_DATASETS_DATASET_REGISTRY_H_

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
#include "storage/metadata_store.h"
#include "table/read_options.h"
#include "table/table.h"
#include "table/table_builder.h"
#include "test_hook.h"
#include "urn/internal/records.pb.h"

namespace urn::server {

struct DatasetEntry {
  internal::DatasetRecord record;
  // Not OK for a dataset that could not be restored (Load): then table is null, Get() refuses
  // it with this DataLoss, List() still shows it and Delete() removes it.
  absl::Status damage;
  std::shared_ptr<const table::Table> table;
  // Null cells per column, counted once when the entry is made (O(rows)), so that describing a
  // dataset (GetDataset, ListDatasets, on gRPC's threads) costs O(columns).
  std::vector<int64_t> null_counts;
};

class DatasetRegistry {
 public:
  // An upload of JSONL may hold at most this many cells (rows times keys) per byte of its lines
  // once past 2^20 cells (table::ReadOptions::max_cells_per_byte): bounds the memory of a
  // parse, ~9 bytes per cell, to ~75 bytes per byte received (plus ~10 MB), however sparse the
  // lines. Datasets already stored are loaded without it.
  static constexpr int64_t kUploadCellsPerByte = 8;

  // REQUIRES: `store` outlives the registry.
  explicit DatasetRegistry(storage::MetadataStore* store) : store_(store) {}

  // Restores every committed dataset and removes unfinished uploads.
  absl::Status Load();

  // An upload in progress. Feed it with Append(); Commit() parses the end, persists the
  // record and registers the dataset. Dropping it without Commit() discards the upload.
  class Upload {
   public:
    ~Upload();
    absl::Status Append(std::string_view bytes);
    // `admit` gets the number of rows and the table's memory (Table::MemoryBytes) once the end
    // is parsed, before anything is persisted; its error aborts the commit (the upload is then
    // discarded as if never committed).
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> Commit(
        absl::FunctionRef<absl::Status(int64_t rows, int64_t memory_bytes)> admit =
            [](int64_t, int64_t) { return absl::OkStatus(); });
    // Complete rows parsed so far, and their cells (rows times columns so far).
    int64_t rows() const { return builder_.num_rows(); }
    int64_t cells() const { return builder_.num_rows() * builder_.num_columns(); }

   private:
    friend class DatasetRegistry;
    Upload(DatasetRegistry* registry, internal::DatasetRecord record, table::ReadOptions options);
    DatasetRegistry* registry_;
    internal::DatasetRecord record_;
    table::TableBuilder builder_;
    bool committed_ = false;
    bool wrote_blocks_ = false;  // some of its blocks may be stored (Commit began writing them)
  };

  // Starts an upload. ALREADY_EXISTS when the owner has a dataset of that name;
  // INVALID_ARGUMENT for a bad name or options (naming the field). `admit` gets the number of
  // datasets the owner would have, counting its uploads in progress and this one, and may refuse
  // with its error; it runs under the registry's lock, so concurrent uploads cannot all pass it.
  absl::StatusOr<std::unique_ptr<Upload>> StartUpload(
      internal::DatasetRecord record, absl::FunctionRef<absl::Status(int64_t datasets)> admit =
                                          [](int64_t) { return absl::OkStatus(); });

  // Memory of every registered dataset's table (Table::MemoryBytes), all owners together, or
  // only `owner`'s; deleted datasets count until the last stream holding them ends.
  int64_t MemoryBytes() const;
  int64_t MemoryBytes(const std::string& owner) const;

  // NOT_FOUND unless `owner` has a dataset `name` (another owner's dataset is not found).
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> Get(const std::string& owner,
                                                          const std::string& name) const;

  // At most `limit` datasets of `owner` (of every owner when `owner` is empty) that come
  // after (after_owner, after_name) in (owner, name) order.
  std::vector<std::shared_ptr<const DatasetEntry>> List(const std::string& owner,
                                                        const std::string& after_owner,
                                                        const std::string& after_name,
                                                        size_t limit) const;

  // Number of datasets `owner` has.
  size_t Count(const std::string& owner) const;
  // Number of datasets of every owner.
  size_t CountAll() const;

  // Removes a dataset and its bytes (synced): the record first, then the dataset leaves memory,
  // so on a failed write it stays served. NOT_FOUND as for Get; ABORTED while another Delete of
  // it is writing. The name stays reserved until its stored record is gone, so a new upload of
  // that name (ABORTED meanwhile) can never have its record removed by this delete.
  absl::Status Delete(const std::string& owner, const std::string& name);
  // Called with a dataset's upload id once Delete has removed it (to drop what was derived from
  // it, such as cached alias tables). Set once, before serving.
  void SetOnDelete(std::function<void(const std::string& upload_id)> on_delete) {
    on_delete_ = std::move(on_delete);
  }

  // Deletes every dataset of `owner` (a deleted user) and makes each of its uploads in progress
  // fail at Commit (ABORTED) instead of registering; returns how many datasets were deleted.
  // An upload already writing its record is waited for, then deleted with the others.
  absl::StatusOr<int> DeleteOwner(const std::string& owner);

  // The read options a record describes. `for_new_upload` applies the rules of today's uploads
  // (a list delimiter must differ from the format's default delimiter too); without it a stored
  // dataset accepted by an older urnd still loads.
  static absl::StatusOr<table::ReadOptions> ReadOptionsOf(const internal::DatasetRecord& r,
                                                          bool for_new_upload = false);

  // For tests: Commit runs `hook` after the upload is parsed and persisted, before it takes the
  // registry's lock to check that its owner was not deleted (where a concurrent deletion of the
  // owner may fall).
  void SetBeforeCommitForTesting(std::function<void()> hook) {
    before_commit_.Set(std::move(hook));
  }
  // Runs `hook` in Commit while the record is being written (without the registry's lock).
  void SetCommittingForTesting(std::function<void()> hook) { committing_.Set(std::move(hook)); }
  // Runs `hook` in Delete once the name is marked as being deleted, before its record is
  // removed (without the registry's lock).
  void SetDeletingForTesting(std::function<void()> hook) { deleting_hook_.Set(std::move(hook)); }

 private:
  using Key = std::pair<std::string, std::string>;  // (owner, name)

  // Datasets and uploads in progress of `owner`.
  int64_t CountWithUploads(const std::string& owner) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Removes every block and chunk of an upload (synced, or written only to the OS where an
  // orphan left by a crash is harmless: Load sweeps those, best effort).
  absl::Status DeleteData(const std::string& upload_id,
                          storage::Durability durability = storage::Durability::kSynced);
  absl::StatusOr<std::shared_ptr<const DatasetEntry>> Restore(internal::DatasetRecord record);
  absl::StatusOr<table::Table> ReadBlocks(const internal::DatasetRecord& record);
  absl::StatusOr<table::Table> ParseChunks(const internal::DatasetRecord& record);

  storage::MetadataStore* const store_;
  mutable absl::Mutex mu_;
  std::map<Key, std::shared_ptr<const DatasetEntry>> datasets_ ABSL_GUARDED_BY(mu_);
  // Deleted datasets that streams still hold: counted by MemoryBytes().
  Retired<const DatasetEntry> retired_ ABSL_GUARDED_BY(mu_);
  std::function<void(const std::string&)> on_delete_;
  // Names being uploaded, so two uploads of one name cannot both commit; kAbandoned once the
  // owner was deleted (DeleteOwner) before the commit began, so the upload does not register;
  // kCommitting while its record is written (DeleteOwner waits for it), kCommitted after.
  static constexpr int kAbandoned = 0;
  static constexpr int kInProgress = 1;
  static constexpr int kCommitting = 2;
  static constexpr int kCommitted = 3;
  std::map<Key, int> uploading_ ABSL_GUARDED_BY(mu_);
  // Names being deleted: no upload may start on them until the stored record is gone.
  std::set<Key> deleting_ ABSL_GUARDED_BY(mu_);
  TestHook before_commit_;
  TestHook committing_;     // between kCommitting and the record's write, without the lock
  TestHook deleting_hook_;  // in Delete, between the mark in deleting_ and the record's removal
};

}  // namespace urn::server

#endif  // URN_SERVER_DATASETS_DATASET_REGISTRY_H_
