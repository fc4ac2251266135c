// Sample and Shuffle streams through the real gRPC service: the server prepares batch k + 1
// while batch k is sent (double buffering), so these check that the batches still come in
// order with the right offsets, that a sample's rows do not depend on the batch size, and that
// clients that stop reading or cancel while the next batch is being prepared leave the server
// serving (run under AddressSanitizer in CI).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "in_process.h"
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
    "    features: [sample, shuffle]\n";

class SampleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartInProcess(dir_, kPlans);
    ASSERT_NE(server_, nullptr);
    auto admin = testing::ConnectOnce(server_->port(), testing::AdminKeyIn(dir_.Join("data")));
    key_ = admin->CreateUser("u", "big")->key();
    std::string text = "w\n";
    for (int i = 0; i < 5000; ++i) absl::StrAppend(&text, 1 + i % 7, "\n");
    testing::WriteFileOrDie(dir_.Join("d.tsv"), text);
    v1::CreateDatasetHeader header;
    header.set_name("d");
    header.set_format(v1::DATA_FORMAT_TSV);
    header.set_has_header(true);
    ASSERT_TRUE(testing::ConnectOnce(server_->port(), key_)
                    ->CreateDataset(header, dir_.Join("d.tsv"))
                    .ok());
    stub_ = v1::Sampling::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
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

  // Reads a whole stream: its rows in order, checking each batch's offset and total.
  std::vector<int64_t> ReadAll(const v1::SampleRequest& r) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    auto reader = stub_->Sample(&context, r);
    v1::SampleBatch b;
    std::vector<int64_t> rows;
    while (reader->Read(&b)) {
      EXPECT_EQ(b.offset(), static_cast<int64_t>(rows.size()));
      EXPECT_EQ(b.total(), r.n());
      EXPECT_LE(b.row_ids_size(), r.batch_size());
      rows.insert(rows.end(), b.row_ids().begin(), b.row_ids().end());
    }
    const grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
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
