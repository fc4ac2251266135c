// urn.v1.WeightStores and urn.v1.Admin in process: every RPC, every error code, restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "storage/metadata_store.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/v1/weight_stores.grpc.pb.h"
#include "urn_server.h"
#include "weights/weight_store_registry.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;

// What DeleteBobDuringCreate saw.
struct DeletedDuringCreate {
  bool paused = false;         // the create reached the hook
  bool delete_waited = false;  // DeleteUser had not returned after `wait`
  absl::Status created;
  absl::StatusOr<v1::DeleteUserResponse> deleted;
  bool inherits_nothing = false;  // a user created again as 'bob' has no store
};

class WeightStoresServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  // A new user 'bob' creates store "s", paused at the registry hook that `set_hook` sets (its
  // first run only), while DeleteUser("bob") runs on a thread of its own; then the create goes on.
  DeletedDuringCreate DeleteBobDuringCreate(
      void (WeightStoreRegistry::*set_hook)(std::function<void()>), absl::Duration wait);

  void Start() {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.max_store_slots = 1 << 20;
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    admin_key_ = std::string(
        absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("data/admin.key"))));
    admin_ = ClientWith(admin_key_);
  }

  void Restart() {
    server_->Shutdown(std::chrono::milliseconds(0));
    server_->Wait();
    server_.reset();
    Start();
  }

  std::unique_ptr<Client> ClientWith(const std::string& key) {
    ClientOptions options;
    options.server = absl::StrCat("127.0.0.1:", server_->port());
    options.key = key;
    return std::make_unique<Client>(*Client::Connect(options));
  }

  v1::WeightStore Create(const std::string& name, int64_t capacity, double alpha = 1) {
    v1::CreateWeightStoreRequest request;
    request.set_name(name);
    request.set_capacity(capacity);
    request.set_alpha(alpha);
    absl::StatusOr<v1::WeightStore> store = admin_->CreateWeightStore(request);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.value_or(v1::WeightStore());
  }

  // A new user on the free plan, with one weight store of `capacity` slots; the user's client.
  std::unique_ptr<Client> UserWithStore(const std::string& user, const std::string& store,
                                        int64_t capacity) {
    absl::StatusOr<v1::CreateUserResponse> created = admin_->CreateUser(user, "free");
    EXPECT_TRUE(created.ok()) << created.status();
    std::unique_ptr<Client> client = ClientWith(created.ok() ? created->key() : "");
    v1::CreateWeightStoreRequest request;
    request.set_name(store);
    request.set_capacity(capacity);
    const absl::Status s = client->CreateWeightStore(request).status();
    EXPECT_TRUE(s.ok()) << s;
    return client;
  }

  // Sends the batches (slot lists with priorities) and returns the stream's status.
  absl::Status Update(Client& client, const std::string& store,
                      const std::vector<std::pair<std::vector<int64_t>, std::vector<double>>>& b,
                      int64_t* acked = nullptr) {
    size_t at = 0;
    return client.UpdatePriorities(
        store,
        [&](v1::UpdatePrioritiesRequest* r) {
          if (at == b.size()) return false;
          r->mutable_slots()->Add(b[at].first.begin(), b[at].first.end());
          r->mutable_priorities()->Add(b[at].second.begin(), b[at].second.end());
          ++at;
          return true;
        },
        2,
        [&](const v1::UpdatePrioritiesResponse& ack) {
          if (acked) *acked = ack.acknowledged_sequence();
        });
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string admin_key_;
  std::unique_ptr<Client> admin_;
};

