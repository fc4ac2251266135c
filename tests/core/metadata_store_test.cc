#include "storage/metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace urn::storage
