#include "storage/rocks_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/status.h>

namespace urn::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(RocksStatusTest, EachKindOfFailureGetsTheCodeThatSaysWhatToDo) {
  EXPECT_TRUE(FromRocks(rocksdb::Status::OK(), "metadata write").ok());
  EXPECT_EQ(
      FromRocks(rocksdb::Status::Corruption("block checksum mismatch"), "metadata get").code(),
      absl::StatusCode::kDataLoss);
  // InvalidArgument is the operator's when opening; past Open it is urnd's, not a caller's.
  EXPECT_EQ(FromRocks(rocksdb::Status::InvalidArgument("bad option"), "metadata store /srv/m",
                      RocksCall::kOpen)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FromRocks(rocksdb::Status::InvalidArgument("/srv/m/000007.sst: bad"), "metadata write")
                .code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(FromRocks(rocksdb::Status::NotSupported("no"), "metadata write").code(),
            absl::StatusCode::kInternal);
  const absl::Status full = FromRocks(
      rocksdb::Status::IOError("While appending to file: 000012.log", "No space left on device"),
      "metadata write");
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(full.message()), StartsWith("metadata write: IO error: While appending"));
}

// A held LOCK file is FailedPrecondition ("in use by another process") when opening, in both of
// RocksDB's wordings; any other I/O error is Unavailable, also one whose text contains "lock"
// (as "block" does, or a data directory named so), and also a lock error outside Open. (A durable
// weight store tells a failed log write, Unavailable, from being closed, FailedPrecondition.)
TEST(RocksStatusTest, OnlyAHeldLockFileWhenOpeningIsInUse) {
  const rocksdb::Status other_process = rocksdb::Status::IOError(
      "While lock file: /srv/urn/meta/LOCK", "Resource temporarily unavailable");
  const rocksdb::Status this_process = rocksdb::Status::IOError(
      "lock hold by current process, acquire time 1 acquiring thread 2: /srv/urn/meta/LOCK",
      "No locks available");
  for (const rocksdb::Status& held : {other_process, this_process}) {
    const absl::Status s = FromRocks(held, "metadata store /srv/urn/meta", RocksCall::kOpen);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), HasSubstr("metadata store /srv/urn/meta: in use by another process"));
    EXPECT_EQ(FromRocks(held, "metadata write").code(), absl::StatusCode::kUnavailable);
  }
  EXPECT_EQ(
      FromRocks(rocksdb::Status::IOError("While reading block: /srv/blocklist/meta/000009.sst",
                                         "Input/output error"),
                "metadata store /srv/blocklist/meta", RocksCall::kOpen)
          .code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(FromRocks(rocksdb::Status::IOError("While writing block"), "metadata write").code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace urn::storage
