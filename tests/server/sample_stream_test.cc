// Sample and Shuffle streams through the real gRPC service: the server prepares batch k + 1
// while batch k is sent (double buffering), so these check that the batches still come in
// order with the right offsets, that a sample's rows do not depend on the batch size, and that
// clients that stop reading or cancel while the next batch is being prepared leave the server
// serving (run under AddressSanitizer in CI).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/generic/generic_stub.h"
#include "in_process.h"
#include "sampling/sampling_service.h"
#include "sampling/spec_sampler.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "urn_server.h"

namespace urn::server {
namespace {

constexpr char kPlans[] =
    "plans:\n"
    "  big:\n"
    "    rows_per_day: 100000000\n"
    "    concurrent_streams: 64\n"
    "    features: [sample, shuffle]\n"
    "  one:\n"
    "    rows_per_day: 100000000\n"
    "    concurrent_streams: 1\n"
    "    features: [sample, shuffle, weights]\n"
    "  samples:\n"
    "    rows_per_day: 100000000\n"
    "    features: [sample]\n";

class SampleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartInProcess(dir_, kPlans);
    ASSERT_NE(server_, nullptr);
    auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
    key_ = admin->CreateUser("u", "big")->key();
    std::string text = "w\n";
    for (int i = 0; i < 5000; ++i) absl::StrAppend(&text, 1 + i % 7, "\n");
    ASSERT_TRUE(CreateTsv("d", text).ok());
    stub_ = v1::Sampling::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  }

  // Uploads `text`, a TSV with a header line, as dataset `name`.
  absl::Status CreateTsv(const std::string& name, const std::string& text) const {
    testing::WriteFileOrDie(dir_.Join(name + ".tsv"), text);
    v1::CreateDatasetHeader header;
    header.set_name(name);
    header.set_format(v1::DATA_FORMAT_TSV);
    header.set_has_header(true);
    return testing::ConnectOnce(server_->port(), key_)
        ->CreateDataset(header, dir_.Join(name + ".tsv"))
        .status();
  }

  // Weighted draws with replacement over column w: n rows in batches of `batch`.
  v1::SampleRequest Weighted(int64_t n, int batch) const {
    v1::SampleRequest r;
    r.set_dataset("d");
    r.mutable_weighted()->set_weight_column("w");
    r.mutable_weighted()->set_replace(true);
    r.set_n(n);
    r.set_batch_size(batch);
    r.set_seed(11);
    return r;
  }

  // Reads a whole stream, checking each batch's offset and total and that it ends OK.
  std::vector<v1::SampleBatch> ReadBatches(const v1::SampleRequest& r) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Sample(&context, r);
    std::vector<v1::SampleBatch> batches;
    int64_t rows = 0;
    for (v1::SampleBatch b; reader->Read(&b); batches.push_back(std::move(b))) {
      EXPECT_EQ(b.offset(), rows);
      EXPECT_EQ(b.total(), r.n());
      EXPECT_LE(b.row_ids_size(), r.batch_size());
      rows += b.row_ids_size();
    }
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return batches;
  }

  // The rows of a whole stream, in order (ReadBatches).
  std::vector<int64_t> ReadAll(const v1::SampleRequest& r) {
    std::vector<int64_t> rows;
    for (const v1::SampleBatch& b : ReadBatches(r)) {
      rows.insert(rows.end(), b.row_ids().begin(), b.row_ids().end());
    }
    return rows;
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string key_;
  std::unique_ptr<v1::Sampling::Stub> stub_;
};

TEST_F(SampleStreamTest, BatchesComeInOrderAndTheRowsDoNotDependOnTheBatchSize) {
  const std::vector<int64_t> a = ReadAll(Weighted(100000, 1024));
  const std::vector<int64_t> b = ReadAll(Weighted(100000, 777));
  const std::vector<int64_t> c = ReadAll(Weighted(100000, 1));
  ASSERT_EQ(a.size(), 100000u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  v1::SampleRequest resumed = Weighted(100000, 1000);
  resumed.set_start_offset(54321);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key_);
  auto reader = stub_->Sample(&context, resumed);
  v1::SampleBatch first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.offset(), 54321);
  ASSERT_EQ(first.row_ids_size(), 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(first.row_ids(i), a[54321 + i]) << i;
  context.TryCancel();
}

