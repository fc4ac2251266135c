#include "storage/metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "support/temp_dir.h"

namespace urn::storage {
namespace {

using ::testing::HasSubstr;

// A data directory that another urnd (here: another open store) holds is FailedPrecondition,
// naming the directory, so that urnd can say so instead of reporting a broken disk.
TEST(MetadataStoreTest, ASecondOpenOfTheSameDirectoryIsFailedPreconditionNamingIt) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<MetadataStore>> first = MetadataStore::Open(dir.Join("meta"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<MetadataStore>> second = MetadataStore::Open(dir.Join("meta"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another process"));
  EXPECT_THAT(second.status().message(), HasSubstr(dir.Join("meta")));
}

// RocksDB's messages go to urnd's log, not to a LOG file beside the data: on a full disk
// RocksDB wrote its report of the failed write to that file, which failed too, and aborted.
TEST(MetadataStoreTest, RocksDbWritesNoInfoLogFileBesideTheData) {
  testing::TempDir dir;
  for (int open = 0; open < 2; ++open) {  // a reopen would rotate an info log to LOG.old.*
    absl::StatusOr<std::unique_ptr<MetadataStore>> store = MetadataStore::Open(dir.Join("meta"));
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Write({{"k", "v"}}).ok());
    ASSERT_TRUE((*store)->SyncWal().ok());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.Join("meta"))) {
    EXPECT_NE(entry.path().filename().string().rfind("LOG", 0), 0u) << entry.path();
  }
}

// The write-ahead log file of the store at `path` (its only one after the writes below).
std::string WalFileOf(const std::string& path) {
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log") return entry.path().string();
  }
  return "";
}

// Writes 20 records of 1 KiB to the log only (not synced, not flushed to a table file), closes
// the store, and returns the log's bytes.
std::string WriteTwentyRecords(const std::string& path) {
  {
    auto store = *MetadataStore::Open(path);
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(store
                      ->Write({{absl::StrCat("r", i), std::string(1024, 'a' + i % 26)}},
                              Durability::kProcess)
                      .ok());
    }
  }
  return testing::ReadFileOrEmpty(WalFileOf(path));
}

// A log cut short (a host crash in the middle of an unsynced write) loses only its last, torn
// record; one damaged in the middle (a bit flip, a bad disk) is DataLoss naming the store, not
// a silent loss of every acknowledged write after the damage.
TEST(MetadataStoreTest, ATornLogTailIsDroppedButDamageInsideTheLogRefusesToOpen) {
  testing::TempDir dir;
  const std::string torn = dir.Join("torn");
  std::string log = WriteTwentyRecords(torn);
  ASSERT_GT(log.size(), 20u * 1024);
  testing::WriteFileOrDie(WalFileOf(torn), log.substr(0, log.size() - 500));
  {
    absl::StatusOr<std::unique_ptr<MetadataStore>> store = MetadataStore::Open(torn);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->Get("r18")->has_value());
    EXPECT_FALSE((*store)->Get("r19")->has_value());
  }
  const std::string damaged = dir.Join("damaged");
  log = WriteTwentyRecords(damaged);
  log[log.size() / 3] ^= 0x10;
  testing::WriteFileOrDie(WalFileOf(damaged), log);
  absl::StatusOr<std::unique_ptr<MetadataStore>> store = MetadataStore::Open(damaged);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

// The steps of the test below, in a child process: 0 when every one behaved, else which failed.
int FailAWriteThenWriteAndSyncAgain(const std::string& path) {
  std::signal(SIGXFSZ, SIG_IGN);  // an oversized write fails with EFBIG instead
  absl::StatusOr<std::unique_ptr<MetadataStore>> store = MetadataStore::Open(path);
  if (!store.ok()) return 10;
  const rlimit limit = {.rlim_cur = 1 << 20, .rlim_max = 1 << 20};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 11;
  const std::string value(64 << 10, 'v');
  bool failed = false;
  for (int i = 0; i < 400 && !failed; ++i) {
    failed = !(*store)->Put(absl::StrCat("k", i), value).ok();
  }
  if (!failed) return 12;
  if ((*store)->broken().ok()) return 13;
  if ((*store)->SyncWal().ok()) return 14;
  const absl::Status later = (*store)->Write({{"x", "y"}}, Durability::kProcess);
  if (!absl::IsUnavailable(later) ||
      later.message().find("refuses writes since one failed") == std::string_view::npos) {
    return 15;
  }
  if ((*store)->SyncWal().ok()) return 16;
  if (!(*store)->Get("k0").ok()) return 17;  // reads go on
  return 0;
}

// After a failed write (here the file size limit, as a full disk would fail it) every later write
// and sync is refused with that first failure, without calling RocksDB again: a sync after a
// failed log write aborts the process in Debian's RocksDB (an assertion), as urnd's fsync timer
// and its shutdown would. Run in a child process, since the limit is the process's; an abort
// fails the test.
TEST(MetadataStoreTest, AFailedWriteRefusesEveryLaterWriteAndSyncWithoutAborting) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  testing::TempDir dir;
  const std::string path = dir.Join("meta");
  EXPECT_EXIT(std::_Exit(FailAWriteThenWriteAndSyncAgain(path)), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace urn::storage
