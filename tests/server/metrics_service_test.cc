// urnd's /metrics endpoint through a real in-process server (--metrics-listen 127.0.0.1:0):
// exact counts of calls by method and code (including an unauthenticated call and one cut by a
// quota), rows sampled, priority updates and quota rejections by plan, and no user name or key
// in the output. Also the HTTP surface (HEAD, 404, 405) and a busy metrics port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "in_process.h"
#include "support/http_get.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class MetricsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                            "plans:\n"
                            "  tiny:\n"
                            "    rows_per_day: 10\n"
                            "    features: [sample, weights]\n");
    server_ = Start(dir_.Join("data"), "127.0.0.1:0");
    ASSERT_NE(server_, nullptr);
    admin_key_ = testing::AdminKeyIn(dir_.Join("data"));
    admin_ = Connect(admin_key_);
    absl::StatusOr<v1::CreateUserResponse> user = admin_->CreateUser("tiny_user", "tiny");
    ASSERT_TRUE(user.ok()) << user.status();
    tiny_key_ = user->key();
    tiny_ = Connect(tiny_key_);
  }

  std::unique_ptr<UrnServer> Start(const std::string& data_dir, const std::string& metrics) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = data_dir;
    options.config = dir_.Join("urnd.yaml");
    options.metrics_listen = metrics;
    auto server = std::make_unique<UrnServer>(options);
    if (absl::Status s = server->Start(); !s.ok()) {
      last_error_ = s;
      return nullptr;
    }
    return server;
  }

  // No retries: every call is counted once.
  std::unique_ptr<Client> Connect(const std::string& key) {
    return testing::ConnectOnce(server_->port(), key);
  }

  std::string Scrape() {
    absl::StatusOr<testing::HttpResponse> r =
        testing::HttpRequest(server_->metrics_port(), "GET", "/metrics");
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    return r->body;
  }

  // Rows received by a Sample of `n` rows of dataset "d", and its status.
  std::pair<int64_t, absl::Status> Sample(int64_t n) {
    v1::SampleRequest r;
    r.set_dataset("d");
    r.mutable_uniform()->set_replace(true);
    r.set_n(n);
    r.set_seed(1);
    int64_t rows = 0;
    absl::Status s = tiny_->Sample(r, [&](const v1::SampleBatch& b) {
      rows += b.row_ids_size();
      return true;
    });
    return {rows, s};
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  absl::Status last_error_;
  std::string admin_key_, tiny_key_;
  std::unique_ptr<Client> admin_, tiny_;
};

TEST_F(MetricsServiceTest, CountsCallsRowsUpdatesAndRejectionsByPlanOnly) {
  std::string rows;
  for (int i = 0; i < 100; ++i) absl::StrAppend(&rows, i, "\n");
  testing::WriteFileOrDie(dir_.Join("d.tsv"), rows);
  v1::CreateDatasetHeader header;
  header.set_name("d");
  header.set_format(v1::DATA_FORMAT_TSV);
  ASSERT_TRUE(tiny_->CreateDataset(header, dir_.Join("d.tsv")).ok());

  // 6 rows, then 4 of 10 before the daily rows (10) run out mid-stream.
  auto [all_rows, ok] = Sample(6);
  EXPECT_EQ(all_rows, 6);
  EXPECT_TRUE(ok.ok()) << ok;
  auto [cut_rows, cut] = Sample(10);
  EXPECT_EQ(cut_rows, 4);
  EXPECT_TRUE(absl::IsResourceExhausted(cut)) << cut;

  v1::CreateWeightStoreRequest store;
  store.set_name("w");
  store.set_capacity(16);
  ASSERT_TRUE(tiny_->CreateWeightStore(store).ok());
  absl::StatusOr<std::vector<int64_t>> slots = tiny_->Insert("w", {"a", "b", "c"});
  ASSERT_TRUE(slots.ok()) << slots.status();
  int batches = 0;  // two batches of three priorities
  const auto next = [&](v1::UpdatePrioritiesRequest* r) {
    if (batches++ == 2) return false;
    for (int64_t slot : *slots) {
      r->add_slots(slot);
      r->add_priorities(1.5);
    }
    return true;
  };
  ASSERT_TRUE(tiny_->UpdatePriorities("w", next).ok());

  absl::StatusOr<std::vector<v1::Dataset>> anonymous = Connect("")->ListDatasets();
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous.status())) << anonymous.status();

  const std::string text = Scrape();
  for (
      const char* line : {
          "urn_grpc_requests_total{method=\"/urn.v1.Sampling/Sample\",code=\"OK\"} 1\n",
          "urn_grpc_requests_total{method=\"/urn.v1.Sampling/Sample\",code=\"RESOURCE_EXHAUSTED\"} "
          "1\n",
          "urn_grpc_requests_total{method=\"/urn.v1.Datasets/ListDatasets\",code="
          "\"UNAUTHENTICATED\"} 1\n",
          "urn_grpc_requests_total{method=\"/urn.v1.Datasets/CreateDataset\",code=\"OK\"} 1\n",
          "urn_grpc_requests_total{method=\"/urn.v1.WeightStores/UpdatePriorities\",code=\"OK\"} "
          "1\n",
          "urn_grpc_requests_total{method=\"/urn.v1.Admin/CreateUser\",code=\"OK\"} 1\n",
          "urn_grpc_request_duration_seconds_count{method=\"/urn.v1.Sampling/Sample\"} 2\n",
          "urn_grpc_request_duration_seconds_bucket{method=\"/urn.v1.Sampling/Sample\",le=\"+Inf\"}"
          " 2\n",
          "urn_rows_sampled_total{plan=\"tiny\"} 10\n",
          "urn_priority_updates_total{plan=\"tiny\"} 6\n",
          "urn_quota_rejections_total{plan=\"tiny\",reason=\"rows_per_day\"} 1\n",
          "urn_datasets 1\n",
          "urn_weight_stores 1\n",
          "urn_build_info{version=\"" URN_VERSION "\"} 1\n",
      }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  // Nothing names a user or holds any part of a key (urn_<id>_<secret>).
  EXPECT_THAT(text, Not(HasSubstr("tiny_user")));
  for (const std::string& key : {tiny_key_, admin_key_}) {
    for (absl::string_view part : absl::StrSplit(key.substr(4), '_')) {
      EXPECT_THAT(text, Not(HasSubstr(std::string(part))));
    }
  }
  // Every metric is urn_'s.
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (line[0] != '#') {
      EXPECT_EQ(line.substr(0, 4), "urn_") << line;
    }
  }
}