// A requested column that the dataset lacks, or one requested twice, is INVALID_ARGUMENT naming
// the entry of `columns`, before any sampling (so a request's size bounds its batches).
TEST_F(SampleStreamTest, UnknownOrRepeatedColumnsAreInvalidArgumentNamingTheEntry) {
  const auto status_of = [&](const std::vector<std::string>& columns) {
    v1::SampleRequest r = Weighted(10, 10);
    for (const std::string& c : columns) r.add_columns(c);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Sample(&context, r);
    v1::SampleBatch b;
    while (reader->Read(&b)) {
    }
    return reader->Finish();
  };
  EXPECT_TRUE(status_of({"w"}).ok());
  const grpc::Status repeated = status_of({"w", "w"});
  EXPECT_EQ(repeated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(repeated.error_message(), "columns[1]: column 'w' is already requested");
  const grpc::Status unknown = status_of({"w", "nope"});
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(unknown.error_message(), "columns[1]: no column 'nope'");
}

// A batch with columns ends before the row that would take them past
// SamplingService::kMaxBatchColumnBytes (each string cell counts its bytes + 6), with at least
// one row: a row of 3 MB is a batch of its own. The rows are those of the same stream without
// columns, and every cell arrives whole.
TEST_F(SampleStreamTest, BatchesWithColumnsAreCutAtTheByteLimit) {
  // Row i holds a string of 300,000 * (1 + i % 4) bytes of 'a' + i; row 19 one of 3,000,000.
  auto cell_bytes = [](int64_t row) -> uint64_t {
    return row == 19 ? 3000000 : 300000 * (1 + row % 4);
  };
  std::string text = "w\ts\n";
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(&text, "1\t", std::string(cell_bytes(i), static_cast<char>('a' + i)), "\n");
  }
  ASSERT_TRUE(CreateTsv("big", text).ok());
  v1::SampleRequest r = Weighted(200, 200);
  r.set_dataset("big");
  const std::vector<int64_t> rows = ReadAll(r);
  ASSERT_EQ(rows.size(), 200u);
  // The batches the rule gives for these rows.
  std::vector<int> expected;
  uint64_t bytes = 0;
  for (int64_t row : rows) {
    const uint64_t b = 6 + cell_bytes(row);
    if (!expected.empty() && bytes + b <= SamplingService::kMaxBatchColumnBytes) {
      ++expected.back();
      bytes += b;
    } else {
      expected.push_back(1);
      bytes = b;
    }
  }
  r.add_columns("s");
  std::vector<int> sizes;
  int64_t at = 0;
  for (const v1::SampleBatch& batch : ReadBatches(r)) {
    ASSERT_EQ(batch.columns_size(), 1);
    ASSERT_EQ(batch.columns(0).string_values().values_size(), batch.row_ids_size());
    for (int i = 0; i < batch.row_ids_size(); ++i) {
      const int64_t row = batch.row_ids(i);
      ASSERT_EQ(row, rows[at + i]);
      EXPECT_EQ(batch.columns(0).string_values().values(i),
                std::string(cell_bytes(row), static_cast<char>('a' + row)));
    }
    sizes.push_back(batch.row_ids_size());
    at += batch.row_ids_size();
  }
  EXPECT_EQ(at, 200);
  EXPECT_EQ(sizes, expected);
  EXPECT_NE(std::find(sizes.begin(), sizes.end(), 1), sizes.end());  // row 19 alone
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 3);       // 300 KB rows together
}

