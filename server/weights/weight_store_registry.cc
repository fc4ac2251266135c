#include "weights/weight_store_registry.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "delete_each.h"
#include "listing.h"
#include "memory_budget.h"
#include "names.h"

namespace urn::server {
namespace {

std::string RecordKey(const std::string& owner, const std::string& name) {
  return absl::StrCat("wstore/", owner, "/", name);
}
std::string TombstoneKey(const std::string& id) { return absl::StrCat("wtomb/", id); }

absl::Status NameTaken(const std::string& name) {
  return absl::AlreadyExistsError(
      absl::StrCat("name: you already have a weight store named '", name, "'"));
}

}  // namespace

weights::WeightStoreOptions StoreOptionsOf(const internal::WeightStoreRecord& record) {
  weights::WeightStoreOptions options;
  options.capacity = static_cast<uint64_t>(record.capacity());
  options.alpha = record.alpha();
  if (record.has_initial_priority()) options.initial_priority = record.initial_priority();
  return options;
}

absl::Status WeightStoreRegistry::Load() {
  // Finish deletions a crash interrupted.
  std::vector<std::string> tombstones;
  absl::Status s = db_->Scan("wtomb/", [&](std::string_view key, std::string_view) {
    tombstones.emplace_back(key.substr(6));
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : tombstones) {
    if (s = storage::DurableWeightStore::Erase(db_, id); !s.ok()) return s;
    if (s = db_->Delete(TombstoneKey(id)); !s.ok()) return s;
  }
  std::vector<internal::WeightStoreRecord> records;
  std::vector<internal::WeightStoreRecord> unreadable;  // owner and name only, from the key
  s = db_->Scan("wstore/", [&](std::string_view key, std::string_view value) {
    internal::WeightStoreRecord r;
    if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      // Still listed, counted and deletable by its owner, and its name stays taken: a new
      // store of that name would otherwise overwrite the record, and its data with it.
      spdlog::error("weight store record {} does not parse; it is listed as damaged",
                    std::string(key));
      if (auto owner_name = OwnerAndNameOf(key, "wstore/")) {
        r.Clear();
        r.set_owner(std::move(owner_name->first));
        r.set_name(std::move(owner_name->second));
        unreadable.push_back(std::move(r));
      }
      return true;
    }
    records.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  for (internal::WeightStoreRecord& record : unreadable) {
    auto hosted = std::make_shared<HostedWeightStore>();
    hosted->damage = absl::DataLossError("its definition (capacity, alpha, ...) does not parse");
    hosted->record = std::move(record);
    stores_[{hosted->record.owner(), hosted->record.name()}] = std::move(hosted);
  }
  for (internal::WeightStoreRecord& record : records) {
    auto hosted = std::make_shared<HostedWeightStore>();
    absl::StatusOr<std::unique_ptr<storage::DurableWeightStore>> durable =
        storage::DurableWeightStore::Recover(db_, record.id(), StoreOptionsOf(record), config_);
    if (durable.ok()) {
      hosted->durable = *std::move(durable);
      spdlog::info("weight store {}/{} restored: {} slots, log position {}", record.owner(),
                   record.name(), record.capacity(), hosted->durable->LogPosition());
    } else if (absl::IsUnavailable(durable.status()) ||
               absl::IsResourceExhausted(durable.status())) {
      // Not damage: the disk or memory failed, and the store is likely intact, so it must not be
      // listed as damaged with the advice to delete it. urnd does not start.
      return absl::Status(durable.status().code(),
                          absl::StrCat("weight store ", record.owner(), "/", record.name(),
                                       " not restored: ", durable.status().message(),
                                       " (nothing was changed; restart urnd once the cause is "
                                       "fixed)"));
    } else {
      hosted->damage = durable.status();
      spdlog::error("weight store {}/{} is damaged and not served: {}", record.owner(),
                    record.name(), std::string(durable.status().message()));
    }
    hosted->record = std::move(record);
    stores_[{hosted->record.owner(), hosted->record.name()}] = std::move(hosted);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<HostedWeightStore>> WeightStoreRegistry::Create(
    internal::WeightStoreRecord record, absl::FunctionRef<absl::Status(int64_t stores)> admit) {
  record.set_id(NewUniqueId());
  record.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  const Key key = {record.owner(), record.name()};
  {
    // Checked before the store's memory is allocated (a taken name costs nothing), and again
    // (authoritatively) below.
    absl::ReaderMutexLock lock(&mu_);
    if (absl::Status s = NameFree(key); !s.ok()) return s;
    if (absl::Status s = admit(CountLocked(record.owner()) + 1); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<storage::DurableWeightStore>> durable =
      storage::DurableWeightStore::Create(db_, record.id(), StoreOptionsOf(record), config_);
  if (!durable.ok()) return durable.status();
  before_register_.Run();
  const std::string record_key = RecordKey(key.first, key.second);
  const std::string bytes = record.SerializeAsString();
  auto hosted = std::make_shared<HostedWeightStore>();
  hosted->durable = *std::move(durable);
  hosted->record = std::move(record);
  {
    // The name is reserved, and counts against the plan, while the record is written outside
    // the lock; DeleteOwner waits for it.
    absl::MutexLock lock(&mu_);
    if (absl::Status s = NameFree(key); !s.ok()) return s;
    if (absl::Status s = admit(CountLocked(key.first) + 1); !s.ok()) return s;
    creating_.insert(key);
  }
  PendingMark reserved(&mu_, &creating_, key);
  writing_.Run();
  if (absl::Status s = db_->Put(record_key, bytes); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  reserved.Clear();  // with the registration, in one critical section
  stores_.emplace(key, hosted);
  return hosted;
}

absl::Status WeightStoreRegistry::NameFree(const Key& key) const {
  if (deleting_.count(key)) {  // its delete may yet fail
    return absl::AbortedError(
        absl::StrCat("name: weight store '", key.second, "' is being deleted; try again"));
  }
  if (stores_.count(key) || creating_.count(key)) return NameTaken(key.second);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<HostedWeightStore>> WeightStoreRegistry::Get(
    const std::string& owner, const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = stores_.find({owner, name});
  if (it == stores_.end()) {
    return absl::NotFoundError(absl::StrCat("no weight store named '", name, "'"));
  }
  if (!it->second->durable) {
    return absl::DataLossError(absl::StrCat("'", name,
                                            "' is damaged and not served (delete it to start "
                                            "over): ",
                                            std::string(it->second->damage.message())));
  }
  return it->second;
}

std::vector<std::shared_ptr<HostedWeightStore>> WeightStoreRegistry::List(
    const std::string& owner, const std::string& after_owner, const std::string& after_name,
    size_t limit) const {
  std::vector<std::shared_ptr<HostedWeightStore>> out;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = stores_.upper_bound({after_owner, after_name});
       it != stores_.end() && out.size() < limit; ++it) {
    if (!owner.empty() && it->first.first != owner) break;
    out.push_back(it->second);
  }
  return out;
}

size_t WeightStoreRegistry::Count(const std::string& owner) const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<size_t>(CountOwnedBy(stores_, owner));
}

int64_t WeightStoreRegistry::CountLocked(const std::string& owner) const {
  return CountOwnedBy(stores_, owner) + CountOwnedBy(creating_, owner);
}

size_t WeightStoreRegistry::CountAll() const {
  absl::ReaderMutexLock lock(&mu_);
  return stores_.size();
}

namespace {

// Memory of one hosted store: its slots and its stored keys.
int64_t StoreMemoryBytes(const HostedWeightStore& hosted) {
  int64_t bytes = hosted.record.capacity() * MemoryBudget::kStoreBytesPerSlot;
  if (hosted.durable != nullptr) bytes += hosted.durable->store().KeyMemoryBytes();
  return bytes;
}

}  // namespace

int64_t WeightStoreRegistry::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  int64_t bytes = 0;
  for (const auto& [key, hosted] : stores_) bytes += StoreMemoryBytes(*hosted);
  return bytes + retired_.Bytes();
}

int64_t WeightStoreRegistry::MemoryBytes(const std::string& owner) const {
  absl::ReaderMutexLock lock(&mu_);
  int64_t bytes = 0;
  ForEachOwnedBy(stores_, owner, [&](const auto& kv) { bytes += StoreMemoryBytes(*kv.second); });
  return bytes + retired_.Bytes(owner);
}

absl::Status WeightStoreRegistry::Delete(const std::string& owner, const std::string& name) {
  // The record's removal is written outside the lock, the store still served meanwhile; it
  // leaves memory once that write succeeded (if it fails, it stays, as after a restart).
  const Key key{owner, name};
  std::shared_ptr<HostedWeightStore> hosted;
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;
  {
    absl::MutexLock lock(&mu_);
    auto it = stores_.find(key);
    if (it == stores_.end()) {
      return absl::NotFoundError(absl::StrCat("no weight store named '", name, "'"));
    }
    if (deleting_.count(key)) {  // another Delete is writing; it may yet fail
      return absl::AbortedError(
          absl::StrCat("weight store '", name, "' is being deleted; try again"));
    }
    hosted = it->second;
    // A record that does not parse names no id: only the record goes (its log and snapshots,
    // if any, cannot be found without it).
    ops.emplace_back(RecordKey(owner, name), std::nullopt);
    if (!hosted->record.id().empty()) {
      ops.emplace_back(TombstoneKey(hosted->record.id()), std::string());
    }
    deleting_.insert(key);
  }
  PendingMark marked(&mu_, &deleting_, key);
  writing_.Run();
  const absl::Status written = db_->Write(ops);
  const std::string& id = hosted->record.id();
  {
    absl::MutexLock lock(&mu_);
    marked.Clear();  // with the removal, in one critical section
    if (!written.ok()) return written;
    stores_.erase(key);
    retired_.Add(hosted, owner, StoreMemoryBytes(*hosted));
  }
  if (id.empty()) return absl::OkStatus();
  // Streams still holding the store get FAILED_PRECONDITION from now on, and nothing they
  // write can land after the erase.
  if (hosted->durable) {
    hosted->durable->Close(
        absl::FailedPreconditionError(absl::StrCat("weight store '", name, "' was deleted")));
  }
  if (absl::Status s = storage::DurableWeightStore::Erase(db_, id); !s.ok()) return s;
  return db_->Delete(TombstoneKey(id));
}

absl::StatusOr<int> WeightStoreRegistry::DeleteOwner(const std::string& owner) {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    // A create past `admit` writes its record; its store is listed below once registered.
    const auto none_creating = [this, &owner]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return CountOwnedBy(creating_, owner) == 0;
    };
    mu_.Await(absl::Condition(&none_creating));
    ForEachOwnedBy(stores_, owner, [&](const auto& store) { names.push_back(store.first.second); });
  }
  return DeleteEach(
      owner, names, [&](const std::string& name) { return Delete(owner, name); }, &mu_, &deleting_);
}

std::vector<std::shared_ptr<HostedWeightStore>> WeightStoreRegistry::All() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::shared_ptr<HostedWeightStore>> all;
  for (const auto& [key, hosted] : stores_) {
    if (hosted->durable) all.push_back(hosted);
  }
  return all;
}

void WeightStoreRegistry::SnapshotDue() {
  for (const auto& hosted : All()) {
    const uint64_t threshold =
        std::max<uint64_t>(snapshot_log_bytes_, 2 * 8 * hosted->durable->store().capacity());
    if (hosted->durable->LogBytesSinceSnapshot() < threshold) continue;
    if (absl::Status s = hosted->durable->Snapshot(); !s.ok()) {
      spdlog::error("snapshot of weight store {}/{} failed: {}", hosted->record.owner(),
                    hosted->record.name(), std::string(s.message()));
    }
  }
}

absl::Status WeightStoreRegistry::SnapshotAll() {
  for (const auto& hosted : All()) {
    if (absl::Status s = hosted->durable->Snapshot(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace urn::server
