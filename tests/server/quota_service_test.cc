// Plan quotas through the real gRPC service: exact daily rows under 32 concurrent streams (a
// stream is cut exactly at the limit and ends RESOURCE_EXHAUSTED with QuotaFailure and
// RetryInfo), counters across a restart, the rate limit, and a live plan change.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "in_process.h"
#include "sampling/spec_sampler.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/rpc/google_rpc.pb.h"
#include "urn/v1/sampling.grpc.pb.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;

constexpr char kPlans[] =
    "plans:\n"
    "  tiny:\n"
    "    rows_per_day: 10000\n"
    "    concurrent_streams: 64\n"
    "    features: [sample, shuffle, weights]\n"
    "  slow:\n"
    "    requests_per_second: 1\n"
    "    burst: 3\n"
    "    features: [sample]\n";

class QuotaServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFileOrDie(dir_.Join("urnd.yaml"), kPlans);
    Start();
    admin_ = Connect(AdminKey());
    tiny_key_ = admin_->CreateUser("tiny_user", "tiny")->key();
    tiny_ = Connect(tiny_key_);
    testing::WriteFileOrDie(dir_.Join("d.tsv"), Rows(100));
    v1::CreateDatasetHeader header;
    header.set_name("d");
    header.set_format(v1::DATA_FORMAT_TSV);
    ASSERT_TRUE(tiny_->CreateDataset(header, dir_.Join("d.tsv")).ok());
  }
  static std::string Rows(int n) {
    std::string text;
    for (int i = 0; i < n; ++i) absl::StrAppend(&text, i, "\n");
    return text;
  }
  void Start() {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Join("data");
    options.config = dir_.Join("urnd.yaml");
    options.fsync_interval_seconds = 0.05;  // the maintenance thread also watches the config
    server_ = std::make_unique<UrnServer>(options);
    ASSERT_TRUE(server_->Start().ok());
  }
  std::string AdminKey() { return testing::AdminKeyIn(dir_.Join("data")); }
  // No retries: these tests look at the quota errors themselves.
  std::unique_ptr<Client> Connect(const std::string& key) {
    return testing::ConnectOnce(server_->port(), key);
  }
  // A raw Sample stream: rows received and the final status (with its details).
  std::pair<int64_t, grpc::Status> RawSample(int64_t n, int batch, uint64_t seed) {
    auto stub = v1::Sampling::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + tiny_key_);
    v1::SampleRequest r;
    r.set_dataset("d");
    r.mutable_uniform()->set_replace(true);
    r.set_n(n);
    r.set_batch_size(batch);
    r.set_seed(seed);
    auto reader = stub->Sample(&context, r);
    v1::SampleBatch b;
    int64_t rows = 0;
    while (reader->Read(&b)) rows += b.row_ids_size();
    return {rows, reader->Finish()};
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::unique_ptr<Client> admin_, tiny_;
  std::string tiny_key_;
};

TEST_F(QuotaServiceTest, DailyRowsAreExactUnder32StreamsAndSurviveARestart) {
  std::atomic<int64_t> rows{0};
  std::atomic<int> exhausted{0};
  std::vector<std::thread> streams;
  for (int i = 0; i < 32; ++i) {
    streams.emplace_back([&, i] {
      auto [got, status] = RawSample(1000, 64, i);
      rows += got;
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++exhausted;
        google::rpc::Status details;
        ASSERT_TRUE(details.ParseFromString(status.error_details()));
        ASSERT_EQ(details.details_size(), 2);
        google::rpc::QuotaFailure quota;
        google::rpc::RetryInfo retry;
        ASSERT_TRUE(details.details(0).UnpackTo(&quota));
        ASSERT_TRUE(details.details(1).UnpackTo(&retry));
        EXPECT_EQ(quota.violations(0).subject(), "user:tiny_user");
        EXPECT_GT(retry.retry_delay().seconds(), 0);
      } else {
        EXPECT_TRUE(status.ok()) << status.error_message();
      }
    });
  }
  for (auto& t : streams) t.join();
  EXPECT_EQ(rows.load(), 10000);  // 32 x 1000 asked; exactly the plan's rows arrive
  EXPECT_GE(exhausted.load(), 22);
  EXPECT_EQ(tiny_->GetUsage()->rows_today(), 10000);

  server_->Shutdown(std::chrono::milliseconds(0));
  server_->Wait();
  server_.reset();
  Start();
  tiny_ = Connect(tiny_key_);
  EXPECT_EQ(tiny_->GetUsage()->rows_today(), 10000);
  auto [got, status] = RawSample(10, 10, 99);
  EXPECT_EQ(got, 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("daily rows of plan 'tiny' used up"));
}

