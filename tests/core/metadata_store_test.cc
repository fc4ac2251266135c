#include "storage/metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
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