// Numbers count their widest encoding, the same for every row: 40 int64 columns are 400 bytes
// a row, so 10,000 rows asked in one batch come as floor(2 MiB / 400) = 5242 and the rest.
TEST_F(SampleStreamTest, BatchesOfNumericColumnsAreCutByTheirWidestEncoding) {
  std::string text;
  for (int c = 0; c < 40; ++c) absl::StrAppend(&text, c ? "\t" : "", "c", c);
  text += "\n";
  for (int i = 0; i < 10000; ++i) {
    for (int c = 0; c < 40; ++c) absl::StrAppend(&text, c ? "\t" : "", i + c);
    text += "\n";
  }
  ASSERT_TRUE(CreateTsv("wide", text).ok());
  v1::SampleRequest r;
  r.set_dataset("wide");
  r.mutable_uniform()->set_replace(true);
  r.set_n(10000);
  r.set_batch_size(65536);
  for (int c = 0; c < 40; ++c) r.add_columns(absl::StrCat("c", c));
  std::vector<int> sizes;
  for (const v1::SampleBatch& batch : ReadBatches(r)) {
    ASSERT_EQ(batch.columns_size(), 40);
    for (int i = 0; i < batch.row_ids_size(); ++i) {
      ASSERT_EQ(batch.columns(39).int64_values().values(i), batch.row_ids(i) + 39);
    }
    sizes.push_back(batch.row_ids_size());
  }
  EXPECT_EQ(sizes, (std::vector<int>{5242, 4758}));
}

TEST_F(SampleStreamTest, ShuffleBatchesCarryTheOffsetToResumeFrom) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key_);
  v1::ShuffleRequest r;
  r.set_n(10000);
  r.set_seed(3);
  r.set_batch_size(999);
  auto reader = stub_->Shuffle(&context, r);
  v1::ShuffleBatch b;
  std::vector<bool> seen(10000, false);
  int64_t rows = 0;
  while (reader->Read(&b)) {
    rows += b.row_ids_size();
    EXPECT_EQ(b.next_offset(), rows);
    for (const int64_t id : b.row_ids()) {
      ASSERT_FALSE(seen[id]) << id;
      seen[id] = true;
    }
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows, 10000);
}

// Opens a shuffle of 10^6 rows in batches of 1 as a new user "v" on plan "big", reads one
// batch, runs `meanwhile(admin, v)`, then reads to the end: the stream's status and how many
// batches came (the batches already in flight, up to the HTTP/2 window, still arrive).
std::pair<grpc::Status, int64_t> ShuffleAcross(
    int port, const std::string& admin_key, v1::Sampling::Stub& stub,
    const std::function<void(Client&, const v1::CreateUserResponse&)>& meanwhile) {
  auto admin = testing::ConnectOnce(port, admin_key);
  absl::StatusOr<v1::CreateUserResponse> v = admin->CreateUser("v", "big");
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok()) return {grpc::Status::CANCELLED, 0};
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + v->key());
  v1::ShuffleRequest r;
  r.set_n(1000000);
  r.set_batch_size(1);
  auto reader = stub.Shuffle(&context, r);
  v1::ShuffleBatch b;
  int64_t batches = 0;
  if (reader->Read(&b)) ++batches;
  meanwhile(*admin, *v);
  // A failed change would leave 10^6 batches to read: end the call instead.
  if (::testing::Test::HasFailure()) context.TryCancel();
  while (reader->Read(&b)) ++batches;
  return {reader->Finish(), batches};
}

// A stream ends UNAUTHENTICATED before its next batch once its key is revoked: a shuffle of
// 10^6 rows in batches of 1 stops long before its end.
TEST_F(SampleStreamTest, AStreamEndsOnceItsKeyIsRevoked) {
  const auto [s, batches] =
      ShuffleAcross(server_->port(), testing::AdminKeyIn(dir_.Join("data")), *stub_,
                    [](Client& admin, const v1::CreateUserResponse& v) {
                      EXPECT_TRUE(admin.RevokeKey(v.key_id()).ok());
                    });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_EQ(s.error_message(), "the key of this stream was revoked or its user deleted");
  EXPECT_GE(batches, 1);
  EXPECT_LT(batches, 1000000);
}

// A plan set while a stream is open applies to it from its next batch: moved to a plan
// without shuffles, a shuffle stream ends PERMISSION_DENIED as a new call would be refused.
TEST_F(SampleStreamTest, AStreamEndsOnceItsUserIsMovedToAPlanWithoutItsFeature) {
  const auto [s, batches] = ShuffleAcross(server_->port(), testing::AdminKeyIn(dir_.Join("data")),
                                          *stub_, [](Client& admin, const v1::CreateUserResponse&) {
                                            EXPECT_TRUE(admin.SetPlan("v", "samples").ok());
                                          });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(s.error_message(), "FEATURE_NOT_IN_PLAN: 'shuffle' is not in plan 'samples'");
  EXPECT_GE(batches, 1);
  EXPECT_LT(batches, 1000000);
}

