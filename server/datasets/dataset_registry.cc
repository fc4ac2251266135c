#include "datasets/dataset_registry.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "delete_each.h"
#include "field_error.h"
#include "listing.h"
#include "names.h"
#include "spdlog/spdlog.h"
#include "table/table_codec.h"

namespace urn::server {
namespace {

// Blocks go to the store in batches of about this many bytes, unsynced; the record's synced
// write then syncs them too (one write-ahead log).
constexpr size_t kBatchBytes = size_t{16} << 20;
constexpr int32_t kStorageChunks = 0;
constexpr int32_t kStorageBlocks = 1;

std::string RecordKey(const std::string& owner, const std::string& name) {
  return absl::StrCat("dataset/", owner, "/", name);
}

std::string ChunkPrefix(const std::string& upload_id) {
  return absl::StrCat("dsdata/", upload_id, "/");
}

std::string ChunkKey(const std::string& upload_id, int64_t n) {
  return absl::StrFormat("dsdata/%s/%08d", upload_id, n);
}

std::string BlockPrefix(const std::string& upload_id) {
  return absl::StrCat("dsblk/", upload_id, "/");
}

// The upload id in a "dsdata/<id>/..." or "dsblk/<id>/..." key.
std::string UploadIdOf(std::string_view key) {
  const std::string_view rest = key.substr(key.find('/') + 1);
  return std::string(rest.substr(0, rest.find('/')));
}

// Writes `table` as columnar blocks of upload `upload_id`; the count in *blocks.
absl::Status WriteBlocks(storage::MetadataStore* store, const std::string& upload_id,
                         const table::Table& table, int64_t* blocks) {
  std::vector<std::pair<std::string, std::optional<std::string>>> batch;
  size_t batch_bytes = 0;
  *blocks = 0;
  const std::string prefix = BlockPrefix(upload_id);
  absl::Status s = table::EncodeTable(
      table, table::kDefaultBlockBytes, [&](std::string name, std::string bytes) {
        batch_bytes += bytes.size();
        batch.emplace_back(absl::StrCat(prefix, name), std::move(bytes));
        ++*blocks;
        if (batch_bytes < kBatchBytes) return absl::OkStatus();
        absl::Status w = store->Write(batch, storage::Durability::kProcess);
        batch.clear();
        batch_bytes = 0;
        return w;
      });
  if (!s.ok() || batch.empty()) return s;
  return store->Write(batch, storage::Durability::kProcess);
}

// The entry of a parsed table: its string dictionaries built (queries on low-cardinality string
// columns then cost a lookup per row, query/program.h) and its nulls counted.
std::shared_ptr<DatasetEntry> MakeEntry(internal::DatasetRecord record, table::Table table) {
  table.BuildDictionaries();
  auto entry = std::make_shared<DatasetEntry>();
  entry->record = std::move(record);
  for (const table::Column& c : table.columns()) {
    int64_t nulls = 0;
    if (c.has_nulls()) {
      for (int64_t r = 0; r < c.size(); ++r) nulls += c.IsNull(r);
    }
    entry->null_counts.push_back(nulls);
  }
  entry->table = std::make_shared<const table::Table>(std::move(table));
  return entry;
}

}  // namespace

int64_t DatasetRegistry::MemoryBytes() const {
  absl::ReaderMutexLock lock(&mu_);
  int64_t total = 0;
  for (const auto& [key, entry] : datasets_) {
    if (entry->table != nullptr) total += entry->table->MemoryBytes();
  }
  return total + retired_.Bytes();
}

int64_t DatasetRegistry::MemoryBytes(const std::string& owner) const {
  absl::ReaderMutexLock lock(&mu_);
  int64_t total = 0;
  ForEachOwnedBy(datasets_, owner, [&](const auto& kv) {
    if (kv.second->table != nullptr) total += kv.second->table->MemoryBytes();
  });
  return total + retired_.Bytes(owner);
}

absl::StatusOr<table::ReadOptions> DatasetRegistry::ReadOptionsOf(const internal::DatasetRecord& r,
                                                                  bool for_new_upload) {
  table::ReadOptions o;
  // Names and values go out as protobuf strings. Only new uploads are held to it: a dataset
  // stored before the rule keeps loading (as damaged it would be lost to its owner).
  o.require_utf8 = for_new_upload;
  if (for_new_upload) o.max_name_bytes = table::kMaxStoredNameBytes;
  switch (r.format()) {
    case 1:
      o.format = table::Format::kTsv;
      break;
    case 2:
      o.format = table::Format::kCsv;
      break;
    case 3:
      o.format = table::Format::kJsonl;
      break;
    default:
      return absl::InvalidArgumentError("header.format: must be TSV, CSV or JSONL");
  }
  o.has_header = r.has_header();
  if (!r.delimiter().empty()) {
    if (r.delimiter().size() != 1 || r.delimiter()[0] == '\n' || r.delimiter()[0] == '\r') {
      return absl::InvalidArgumentError("header.delimiter: must be one character, not a newline");
    }
    o.delimiter = r.delimiter()[0];
  }
  if (!r.list_delimiter().empty()) {
    // The delimiter in use: given, or the format's ('\t' for TSV, ',' for CSV). JSON lines have
    // none. Datasets stored before the default was compared still load.
    const char field_delimiter = o.delimiter.value_or(o.format == table::Format::kCsv ? ',' : '\t');
    const bool same = for_new_upload ? o.format != table::Format::kJsonl &&
                                           r.list_delimiter()[0] == field_delimiter
                                     : r.list_delimiter() == r.delimiter();
    if (r.list_delimiter().size() != 1 || same) {
      return absl::InvalidArgumentError(
          "header.list_delimiter: must be one character other than the field delimiter");
    }
    o.list_delimiter = r.list_delimiter()[0];
  }
  for (const auto& [name, type] : r.column_types()) {
    switch (type) {
      case 0:
        break;  // inferred
      case 1:
        o.column_types[name] = table::Type::kInt64;
        break;
      case 2:
        o.column_types[name] = table::Type::kDouble;
        break;
      case 3:
        o.column_types[name] = table::Type::kString;
        break;
      case 4:
        o.column_types[name] = table::Type::kBool;
        break;
      case 5:
        o.column_types[name] = table::Type::kStringList;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("header.column_types['", name, "']: unknown type ", type));
    }
  }
  return o;
}

