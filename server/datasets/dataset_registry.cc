#include "datasets/dataset_registry.h"

#include <atomic>
#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "names.h"

namespace urn::server {
namespace {

constexpr size_t kChunksPerSync = 16;

std::string RecordKey(const std::string& owner, const std::string& name) {
  return absl::StrCat("dataset/", owner, "/", name);
}

std::string ChunkPrefix(const std::string& upload_id) {
  return absl::StrCat("dsdata/", upload_id, "/");
}

std::string ChunkKey(const std::string& upload_id, int64_t n) {
  return absl::StrFormat("dsdata/%s/%08d", upload_id, n);
}

}  // namespace

absl::StatusOr<table::ReadOptions> DatasetRegistry::ReadOptionsOf(
    const internal::DatasetRecord& r) {
  table::ReadOptions o;
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
    if (r.list_delimiter().size() != 1 || r.list_delimiter() == r.delimiter()) {
      return absl::InvalidArgumentError(
          "header.list_delimiter: must be one character other than the delimiter");
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
  if (!committed_) (void)registry_->DeleteChunks(record_.upload_id());
  absl::MutexLock lock(&registry_->mu_);
  registry_->uploading_.erase({record_.owner(), record_.name()});
}

absl::Status DatasetRegistry::Upload::FlushChunks() {
  if (pending_.empty()) return absl::OkStatus();
  absl::Status s = registry_->store_->Write(pending_);
  pending_.clear();
  return s;
}

absl::Status DatasetRegistry::Upload::Append(std::string_view bytes) {
  if (absl::Status s = builder_.Append(bytes); !s.ok()) return s;
  pending_.emplace_back(ChunkKey(record_.upload_id(), record_.chunks()), std::string(bytes));
  record_.set_chunks(record_.chunks() + 1);
  record_.set_bytes(record_.bytes() + static_cast<int64_t>(bytes.size()));
  if (pending_.size() >= kChunksPerSync) return FlushChunks();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Upload::Commit() {
  absl::StatusOr<table::Table> t = builder_.Finish();
  if (!t.ok()) return t.status();
  if (absl::Status s = FlushChunks(); !s.ok()) return s;
  record_.set_num_rows(t->num_rows());
  if (absl::Status s = registry_->store_->Put(RecordKey(record_.owner(), record_.name()),
                                              record_.SerializeAsString());
      !s.ok()) {
    return s;
  }
  committed_ = true;
  auto entry = std::make_shared<DatasetEntry>();
  entry->record = record_;
  entry->table = std::make_shared<const table::Table>(*std::move(t));
  absl::MutexLock lock(&registry_->mu_);
  registry_->datasets_[{record_.owner(), record_.name()}] = entry;
  return std::shared_ptr<const DatasetEntry>(entry);
}

absl::StatusOr<std::unique_ptr<DatasetRegistry::Upload>> DatasetRegistry::StartUpload(
    internal::DatasetRecord record) {
  if (absl::Status s = CheckResourceName("header.name", record.name()); !s.ok()) return s;
  absl::StatusOr<table::ReadOptions> options = ReadOptionsOf(record);
  if (!options.ok()) return options.status();
  record.set_upload_id(NewUniqueId());
  record.set_chunks(0);
  record.set_bytes(0);
  record.set_created_unix(std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());
  {
    absl::MutexLock lock(&mu_);
    const Key key{record.owner(), record.name()};
    if (datasets_.count(key) || uploading_.count(key)) {
      return absl::AlreadyExistsError(absl::StrCat("dataset '", record.name(), "' already exists"));
    }
    uploading_[key] = 1;
  }
  return std::unique_ptr<Upload>(new Upload(this, std::move(record), *std::move(options)));
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Get(
    const std::string& owner, const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = datasets_.find({owner, name});
  if (it == datasets_.end()) {
    return absl::NotFoundError(absl::StrCat("dataset '", name, "' not found"));
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
  size_t n = 0;
  for (auto it = datasets_.lower_bound({owner, ""});
       it != datasets_.end() && it->first.first == owner; ++it) {
    ++n;
  }
  return n;
}

size_t DatasetRegistry::CountAll() const {
  absl::ReaderMutexLock lock(&mu_);
  return datasets_.size();
}

absl::Status DatasetRegistry::Delete(const std::string& owner, const std::string& name) {
  std::shared_ptr<const DatasetEntry> entry;
  {
    absl::MutexLock lock(&mu_);
    auto it = datasets_.find({owner, name});
    if (it == datasets_.end()) {
      return absl::NotFoundError(absl::StrCat("dataset '", name, "' not found"));
    }
    entry = it->second;
    datasets_.erase(it);
  }
  if (absl::Status s = store_->Delete(RecordKey(owner, name)); !s.ok()) return s;
  return DeleteChunks(entry->record.upload_id());
}

absl::Status DatasetRegistry::DeleteChunks(const std::string& upload_id) {
  std::vector<std::pair<std::string, std::optional<std::string>>> deletes;
  absl::Status s = store_->Scan(ChunkPrefix(upload_id), [&](std::string_view k, std::string_view) {
    deletes.emplace_back(std::string(k), std::nullopt);
    return true;
  });
  if (!s.ok() || deletes.empty()) return s;
  return store_->Write(deletes);
}

absl::StatusOr<std::shared_ptr<const DatasetEntry>> DatasetRegistry::Restore(
    internal::DatasetRecord record) {
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
  if (parse.ok() && chunks != record.chunks()) {
    parse = absl::DataLossError(absl::StrCat("has ", chunks, " of ", record.chunks(), " chunks"));
  }
  absl::StatusOr<table::Table> t =
      parse.ok() ? builder.Finish() : absl::StatusOr<table::Table>(parse);
  if (!t.ok() || t->num_rows() != record.num_rows()) {
    return absl::DataLossError(absl::StrCat(
        "dataset '", record.name(), "' of user '", record.owner(), "' is damaged: ",
        t.ok() ? absl::StrCat("it has ", t->num_rows(), " rows, not ", record.num_rows())
               : std::string(t.status().message())));
  }
  auto entry = std::make_shared<DatasetEntry>();
  entry->record = std::move(record);
  entry->table = std::make_shared<const table::Table>(*std::move(t));
  return std::shared_ptr<const DatasetEntry>(entry);
}

absl::Status DatasetRegistry::Load() {
  std::vector<internal::DatasetRecord> records;
  absl::Status bad = absl::OkStatus();
  absl::Status s = store_->Scan("dataset/", [&](std::string_view k, std::string_view v) {
    internal::DatasetRecord r;
    if (!r.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      bad = absl::DataLossError(absl::StrCat("metadata store: damaged record ", std::string(k)));
      return false;
    }
    records.push_back(std::move(r));
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::set<std::string> live;
  std::map<Key, std::shared_ptr<const DatasetEntry>> loaded;
  for (internal::DatasetRecord& r : records) {
    live.insert(r.upload_id());
    const Key key{r.owner(), r.name()};
    absl::StatusOr<std::shared_ptr<const DatasetEntry>> e = Restore(std::move(r));
    if (!e.ok()) return e.status();
    loaded[key] = *std::move(e);
  }
  // Chunks of uploads that never committed.
  std::set<std::string> orphans;
  s = store_->Scan("dsdata/", [&](std::string_view k, std::string_view) {
    const std::string_view rest = k.substr(7);
    const std::string id(rest.substr(0, rest.find('/')));
    if (!live.count(id)) orphans.insert(id);
    return true;
  });
  if (!s.ok()) return s;
  for (const std::string& id : orphans) {
    if (absl::Status d = DeleteChunks(id); !d.ok()) return d;
  }
  absl::MutexLock lock(&mu_);
  datasets_ = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace urn::server
