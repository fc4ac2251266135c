// WeightStoreRegistry on its own: creates and deletes write their records outside the lock (Get
// and List go on), reserve names while they write, and DeleteOwner waits for them; a failed
// write leaves the registry as it was.
#include "weights/weight_store_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "storage/metadata_store.h"
#include "support/temp_dir.h"

namespace urn::server {
namespace {

internal::WeightStoreRecord Record(const std::string& owner, const std::string& name) {
  internal::WeightStoreRecord r;
  r.set_owner(owner);
  r.set_name(name);
  r.set_capacity(16);
  r.set_alpha(1);
  return r;
}

// DeleteOwner("ann") on a thread of its own.
class OwnerDeletion {
 public:
  explicit OwnerDeletion(WeightStoreRegistry* registry)
      : thread_([this, registry] {
          result_ = registry->DeleteOwner("ann");
          done_.Notify();
        }) {}
  // Whether it returned within `timeout`.
  bool DoneWithin(absl::Duration timeout) { return done_.WaitForNotificationWithTimeout(timeout); }
  absl::StatusOr<int> Result() {
    thread_.join();
    return result_;
  }

 private:
  absl::StatusOr<int> result_;
  absl::Notification done_;
  std::jthread thread_;  // last: it uses the members above
};

class WeightStoreRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::MetadataStore::Open(dir_.Join("meta"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    registry_ =
        std::make_unique<WeightStoreRegistry>(db_.get(), storage::DurableWeightStore::Config{});
    ASSERT_TRUE(registry_->Load().ok());
  }

  void TearDown() override { registry_->SetWritingForTesting(nullptr); }

  // Every key under `prefix`.
  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    EXPECT_TRUE(db_->Scan(prefix,
                          [&](std::string_view k, std::string_view) {
                            keys.emplace_back(k);
                            return true;
                          })
                    .ok());
    return keys;
  }

  // Makes the next Create or Delete stop just before its record write until `proceed`; `reached`
  // is notified when it got there. Later ones pass.
  void PauseNextWrite(absl::Notification* reached, absl::Notification* proceed) {
    auto first = std::make_shared<std::atomic<bool>>(true);
    registry_->SetWritingForTesting([=] {
      if (!first->exchange(false)) return;
      reached->Notify();
      proceed->WaitForNotificationWithTimeout(absl::Seconds(30));
    });
  }