// A sample size out of range is INVALID_ARGUMENT naming n, with any start_offset: the rows it
// asks for are not computed as n - start_offset, which overflowed for n = INT64_MIN (undefined
// behaviour before the check).
TEST_F(SampleStreamTest, SampleSizeOutOfRangeIsInvalidArgumentNamingN) {
  for (const auto& [n, offset] : std::vector<std::pair<int64_t, int64_t>>{
           {-1, 0}, {std::numeric_limits<int64_t>::min(), 5}, {-3, 2}}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    v1::SampleRequest r;
    r.set_dataset("d");
    r.mutable_uniform();
    r.set_n(n);
    r.set_start_offset(offset);
    auto reader = stub_->Sample(&context, r);
    for (v1::SampleBatch b; reader->Read(&b);) {
    }
    const grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << n;
    EXPECT_EQ(s.error_message().rfind("n: ", 0), 0u) << s.error_message();
  }
}

// Every bad field of a Shuffle is INVALID_ARGUMENT naming the field (the command line refuses
// these itself; other clients rely on the server).
TEST_F(SampleStreamTest, ShuffleFieldsOutOfRangeAreInvalidArgumentNamingTheField) {
  const auto shuffle = [&](int64_t n, int64_t rank, int64_t world, int64_t offset) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    v1::ShuffleRequest r;
    r.set_n(n);
    r.set_rank(rank);
    r.set_world_size(world);
    r.set_start_offset(offset);
    auto reader = stub_->Shuffle(&context, r);
    for (v1::ShuffleBatch b; reader->Read(&b);) {
    }
    return reader->Finish();
  };
  for (const auto& [n, rank, world, offset, field] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, std::string>>{
           {-1, 0, 1, 0, "n: "},
           {10, 4, 4, 0, "rank: must be in [0, world_size)"},
           {10, -1, 4, 0, "rank: "},
           {10, 0, -2, 0, "world_size: "},
           {10, 0, 1, 11, "start_offset: "},
           {10, 0, 1, -1, "start_offset: "}}) {
    const grpc::Status s = shuffle(n, rank, world, offset);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(s.error_message().rfind(field, 0), 0u) << s.error_message();
  }
  EXPECT_TRUE(shuffle(10, 3, 4, 3).ok());  // the last rank, resumed at its end
  // Neither source, and a batch size out of range (0 is the default).
  for (const auto& [r, message] : std::vector<std::pair<v1::ShuffleRequest, std::string>>{
           {v1::ShuffleRequest(), "source: set either dataset (its rows) or n (indices [0, n))"},
           {[] {
              v1::ShuffleRequest r;
              r.set_n(10);
              r.set_batch_size(-1);
              return r;
            }(),
            "batch_size: must be between 1 and 65536 (0: the default, 1024)"}}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Shuffle(&context, r);
    for (v1::ShuffleBatch b; reader->Read(&b);) {
    }
    const grpc::Status s = reader->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << message;
    EXPECT_EQ(s.error_message(), message);
  }
}

