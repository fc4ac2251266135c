#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "auth/bootstrap.h"
#include "auth/users.h"
#include "support/temp_dir.h"
#include "urn/internal/records.pb.h"

namespace urn::auth {
namespace {

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<storage::MetadataStore>> s =
        storage::MetadataStore::Open(dir_.Join("meta"));
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    ASSERT_TRUE(EnsureAdmin(*store_, dir_.path(), "").ok());
    key_ =
        std::string(absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("admin.key"))));
    auth_ = std::make_unique<Authenticator>(store_.get());
    ASSERT_TRUE(auth_->Invalidate().ok());
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::MetadataStore> store_;
  std::unique_ptr<Authenticator> auth_;
  std::string key_;
};

TEST_F(AuthenticatorTest, BootstrapKeyAuthenticatesTheAdmin) {
  absl::StatusOr<Principal> p = auth_->Authenticate("Bearer " + key_);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->user, "admin");
  EXPECT_TRUE(p->admin);
  EXPECT_EQ(p->plan, "enterprise");
  EXPECT_EQ(key_.substr(4, 16), p->key_id);
}

// A call that outlives a plan change (a stream) is charged and limited by the new plan: before,
// a stream opened on 'pro' kept drawing at pro's limits after the user was set to 'free'.
TEST_F(AuthenticatorTest, StillValidFollowsThePlanSetSinceTheCallBegan) {
  const absl::StatusOr<ApiKey> key = GenerateApiKey();
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(CreateUser(*store_, "carol", "pro", false, *key).ok());
  ASSERT_TRUE(auth_->Invalidate().ok());
  absl::StatusOr<Principal> carol = auth_->Authenticate("Bearer " + key->ToString());
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_EQ(carol->plan, "pro");
  ASSERT_TRUE(SetUserPlan(*store_, "carol", "free").ok());
  ASSERT_TRUE(auth_->Invalidate().ok());
  EXPECT_TRUE(auth_->StillValid(*carol));
  EXPECT_EQ(carol->plan, "free");
  // The admin flag follows the user record the same way (no call changes it today).
  absl::StatusOr<std::optional<std::string>> raw = store_->Get("user/carol");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  internal::UserRecord user;
  ASSERT_TRUE(user.ParseFromString(**raw));
  user.set_admin(true);
  ASSERT_TRUE(store_->Put("user/carol", user.SerializeAsString()).ok());
  ASSERT_TRUE(auth_->Invalidate().ok());
  EXPECT_FALSE(carol->admin);
  EXPECT_TRUE(auth_->StillValid(*carol));
  EXPECT_TRUE(carol->admin);
}

TEST_F(AuthenticatorTest, EveryBadCredentialIsUnauthenticatedWithoutTheSecret) {
  const std::string secret = key_.substr(key_.rfind('_') + 1);
  std::string wrong = key_;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  const std::string unknown = "urn_0000000000000000_" + secret;
  for (const std::string& header :
       std::vector<std::string>{"", "Basic " + key_, "Bearer", "Bearer " + key_ + "x",
                                "Bearer " + wrong, "Bearer " + unknown, "bearer " + key_}) {
    absl::StatusOr<Principal> p = auth_->Authenticate(header);
    ASSERT_FALSE(p.ok()) << header;
    EXPECT_TRUE(absl::IsUnauthenticated(p.status())) << p.status();
    EXPECT_EQ(std::string(p.status().message()).find(secret), std::string::npos);
  }
}

TEST_F(AuthenticatorTest, RevocationTakesEffectAfterInvalidate) {
  const std::string id = key_.substr(4, 16);
  absl::StatusOr<std::optional<std::string>> raw = store_->Get("key/" + id);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  internal::KeyRecord record;
  ASSERT_TRUE(record.ParseFromString(**raw));
  record.set_revoked(true);
  ASSERT_TRUE(store_->Put("key/" + id, record.SerializeAsString()).ok());
  ASSERT_TRUE(auth_->Invalidate().ok());
  absl::StatusOr<Principal> p = auth_->Authenticate("Bearer " + key_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()), "key revoked or unknown");
}

// Admin calls change the store and then call Invalidate, and several may do so at once: a reload
// that scanned before a change must never replace one that scanned after it. Here one thread
// revokes and restores the admin key, checking after each Invalidate, while another reloads in
// a loop; a revoked key that still authenticates (or a restored one that does not) fails.
TEST_F(AuthenticatorTest, ConcurrentReloadsNeverInstallAnOlderView) {
  const std::string id = key_.substr(4, 16);
  absl::StatusOr<std::optional<std::string>> raw = store_->Get("key/" + id);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  internal::KeyRecord record;
  ASSERT_TRUE(record.ParseFromString(**raw));
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    while (!stop.load()) EXPECT_TRUE(auth_->Invalidate().ok());
  });
  int wrong = 0;
  for (int i = 0; i < 2000; ++i) {
    const bool revoked = i % 2 == 0;
    record.set_revoked(revoked);
    ASSERT_TRUE(store_->Put("key/" + id, record.SerializeAsString()).ok());
    ASSERT_TRUE(auth_->Invalidate().ok());
    wrong += auth_->Authenticate("Bearer " + key_).ok() == revoked;
  }
  stop.store(true);
  reloader.join();
  EXPECT_EQ(wrong, 0);
}

TEST_F(AuthenticatorTest, DamagedKeyRecordIsDataLoss) {
  ASSERT_TRUE(store_->Put("key/garbage", "\xff\xff\xff").ok());
  absl::Status s = auth_->Invalidate();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(std::string(s.message()).find("key/garbage"), std::string::npos);
}

}  // namespace
}  // namespace urn::auth
