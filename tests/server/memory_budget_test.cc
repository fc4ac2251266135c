// urnd's memory budget for all users together (--memory-budget): weight stores and uploads that
// would take the datasets and stores held past it are refused, RESOURCE_EXHAUSTED naming the
// flag, and what was deleted makes room again.
#include "memory_budget.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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
    std::string text = "id\tv\n";
    for (int i = 0; i < rows; ++i) absl::StrAppend(&text, i, "\t", i % 7, "\n");
    const std::string path = dir_.Join(name + ".tsv");
    testing::WriteFileOrDie(path, text);
    v1::CreateDatasetHeader h;
    h.set_name(name);
    h.set_format(v1::DATA_FORMAT_TSV);
    h.set_has_header(true);
    return client_->CreateDataset(h, path).status();
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
  ASSERT_TRUE(Upload("rows", 40'000).ok());
  const int64_t table = client_->GetDataset("rows")->memory_bytes();
  // Slots that fit beside the table, but not beside the table and the sample too.
  const int64_t slots = ((1 << 20) - table - 160'000) / MemoryBudget::kStoreBytesPerSlot;
  ASSERT_GT(slots, 1000);
  v1::SampleRequest r;
  r.set_dataset("rows");
  r.mutable_bernoulli()->set_p(1.0);
  r.set_batch_size(100);
  r.add_columns("id");
  r.add_columns("v");
  // A stub whose HTTP/2 window stays at 64 KiB (no BDP growth), so that the ~300 KB of the
  // sample cannot all be sent, and the stream end, while the test reads only its first batch.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  auto stub = v1::Sampling::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + admin_key_);
  auto stream = stub->Sample(&context, r);
  v1::SampleBatch first;
  ASSERT_TRUE(stream->Read(&first));
  const absl::Status s = CreateStore("beside", slots);
  context.TryCancel();
  (void)stream->Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  // Once the stream has ended its rows are no longer held (the server lets go as the call ends).
  absl::Status later = CreateStore("beside", slots);
  for (int i = 0; i < 100 && absl::IsResourceExhausted(later); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    later = CreateStore("beside", slots);
  }
  EXPECT_TRUE(later.ok()) << later;
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

}  // namespace
}  // namespace urn::server