DatasetRegistry::Upload::Upload(DatasetRegistry* registry, internal::DatasetRecord record,
                                table::ReadOptions options)
    : registry_(registry), record_(std::move(record)), builder_(std::move(options)) {}

DatasetRegistry::Upload::~Upload() {
  // An upload that failed before writing blocks (bad input, say) leaves nothing: before, every
  // failed upload cost two synced writes, which any tenant could repeat at will.
  if (!committed_ && wrote_blocks_) {
    (void)registry_->DeleteData(record_.upload_id(), storage::Durability::kProcess);
  }
  absl::MutexLock lock(&registry_->mu_);
  registry_->uploading_.erase({record_.owner(), record_.name()});
}

absl::Status DatasetRegistry::Upload::Append(std::string_view bytes) {
  if (absl::Status s = builder_.Append(bytes); !s.ok()) return s;
  record_.set_bytes(record_.bytes() + static_cast<int64_t>(bytes.size()));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Upload::Commit(
    absl::FunctionRef<absl::Status(int64_t rows, int64_t memory_bytes)> admit) {
  absl::StatusOr<table::Table> t = builder_.Finish();
  if (!t.ok()) return t.status();
  if (absl::Status s = admit(t->num_rows(), t->MemoryBytes()); !s.ok()) return s;
  int64_t blocks = 0;
  wrote_blocks_ = true;
  if (absl::Status s = WriteBlocks(registry_->store_, record_.upload_id(), *t, &blocks); !s.ok()) {
    return s;
  }
  // The blocks are synced now, without holding RocksDB's write queue (SyncWAL), so that the
  // record's synced write below, which holds it through its fsync, has little left to sync
  // (before, every tenant's writes waited for an upload's blocks to reach the disk), and a
  // DeleteOwner waiting for the commit waits for that small write only.
  if (absl::Status s = registry_->store_->SyncWal(); !s.ok()) return s;
  record_.set_num_rows(t->num_rows());
  record_.set_storage(kStorageBlocks);
  record_.set_blocks(blocks);
  const Key key{record_.owner(), record_.name()};
  std::shared_ptr<DatasetEntry> entry = MakeEntry(record_, *std::move(t));
  // Made before kCommitting: nothing that allocates (and could throw) runs while DeleteOwner
  // waits for this commit.
  const std::string record_key = RecordKey(record_.owner(), record_.name());
  const std::string record_bytes = record_.SerializeAsString();
  registry_->before_commit_.Run();
  // DeleteOwner runs wholly before the record is written (the upload is abandoned: nothing is
  // written) or after it is registered (it finds and deletes this dataset): it waits while an
  // upload of its owner is kCommitting. A record written between its listing and the end of the
  // user's deletion would outlive the owner if urnd crashed before removing it, and go to a new
  // user of that name. The synced write itself is outside the registry's lock, so that every
  // other call (Get, List) goes on during its fsync.
  {
    absl::MutexLock lock(&registry_->mu_);
    int& state = registry_->uploading_.at(key);
    if (state == kAbandoned) {
      return absl::AbortedError(absl::StrCat(
          "dataset '", record_.name(), "': its owner was deleted during the upload; nothing kept"));
    }
    state = kCommitting;
  }
  registry_->committing_.Run();
  const absl::Status written = registry_->store_->Put(record_key, record_bytes);
  absl::MutexLock lock(&registry_->mu_);
  registry_->uploading_.at(key) = written.ok() ? kCommitted : kInProgress;
  if (!written.ok()) return written;
  committed_ = true;
  registry_->datasets_[key] = entry;
  return std::shared_ptr<const DatasetEntry>(entry);
}

absl::StatusOr<std::unique_ptr<DatasetRegistry::Upload>> DatasetRegistry::StartUpload(
    internal::DatasetRecord record, absl::FunctionRef<absl::Status(int64_t datasets)> admit) {
  if (absl::Status s = CheckResourceName("header.name", record.name()); !s.ok()) return s;
  absl::StatusOr<table::ReadOptions> options = ReadOptionsOf(record, /*for_new_upload=*/true);
  if (!options.ok()) return options.status();
  options->max_cells_per_byte = kUploadCellsPerByte;
  record.set_upload_id(NewUniqueId());
  record.set_chunks(0);
  record.set_bytes(0);
  record.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  {
    absl::MutexLock lock(&mu_);
    const Key key{record.owner(), record.name()};
    // Both about the name the header gave, so they say so (as CheckResourceName does).
    if (deleting_.count(key)) {
      return InField("header.name",
                     absl::AbortedError(absl::StrCat("dataset '", record.name(),
                                                     "' is being deleted; try again")));
    }
    if (datasets_.count(key) || uploading_.count(key)) {
      return InField("header.name", absl::AlreadyExistsError(absl::StrCat(
                                        "dataset '", record.name(), "' already exists")));
    }
    if (absl::Status s = admit(CountWithUploads(record.owner()) + 1); !s.ok()) return s;
    uploading_[key] = kInProgress;
  }
  return std::unique_ptr<Upload>(new Upload(this, std::move(record), *std::move(options)));
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Get(
    const std::string& owner, const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = datasets_.find({owner, name});
  if (it == datasets_.end()) {
    return absl::NotFoundError(absl::StrCat("no dataset named '", name, "'"));
  }
  if (!it->second->damage.ok()) {
    return absl::DataLossError(absl::StrCat("'", name,
                                            "' is damaged and not served (delete it to start "
                                            "over): ",
                                            std::string(it->second->damage.message())));
  }
  return it->second;
}

std::vector<std::shared_ptr<const DatasetEntry>> DatasetRegistry::List(
    const std::string& owner, const std::string& after_owner, const std::string& after_name,
    size_t limit) const {
  std::vector<std::shared_ptr<const DatasetEntry>> out;
  absl::ReaderMutexLock lock(&mu_);
  Key from{after_owner, after_name};
  if (!owner.empty() && from < Key{owner, ""}) from = Key{owner, ""};
  for (auto it = datasets_.upper_bound(from); it != datasets_.end(); ++it) {
    if (!owner.empty() && it->first.first != owner) break;
    if (out.size() >= limit) break;
    out.push_back(it->second);
  }
  return out;
}

size_t DatasetRegistry::Count(const std::string& owner) const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<size_t>(CountOwnedBy(datasets_, owner));
}

int64_t DatasetRegistry::CountWithUploads(const std::string& owner) const {
  return CountOwnedBy(datasets_, owner) + CountOwnedBy(uploading_, owner);
}

size_t DatasetRegistry::CountAll() const {
  absl::ReaderMutexLock lock(&mu_);
  return datasets_.size();
}

absl::Status DatasetRegistry::Delete(const std::string& owner, const std::string& name) {
  // The record goes first, then the dataset leaves memory: if the synced delete fails, the
  // dataset stays served and listed, as it will be after a restart (before, it left memory
  // first, so a failed delete made it NOT_FOUND until a restart brought it back).
  const Key key{owner, name};
  const std::string record_key = RecordKey(owner, name);
  {
    absl::MutexLock lock(&mu_);
    if (!datasets_.count(key)) {
      return absl::NotFoundError(absl::StrCat("no dataset named '", name, "'"));
    }
    if (deleting_.count(key)) {  // another Delete is writing; it may yet fail
      return absl::AbortedError(absl::StrCat("dataset '", name, "' is being deleted; try again"));
    }
    deleting_.insert(key);
  }
  PendingMark marked(&mu_, &deleting_, key);
  deleting_hook_.Run();
  absl::Status s = store_->Delete(record_key);
  std::shared_ptr<const DatasetEntry> entry;
  {
    absl::MutexLock lock(&mu_);
    marked.Clear();  // with the removal, in one critical section
    if (!s.ok()) return s;
    auto it = datasets_.find(key);
    entry = it->second;
    datasets_.erase(it);
    retired_.Add(entry, owner, entry->table != nullptr ? entry->table->MemoryBytes() : 0);
  }
  if (on_delete_ != nullptr) on_delete_(entry->record.upload_id());
  return DeleteData(entry->record.upload_id());
}

absl::StatusOr<int> DatasetRegistry::DeleteOwner(const std::string& owner) {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    ForEachOwnedBy(uploading_, owner, [](auto& upload) {
      if (upload.second == kInProgress) upload.second = kAbandoned;
    });
    // An upload past that check writes its record; it is listed below once registered.
    const auto none_committing = [this, &owner]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      bool committing = false;
      ForEachOwnedBy(uploading_, owner,
                     [&](const auto& upload) { committing |= upload.second == kCommitting; });
      return !committing;
    };
    mu_.Await(absl::Condition(&none_committing));
    ForEachOwnedBy(datasets_, owner,
                   [&](const auto& dataset) { names.push_back(dataset.first.second); });
  }
  return DeleteEach(
      owner, names, [&](const std::string& name) { return Delete(owner, name); }, &mu_, &deleting_);
}

