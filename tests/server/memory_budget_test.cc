// urnd's memory budget for all users together (--memory-budget): weight stores and uploads that
// would take the datasets and stores held past it are refused, RESOURCE_EXHAUSTED naming the
// flag, and what was deleted makes room again. And each user's share (the plan's memory_bytes):
// what a user's datasets, stores, keys and streamed samples would take past it is refused with
// the plan's QuotaFailure, whatever the other users hold.
#include "memory_budget.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "in_process.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/errors.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MemoryBudget, PassesUpToTheLimitAndNoneMeansNoLimit) {
  int64_t held = 600;
  const MemoryBudget budget(1000, [&] { return held; });
  EXPECT_TRUE(budget.Check(400, "x").ok());
  const absl::Status s = budget.Check(401, "a weight store of 10 slots");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  // What all users hold together (600) and the limit stay out of a user's error.
  EXPECT_EQ(std::string(s.message()),
            "urnd's memory budget, shared by all users, cannot hold a weight store of 10 slots "
            "(401 bytes) now; delete datasets or weight stores you no longer need, or ask the "
            "operator for a larger --memory-budget");
  held = 2000;  // over already (a budget lowered at a restart): nothing more
  EXPECT_FALSE(budget.Check(0 + 1, "x").ok());
  EXPECT_TRUE(MemoryBudget(0, [] { return int64_t{1} << 60; }).Check(int64_t{1} << 60, "x").ok());
}

// Writes `rows` rows "i<TAB>i % 7" (with a header) to <dir>/<name>.tsv and uploads them as the
// client's dataset `name`.
absl::Status UploadRows(const Client& client, const testing::TempDir& dir, const std::string& name,
                        int rows) {
  std::string text = "id\tv\n";
  for (int i = 0; i < rows; ++i) absl::StrAppend(&text, i, "\t", i % 7, "\n");
  const std::string path = dir.Join(name + ".tsv");
  testing::WriteFileOrDie(path, text);
  v1::CreateDatasetHeader h;
  h.set_name(name);
  h.set_format(v1::DATA_FORMAT_TSV);
  h.set_has_header(true);
  return client.CreateDataset(h, path).status();
}

// A Sample stream of which the test has read the first batch, held open until Close(): its
// HTTP/2 window stays small (no BDP growth, 16 KiB lookahead), so that it cannot send everything
// and end meanwhile.
class HeldSampleStream {
 public:
  HeldSampleStream(int port, const std::string& key, const v1::SampleRequest& request) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
    stub_ = v1::Sampling::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(), args));
    context_.AddMetadata("authorization", "Bearer " + key);
    stream_ = stub_->Sample(&context_, request);
    v1::SampleBatch first;
    started_ = stream_->Read(&first);
  }
  // Whether the first batch came.
  bool started() const { return started_; }
  void Close() {
    context_.TryCancel();
    (void)stream_->Finish();
  }

 private:
  std::unique_ptr<v1::Sampling::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SampleBatch>> stream_;
  bool started_ = false;
};

// 10 draws with replacement from `dataset` weighted by its column "v" (they build an alias table).
v1::SampleRequest TenWeightedDrawsWithReplacement(const std::string& dataset) {
  v1::SampleRequest r;
  r.set_dataset(dataset);
  r.mutable_weighted()->set_weight_column("v");
  r.mutable_weighted()->set_replace(true);
  r.set_n(10);
  return r;
}

// Streams the whole sample, and returns how it ended.
absl::Status ReadAll(const Client& client, const v1::SampleRequest& r) {
  return client.Sample(r, [](const v1::SampleBatch&) { return true; });
}

class MemoryBudgetServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.memory_budget = 1 << 20;  // 1 MiB
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    ClientOptions o;
    o.server = absl::StrCat("127.0.0.1:", server_->port());
    admin_key_ = std::string(
        absl::StripAsciiWhitespace(testing::ReadFileOrEmpty(dir_.Join("data/admin.key"))));
    o.key = admin_key_;
    o.max_attempts = 1;
    client_ = std::make_unique<Client>(*Client::Connect(o));
  }
  absl::Status CreateStore(const std::string& name, int64_t capacity) {
    v1::CreateWeightStoreRequest r;
    r.set_name(name);
    r.set_capacity(capacity);
    return client_->CreateWeightStore(r).status();
  }
  absl::Status Upload(const std::string& name, int rows) {
    return UploadRows(*client_, dir_, name, rows);
  }
  // Uploads `rows` rows as dataset "rows" and returns how many store slots fit beside its table
  // with `spare` bytes of the 1 MiB left; 0 when the upload fails.
  int64_t UploadRowsAndFitSlots(int rows, int64_t spare) {
    if (!Upload("rows", rows).ok()) return 0;
    const int64_t table = client_->GetDataset("rows")->memory_bytes();
    return ((1 << 20) - table - spare) / MemoryBudget::kStoreBytesPerSlot;
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string admin_key_;
  std::unique_ptr<Client> client_;
};