TEST_F(MetricsServiceTest, HealthAndAnotherPlanLimit) {
  ASSERT_TRUE(Connect("")->Healthy().value_or(false));
  v1::CreateWeightStoreRequest store;
  store.set_name("w");
  store.set_capacity(16);
  testing::WriteFileOrDie(dir_.Join("urnd.yaml"),
                          "plans:\n  tiny:\n    weight_stores: 0\n    features: [all]\n");
  server_->ReloadPlans();
  EXPECT_TRUE(absl::IsResourceExhausted(tiny_->CreateWeightStore(store).status()));
  const std::string text = Scrape();
  EXPECT_THAT(text,
              HasSubstr("urn_grpc_requests_total{method=\"/grpc.health.v1.Health/Check\",code="
                        "\"OK\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("urn_quota_rejections_total{plan=\"tiny\",reason=\"weight_stores\"} 1\n"));
}

TEST_F(MetricsServiceTest, OnlyGetAndHeadOfMetrics) {
  absl::StatusOr<testing::HttpResponse> head =
      testing::HttpRequest(server_->metrics_port(), "HEAD", "/metrics");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_GT(std::stoi(head->headers["content-length"]), 0);
  absl::StatusOr<testing::HttpResponse> other =
      testing::HttpRequest(server_->metrics_port(), "GET", "/");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->status, 404);
  absl::StatusOr<testing::HttpResponse> post =
      testing::HttpRequest(server_->metrics_port(), "POST", "/metrics");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers["allow"], "GET, HEAD");
}

TEST_F(MetricsServiceTest, BusyMetricsPortFailsStartNamingTheAddress) {
  const std::string busy = absl::StrCat("127.0.0.1:", server_->metrics_port());
  EXPECT_EQ(Start(dir_.Join("other"), busy), nullptr);
  EXPECT_TRUE(absl::IsUnavailable(last_error_)) << last_error_;
  EXPECT_THAT(std::string(last_error_.message()), HasSubstr("--metrics-listen"));
  EXPECT_THAT(std::string(last_error_.message()), HasSubstr(busy));
  // The first server is unharmed.
  EXPECT_THAT(Scrape(), HasSubstr("urn_build_info"));
}

TEST_F(MetricsServiceTest, NoMetricsListenNoEndpoint) {
  std::unique_ptr<UrnServer> plain = Start(dir_.Join("other"), "");
  ASSERT_NE(plain, nullptr) << last_error_;
  EXPECT_EQ(plain->metrics_port(), 0);
}

}  // namespace
}  // namespace urn::server
