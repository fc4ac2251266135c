// Users and keys in the metadata store under concurrent admin calls: each change acts as if the
// calls ran in some order (users.h).
#include "auth/users.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/temp_dir.h"

namespace urn::auth {
namespace {

class UsersTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = *storage::MetadataStore::Open(dir_.Join("db")); }
  static ApiKey Key() { return *GenerateApiKey(); }
  testing::TempDir dir_;
  std::unique_ptr<storage::MetadataStore> db_;
};

// Four creations of one name at once: exactly one succeeds, the others are ALREADY_EXISTS.
TEST_F(UsersTest, OfConcurrentCreationsOfOneNameExactlyOneSucceeds) {
  for (int round = 0; round < 20; ++round) {
    const std::string name = absl::StrCat("dup", round);
    std::atomic<int> created{0}, exists{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        const absl::Status s = CreateUser(*db_, name, t % 2 ? "pro" : "free", false, Key());
        (s.ok() ? created : absl::IsAlreadyExists(s) ? exists : other)++;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(created.load(), 1) << name;
    EXPECT_EQ(exists.load(), 3) << name;
    EXPECT_EQ(other.load(), 0) << name;
    EXPECT_EQ(ListKeys(*db_, name)->size(), 1u) << name;
  }
}

// Keys added while their user is deleted: each is refused (NOT_FOUND) or deleted with the user,
// so none is left to authenticate as a new user of the same name.
TEST_F(UsersTest, AKeyAddedWhileItsUserIsDeletedDoesNotOutliveTheUser) {
  for (int round = 0; round < 20; ++round) {
    const std::string name = absl::StrCat("race", round);
    ASSERT_TRUE(CreateUser(*db_, name, "free", false, Key()).ok());
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] {
        const absl::Status s = AddKey(*db_, name, Key());
        if (!s.ok() && !absl::IsNotFound(s)) bad++;
      });
    }
    threads.emplace_back([&] {
      if (!DeleteUser(*db_, name).ok()) bad++;
    });
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0) << name;
    EXPECT_EQ(ListKeys(*db_, name).status().code(), absl::StatusCode::kNotFound) << name;
    const absl::StatusOr<std::vector<KeyListing>> all = ListKeys(*db_, "");
    ASSERT_TRUE(all.ok()) << all.status();
    for (const KeyListing& k : *all) EXPECT_NE(k.user, name) << k.key_id;
  }
}

// Listing the keys of a name that is no user is NOT_FOUND naming the field, not an empty list
// (as creating a key for it is); a user whose keys are all revoked lists them.
TEST_F(UsersTest, ListingTheKeysOfNoUserIsNotFound) {
  const absl::StatusOr<std::vector<KeyListing>> none = ListKeys(*db_, "nobody");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "user: no user named 'nobody'");
  const ApiKey key = Key();
  ASSERT_TRUE(CreateUser(*db_, "ann", "free", false, key).ok());
  ASSERT_TRUE(RevokeKey(*db_, key.key_id).ok());
  const absl::StatusOr<std::vector<KeyListing>> ann = ListKeys(*db_, "ann");
  ASSERT_TRUE(ann.ok()) << ann.status();
  ASSERT_EQ(ann->size(), 1u);
  EXPECT_TRUE((*ann)[0].revoked);
}

// DeleteUser leaves a tombstone until EndUserDeletion: meanwhile the name cannot be created
// again, and deleting it again succeeds (with no keys), so that its data can be removed.
TEST_F(UsersTest, ADeletedUsersNameIsFreeOnlyOnceItsDeletionEnded) {
  ASSERT_TRUE(CreateUser(*db_, "eve", "free", false, Key()).ok());
  EXPECT_EQ(*DeleteUser(*db_, "eve"), 1);
  EXPECT_EQ(*UnfinishedUserDeletions(*db_), std::vector<std::string>{"eve"});
  EXPECT_EQ(CreateUser(*db_, "eve", "free", false, Key()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*DeleteUser(*db_, "eve"), 0);
  ASSERT_TRUE(EndUserDeletion(*db_, "eve").ok());
  EXPECT_TRUE(UnfinishedUserDeletions(*db_)->empty());
  EXPECT_EQ(DeleteUser(*db_, "eve").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(CreateUser(*db_, "eve", "free", false, Key()).ok());
}

}  // namespace
}  // namespace urn::auth