TEST_F(MemoryBudgetServerTest, StoresAndUploadsPastTheBudgetAreRefusedUntilRoomIsMade) {
  ASSERT_TRUE(CreateStore("a", 30'000).ok());  // 780,000 bytes of 1 MiB
  absl::Status s = CreateStore("b", 30'000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("cannot hold a weight store of 30000 slots (780000 bytes) now"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("1048576")));  // the operator's figure
  EXPECT_FALSE(GetQuotaDetails(s).has_value());                      // not a plan's quota
  EXPECT_EQ(ErrorSentence(s).rfind("resource exhausted: urnd's memory budget", 0), 0u);
  // ~130 KB of text in 1 MiB chunks with 8 bytes a cell: more than the 268 KB left.
  s = Upload("big", 20'000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold this upload"));
  EXPECT_EQ(client_->GetDataset("big").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Upload("small", 1'000).ok());

  ASSERT_TRUE(client_->DeleteWeightStore("a").ok());
  EXPECT_TRUE(CreateStore("b", 30'000).ok());
  ASSERT_TRUE(client_->DeleteWeightStore("b").ok());
  EXPECT_TRUE(Upload("big", 20'000).ok());
}

// A weight store's keys count, not only its slots: 1 KiB keys fill the budget long before the
// ring does (before, 200,000 such keys passed a budget that counted 26 bytes a slot).
TEST_F(MemoryBudgetServerTest, StoredKeysCountAndAnInsertPastTheBudgetIsRefused) {
  ASSERT_TRUE(CreateStore("k", 10'000).ok());  // 260,000 bytes of slots
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back(absl::StrCat(i, std::string(1000, 'k')));
  ASSERT_TRUE(client_->Insert("k", keys).ok());  // ~520,000 bytes of keys
  keys.clear();
  for (int i = 500; i < 800; ++i) keys.push_back(absl::StrCat(i, std::string(1000, 'k')));
  absl::Status s = client_->Insert("k", keys).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold 300 more keys"));
  EXPECT_EQ(client_->GetWeightStore("k")->size(), 500);
  // The keys held count against a new store as well.
  // (260,000 + ~549,500 held; 286,000 more passes 1 MiB, but not without the keys.)
  EXPECT_EQ(CreateStore("more", 11'000).code(), absl::StatusCode::kResourceExhausted);
}

// Creates and inserts running at once reserve what they add until it is registered, so
// together they stay within the budget. Before, each checked only what was registered, and
// several stores of 780 KB passed a 1 MiB budget at once.
TEST_F(MemoryBudgetServerTest, CreatesAndInsertsAtOnceCountAgainstEachOther) {
  constexpr int kAtOnce = 6;
  const auto stored_at_once = [&](const std::function<absl::Status(int)>& call) {
    std::vector<absl::Status> results(kAtOnce);
    std::vector<std::thread> threads;
    for (int i = 0; i < kAtOnce; ++i) threads.emplace_back([&, i] { results[i] = call(i); });
    for (std::thread& t : threads) t.join();
    int ok = 0;
    for (const absl::Status& s : results) {
      if (s.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
      }
    }
    return ok;
  };
  // 780,000 bytes each: one fits in 1 MiB, two do not.
  EXPECT_EQ(stored_at_once([&](int i) { return CreateStore(absl::StrCat("s", i), 30'000); }), 1);
  for (int i = 0; i < kAtOnce; ++i) (void)client_->DeleteWeightStore(absl::StrCat("s", i));
  ASSERT_TRUE(CreateStore("k", 10'000).ok());  // 260,000 bytes
  // ~520,000 bytes of keys each: one fits beside the store, two do not.
  EXPECT_EQ(stored_at_once([&](int i) {
              std::vector<std::string> keys;
              for (int k = 0; k < 500; ++k)
                keys.push_back(absl::StrCat(i, ".", k, std::string(1000, 'k')));
              return client_->Insert("k", keys).status();
            }),
            1);
}

// The table an upload makes is checked before it is registered, whatever the estimate said: a
// list column of many short elements holds far more than its text plus 8 bytes a cell.
TEST_F(MemoryBudgetServerTest, TheTypedTableIsCheckedBeforeItIsRegistered) {
  std::string text = "id\ttags\n";
  std::string tags;
  for (int e = 0; e < 300; ++e) absl::StrAppend(&tags, e == 0 ? "" : "|", "t");
  // ~600 KB of text, ~616 KB estimated; 300,000 list elements in the table.
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&text, i, "\t", tags, "\n");
  const std::string path = dir_.Join("lists.tsv");
  testing::WriteFileOrDie(path, text);
  v1::CreateDatasetHeader h;
  h.set_name("lists");
  h.set_format(v1::DATA_FORMAT_TSV);
  h.set_has_header(true);
  h.set_list_delimiter("|");
  (*h.mutable_column_types())["tags"] = v1::COLUMN_TYPE_STRING_LIST;
  absl::Status s = client_->CreateDataset(h, path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold this dataset"));
  EXPECT_EQ(client_->GetDataset("lists").status().code(), absl::StatusCode::kNotFound);
}

// A materialized sample counts while its stream is open, however long a reader takes: 40,000
// row ids (320,000 bytes) are held from the sample's start to its end.
TEST_F(MemoryBudgetServerTest, ASampleHeldByAnOpenStreamCountsUntilTheStreamEnds) {
  // Slots that fit beside the table, but not beside the table and the sample too.
  const int64_t slots = UploadRowsAndFitSlots(40'000, 160'000);
  ASSERT_GT(slots, 1000);
  v1::SampleRequest r;
  r.set_dataset("rows");
  r.mutable_bernoulli()->set_p(1.0);
  r.set_batch_size(100);
  r.add_columns("id");
  r.add_columns("v");
  // The ~300 KB of the sample cannot all be sent, and the stream end, while the test reads only
  // its first batch.
  HeldSampleStream stream(server_->port(), admin_key_, r);
  ASSERT_TRUE(stream.started());
  const absl::Status s = CreateStore("beside", slots);
  stream.Close();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  // Once the stream has ended its rows are no longer held (the server lets go as the call ends).
  absl::Status later = CreateStore("beside", slots);
  for (int i = 0; i < 100 && absl::IsResourceExhausted(later); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    later = CreateStore("beside", slots);
  }
  EXPECT_TRUE(later.ok()) << later;
}

// The alias table that weighted draws with replacement build stays cached for the next request,
// and counts: 5,000 rows keep 120,000 bytes (weights and alias table) beside their table. The
// cache gives way: a store that fits beside the table but not beside both drops it (one that
// would not fit either way drops nothing). And a
// deleted dataset's alias tables go with it. Before, up to 4 cached alias tables of any size
// were held outside the budget.
TEST_F(MemoryBudgetServerTest, CachedAliasTablesCountAndGiveWay) {
  const int64_t slots = UploadRowsAndFitSlots(5'000, 60'000);
  ASSERT_GT(slots, 1000);
  const v1::SampleRequest r = TenWeightedDrawsWithReplacement("rows");
  const auto sample = [&] { return ReadAll(*client_, r); };
  const SamplingService& sampling = server_->sampling_service_for_testing();
  ASSERT_TRUE(sample().ok());
  EXPECT_EQ(sampling.AliasCacheBytes(), 5'000 * 24);
  // A store that would not fit even without the cache sheds nothing.
  EXPECT_EQ(CreateStore("huge", (1 << 20) / MemoryBudget::kStoreBytesPerSlot).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sampling.AliasCacheBytes(), 5'000 * 24);
  const absl::Status s = CreateStore("beside", slots);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(sampling.AliasCacheBytes(), 0);  // shed to make room
  ASSERT_TRUE(client_->DeleteWeightStore("beside").ok());
  ASSERT_TRUE(sample().ok());
  EXPECT_EQ(sampling.AliasCacheBytes(), 5'000 * 24);
  ASSERT_TRUE(client_->DeleteDataset("rows").ok());
  EXPECT_EQ(sampling.AliasCacheBytes(), 0);
}

// Uploads running at once reserve their estimates, so together they stay within the budget
// (before, each saw only registered datasets and two of 600 KB both passed 1 MiB).
TEST(MemoryBudgetReservation, ReservationsCountAgainstEachOtherAndEndWithTheirOwner) {
  MemoryBudget budget(1000, [] { return int64_t{100}; });
  {
    MemoryBudget::Reservation a(&budget), b(&budget);
    EXPECT_TRUE(a.Resize(500, "a").ok());
    absl::Status s = b.Resize(500, "b");
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(std::string(s.message()), HasSubstr("cannot hold b (500 bytes)"));
    EXPECT_TRUE(b.Resize(400, "b").ok());
    EXPECT_FALSE(budget.Check(1, "c").ok());
    EXPECT_TRUE(a.Resize(100, "a").ok());  // shrinking gives room back
    EXPECT_TRUE(budget.Check(400, "c").ok());
  }
  EXPECT_TRUE(budget.Check(900, "c").ok());  // both ended
  MemoryBudget::Reservation none(nullptr);
  EXPECT_TRUE(none.Resize(int64_t{1} << 60, "x").ok());
}

// Reservations on behalf of a user count in the user's share (here 1000 bytes each, beside the
// 100 held), against the user's other reservations and not another user's; a plan changed on
// the principal applies at its next Resize.
TEST(MemoryBudgetReservation, AUsersReservationsCountInItsShareOnly) {
  MemoryBudget budget(0, [] { return int64_t{0}; });  // no budget for all users together
  int held_calls = 0;
  budget.SetPerUser([](const std::string&) { return int64_t{100}; },
                    [&](const auth::Principal& who, int64_t more, std::string_view what,
                        const std::function<int64_t()>& held) -> absl::Status {
                      if (who.plan == "unlimited") return absl::OkStatus();
                      ++held_calls;
                      if (more <= 1000 - held()) return absl::OkStatus();
                      return absl::ResourceExhaustedError(
                          absl::StrCat(who.user, " cannot hold ", std::string(what)));
                    });
  auth::Principal alice;
  alice.user = "alice";
  alice.plan = "small";
  auth::Principal bob = alice;
  bob.user = "bob";
  MemoryBudget::Reservation a1(&budget, &alice), a2(&budget, &alice), b(&budget, &bob);
  EXPECT_TRUE(a1.Resize(600, "a1").ok());
  const absl::Status s = a2.Resize(301, "a2");  // 100 + 600 + 301 > 1000
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(s.message()), "alice cannot hold a2");
  EXPECT_TRUE(a2.Resize(300, "a2").ok());
  EXPECT_TRUE(b.Resize(900, "b").ok());  // bob's share is his own
  EXPECT_FALSE(b.Resize(901, "b").ok());
  a1.Release();  // giving back makes room in alice's share only
  EXPECT_TRUE(a2.Resize(900, "a2").ok());
  EXPECT_FALSE(a2.Resize(901, "a2").ok());
  alice.plan = "unlimited";
  const int calls = held_calls;
  EXPECT_TRUE(a2.Resize(int64_t{1} << 40, "a2").ok());
  EXPECT_EQ(held_calls, calls);               // nothing summed for a plan without the limit
  MemoryBudget::Reservation nobody(&budget);  // on behalf of no one: no share to check
  EXPECT_TRUE(nobody.Resize(int64_t{1} << 40, "x").ok());
}

constexpr char kSmallPlan[] =
    "plans:\n"
    "  small:\n"
    "    memory_bytes: 1000000\n"
    "    features: [sample, shuffle, weights, query]\n";

class UserMemoryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFileOrDie(dir_.Join("urnd.yaml"), kSmallPlan);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.config = dir_.Join("urnd.yaml");
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    admin_ = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
    alice_key_ = admin_->CreateUser("alice", "small")->key();
    alice_ = testing::ConnectOnce(server_->port(), alice_key_);
    bob_ = testing::ConnectOnce(server_->port(), admin_->CreateUser("bob", "small")->key());
  }
  static absl::Status CreateStore(const Client& client, const std::string& name, int64_t capacity) {
    v1::CreateWeightStoreRequest r;
    r.set_name(name);
    r.set_capacity(capacity);
    return client.CreateWeightStore(r).status();
  }
  // The quota description of a refusal by plan key memory_bytes ("" when it is not one).
  static std::string MemoryQuota(const absl::Status& s, const std::string& user) {
    if (s.code() != absl::StatusCode::kResourceExhausted) return "";
    std::optional<QuotaDetails> q = GetQuotaDetails(s);
    if (!q.has_value() || q->subject != "user:" + user) return "";
    return q->description;
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::unique_ptr<Client> admin_, alice_, bob_;
  std::string alice_key_;
};

// A free user could hold ~3 GB (three stores of 10^6 slots with 1 KiB keys) when urnd ran
// without --memory-budget, and with one, take all of it from the other users.
TEST_F(UserMemoryServerTest, AUsersStoresKeysAndUploadsStayWithinItsPlansMemory) {
  ASSERT_TRUE(CreateStore(*alice_, "a", 30'000).ok());  // 780,000 bytes of 1,000,000
  absl::Status s = CreateStore(*alice_, "b", 10'000);
  EXPECT_EQ(MemoryQuota(s, "alice"),
            "memory_bytes: a weight store of 10000 slots (260000 bytes) does not fit beside the "
            "780000 bytes your datasets, weight stores, uploads and streams hold, within plan "
            "'small''s limit of 1000000; delete what you no longer need, or let your uploads and "
            "streams end")
      << s;
  EXPECT_EQ(ErrorSentence(s).rfind("quota exceeded: memory_bytes", 0), 0u) << ErrorSentence(s);
  EXPECT_TRUE(CreateStore(*bob_, "b", 30'000).ok());  // bob's share is his own

  // Keys count: 100 of 1004 bytes (+96 each) fit in the 220,000 left; 101 more do not.
  std::vector<std::string> keys;
  for (int i = 100; i < 200; ++i) keys.push_back(absl::StrCat(i, std::string(1001, 'k')));
  ASSERT_TRUE(alice_->Insert("a", keys).ok());
  for (std::string& k : keys) k[0] = 'x';
  keys.push_back("extra");  // 110,101 bytes: just past the 110,000 left
  s = alice_->Insert("a", keys).status();
  EXPECT_THAT(MemoryQuota(s, "alice"),
              HasSubstr("memory_bytes: 101 more keys (110101 bytes) does not fit beside the "
                        "890000 bytes"))
      << s;
  EXPECT_EQ(alice_->GetWeightStore("a")->size(), 100);
  absl::StatusOr<v1::GetUsageResponse> usage = alice_->GetUsage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->memory_bytes(), 890'000);
  EXPECT_EQ(usage->memory_bytes_limit(), 1'000'000);

  // An upload's estimate (its text plus 8 bytes a cell) counts as it grows.
  s = UploadRows(*alice_, dir_, "d", 20'000);
  EXPECT_THAT(MemoryQuota(s, "alice"), HasSubstr("memory_bytes: this ")) << s;
  EXPECT_EQ(alice_->GetDataset("d").status().code(), absl::StatusCode::kNotFound);

  // Deleting makes room again.
  ASSERT_TRUE(alice_->DeleteWeightStore("a").ok());
  EXPECT_TRUE(CreateStore(*alice_, "b", 10'000).ok());
  EXPECT_TRUE(UploadRows(*alice_, dir_, "d", 20'000).ok());
}

// A sample streamed to the user counts in the user's share: 30,000 row ids (240,000 bytes) do
// not fit beside a table and a store that leave ~100,000 bytes, and do once the store is gone.
TEST_F(UserMemoryServerTest, ASampleBeingStreamedCountsInItsUsersShare) {
  ASSERT_TRUE(UploadRows(*alice_, dir_, "rows", 30'000).ok());
  const int64_t table = alice_->GetDataset("rows")->memory_bytes();
  const int64_t slots = (1'000'000 - table - 100'000) / MemoryBudget::kStoreBytesPerSlot;
  ASSERT_GT(slots, 1000);
  ASSERT_TRUE(CreateStore(*alice_, "s", slots).ok());
  const auto sample = [&] {
    auto stub = v1::Sampling::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + alice_key_);
    v1::SampleRequest r;
    r.set_dataset("rows");
    r.mutable_bernoulli()->set_p(1.0);
    r.set_batch_size(1000);
    auto stream = stub->Sample(&context, r);
    v1::SampleBatch batch;
    int64_t rows = 0;
    while (stream->Read(&batch)) rows += batch.row_ids_size();
    const grpc::Status status = stream->Finish();
    return std::make_pair(rows, absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                             status.error_message()));
  };
  auto [rows, status] = sample();
  EXPECT_EQ(rows, 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("memory_bytes: this sample's rows while it is streamed"));
  ASSERT_TRUE(alice_->DeleteWeightStore("s").ok());
  std::tie(rows, status) = sample();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(rows, 30'000);
}

// A replay buffer's ring, once full, evicts a key for each key it takes: only the difference
// counts, so a user near the limit can go on inserting keys of the same size (before, every
// insert counted its keys as new and was refused once the keys held filled the plan).
TEST_F(UserMemoryServerTest, AFullRingTakesKeysThatReplaceTheKeysItEvicts) {
  ASSERT_TRUE(CreateStore(*alice_, "ring", 900).ok());  // 23,400 bytes
  // 900 keys of about `size` bytes (at most 1 KiB each); key i has the same length every round.
  const auto keys = [](char first, size_t size) {
    std::vector<std::string> out;
    for (int i = 0; i < 900; ++i) {
      out.push_back(absl::StrCat(std::string(1, first), i, "_", std::string(size - 4, 'k')));
    }
    return out;
  };
  ASSERT_TRUE(alice_->Insert("ring", keys('a', 900)).ok());  // ~896,400 bytes of keys
  for (char round : {'b', 'c', 'd'}) {
    EXPECT_TRUE(alice_->Insert("ring", keys(round, 900)).ok()) << round;  // 0 more each
  }
  EXPECT_TRUE(alice_->Insert("ring", keys('e', 960)).ok());  // 54,000 more: ~973,800 held
  const absl::Status s = alice_->Insert("ring", keys('f', 1000)).status();  // 36,000 more
  EXPECT_THAT(MemoryQuota(s, "alice"), HasSubstr("memory_bytes: 900 more keys (36000 bytes)")) << s;
  EXPECT_EQ(alice_->GetWeightStore("ring")->size(), 900);
}

// A deleted dataset that an open stream still reads is still in memory, so it still counts in its
// user's share until the stream ends: deleting and uploading again under an idle stream does not
// double what a user holds.
TEST_F(UserMemoryServerTest, ADeletedDatasetCountsUntilTheStreamReadingItEnds) {
  ASSERT_TRUE(UploadRows(*alice_, dir_, "rows", 30'000).ok());
  const int64_t table = alice_->GetDataset("rows")->memory_bytes();
  ASSERT_GT(table, 400'000);
  // Uniform with replacement: nothing materialized, the stream holds only the table, and cannot
  // send all its rows while the test reads one batch.
  v1::SampleRequest r;
  r.set_dataset("rows");
  r.mutable_uniform()->set_replace(true);
  r.set_n(1'000'000);
  r.set_batch_size(100);
  HeldSampleStream stream(server_->port(), alice_key_, r);
  ASSERT_TRUE(stream.started());
  ASSERT_TRUE(alice_->DeleteDataset("rows").ok());
  EXPECT_EQ(alice_->GetUsage()->memory_bytes(), table);  // deleted, but still in memory
  absl::Status s = UploadRows(*alice_, dir_, "rows", 30'000);
  EXPECT_THAT(MemoryQuota(s, "alice"), HasSubstr("memory_bytes: this upload")) << s;
  stream.Close();
  // Once the stream has ended the old table is gone (the server lets go as the call ends).
  s = UploadRows(*alice_, dir_, "rows", 30'000);
  for (int i = 0; i < 100 && absl::IsResourceExhausted(s); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    s = UploadRows(*alice_, dir_, "rows", 30'000);
  }
  EXPECT_TRUE(s.ok()) << s;
}

// Building an alias table reserves its peak (64 bytes a row) in the user's share first: a
// weighted sample with replacement of 30,000 rows does not fit beside their 480,000-byte table in
// a 1,000,000-byte plan, and is refused before anything is built.
TEST_F(UserMemoryServerTest, AnAliasTableIsReservedBeforeItIsBuilt) {
  ASSERT_TRUE(UploadRows(*alice_, dir_, "rows", 30'000).ok());
  v1::SampleRequest r = TenWeightedDrawsWithReplacement("rows");
  const auto sample = [&] { return ReadAll(*alice_, r); };
  absl::Status s = sample();
  EXPECT_THAT(MemoryQuota(s, "alice"),
              HasSubstr("memory_bytes: an alias table of 30000 rows (1920000 bytes) does not fit"))
      << s;
  EXPECT_EQ(server_->sampling_service_for_testing().AliasCacheBytes(), 0);
  r.set_query("select * sample by v replace true limit 10");
  r.clear_n();
  s = sample();
  EXPECT_THAT(MemoryQuota(s, "alice"), HasSubstr("memory_bytes: an alias table of 30000 rows"))
      << s;
  // Within the share: a smaller dataset's table is built, cached and drawn from.
  ASSERT_TRUE(alice_->DeleteDataset("rows").ok());
  ASSERT_TRUE(UploadRows(*alice_, dir_, "rows", 10'000).ok());
  r.mutable_weighted()->set_weight_column("v");  // instead of the query
  r.mutable_weighted()->set_replace(true);
  r.set_n(10);
  s = sample();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(server_->sampling_service_for_testing().AliasCacheBytes(), 10'000 * 24);
}

}  // namespace
}  // namespace urn::server
