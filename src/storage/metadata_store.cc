#include "storage/metadata_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/rocks_status.h"

namespace urn::storage {
namespace {

rocksdb::WriteOptions Synced() {
  rocksdb::WriteOptions w;
  w.sync = true;
  return w;
}

rocksdb::WriteOptions For(Durability durability) {
  rocksdb::WriteOptions w;
  w.sync = durability == Durability::kSynced;
  return w;
}

rocksdb::Slice SliceOf(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// RocksDB's own messages, warnings and errors only, go to urnd's log instead of a LOG file in
// the store's directory. On a full filesystem RocksDB reports the failed write to that file,
// which has failed too, and Debian's RocksDB 7.8 then aborts (an assertion in its file
// writer) inside the write that should have returned an error.
class SpdlogLogger final : public rocksdb::Logger {
 public:
  SpdlogLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buffer[1024];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(buffer, sizeof(buffer), format, copy);
    va_end(copy);
    if (n < 0) return;
    try {  // nothing may propagate into RocksDB
      const std::string_view text(buffer, std::min<size_t>(n, sizeof(buffer) - 1));
      if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
        spdlog::error("metadata store (RocksDB): {}", text);
      } else {
        spdlog::warn("metadata store (RocksDB): {}", text);
      }
    } catch (...) {
    }
  }
};

}  // namespace

MetadataStore::MetadataStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}
MetadataStore::~MetadataStore() = default;

absl::StatusOr<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path) {
  // On a full filesystem RocksDB aborts while opening (its info log cannot be written).
  std::filesystem::path existing(path);
  while (!existing.empty() && !std::filesystem::exists(existing)) existing = existing.parent_path();
  struct statvfs fs {};
  if (::statvfs(existing.empty() ? "." : existing.c_str(), &fs) == 0) {
    const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free < kMinFreeBytes) {
      return absl::UnavailableError(
          absl::StrFormat("metadata store %s: only %d bytes free on its filesystem; urnd needs at "
                          "least %d to start",
                          path, free, kMinFreeBytes));
    }
  }
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // A log whose last record is torn (a host crash during an unsynced write) loses that record;
  // damage inside the log (a bit flip) refuses to open, where RocksDB's default would silently
  // drop every record after it, acknowledged ones included.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  options.info_log = std::make_shared<SpdlogLogger>();
  options.max_manifest_file_size = 64 << 20;
  // The log is written back in the background every MiB (sync_file_range), so that a synced
  // write after bulk unsynced ones (dataset blocks, snapshot chunks) finds little to flush.
  options.wal_bytes_per_sync = 1 << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("metadata store ", path), RocksCall::kOpen);
  return std::unique_ptr<MetadataStore>(new MetadataStore(std::unique_ptr<rocksdb::DB>(raw)));
}

absl::StatusOr<std::optional<std::string>> MetadataStore::Get(std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "metadata get");
  return std::optional<std::string>(std::move(value));
}

template <typename WriteFn>
absl::Status MetadataStore::Written(const WriteFn& write, const char* what) {
  if (fail_writes_.load(std::memory_order_relaxed)) [[unlikely]] {
    absl::Status injected;
    bool breaks = false;
    {
      absl::MutexLock lock(&fail_mu_);
      injected = fail_status_;
      breaks = fail_breaks_;
    }
    if (!injected.ok()) {
      if (!breaks) return injected;
      if (broken_.load(std::memory_order_acquire)) return broken();
      Latch(injected);
      return injected;
    }
  }
  if (broken_.load(std::memory_order_acquire)) return broken();
  const rocksdb::Status s = write();
  if (s.ok()) return absl::OkStatus();
  const absl::Status failed = FromRocks(s, what);
  Latch(failed);
  return failed;
}

void MetadataStore::Latch(const absl::Status& failed) {
  absl::MutexLock lock(&broken_mu_);
  if (broken_status_.ok()) {
    broken_status_ = absl::UnavailableError(
        absl::StrCat("the metadata store refuses writes since one failed (", failed.message(),
                     "); restart urnd once the cause (a full disk?) is fixed"));
    broken_.store(true, std::memory_order_release);
  }
}

absl::Status MetadataStore::broken() const {
  if (!broken_.load(std::memory_order_acquire)) return absl::OkStatus();
  absl::MutexLock lock(&broken_mu_);
  return broken_status_;
}

absl::Status MetadataStore::Put(std::string_view key, std::string_view value) {
  return Written([&] { return db_->Put(Synced(), SliceOf(key), SliceOf(value)); }, "metadata put");
}

absl::Status MetadataStore::Delete(std::string_view key) {
  return Written([&] { return db_->Delete(Synced(), SliceOf(key)); }, "metadata delete");
}

absl::Status MetadataStore::Write(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& ops,
    Durability durability) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : ops) {
    rocksdb::Status s = value ? batch.Put(key, *value) : batch.Delete(key);
    if (!s.ok()) return FromRocks(s, "metadata batch");
  }
  return Written([&] { return db_->Write(For(durability), &batch); }, "metadata write");
}

void MetadataStore::FailWritesForTesting(absl::Status status, bool breaks) {
  absl::MutexLock lock(&fail_mu_);
  fail_writes_.store(!status.ok(), std::memory_order_relaxed);
  fail_status_ = std::move(status);
  fail_breaks_ = breaks;
}

absl::Status MetadataStore::DeleteRange(std::string_view begin, std::string_view end,
                                        Durability durability) {
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.DeleteRange(SliceOf(begin), SliceOf(end));
  if (!s.ok()) return FromRocks(s, "metadata delete range");
  return Written([&] { return db_->Write(For(durability), &batch); }, "metadata delete range");
}

absl::Status MetadataStore::DeletePrefix(std::string_view prefix, Durability durability) {
  // The first key after every key that starts with `prefix`: its last byte raised by one.
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return DeleteRange(prefix, end, durability);
}

absl::Status MetadataStore::SyncWal() {
  return Written([&] { return db_->SyncWAL(); }, "metadata sync");
}

absl::Status MetadataStore::Scan(
    std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return ScanFrom(prefix, prefix, fn);
}

absl::Status MetadataStore::ScanFrom(
    std::string_view prefix, std::string_view start,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(SliceOf(start)); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  return FromRocks(it->status(), "metadata scan");
}

absl::StatusOr<bool> MetadataStore::Empty() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  if (!it->status().ok()) return FromRocks(it->status(), "metadata scan");
  return !it->Valid();
}

}  // namespace urn::storage