// A stream (Sample, Shuffle, UpdatePriorities) gives back its slot of the plan's concurrent
// streams, and the memory of its sample, before the client sees it end: a client allowed one
// stream can open the next as soon as the last one returned its status (before, the slot was
// freed only when gRPC destroyed the call afterwards, and the next stream was then refused
// in 6 of 9 runs of this test).
TEST_F(SampleStreamTest, AStreamThatEndedNeverHoldsItsSlotAgainstTheNextOne) {
  auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
  const std::string key = admin->CreateUser("single", "one")->key();
  v1::CreateDatasetHeader header;
  header.set_name("d");
  header.set_format(v1::DATA_FORMAT_TSV);
  header.set_has_header(true);
  ASSERT_TRUE(
      testing::ConnectOnce(server_->port(), key)->CreateDataset(header, dir_.Join("d.tsv")).ok());
  std::unique_ptr<Client> single = testing::ConnectOnce(server_->port(), key);
  v1::CreateWeightStoreRequest store;
  store.set_name("s");
  store.set_capacity(4);
  ASSERT_TRUE(single->CreateWeightStore(store).ok());
  int refused = 0;
  std::string first_refusal;
  for (int i = 0; i < 2000; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key);
    v1::SampleRequest r = Weighted(3, 3);
    if (i % 3 == 2) {
      bool sent = false;
      const absl::Status s = single->UpdatePriorities("s", [&](v1::UpdatePrioritiesRequest* u) {
        if (std::exchange(sent, true)) return false;
        u->add_slots(i % 4);
        u->add_priorities(1 + i % 5);
        return true;
      });
      if (!s.ok() && refused++ == 0) first_refusal = s.ToString();
      continue;
    }
    if (i % 3 == 1) {
      v1::ShuffleRequest sr;
      sr.set_n(3);
      sr.set_batch_size(3);
      auto reader = stub_->Shuffle(&context, sr);
      for (v1::ShuffleBatch b; reader->Read(&b);) {
      }
      const grpc::Status s = reader->Finish();
      if (!s.ok() && refused++ == 0) first_refusal = s.error_message();
      continue;
    }
    auto reader = stub_->Sample(&context, r);
    for (v1::SampleBatch b; reader->Read(&b);) {
    }
    const grpc::Status s = reader->Finish();
    if (!s.ok() && refused++ == 0) first_refusal = s.error_message();
  }
  EXPECT_EQ(refused, 0) << first_refusal;
}

// A client that leaves while its sample is computed on the work pool is charged nothing: the
// stream sees the cancellation (OnCancel) before its first batch. Before, that batch was
// charged and sent into the void (a review measured ~25,000 rows for 40 such calls).
TEST_F(SampleStreamTest, AClientThatLeftWhileItsSampleWasComputedIsChargedNothing) {
  std::unique_ptr<Client> client = testing::ConnectOnce(server_->port(), key_);
  ASSERT_TRUE(testing::CreateWeightedDataset(*client, dir_, "big", kAtOnceRows + 1000).ok());
  ASSERT_EQ(client->GetUsage()->rows_today(), 0);
  absl::Notification computed, cancelled;
  SamplingService& sampling = server_->sampling_service_for_testing();
  sampling.SetBeforeBeginForTesting([&] {
    computed.Notify();
    cancelled.WaitForNotification();
  });
  v1::SampleRequest heavy;  // weighted, without replacement: on the pool
  heavy.set_dataset("big");
  heavy.mutable_weighted()->set_weight_column("w");
  heavy.set_n(300);
  heavy.set_batch_size(128);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key_);
  auto reader = stub_->Sample(&context, heavy);
  computed.WaitForNotification();
  context.TryCancel();
  absl::SleepFor(absl::Seconds(1));  // for urnd to see the cancellation (OnCancel)
  cancelled.Notify();
  for (v1::SampleBatch b; reader->Read(&b);) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  sampling.SetBeforeBeginForTesting(nullptr);
  absl::SleepFor(absl::Milliseconds(300));  // the pool job has ended (it would charge by now)
  EXPECT_EQ(client->GetUsage()->rows_today(), 0);
  // A sample read to its end is charged as before.
  EXPECT_EQ(ReadAll(heavy).size(), 300u);
  EXPECT_EQ(client->GetUsage()->rows_today(), 300);
}