  // Stores that an `admit` saw, as the count it was given.
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> CreateCounting(const std::string& name,
                                                                    int64_t* counted) {
    return registry_->Create(Record("ann", name), [counted](int64_t stores) {
      *counted = stores;
      return absl::OkStatus();
    });
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::MetadataStore> db_;
  std::unique_ptr<WeightStoreRegistry> registry_;
};

// While a create writes its record, Get and List of other stores return (before, they waited
// for its fsync under the registry's lock); its name is taken and counted, but not served; and
// DeleteOwner waits for it, then deletes it with the rest.
TEST_F(WeightStoreRegistryTest, CallsGoOnDuringACreatesWriteAndDeleteOwnerWaitsForIt) {
  ASSERT_TRUE(registry_->Create(Record("ann", "a")).ok());
  absl::Notification reached, proceed;
  PauseNextWrite(&reached, &proceed);
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> created;
  std::jthread creator([&] { created = registry_->Create(Record("ann", "pending")); });
  ASSERT_TRUE(reached.WaitForNotificationWithTimeout(absl::Seconds(30)));

  absl::Notification answered;
  std::jthread reader([&] {
    EXPECT_TRUE(registry_->Get("ann", "a").ok());
    EXPECT_EQ(registry_->List("ann", "ann", "", 10).size(), 1u);
    EXPECT_EQ(registry_->Get("ann", "pending").status().code(), absl::StatusCode::kNotFound);
    answered.Notify();
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(registry_->Create(Record("ann", "pending")).status().code(),
            absl::StatusCode::kAlreadyExists);
  int64_t counted = 0;
  ASSERT_TRUE(CreateCounting("b", &counted).ok());
  EXPECT_EQ(counted, 3);                   // a, pending (reserved) and b
  EXPECT_EQ(registry_->Count("ann"), 2u);  // what the owner has: a and b

  OwnerDeletion deletion(registry_.get());
  // It must wait for the create (if it did not, it would be done well within this time).
  EXPECT_FALSE(deletion.DoneWithin(absl::Milliseconds(300)));
  proceed.Notify();
  creator.join();
  reader.join();
  const absl::StatusOr<int> deleted = deletion.Result();
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 3);
  EXPECT_EQ(registry_->Count("ann"), 0u);
  EXPECT_TRUE(Keys("wstore/").empty());
  EXPECT_TRUE(Keys("wtomb/").empty());
}

// While a delete writes, the store is still served and listed, and a second Delete of it, or a
// Create of its name, is ABORTED (the first may yet fail); DeleteOwner waits for the first and
// deletes only what is left.
TEST_F(WeightStoreRegistryTest, CallsGoOnDuringADeletesWriteAndASecondDeleteIsAborted) {
  ASSERT_TRUE(registry_->Create(Record("ann", "a")).ok());
  ASSERT_TRUE(registry_->Create(Record("ann", "b")).ok());
  absl::Notification reached, proceed;
  PauseNextWrite(&reached, &proceed);
  absl::Status first;
  std::jthread remover([&] { first = registry_->Delete("ann", "a"); });
  ASSERT_TRUE(reached.WaitForNotificationWithTimeout(absl::Seconds(30)));

  absl::Notification answered;
  std::jthread reader([&] {
    EXPECT_TRUE(registry_->Get("ann", "a").ok());
    EXPECT_EQ(registry_->List("ann", "ann", "", 10).size(), 2u);
    answered.Notify();
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  const absl::Status second = registry_->Delete("ann", "a");
  EXPECT_EQ(second.code(), absl::StatusCode::kAborted) << second;
  EXPECT_EQ(second.message(), "weight store 'a' is being deleted; try again");
  const absl::Status again = registry_->Create(Record("ann", "a")).status();
  EXPECT_EQ(again.code(), absl::StatusCode::kAborted) << again;
  EXPECT_EQ(again.message(), "name: weight store 'a' is being deleted; try again");

  OwnerDeletion deletion(registry_.get());
  EXPECT_FALSE(deletion.DoneWithin(absl::Milliseconds(300)));
  proceed.Notify();
  remover.join();
  reader.join();
  const absl::StatusOr<int> deleted = deletion.Result();
  EXPECT_TRUE(first.ok()) << first;
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);  // b; a was the other call's
  EXPECT_EQ(registry_->Count("ann"), 0u);
  EXPECT_TRUE(Keys("wstore/").empty());
  EXPECT_TRUE(Keys("wtomb/").empty());
}

// A create whose record write fails frees its name and its place in the plan; a delete whose
// write fails leaves the store served, and a later one succeeds. Both as after a restart.
TEST_F(WeightStoreRegistryTest, AFailedWriteLeavesTheRegistryAsItWas) {
  ASSERT_TRUE(registry_->Create(Record("ann", "kept")).ok());
  db_->FailWritesForTesting(absl::UnavailableError("injected: no space left on device"));
  const absl::Status create = registry_->Create(Record("ann", "new")).status();
  const absl::Status remove = registry_->Delete("ann", "kept");
  db_->FailWritesForTesting(absl::OkStatus());
  EXPECT_EQ(create.code(), absl::StatusCode::kUnavailable) << create;
  EXPECT_EQ(remove.code(), absl::StatusCode::kUnavailable) << remove;
  EXPECT_TRUE(registry_->Get("ann", "kept").ok());
  EXPECT_EQ(registry_->Get("ann", "new").status().code(), absl::StatusCode::kNotFound);
  int64_t counted = 0;
  ASSERT_TRUE(CreateCounting("new", &counted).ok());
  EXPECT_EQ(counted, 2);  // kept and new: the failed create holds nothing
  {
    WeightStoreRegistry reloaded(db_.get(), {});
    ASSERT_TRUE(reloaded.Load().ok());
    EXPECT_EQ(reloaded.Count("ann"), 2u);
  }
  EXPECT_TRUE(registry_->Delete("ann", "kept").ok());
  EXPECT_EQ(registry_->Get("ann", "kept").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Keys("wstore/").size(), 1u);
}

}  // namespace
}  // namespace urn::server