TEST_F(WeightStoresServiceTest, CreateGetListDeleteAndTheirErrors) {
  const v1::WeightStore created = Create("replay", 1000, 0.6);
  EXPECT_EQ(created.capacity(), 1000);
  EXPECT_EQ(created.alpha(), 0.6);
  EXPECT_EQ(created.owner(), "admin");
  EXPECT_EQ(created.new_item_priority(), v1::NEW_ITEM_PRIORITY_MAX_SEEN);
  EXPECT_EQ(admin_->GetWeightStore("replay")->capacity(), 1000);
  Create("second", 10);
  EXPECT_EQ(admin_->ListWeightStores()->size(), 2u);

  v1::CreateWeightStoreRequest r;
  r.set_name("replay");
  r.set_capacity(10);
  EXPECT_EQ(admin_->CreateWeightStore(r).status().code(), absl::StatusCode::kAlreadyExists);
  const auto expect_invalid = [&](const v1::CreateWeightStoreRequest& bad, const char* field) {
    absl::Status s = admin_->CreateWeightStore(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith(field));
  };
  r.set_name("bad name!");
  expect_invalid(r, "name");
  r.set_name("ok");
  r.set_capacity(0);
  expect_invalid(r, "capacity");
  r.set_capacity((1 << 20) + 1);
  expect_invalid(r, "capacity");
  r.set_capacity(10);
  r.set_alpha(-1);
  expect_invalid(r, "alpha");
  r.clear_alpha();
  r.set_default_priority(2);
  expect_invalid(r, "default_priority");
  r.set_new_item_priority(v1::NEW_ITEM_PRIORITY_DEFAULT);
  r.set_default_priority(NAN);
  expect_invalid(r, "default_priority");
  r.set_default_priority(1e-200);  // to the power 2 it is 0: never drawn
  r.set_alpha(2);
  expect_invalid(r, "default_priority");
  r.clear_alpha();
  r.set_name("minus_zero");
  r.set_default_priority(-0.0);  // kept as +0, for every new item
  ASSERT_TRUE(admin_->CreateWeightStore(r).ok());
  ASSERT_TRUE(admin_->Insert("minus_zero", {"a"}, {}).ok());
  EXPECT_FALSE(std::signbit(admin_->GetPriorities("minus_zero", 0, 1)->at(0)));
  ASSERT_TRUE(admin_->DeleteWeightStore("minus_zero").ok());
  r.set_name("ok");
  r.set_default_priority(2);
  EXPECT_EQ(admin_->CreateWeightStore(r)->alpha(), 1.0);  // unset alpha means 1

  EXPECT_EQ(admin_->GetWeightStore("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(admin_->DeleteWeightStore("second").ok());
  EXPECT_EQ(admin_->DeleteWeightStore("second").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin_->ListWeightStores()->size(), 2u);
}

TEST_F(WeightStoresServiceTest, ListingPagesThroughEveryStoreOnce) {
  for (const char* name : {"a", "b", "c", "d", "e"}) Create(name, 4);
  auto stub = v1::WeightStores::NewStub(admin_->channel());
  std::vector<std::string> seen;
  v1::ListWeightStoresRequest request;
  request.set_page_size(2);
  int pages = 0;
  do {
    grpc::ClientContext context;
    admin_->Prepare(context);
    v1::ListWeightStoresResponse response;
    ASSERT_TRUE(stub->ListWeightStores(&context, request, &response).ok());
    EXPECT_LE(response.weight_stores_size(), 2);
    for (const auto& w : response.weight_stores()) seen.push_back(w.name());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
  const auto status_of = [&](int32_t size, const std::string& token) {
    grpc::ClientContext context;
    admin_->Prepare(context);
    v1::ListWeightStoresRequest r;
    r.set_page_size(size);
    r.set_page_token(token);
    v1::ListWeightStoresResponse response;
    return stub->ListWeightStores(&context, r, &response);
  };
  grpc::Status bad = status_of(1001, "");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "page_size: must be between 0 and 1000");
  EXPECT_EQ(status_of(2, "no-slash").error_message(), "page_token: not from this listing");
  // A user's listing refuses a token that points into another owner's resources.
  auto alice = ClientWith(admin_->CreateUser("alice", "free")->key());
  auto alice_stub = v1::WeightStores::NewStub(alice->channel());
  grpc::ClientContext context;
  alice->Prepare(context);
  v1::ListWeightStoresRequest r;
  r.set_page_token("admin/b");
  v1::ListWeightStoresResponse response;
  EXPECT_EQ(alice_stub->ListWeightStores(&context, r, &response).error_message(),
            "page_token: not from this listing");
}

TEST_F(WeightStoresServiceTest, KeysTenantsAndAdminRights) {
  Create("mine", 10);
  EXPECT_EQ(ClientWith("")->GetWeightStore("mine").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ClientWith("urn_0000000000000000_00000000000000000000000000000000")
                ->ListWeightStores()
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<v1::CreateUserResponse> alice = admin_->CreateUser("alice", "free");
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(admin_->CreateUser("alice", "free").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin_->CreateUser("bad name", "free").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto as_alice = ClientWith(alice->key());
  EXPECT_EQ(as_alice->CreateUser("bob", "free").status().code(),
            absl::StatusCode::kPermissionDenied);
  // Another tenant's store is not found, for every RPC.
  EXPECT_EQ(as_alice->GetWeightStore("mine").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(as_alice->DeleteWeightStore("mine").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(as_alice->GetPriorities("mine", 0, 1).status().code(), absl::StatusCode::kNotFound);
  v1::SampleWeightsRequest sample;
  sample.set_weight_store("mine");
  EXPECT_EQ(as_alice->SampleWeights(sample).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Update(*as_alice, "mine", {{{1}, {1.0}}}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(as_alice->Insert("mine", {"k"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(as_alice->ListWeightStores()->empty());
  // Her own store of the same name is hers.
  v1::CreateWeightStoreRequest r;
  r.set_name("mine");
  r.set_capacity(5);
  EXPECT_EQ(as_alice->CreateWeightStore(r)->owner(), "alice");
  EXPECT_EQ(as_alice->GetWeightStore("mine")->capacity(), 5);
  EXPECT_EQ(admin_->GetWeightStore("mine")->capacity(), 10);
}

// A stream outlives neither its key nor its user: the message after a revocation ends it
// UNAUTHENTICATED unapplied, and the messages acknowledged before it stand.
TEST_F(WeightStoresServiceTest, AStreamEndsAtTheFirstMessageAfterItsKeyIsRevoked) {
  absl::StatusOr<v1::CreateUserResponse> bob = admin_->CreateUser("bob", "free");
  ASSERT_TRUE(bob.ok()) << bob.status();
  auto as_bob = ClientWith(bob->key());
  v1::CreateWeightStoreRequest r;
  r.set_name("s");
  r.set_capacity(4);
  ASSERT_TRUE(as_bob->CreateWeightStore(r).ok());
  int sent = 0;
  int64_t acked = 0;
  const absl::Status s = as_bob->UpdatePriorities(
      "s",
      [&](v1::UpdatePrioritiesRequest* m) {
        // A window of 1: message 2 is made only once message 1 is acknowledged.
        if (sent == 1) {
          EXPECT_TRUE(admin_->RevokeKey(bob->key_id()).ok());
        }
        if (sent == 3) return false;
        m->add_slots(sent);
        m->add_priorities(sent + 1.0);
        ++sent;
        return true;
      },
      1, [&](const v1::UpdatePrioritiesResponse& ack) { acked = ack.acknowledged_sequence(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("revoked or its user deleted"));
  EXPECT_EQ(acked, 1);
  absl::StatusOr<v1::CreateKeyResponse> again = admin_->CreateKey("bob");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(*ClientWith(again->key())->GetPriorities("s", 0, 4),
              ::testing::ElementsAre(1.0, 0.0, 0.0, 0.0));
}

// A name already taken is refused before the new store's memory is allocated: the hook that
// runs after the allocation is reached by the first create only.
TEST_F(WeightStoresServiceTest, ATakenNameIsRefusedBeforeTheStoreIsAllocated) {
  auto allocated = std::make_shared<std::atomic<int>>(0);
  server_->weight_stores_for_testing().SetBeforeRegisterForTesting([allocated] { ++*allocated; });
  v1::CreateWeightStoreRequest r;
  r.set_name("twice");
  r.set_capacity(1 << 20);
  ASSERT_TRUE(admin_->CreateWeightStore(r).ok());
  const absl::Status again = admin_->CreateWeightStore(r).status();
  server_->weight_stores_for_testing().SetBeforeRegisterForTesting(nullptr);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(again.message(), "name: you already have a weight store named 'twice'");
  EXPECT_EQ(allocated->load(), 1);
}

DeletedDuringCreate WeightStoresServiceTest::DeleteBobDuringCreate(
    void (WeightStoreRegistry::*set_hook)(std::function<void()>), absl::Duration wait) {
  DeletedDuringCreate out;
  absl::StatusOr<v1::CreateUserResponse> bob = admin_->CreateUser("bob", "free");
  if (!bob.ok()) return out;
  auto as_bob = ClientWith(bob->key());
  auto reached = std::make_shared<absl::Notification>();
  auto proceed = std::make_shared<absl::Notification>();
  auto first = std::make_shared<std::atomic<bool>>(true);  // the create's; not the delete's
  WeightStoreRegistry& registry = server_->weight_stores_for_testing();
  (registry.*set_hook)([reached, proceed, first] {
    if (!first->exchange(false)) return;
    reached->Notify();
    proceed->WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  {
    std::jthread creator([&] {
      v1::CreateWeightStoreRequest r;
      r.set_name("s");
      r.set_capacity(4);
      out.created = as_bob->CreateWeightStore(r).status();
    });
    out.paused = reached->WaitForNotificationWithTimeout(absl::Seconds(30));
    absl::Notification user_deleted;
    std::jthread deleter([&] {
      out.deleted = admin_->DeleteUser("bob");
      user_deleted.Notify();
    });
    out.delete_waited = !user_deleted.WaitForNotificationWithTimeout(wait);
    proceed->Notify();
  }
  (registry.*set_hook)(nullptr);
  absl::StatusOr<v1::CreateUserResponse> again = admin_->CreateUser("bob", "free");
  if (!again.ok()) return out;
  absl::StatusOr<std::vector<v1::WeightStore>> stores =
      ClientWith(again->key())->ListWeightStores();
  out.inherits_nothing = stores.ok() && stores->empty();
  return out;
}

// A store whose creation was under way when its owner was deleted is not kept: the create is
// paused after its first check (authenticated, within the plan) while DeleteUser runs, and then
// refused, so a user created again under that name inherits nothing.
TEST_F(WeightStoresServiceTest, AStoreCreatedWhileItsOwnerIsDeletedIsNotKept) {
  const DeletedDuringCreate r =
      DeleteBobDuringCreate(&WeightStoreRegistry::SetBeforeRegisterForTesting, absl::Seconds(30));
  ASSERT_TRUE(r.paused);
  EXPECT_FALSE(r.delete_waited);
  ASSERT_TRUE(r.deleted.ok()) << r.deleted.status();
  EXPECT_EQ(r.deleted->weight_stores_deleted(), 0);
  EXPECT_EQ(r.created.code(), absl::StatusCode::kUnauthenticated) << r.created;
  EXPECT_TRUE(r.inherits_nothing);
}

// The other order: a create that passed its authoritative check (the owner was not deleted yet)
// and is writing its record when DeleteUser runs. DeleteUser waits for it and deletes the store
// with its owner, so again a user created again under that name inherits nothing.
TEST_F(WeightStoresServiceTest, AStoreWrittenWhileItsOwnerIsDeletedIsDeletedWithIt) {
  const DeletedDuringCreate r =
      DeleteBobDuringCreate(&WeightStoreRegistry::SetWritingForTesting, absl::Milliseconds(300));
  ASSERT_TRUE(r.paused);
  EXPECT_TRUE(r.delete_waited);
  EXPECT_TRUE(r.created.ok()) << r.created;
  ASSERT_TRUE(r.deleted.ok()) << r.deleted.status();
  EXPECT_EQ(r.deleted->weight_stores_deleted(), 1);
  EXPECT_TRUE(r.inherits_nothing);
}

// A batch the store cannot give (no positive priority yet; fewer positive slots than a batch
// without replacement) is FAILED_PRECONDITION and is not charged to the plan's daily rows.
TEST_F(WeightStoresServiceTest, DrawsThatCannotBeMadeAreRefusedUncharged) {
  std::unique_ptr<Client> as_alice = UserWithStore("alice", "s", 10);
  v1::SampleWeightsRequest sample;
  sample.set_weight_store("s");
  sample.set_batch_size(4);
  absl::StatusOr<v1::SampleWeightsResponse> empty = as_alice->SampleWeights(sample);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(empty.status().message(),
            "weight_store: cannot draw 4 slots: 0 of its slots have positive priority");
  ASSERT_TRUE(Update(*as_alice, "s", {{{1, 2, 3}, {1.0, 2.0, 3.0}}}).ok());
  sample.set_without_replacement(true);
  EXPECT_EQ(as_alice->SampleWeights(sample).status().message(),
            "weight_store: cannot draw 4 slots without replacement: 3 of its slots have positive "
            "priority");
  EXPECT_EQ(as_alice->GetUsage()->rows_today(), 0);
  sample.set_batch_size(3);
  ASSERT_TRUE(as_alice->SampleWeights(sample).ok());
  EXPECT_EQ(as_alice->GetUsage()->rows_today(), 3);
}

// Rows are charged only for draws that were made: when an update zeroes every priority after
// SampleWeights' checks and before its draw, the call is FAILED_PRECONDITION and uncharged.
TEST_F(WeightStoresServiceTest, ADrawThatFailsAfterItsChecksIsNotCharged) {
  std::unique_ptr<Client> as_alice = UserWithStore("alice", "s", 10);
  ASSERT_TRUE(Update(*as_alice, "s", {{{1, 2, 3}, {1.0, 2.0, 3.0}}}).ok());
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> hosted =
      server_->weight_stores_for_testing().Get("alice", "s");
  ASSERT_TRUE(hosted.ok()) << hosted.status();
  absl::Status zeroed = absl::UnknownError("the hook did not run");
  server_->weight_stores_service_for_testing().SetBeforeDrawForTesting([&] {
    const std::vector<uint64_t> slots = {1, 2, 3};
    const std::vector<double> zeros = {0.0, 0.0, 0.0};
    zeroed = (*hosted)->durable->UpdateSlots(slots, zeros);
  });
  v1::SampleWeightsRequest sample;
  sample.set_weight_store("s");
  sample.set_batch_size(2);
  const absl::Status drawn = as_alice->SampleWeights(sample).status();
  server_->weight_stores_service_for_testing().SetBeforeDrawForTesting(nullptr);
  ASSERT_TRUE(zeroed.ok()) << zeroed;
  EXPECT_EQ(drawn.code(), absl::StatusCode::kFailedPrecondition) << drawn;
  EXPECT_EQ(as_alice->GetUsage()->rows_today(), 0);
  ASSERT_TRUE(Update(*as_alice, "s", {{{4}, {1.0}}}).ok());
  ASSERT_TRUE(as_alice->SampleWeights(sample).ok());
  EXPECT_EQ(as_alice->GetUsage()->rows_today(), 2);
}

// The free plan allows 3 stores: of 16 creates sent at once, exactly 3 succeed and the rest are
// RESOURCE_EXHAUSTED (the count and the insert are one step under the registry's lock).
TEST_F(WeightStoresServiceTest, ConcurrentCreatesStopAtThePlansStoreLimit) {
  absl::StatusOr<v1::CreateUserResponse> alice = admin_->CreateUser("alice", "free");
  ASSERT_TRUE(alice.ok()) << alice.status();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(ClientWith(alice->key()));
  std::vector<absl::StatusCode> codes(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      v1::CreateWeightStoreRequest r;
      r.set_name(absl::StrCat("s", i));
      r.set_capacity(1000);
      codes[i] = clients[i]->CreateWeightStore(r).status().code();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::count(codes.begin(), codes.end(), absl::StatusCode::kOk), 3);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), absl::StatusCode::kResourceExhausted), 13);
  EXPECT_EQ(ClientWith(alice->key())->ListWeightStores()->size(), 3u);
}

TEST_F(WeightStoresServiceTest, UpdatesAreAcknowledgedInOrderAndReadBack) {
  Create("s", 100);
  int64_t acked = 0;
  ASSERT_TRUE(
      Update(*admin_, "s", {{{0, 5}, {1.5, 2}}, {{5, 99}, {3, 4}}, {{7}, {0.25}}}, &acked).ok());
  EXPECT_EQ(acked, 3);
  absl::StatusOr<std::vector<double>> p = admin_->GetPriorities("s", 0, 100);
  ASSERT_TRUE(p.ok());
  std::vector<double> expected(100, 0.0);
  expected[0] = 1.5;
  expected[5] = 3;
  expected[7] = 0.25;
  expected[99] = 4;
  EXPECT_EQ(*p, expected);
  EXPECT_EQ(admin_->GetWeightStore("s")->total(), 1.5 + 3 + 0.25 + 4);
  // The largest priority set so far; lowering it does not lower it (PER).
  EXPECT_EQ(admin_->GetWeightStore("s")->max_priority(), 4);
  ASSERT_TRUE(Update(*admin_, "s", {{{99}, {0.5}}}).ok());
  EXPECT_EQ(admin_->GetWeightStore("s")->max_priority(), 4);
}

TEST_F(WeightStoresServiceTest, AnInvalidBatchIsRejectedWholeNamingTheIndex) {
  const std::string key_k = "k", key_unknown = "unknown";
  Create("s", 10);
  const auto expect =
      [&](const std::vector<std::pair<std::vector<int64_t>, std::vector<double>>>& batches,
          const char* message) {
        int64_t acked = 0;
        absl::Status s = Update(*admin_, "s", batches, &acked);
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
        EXPECT_THAT(std::string(s.message()), HasSubstr(message));
        return acked;
      };
  EXPECT_EQ(expect({{{1}, {2.0}}, {{2, 3}, {1, -1}}}, "priorities[1]: -1"), 1);
  EXPECT_EQ(expect({{{2, 10}, {1, 1}}}, "slots[1]: 10 is outside [0, 10)"), 0);
  expect({{{2}, {1, 1}}}, "priorities: 2 values for 1 slots");
  expect({{{2}, {INFINITY}}}, "priorities[0]: inf");
  // Only the first, valid batch changed anything.
  EXPECT_EQ(*admin_->GetPriorities("s", 0, 4), (std::vector<double>{0, 2, 0, 0}));
  // A stream without a store name, or with keys and slots at once.
  bool sent = false;
  absl::Status s = admin_->UpdatePriorities("", [&](v1::UpdatePrioritiesRequest* r) {
    r->add_slots(1);
    r->add_priorities(1);
    return !std::exchange(sent, true);
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("weight_store: required"));
  sent = false;
  s = admin_->UpdatePriorities("s", [&](v1::UpdatePrioritiesRequest* r) {
    r->add_slots(1);
    r->mutable_keys()->Add(std::string(key_k));
    r->add_priorities(1);
    return !std::exchange(sent, true);
  });
  EXPECT_THAT(std::string(s.message()), HasSubstr("slots, keys"));
  // At most 65,536 entries a message: each is applied under the store's lock, which draws wait
  // for (before, only the 4 MiB message limit applied: ~350,000 slots held draws ~100 ms).
  Create("wide", 1 << 17);
  sent = false;
  s = admin_->UpdatePriorities("wide", [&](v1::UpdatePrioritiesRequest* r) {
    for (int i = 0; i <= 65536; ++i) {
      r->add_slots(i);
      r->add_priorities(1);
    }
    return !std::exchange(sent, true);
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("slots: 65537 in one message, at most 65536"));
  // -0 is stored as +0.
  ASSERT_TRUE(Update(*admin_, "s", {{{3}, {-0.0}}}, nullptr).ok());
  EXPECT_FALSE(std::signbit(admin_->GetPriorities("s", 3, 1)->at(0)));
  // A key that is not stored is skipped and listed in the acknowledgement, not an error.
  ASSERT_TRUE(admin_->Insert("s", {"k"}, {1.0}).ok());  // ring slot 0
  sent = false;
  std::vector<int32_t> skipped;
  s = admin_->UpdatePriorities(
      "s",
      [&](v1::UpdatePrioritiesRequest* r) {
        r->mutable_keys()->Add(std::string(key_unknown));
        r->mutable_keys()->Add(std::string(key_k));
        r->add_priorities(1);
        r->add_priorities(5);
        return !std::exchange(sent, true);
      },
      8,
      [&](const v1::UpdatePrioritiesResponse& ack) {
        skipped.assign(ack.skipped().begin(), ack.skipped().end());
      });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(skipped, std::vector<int32_t>{0});
  EXPECT_EQ(*admin_->GetPriorities("s", 0, 1), std::vector<double>{5});
}

TEST_F(WeightStoresServiceTest, InsertThenSampleGivesExactProbabilitiesAndWeights) {
  v1::CreateWeightStoreRequest r;
  r.set_name("per");
  r.set_capacity(8);
  r.set_alpha(0.5);
  ASSERT_TRUE(admin_->CreateWeightStore(r).ok());
  absl::StatusOr<std::vector<int64_t>> slots =
      admin_->Insert("per", {"a", "b", "c", "d"}, {1, 4, 9, 16});
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(*slots, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(admin_->Insert("per", {"a"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(admin_->Insert("per", {"x", "y"}, {1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A key that is no UTF-8 is refused by the client before anything is sent.
  const absl::Status latin1 = admin_->Insert("per", {"x", "caf\xe9"}).status();
  EXPECT_EQ(latin1.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(latin1.message(), "keys[1]: not valid UTF-8 at its byte 4; nothing was inserted");
  EXPECT_EQ(admin_->GetWeightStore("per")->size(), 4);

  v1::SampleWeightsRequest q;
  q.set_weight_store("per");
  q.set_batch_size(64);
  q.set_beta(1);
  q.set_seed(9);
  absl::StatusOr<v1::SampleWeightsResponse> a = admin_->SampleWeights(q);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->slots_size(), 64);
  EXPECT_EQ(a->seed(), 9u);
  // p^0.5 = 1, 2, 3, 4 of 10; weights (n P)^-1 / max = (1/P) / (1/P_min) = P_min / P.
  for (int j = 0; j < 64; ++j) {
    const int64_t s = a->slots(j);
    const std::vector<std::string> names = {"a", "b", "c", "d"};
    ASSERT_TRUE(s >= 0 && s < 4) << s;
    EXPECT_EQ(a->keys(j), names[s]);
    EXPECT_DOUBLE_EQ(a->probabilities(j), (s + 1) / 10.0);
    EXPECT_DOUBLE_EQ(a->importance_weights(j), 1.0 / (s + 1));
    EXPECT_EQ(a->priorities(j), (s + 1) * (s + 1));
  }
  const absl::StatusOr<v1::SampleWeightsResponse> b = admin_->SampleWeights(q);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());  // same seed, same batch
  q.clear_seed();
  const absl::StatusOr<v1::SampleWeightsResponse> c1 = admin_->SampleWeights(q);
  const absl::StatusOr<v1::SampleWeightsResponse> c2 = admin_->SampleWeights(q);
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_NE(c1->seed(), c2->seed());

  q.set_batch_size(4);
  q.set_without_replacement(true);
  std::set<int64_t> distinct;
  const absl::StatusOr<v1::SampleWeightsResponse> four = admin_->SampleWeights(q);
  ASSERT_TRUE(four.ok()) << four.status();
  for (int64_t s : four->slots()) distinct.insert(s);
  EXPECT_EQ(distinct.size(), 4u);
  q.set_batch_size(5);
  EXPECT_EQ(admin_->SampleWeights(q).status().code(), absl::StatusCode::kFailedPrecondition);

  const auto expect_invalid = [&](const v1::SampleWeightsRequest& bad, const char* field) {
    absl::Status s = admin_->SampleWeights(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith(field));
  };
  v1::SampleWeightsRequest bad = q;
  bad.set_stratified(true);
  expect_invalid(bad, "stratified");
  bad = q;
  bad.set_batch_size(70000);
  expect_invalid(bad, "batch_size");
  bad.set_batch_size(-1);
  expect_invalid(bad, "batch_size");
  bad = q;
  bad.set_beta(1.5);
  expect_invalid(bad, "beta");
  EXPECT_EQ(admin_->GetPriorities("per", 8, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(admin_->GetPriorities("per", -1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  Create("empty", 4);
  q.set_weight_store("empty");
  EXPECT_EQ(admin_->SampleWeights(q).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Insert sizes its messages by keys, framing and priorities: 300,000 short keys with
// priorities made a 4.7 MB message urnd refused. A refused message leaves the ones before it
// stored, and the caller gets their slots.
TEST_F(WeightStoresServiceTest, LargeInsertsFitUrndsMessagesAndAPartOneStoredReturnsItsSlots) {
  Create("big", 1 << 20);
  std::vector<std::string> keys;
  for (int i = 0; i < 300'000; ++i) keys.push_back(absl::StrFormat("k%07d", i));
  absl::StatusOr<std::vector<int64_t>> slots =
      admin_->Insert("big", keys, std::vector<double>(keys.size(), 1.0));
  ASSERT_TRUE(slots.ok()) << slots.status();
  ASSERT_EQ(slots->size(), keys.size());
  EXPECT_EQ(slots->back(), 299'999);

  std::vector<std::string> more;
  for (int i = 0; i < 200'000; ++i) more.push_back(absl::StrFormat("m%07d", i));
  more.push_back("k0000000");  // stored already: its message is refused
  std::vector<int64_t> stored = {-1};
  slots = admin_->Insert("big", more, std::vector<double>(more.size(), 2.0), &stored);
  EXPECT_EQ(slots.status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_GT(stored.size(), 0u);
  ASSERT_LT(stored.size(), more.size() - 1);
  for (size_t i = 0; i < stored.size(); ++i) ASSERT_EQ(stored[i], 300'000 + int64_t(i)) << i;
  EXPECT_EQ(admin_->GetWeightStore("big")->size(), 300'000 + int64_t(stored.size()));

  // A timeout of 1000 years, once per message of a 3-message insert: no deadline, rather than
  // a clock overflow (signed overflow, which CI's UBSan step reports).
  ClientOptions patient;
  patient.server = absl::StrCat("127.0.0.1:", server_->port());
  patient.key = admin_key_;
  patient.timeout = std::chrono::hours(24 * 365 * 1000);
  Create("patient", 1 << 20);
  slots = Client::Connect(patient)->Insert("patient", keys, std::vector<double>(keys.size(), 1.0));
  ASSERT_TRUE(slots.ok()) << slots.status();
  EXPECT_EQ(slots->size(), keys.size());
}

// A SampleWeights batch of 65,536 draws of 1 KiB keys is ~67 MB: the client takes it (its
// limit was 64 MiB, and the rows were charged for a batch it then refused).
TEST_F(WeightStoresServiceTest, TheLargestSampleWeightsBatchReachesTheClient) {
  Create("long", 128);
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back(absl::StrFormat("%04d", i) + std::string(1000, 'x'));
  ASSERT_TRUE(admin_->Insert("long", keys, std::vector<double>(keys.size(), 1.0)).ok());
  v1::SampleWeightsRequest q;
  q.set_weight_store("long");
  q.set_batch_size(65536);
  q.set_seed(1);
  absl::StatusOr<v1::SampleWeightsResponse> r = admin_->SampleWeights(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->keys_size(), 65536);
  EXPECT_GT(r->ByteSizeLong(), size_t{64} << 20);
}

TEST_F(WeightStoresServiceTest, ARestartRestoresStoresPrioritiesAndKeys) {
  Create("keep", 1000, 0.7);
  ASSERT_TRUE(admin_->Insert("keep", {"x", "y"}, {3, 4}).ok());
  ASSERT_TRUE(Update(*admin_, "keep", {{{500, 999}, {7, 8}}, {{0}, {9}}}).ok());
  v1::SampleWeightsRequest q;
  q.set_weight_store("keep");
  q.set_seed(3);
  const std::string before = admin_->SampleWeights(q)->SerializeAsString();
  const std::vector<double> priorities = *admin_->GetPriorities("keep", 0, 1000);
  Restart();
  EXPECT_EQ(admin_->GetWeightStore("keep")->alpha(), 0.7);
  EXPECT_EQ(admin_->GetWeightStore("keep")->size(), 2);
  EXPECT_EQ(*admin_->GetPriorities("keep", 0, 1000), priorities);
  EXPECT_EQ(admin_->SampleWeights(q)->SerializeAsString(), before);
  // Deleted stores stay deleted.
  ASSERT_TRUE(admin_->DeleteWeightStore("keep").ok());
  Restart();
  EXPECT_EQ(admin_->GetWeightStore("keep").status().code(), absl::StatusCode::kNotFound);
}

// A store whose definition record does not parse stays listed (damaged), keeps its name and
// can be deleted; before, it vanished, and a new store of its name overwrote the record.
// A store that cannot be restored because a write or the disk failed (UNAVAILABLE) is not
// damage: Load fails, so urnd does not start, rather than listing an intact store as damaged
// with the advice to delete it. Once writes work, it restores whole.
TEST_F(WeightStoresServiceTest, AStoreThatADiskErrorKeepsFromRestoringStopsTheStartNotTheStore) {
  Create("w", 10);
  ASSERT_TRUE(Update(*admin_, "w", {{{3}, {2.5}}}).ok());
  server_->Shutdown(std::chrono::milliseconds(0));
  server_->Wait();
  server_.reset();
  auto db = storage::MetadataStore::Open(dir_.Join("data/meta"));
  ASSERT_TRUE(db.ok()) << db.status();
  (*db)->FailWritesForTesting(absl::UnavailableError("injected: no space left on device"));
  WeightStoreRegistry failing(db->get(), {});
  const absl::Status loaded = failing.Load();
  EXPECT_EQ(loaded.code(), absl::StatusCode::kUnavailable) << loaded;
  EXPECT_THAT(std::string(loaded.message()), HasSubstr("weight store admin/w not restored"));
  (*db)->FailWritesForTesting(absl::OkStatus());
  WeightStoreRegistry working(db->get(), {});
  ASSERT_TRUE(working.Load().ok());
  absl::StatusOr<std::shared_ptr<HostedWeightStore>> w = working.Get("admin", "w");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ((*w)->durable->store().total(), 2.5);
}

TEST_F(WeightStoresServiceTest, AStoreWhoseDefinitionDoesNotParseIsListedAsDamagedAndDeletable) {
  Create("w", 10);
  server_->Shutdown(std::chrono::milliseconds(0));
  server_->Wait();
  server_.reset();
  {
    auto db = storage::MetadataStore::Open(dir_.Join("data/meta"));
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)->Put("wstore/admin/w", "\xff\xff\xff not a record").ok());
  }
  Start();
  absl::StatusOr<std::vector<v1::WeightStore>> listed = admin_->ListWeightStores();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name(), "w");
  const absl::Status got = admin_->GetWeightStore("w").status();
  EXPECT_EQ(got.code(), absl::StatusCode::kDataLoss) << got;
  v1::CreateWeightStoreRequest again;
  again.set_name("w");
  again.set_capacity(10);
  EXPECT_EQ(admin_->CreateWeightStore(again).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(admin_->DeleteWeightStore("w").ok());
  EXPECT_TRUE(admin_->CreateWeightStore(again).ok());
}

}  // namespace
}  // namespace urn::server