// count_only: one batch without rows whose total is the size of the sample the same request
// would stream (here a Bernoulli sample, whose size only the sampler knows), charging no rows.
TEST_F(SampleStreamTest, CountOnlyIsOneBatchWithTheSampleSizeAndChargesNoRows) {
  std::unique_ptr<Client> client = testing::ConnectOnce(server_->port(), key_);
  v1::SampleRequest r;
  r.set_dataset("d");
  r.mutable_bernoulli()->set_p(0.3);
  r.set_seed(5);
  r.add_columns("w");
  r.set_with_weight(true);
  r.set_count_only(true);
  r.set_start_offset(7);
  const int64_t before = client->GetUsage()->rows_today();
  std::vector<v1::SampleBatch> batches;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Sample(&context, r);
    for (v1::SampleBatch b; reader->Read(&b);) batches.push_back(std::move(b));
    const grpc::Status s = reader->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].row_ids_size(), 0);
  EXPECT_EQ(batches[0].weights_size(), 0);
  EXPECT_EQ(batches[0].columns_size(), 0);
  EXPECT_EQ(batches[0].offset(), 7);
  EXPECT_EQ(client->GetUsage()->rows_today(), before);

  r.set_count_only(false);
  r.set_start_offset(0);
  r.set_n(0);
  int64_t rows = 0;
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + key_);
  auto reader = stub_->Sample(&context, r);
  for (v1::SampleBatch b; reader->Read(&b);) {
    EXPECT_EQ(b.total(), batches[0].total());
    rows += b.row_ids_size();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows, batches[0].total());
  EXPECT_GT(rows, 1300);  // of 5000 rows at p = 0.3 (seeded), so the total is not trivial
  EXPECT_LT(rows, 1700);

  // An offset past the sample is refused as for a stream of rows.
  r.set_count_only(true);
  r.set_start_offset(rows + 1);
  grpc::ClientContext past;
  past.AddMetadata("authorization", "Bearer " + key_);
  auto refused = stub_->Sample(&past, r);
  for (v1::SampleBatch b; refused->Read(&b);) ADD_FAILURE() << "a batch past the end";
  const grpc::Status s = refused->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("start_offset"), std::string::npos) << s.error_message();
}