// A caller with no rows left today is refused before its sampler runs: with every work-pool
// thread held, a weighted sample of more than kAtOnceRows rows (which would wait for the pool)
// is still refused at once, RESOURCE_EXHAUSTED, instead of queueing work whose rows it cannot
// receive.
TEST_F(QuotaServiceTest, NoRowsLeftIsRefusedBeforeTheSamplerRuns) {
  ASSERT_TRUE(testing::CreateWeightedDataset(*tiny_, dir_, "big", kAtOnceRows + 1000).ok());
  auto [got, used_up] = RawSample(10000, 1000, 1);  // the whole day
  ASSERT_TRUE(used_up.ok()) << used_up.error_message();
  ASSERT_EQ(got, 10000);

  WorkPool& pool = server_->work_pool_for_testing();
  absl::BlockingCounter holding(pool.threads());
  // Shared with the held threads, which may still be waking when the test ends.
  auto release = std::make_shared<absl::Notification>();
  auto let_go = absl::MakeCleanup([release] { release->Notify(); });
  for (int i = 0; i < pool.threads(); ++i) {
    pool.Run([&holding, release] {
      holding.DecrementCount();
      release->WaitForNotification();
    });
  }
  holding.Wait();
  auto stub = v1::Sampling::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                        grpc::InsecureChannelCredentials()));
  // Without replacement: exponential keys over every row, on the pool; and a sample without a
  // size (every row tossed), which asks for at least one row.
  v1::SampleRequest weighted, bernoulli;
  weighted.set_dataset("big");
  weighted.mutable_weighted()->set_weight_column("w");
  weighted.set_n(10);
  weighted.set_seed(2);
  bernoulli.set_dataset("big");
  bernoulli.mutable_bernoulli()->set_p(0.5);
  bernoulli.set_seed(2);
  for (const v1::SampleRequest* heavy : {&weighted, &bernoulli}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + tiny_key_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto reader = stub->Sample(&context, *heavy);
    v1::SampleBatch b;
    EXPECT_FALSE(reader->Read(&b));
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("daily rows of plan 'tiny' used up"));
    EXPECT_EQ(pool.queued(), 0u);
  }
}

TEST_F(QuotaServiceTest, RateLimitFeaturesAndLivePlanChanges) {
  const std::string slow_key = admin_->CreateUser("slow_user", "slow")->key();
  auto slow = Connect(slow_key);
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<std::vector<v1::Dataset>> r = slow->ListDatasets();
    ok += r.ok();
    limited += absl::IsResourceExhausted(r.status());
  }
  EXPECT_EQ(ok, 3);  // the burst; 1 more per second
  EXPECT_EQ(limited, 3);
  // Query sampling is not in tiny's features.
  v1::SampleRequest q;
  q.set_dataset("d");
  q.set_query("select * sample by 1 replace false limit 3");
  absl::Status s = tiny_->Sample(q, [](const v1::SampleBatch&) { return true; });
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("FEATURE_NOT_IN_PLAN"));
  // The plan changes live: query added to tiny, slow's rate lifted.
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                          "plans:\n  tiny:\n    features: [all]\n  slow:\n    features: [all]\n");
  server_->ReloadPlans();
  int64_t rows = 0;
  EXPECT_TRUE(tiny_
                  ->Sample(q,
                           [&](const v1::SampleBatch& b) {
                             rows += b.row_ids_size();
                             return true;
                           })
                  .ok());
  EXPECT_EQ(rows, 3);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(slow->ListDatasets().ok());
  // A config that does not parse keeps the current plans.
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"), "plans:\n  tiny:\n    bogus: 1\n");
  server_->ReloadPlans();
  EXPECT_TRUE(tiny_->Sample(q, [](const v1::SampleBatch&) { return true; }).ok());
}

TEST_F(QuotaServiceTest, PlansReloadWhenTheConfigFileChanges) {
  v1::SampleRequest q;
  q.set_dataset("d");
  q.set_query("select * sample by 1 replace false limit 3");
  const auto query_allowed = [&] {
    return tiny_->Sample(q, [](const v1::SampleBatch&) { return true; }).ok();
  };
  EXPECT_FALSE(query_allowed());
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"), "plans:\n  tiny:\n    features: [all]\n");
  bool allowed = false;
  for (int i = 0; i < 200 && !allowed; ++i) {  // at most 10 s
    allowed = query_allowed();
    if (!allowed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(allowed);
}

TEST_F(QuotaServiceTest, ResourceLimitsOfThePlan) {
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                          "plans:\n  tiny:\n    datasets: 1\n    weight_stores: 1\n"
                          "    capacity_per_store: 100\n    features: [all]\n");
  server_->ReloadPlans();
  v1::CreateDatasetHeader header;
  header.set_name("second");
  header.set_format(v1::DATA_FORMAT_TSV);
  absl::Status s = tiny_->CreateDataset(header, dir_.Join("d.tsv")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("datasets: 2 is above plan 'tiny''s limit of 1"));
  v1::CreateWeightStoreRequest w;
  w.set_name("w");
  w.set_capacity(101);
  EXPECT_EQ(tiny_->CreateWeightStore(w).status().code(), absl::StatusCode::kResourceExhausted);
  w.set_capacity(100);
  EXPECT_TRUE(tiny_->CreateWeightStore(w).ok());
  w.set_name("w2");
  EXPECT_EQ(tiny_->CreateWeightStore(w).status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace urn::server
