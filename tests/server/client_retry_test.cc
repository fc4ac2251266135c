// The C++ client against an in-process urnd: idempotent calls are retried after
// RESOURCE_EXHAUSTED when RetryInfo says a retry can succeed soon, and after UNAVAILABLE with
// backoff; calls that change state are never retried; quota details read as sentences.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "in_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "urn/client.h"
#include "urn/errors.h"
#include "urn_server.h"

namespace urn::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

class ClientRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartInProcess(dir_,
                                      "plans:\n  slow:\n    requests_per_second: 2\n    burst: 1\n"
                                      "    rows_per_day: 10\n    features: [all]\n");
    ASSERT_NE(server_, nullptr);
    Client admin = Connect(std::string(absl::StripAsciiWhitespace(
                               testing::ReadFileOrEmpty(dir_.Join("data/admin.key")))),
                           4);
    key_ = admin.CreateUser("sam", "slow")->key();
  }
  Client Connect(const std::string& key, int attempts) {
    ClientOptions o;
    o.server = absl::StrCat("127.0.0.1:", server_->port());
    o.key = key;
    o.max_attempts = attempts;
    return *Client::Connect(o);
  }
  static double Seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  }

  testing::TempDir dir_;
  std::unique_ptr<UrnServer> server_;
  std::string key_;
};

TEST_F(ClientRetryTest, RateLimitedReadsWaitForRetryInfoAndSucceed) {
  Client client = Connect(key_, 4);
  ASSERT_TRUE(client.GetUsage().ok());
  const auto start = Clock::now();
  absl::StatusOr<v1::GetUsageResponse> usage = client.GetUsage();  // over the rate: 1 every 500ms
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GE(Seconds(start), 0.4);
  EXPECT_LT(Seconds(start), 3.0);
}

TEST_F(ClientRetryTest, WithoutRetriesTheQuotaReadsAsASentence) {
  Client client = Connect(key_, 1);
  ASSERT_TRUE(client.GetUsage().ok());
  absl::Status s = client.GetUsage().status();
  ASSERT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  std::optional<QuotaDetails> quota = GetQuotaDetails(s);
  ASSERT_TRUE(quota.has_value());
  EXPECT_EQ(quota->subject, "user:sam");
  ASSERT_TRUE(quota->retry_after.has_value());
  EXPECT_GT(*quota->retry_after, absl::Milliseconds(300));
  EXPECT_LE(*quota->retry_after, absl::Milliseconds(500));
  EXPECT_THAT(ErrorSentence(s),
              StartsWith("quota exceeded: request rate above plan 'slow': 2 requests/s, burst 1; "
                         "retry after "));
}

// gRPC's own RESOURCE_EXHAUSTED (a message above a size limit) has no QuotaFailure: it is not
// a quota, and the sentence does not say so (it did: users went looking for a plan limit).
TEST(ClientErrorSentenceTest, OnlyAQuotaFailureReadsAsAQuota) {
  const absl::Status big =
      absl::ResourceExhaustedError("Received message larger than max (67633179 vs. 67108864)");
  EXPECT_FALSE(GetQuotaDetails(big).has_value());
  EXPECT_EQ(ErrorSentence(big),
            "resource exhausted: Received message larger than max (67633179 vs. 67108864)");
}

// Any TLS file means TLS: a client key without its certificate is an error, not plaintext.
TEST(ClientConnectTest, AKeyWithoutItsCertificateIsRefused) {
  ClientOptions o;
  o.tls_key = "/nonexistent/client.key";
  absl::StatusOr<Client> c = Client::Connect(o);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("given together"));
  o.tls_key.clear();
  o.tls_cert = "/nonexistent/client.crt";
  EXPECT_EQ(Client::Connect(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClientRetryTest, CallsThatChangeStateAreNeverRetried) {
  Client client = Connect(key_, 4);
  ASSERT_TRUE(client.GetUsage().ok());
  v1::CreateWeightStoreRequest r;
  r.set_name("w");
  r.set_capacity(4);
  const auto start = Clock::now();
  EXPECT_EQ(client.CreateWeightStore(r).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LT(Seconds(start), 0.3);
}

TEST_F(ClientRetryTest, ADailyQuotaIsNotWaitedFor) {
  Client client = Connect(key_, 4);
  testing::WriteFileOrDie(dir_.Join("d.tsv"), "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n");
  v1::CreateDatasetHeader header;
  header.set_name("d");
  header.set_format(v1::DATA_FORMAT_TSV);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_TRUE(client.CreateDataset(header, dir_.Join("d.tsv")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  v1::SampleRequest q;
  q.set_dataset("d");
  q.mutable_uniform()->set_replace(true);
  q.set_n(20);
  int64_t rows = 0;
  absl::Status s = client.Sample(q, [&](const v1::SampleBatch& b) {
    rows += b.row_ids_size();
    return true;
  });
  EXPECT_EQ(rows, 10);  // exactly the day's rows, then the quota error
  ASSERT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  std::optional<QuotaDetails> quota = GetQuotaDetails(s);
  ASSERT_TRUE(quota.has_value());
  EXPECT_THAT(quota->description, HasSubstr("daily rows of plan 'slow' used up: 10 of 10"));
  EXPECT_GT(*quota->retry_after, absl::Seconds(1));  // until midnight UTC: no blind wait
}

TEST(ClientRetryUnavailableTest, UnavailableIsRetriedWithBackoff) {
  ClientOptions o;
  o.server = absl::StrCat("127.0.0.1:", testing::FreeLoopbackPort());
  o.max_attempts = 3;
  o.initial_backoff = std::chrono::milliseconds(100);
  o.timeout = std::chrono::milliseconds(200);
  Client client = *Client::Connect(o);
  const auto start = Clock::now();
  absl::Status s = client.GetServerInfo().status();
  EXPECT_TRUE(absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) << s;
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - start).count(), 0.3);  // 100 + 200 ms
  EXPECT_THAT(ErrorSentence(absl::UnavailableError("x")), StartsWith("server unavailable: "));
}

}  // namespace
}  // namespace urn::server