TEST_F(SampleStreamTest, ClientsThatCancelOrStopReadingMidStreamLeaveTheServerServing) {
  for (int i = 0; i < 60; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Sample(&context, Weighted(10'000'000, 1024));
    v1::SampleBatch b;
    for (int k = 0; k < i % 4; ++k) ASSERT_TRUE(reader->Read(&b));
    context.TryCancel();
    while (reader->Read(&b)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_EQ(ReadAll(Weighted(5000, 1024)).size(), 5000u);
}

// A sample that may take O(rows) time is computed on the work pool, not on one of gRPC's few
// callback threads: with the pool held busy, such streams wait there (and send nothing) while
// other calls are served; they then complete with the same rows as ever. A client that leaves
// while its sample waits gets CANCELLED and the sample is never computed; a negative start_offset
// is refused before any of that. An upload's parsing and its last step (writing the columnar
// blocks) run on the pool too.
TEST_F(SampleStreamTest, LongSamplesWaitOnTheWorkPoolWhileOtherCallsGoOn) {
  std::unique_ptr<Client> client = testing::ConnectOnce(server_->port(), key_);
  ASSERT_TRUE(testing::CreateWeightedDataset(*client, dir_, "big", kAtOnceRows + 1000).ok());
  v1::SampleRequest heavy;  // weighted, without replacement: exponential keys over every row
  heavy.set_dataset("big");
  heavy.mutable_weighted()->set_weight_column("w");
  heavy.set_n(300);
  heavy.set_batch_size(128);
  heavy.set_seed(5);
  const std::vector<int64_t> expected = ReadAll(heavy);
  ASSERT_EQ(expected.size(), 300u);

  // Hold every thread of the pool.
  WorkPool& pool = server_->work_pool_for_testing();
  absl::BlockingCounter holding(pool.threads());
  absl::Notification release;
  auto let_go = absl::MakeCleanup([&] {
    if (!release.HasBeenNotified()) release.Notify();
  });
  for (int i = 0; i < pool.threads(); ++i) {
    pool.Run([&] {
      holding.DecrementCount();
      release.WaitForNotification();
    });
  }
  holding.Wait();
  const auto wait_until_queued = [&](size_t n) {
    for (int i = 0; i < 30000 && pool.queued() < n; ++i) absl::SleepFor(absl::Milliseconds(1));
    return pool.queued();
  };

  constexpr int kHeavy = 3;
  std::atomic<int> finished{0};
  std::vector<std::vector<int64_t>> got(kHeavy);
  std::vector<std::thread> readers;
  for (int i = 0; i < kHeavy; ++i) {
    readers.emplace_back([&, i] {
      got[i] = ReadAll(heavy);
      finished.fetch_add(1);
    });
  }
  ASSERT_EQ(wait_until_queued(kHeavy), static_cast<size_t>(kHeavy));
  // One more, whose client leaves while it waits.
  grpc::ClientContext leaving;
  leaving.AddMetadata("authorization", "Bearer " + key_);
  auto left = stub_->Sample(&leaving, heavy);
  ASSERT_EQ(wait_until_queued(kHeavy + 1), static_cast<size_t>(kHeavy + 1));
  leaving.TryCancel();
  // An upload waits on the pool (its header, chunks and last step are all handled there).
  std::thread upload([&] {
    EXPECT_TRUE(testing::CreateWeightedDataset(*client, dir_, "big2", kAtOnceRows + 1000).ok());
  });
  ASSERT_EQ(wait_until_queued(kHeavy + 2), static_cast<size_t>(kHeavy + 2));

  // Meanwhile: a sample of the small table, a shuffle and a listing are served at once.
  EXPECT_EQ(ReadAll(Weighted(5000, 1024)).size(), 5000u);
  v1::ShuffleRequest shuffle;
  shuffle.set_n(1000);
  grpc::ClientContext shuffle_context;
  shuffle_context.AddMetadata("authorization", "Bearer " + key_);
  auto shuffled = stub_->Shuffle(&shuffle_context, shuffle);
  int64_t shuffled_rows = 0;
  for (v1::ShuffleBatch b; shuffled->Read(&b);) shuffled_rows += b.row_ids_size();
  EXPECT_TRUE(shuffled->Finish().ok());
  EXPECT_EQ(shuffled_rows, 1000);
  EXPECT_TRUE(client->ListDatasets().ok());
  // A negative start_offset is refused at once: it neither waits for the pool nor joins it.
  v1::SampleRequest negative = heavy;
  negative.set_start_offset(-1);
  grpc::ClientContext negative_context;
  negative_context.AddMetadata("authorization", "Bearer " + key_);
  negative_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto refused = stub_->Sample(&negative_context, negative);
  v1::SampleBatch none;
  EXPECT_FALSE(refused->Read(&none));
  const grpc::Status refusal = refused->Finish();
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refusal.error_message(), "start_offset: must be >= 0, got -1");
  EXPECT_EQ(finished.load(), 0);
  EXPECT_EQ(pool.queued(), static_cast<size_t>(kHeavy + 2));

  release.Notify();
  for (std::thread& t : readers) t.join();
  upload.join();
  for (int i = 0; i < kHeavy; ++i) EXPECT_EQ(got[i], expected) << i;
  v1::SampleBatch b;
  EXPECT_FALSE(left->Read(&b));
  EXPECT_EQ(left->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(client->GetDataset("big2")->num_rows(), kAtOnceRows + 1000);
}

// Sample and Shuffle parse their requests themselves (they are served raw): a request that is
// not the method's message is INVALID_ARGUMENT, and only for a caller who authenticated.
TEST_F(SampleStreamTest, RequestsThatDoNotParseAreInvalidArgumentOnlyAfterAuthentication) {
  grpc::GenericStub generic(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                grpc::InsecureChannelCredentials()));
  // Field 1 (a string) claims 5 bytes but only 2 follow.
  const std::string truncated = std::string("\x0a\x05") + "ab";
  const auto call = [&](const std::string& method, const std::string& key) {
    grpc::ClientContext context;
    if (!key.empty()) context.AddMetadata("authorization", "Bearer " + key);
    grpc::Slice slice(truncated);
    grpc::ByteBuffer request(&slice, 1), response;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  };
  for (const std::string method : {"/urn.v1.Sampling/Sample", "/urn.v1.Sampling/Shuffle"}) {
    const grpc::Status bad = call(method, key_);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_NE(bad.error_message().find("request: not a valid urn.v1."), std::string::npos)
        << bad.error_message();
    EXPECT_EQ(call(method, "").error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
}

}  // namespace
}  // namespace urn::server