absl::Status DatasetRegistry::DeleteData(const std::string& upload_id,
                                         storage::Durability durability) {
  if (upload_id.empty()) return absl::OkStatus();  // a record that did not parse names none
  if (absl::Status s = store_->DeletePrefix(ChunkPrefix(upload_id), durability); !s.ok()) {
    return s;
  }
  return store_->DeletePrefix(BlockPrefix(upload_id), durability);
}

absl::StatusOr<table::Table> DatasetRegistry::ReadBlocks(const internal::DatasetRecord& record) {
  table::TableDecoder decoder;
  absl::Status decode = absl::OkStatus();
  const std::string prefix = BlockPrefix(record.upload_id());
  int64_t blocks = 0;
  absl::Status s = store_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    ++blocks;
    decode = decoder.Add(k.substr(prefix.size()), v);
    return decode.ok();
  });
  if (!s.ok()) return s;
  if (!decode.ok()) return decode;
  absl::StatusOr<table::Table> t = decoder.Finish();
  if (t.ok() && blocks != record.blocks()) {
    return absl::DataLossError(absl::StrCat("it has ", blocks, " of ", record.blocks(), " blocks"));
  }
  return t;
}

absl::StatusOr<table::Table> DatasetRegistry::ParseChunks(const internal::DatasetRecord& record) {
  absl::StatusOr<table::ReadOptions> options = ReadOptionsOf(record);
  if (!options.ok()) return options.status();
  table::TableBuilder builder(*std::move(options));
  int64_t chunks = 0;
  absl::Status parse = absl::OkStatus();
  absl::Status s =
      store_->Scan(ChunkPrefix(record.upload_id()), [&](std::string_view k, std::string_view v) {
        if (k != ChunkKey(record.upload_id(), chunks)) {
          parse = absl::DataLossError(absl::StrCat("chunk ", chunks, " is missing"));
          return false;
        }
        ++chunks;
        parse = builder.Append(v);
        return parse.ok();
      });
  if (!s.ok()) return s;
  if (!parse.ok()) return parse;
  if (chunks != record.chunks()) {
    return absl::DataLossError(absl::StrCat("has ", chunks, " of ", record.chunks(), " chunks"));
  }
  return builder.Finish();
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Restore(
    internal::DatasetRecord record) {
  const bool legacy = record.storage() == kStorageChunks;
  if (!legacy && record.storage() != kStorageBlocks) {
    return absl::DataLossError(absl::StrCat("dataset '", record.name(), "' of user '",
                                            record.owner(), "' has unknown storage ",
                                            record.storage(), " (written by a newer urnd?)"));
  }
  absl::StatusOr<table::Table> t = legacy ? ParseChunks(record) : ReadBlocks(record);
  if (!t.ok() || t->num_rows() != record.num_rows()) {
    return absl::DataLossError(absl::StrCat(
        "dataset '", record.name(), "' of user '", record.owner(), "' is damaged: ",
        t.ok() ? absl::StrCat("it has ", t->num_rows(), " rows, not ", record.num_rows())
               : std::string(t.status().message())));
  }
  if (legacy) {
    // Rewrite as blocks: the record switches over in one synced write, then the chunks go.
    int64_t blocks = 0;
    if (absl::Status s = WriteBlocks(store_, record.upload_id(), *t, &blocks); !s.ok()) return s;
    record.set_storage(kStorageBlocks);
    record.set_blocks(blocks);
    record.set_chunks(0);
    if (absl::Status s =
            store_->Put(RecordKey(record.owner(), record.name()), record.SerializeAsString());
        !s.ok()) {
      return s;
    }
    if (absl::Status s = store_->DeletePrefix(ChunkPrefix(record.upload_id())); !s.ok()) return s;
    spdlog::info("dataset '{}' of user '{}': converted to columnar blocks ({} blocks)",
                 record.name(), record.owner(), blocks);
  }
  return std::shared_ptr<const DatasetEntry>(MakeEntry(std::move(record), *std::move(t)));
}

absl::Status DatasetRegistry::Load() {
  const auto start = std::chrono::steady_clock::now();
  // A dataset that cannot be restored is listed as damaged (DatasetEntry::damage), so that one
  // tenant's damage neither stops urnd nor frees the name; its owner can delete it.
  std::map<Key, std::shared_ptr<const DatasetEntry>> loaded;
  const auto damaged = [&](internal::DatasetRecord r, absl::Status why) {
    spdlog::error("dataset '{}' of user '{}' is damaged and not served: {}", r.name(), r.owner(),
                  std::string(why.message()));
    auto entry = std::make_shared<DatasetEntry>();
    entry->damage = std::move(why);
    entry->record = std::move(r);
    loaded[{entry->record.owner(), entry->record.name()}] = std::move(entry);
  };
  std::vector<internal::DatasetRecord> records;
  bool unparsed = false;  // a record whose upload id (and so its data) is unknown
  absl::Status s = store_->Scan("dataset/", [&](std::string_view k, std::string_view v) {
    internal::DatasetRecord r;
    if (!r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      unparsed = true;
      r.Clear();
      if (auto owner_name = OwnerAndNameOf(k, "dataset/")) {
        r.set_owner(std::move(owner_name->first));
        r.set_name(std::move(owner_name->second));
        damaged(std::move(r), absl::DataLossError("its record does not parse"));
      } else {
        spdlog::error("metadata record {} does not parse and names no dataset", std::string(k));
      }
      return true;
    }
    records.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  std::set<std::string> live;
  for (internal::DatasetRecord& r : records) {
    live.insert(r.upload_id());
    const Key key{r.owner(), r.name()};
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> e = Restore(r);
    if (absl::IsDataLoss(e.status())) {
      damaged(std::move(r), e.status());
      continue;
    }
    if (!e.ok()) return e.status();
    loaded[key] = *std::move(e);
  }
  // Data of uploads that never committed; kept while a record that did not parse may own some.
  if (unparsed) spdlog::warn("a dataset record does not parse: data of unfinished uploads is kept");
  std::set<std::string> orphans;
  // The sweep reads the first key of each upload only, seeking past the rest (before, it read
  // every block of every tenant, and a block damaged on disk, which Restore reported above for
  // its dataset alone, stopped urnd from starting, so its owner could not even delete it). Best
  // effort: orphans it does not reach stay until a later start.
  for (const char* prefix : {"dsdata/", "dsblk/"}) {
    if (unparsed) break;
    std::string start = prefix;
    for (;;) {
      std::optional<std::string> id;
      s = store_->ScanFrom(prefix, start, [&](std::string_view k, std::string_view) {
        id = UploadIdOf(k);
        return false;
      });
      if (!s.ok()) {
        spdlog::error("data of unfinished uploads not swept: {}", s.ToString());
        break;
      }
      if (!id) break;
      // Past "<prefix><id>/...": '0' follows '/'.
      start = absl::StrCat(prefix, *id, "0");
      if (!live.count(*id)) orphans.insert(*std::move(id));
    }
  }
  for (const std::string& id : orphans) {
    if (absl::Status d = DeleteData(id); !d.ok()) {
      spdlog::error("data of unfinished upload {} not deleted: {}", id, d.ToString());
    }
  }
  // A read error is tolerated above; a failed write (a full disk) leaves the store refusing every
  // later write, and urnd must not start then as if healthy.
  if (absl::Status broken = store_->broken(); !broken.ok()) return broken;
  int64_t rows = 0;
  for (const auto& [key, entry] : loaded) {
    if (entry->table != nullptr) rows += entry->table->num_rows();
  }
  spdlog::info("restored {} datasets ({} rows) in {} ms", loaded.size(), rows,
               std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count());
  absl::MutexLock lock(&mu_);
  datasets_ = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace urn::server
