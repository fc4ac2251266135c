// Admission: features, the token bucket, exact daily rows (also under 32 threads and across a
// restart), resource limits, live plan changes and the google.rpc details of its errors.
#include "auth/admission.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "status_details.h"
#include "support/temp_dir.h"
#include "urn/rpc/google_rpc.pb.h"

namespace urn::auth {
namespace {

using ::testing::HasSubstr;

// A clock the test moves by hand.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15 08:00 UTC
  std::function<absl::Time()> Fn() {
    return [this] { return now; };
  }
};

Principal User(const std::string& name, const std::string& plan) {
  return Principal{name, plan, false, "k"};
}

google::rpc::Status Details(const absl::Status& s) {
  google::rpc::Status details;
  std::optional<std::string> bytes = server::StatusDetails(s);
  EXPECT_TRUE(bytes.has_value()) << s;
  EXPECT_TRUE(details.ParseFromString(bytes.value_or("")));
  return details;
}

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = *storage::MetadataStore::Open(dir_.Join("db")); }
  testing::TempDir dir_;
  std::unique_ptr<storage::MetadataStore> db_;
  FakeClock clock_;
};

TEST_F(AdmissionTest, FeatureNotInPlanIsPermissionDeniedWithErrorInfo) {
  Admission a(db_.get(), DefaultPlans(), clock_.Fn());
  EXPECT_TRUE(a.Admit(User("u", "free"), kFeatureSample).ok());
  absl::Status s = a.Admit(User("u", "free"), kFeatureQuery);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("FEATURE_NOT_IN_PLAN"));
  google::rpc::ErrorInfo info;
  ASSERT_EQ(Details(s).details_size(), 1);
  ASSERT_TRUE(Details(s).details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "FEATURE_NOT_IN_PLAN");
  EXPECT_TRUE(a.Admit(User("p", "pro"), kFeatureQuery).ok());
  EXPECT_EQ(a.Admit(User("x", "gold"), "").code(), absl::StatusCode::kPermissionDenied);
  Principal admin = User("root", "gold");
  admin.admin = true;
  EXPECT_TRUE(a.Admit(admin, kFeatureQuery).ok());  // admins pass every check
}

TEST_F(AdmissionTest, TokenBucketAllowsTheBurstThenTheRateWithRetryInfo) {
  Admission a(db_.get(), DefaultPlans(), clock_.Fn());  // free: 10/s, burst 20
  const Principal u = User("u", "free");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(a.Admit(u, "").ok()) << i;
  absl::Status s = a.Admit(u, "");
  ASSERT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  const google::rpc::Status details = Details(s);
  ASSERT_EQ(details.details_size(), 2);
  google::rpc::QuotaFailure quota;
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(0).UnpackTo(&quota));
  ASSERT_TRUE(details.details(1).UnpackTo(&retry));
  EXPECT_EQ(quota.violations(0).subject(), "user:u");
  EXPECT_THAT(quota.violations(0).description(), HasSubstr("request rate"));
  EXPECT_EQ(retry.retry_delay().seconds(), 0);
  EXPECT_EQ(retry.retry_delay().nanos(), 100'000'000);  // one token at 10/s
  clock_.now += absl::Milliseconds(100);
  EXPECT_TRUE(a.Admit(u, "").ok());
  EXPECT_FALSE(a.Admit(u, "").ok());
  // Over 10 simulated seconds, exactly 10/s more are admitted.
  int admitted = 0;
  for (int step = 0; step < 1000; ++step) {
    clock_.now += absl::Milliseconds(10);
    admitted += a.Admit(u, "").ok();
  }
  EXPECT_EQ(admitted, 100);
  // Another user has a bucket of their own.
  EXPECT_TRUE(a.Admit(User("v", "free"), "").ok());
}

TEST_F(AdmissionTest, DailyRowsAreExactUnder32ThreadsAndRetryAtMidnight) {
  Plans plans = DefaultPlans();
  plans["free"].rows_per_day = 100'003;
  Admission a(db_.get(), plans, clock_.Fn());
  const Principal u = User("u", "free");
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        absl::StatusOr<int64_t> g = a.Charge(u, 97 + t);
        if (!g.ok()) {
          ASSERT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted);
          return;
        }
        ASSERT_GT(*g, 0);
        granted += *g;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 100'003);  // not one row more or less
  absl::Status s = a.Charge(u, 1).status();
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(Details(s).details(1).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 16 * 3600);  // 08:00 -> midnight UTC
  EXPECT_EQ(a.GetUsage(u)->rows_today, 100'003);
  clock_.now += absl::Hours(16);
  EXPECT_EQ(*a.Charge(u, 5), 5);
  EXPECT_EQ(a.GetUsage(u)->rows_today, 5);
}

TEST_F(AdmissionTest, AllOrNothingChargesAndPartialGrantsAreExact) {
  Plans plans = DefaultPlans();
  plans["free"].rows_per_day = 1000;
  Admission a(db_.get(), plans, clock_.Fn());
  const Principal u = User("u", "free");
  EXPECT_EQ(*a.Charge(u, 600), 600);
  EXPECT_EQ(a.Charge(u, 500, /*all_or_nothing=*/true).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(*a.Charge(u, 500), 400);  // a stream's batch is cut to what is left
  EXPECT_EQ(a.Charge(u, 1).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(AdmissionTest, CountersSurviveARestartAndNeverUndercount) {
  Plans plans = DefaultPlans();
  plans["free"].rows_per_day = 10'000;
  const Principal u = User("u", "free");
  {
    Admission a(db_.get(), plans, clock_.Fn());
    for (int i = 0; i < 7; ++i) ASSERT_EQ(*a.Charge(u, 1000), 1000);
  }
  Admission restarted(db_.get(), plans, clock_.Fn());
  const int64_t used = restarted.GetUsage(u)->rows_today;
  EXPECT_GE(used, 7000);
  EXPECT_LE(used, 7000 + 100);  // at most one lease (1% of the day) counted but not sent
  int64_t more = 0;
  for (;;) {
    absl::StatusOr<int64_t> g = restarted.Charge(u, 700);
    if (!g.ok()) break;
    more += *g;
  }
  EXPECT_EQ(used + more, 10'000);
  EXPECT_LE(7000 + more, 10'000);
}

// A plan without a daily limit refuses nothing but still counts: GetUsage reports today's rows
// (it said 0 before), across a restart within one lease, and a limit set later counts them.
TEST_F(AdmissionTest, AnUnlimitedPlanCountsTodaysRowsForUsageAndALaterLimit) {
  Plans plans = DefaultPlans();
  ASSERT_LT(plans["enterprise"].rows_per_day, 0);
  const Principal u = User("u", "enterprise");
  Admission a(db_.get(), plans, clock_.Fn());
  EXPECT_EQ(*a.Charge(u, 3'000), 3'000);
  EXPECT_EQ(*a.Charge(u, 2'000, /*all_or_nothing=*/true), 2'000);
  EXPECT_TRUE(a.RequireRowsLeft(u, int64_t{1} << 40).ok());  // asking is not using
  EXPECT_EQ(a.GetUsage(u)->rows_today, 5'000);
  {
    Admission restarted(db_.get(), plans, clock_.Fn());
    const int64_t used = restarted.GetUsage(u)->rows_today;
    EXPECT_GE(used, 5'000);
    EXPECT_LE(used, 5'000 + Admission::kUnlimitedLease);
  }
  plans["enterprise"].rows_per_day = 6'000;
  a.SetPlans(plans);
  EXPECT_EQ(*a.Charge(u, 2'000), 1'000);
  EXPECT_EQ(a.Charge(u, 1).status().code(), absl::StatusCode::kResourceExhausted);
  clock_.now += absl::Hours(24);
  EXPECT_EQ(a.GetUsage(u)->rows_today, 0);
}

// A deleted user's usage goes with it: a new user of the same name starts today at 0 rows, in
// this process and after a restart, and another user's counters (whose name the first one's
// begins) stay.
TEST_F(AdmissionTest, AForgottenUsersUsageIsGoneForANewUserOfThatName) {
  Plans plans = DefaultPlans();
  plans["free"].rows_per_day = 10'000;
  plans["free"].requests_per_second = 1;
  plans["free"].burst = 1;
  const Principal eve = User("eve", "free");
  const Principal evelyn = User("evelyn", "free");
  Admission a(db_.get(), plans, clock_.Fn());
  ASSERT_EQ(*a.Charge(eve, 9'000), 9'000);
  ASSERT_EQ(*a.Charge(evelyn, 4'000), 4'000);
  ASSERT_TRUE(a.Admit(eve, "").ok());
  ASSERT_EQ(a.Admit(eve, "").code(), absl::StatusCode::kResourceExhausted);  // rate: 1 a second
  clock_.now += absl::Hours(24);
  ASSERT_EQ(*a.Charge(eve, 2'000), 2'000);  // a second day's counter too
  clock_.now -= absl::Hours(24);

  ASSERT_TRUE(a.ForgetUser("eve").ok());
  EXPECT_EQ(a.GetUsage(eve)->rows_today, 0);
  EXPECT_TRUE(a.Admit(eve, "").ok());
  EXPECT_EQ(a.GetUsage(evelyn)->rows_today, 4'000);
  EXPECT_EQ(*a.Charge(eve, 10'000), 10'000);

  ASSERT_TRUE(a.ForgetUser("eve").ok());
  Admission restarted(db_.get(), plans, clock_.Fn());
  EXPECT_EQ(restarted.GetUsage(eve)->rows_today, 0);
  EXPECT_GE(restarted.GetUsage(evelyn)->rows_today, 4'000);
  clock_.now += absl::Hours(24);
  EXPECT_EQ(restarted.GetUsage(eve)->rows_today, 0);
  EXPECT_EQ(a.GetUsage(eve)->rows_today, 0);
}

TEST_F(AdmissionTest, APlanChangeAppliesToTheNextCall) {
  Admission a(db_.get(), DefaultPlans(), clock_.Fn());
  const Principal u = User("u", "free");
  EXPECT_EQ(a.Admit(u, kFeatureQuery).code(), absl::StatusCode::kPermissionDenied);
  Plans plans = DefaultPlans();
  plans["free"].features.insert(kFeatureQuery);
  plans["free"].datasets = 1;
  a.SetPlans(plans);
  EXPECT_TRUE(a.Admit(u, kFeatureQuery).ok());
  EXPECT_TRUE(a.CheckLimit(u, "datasets", 1).ok());
  absl::Status s = a.CheckLimit(u, "datasets", 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("datasets: 2 is above plan 'free''s limit of 1"));
  // A limit on what the user holds is not lifted by waiting: QuotaFailure, but no RetryInfo
  // (before: "retry in 24h", which clients took as advice).
  EXPECT_THAT(std::string(s.message()), HasSubstr("waiting does not lift it"));
  const google::rpc::Status details = Details(s);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::QuotaFailure quota;
  ASSERT_TRUE(details.details(0).UnpackTo(&quota));
  EXPECT_EQ(quota.violations(0).subject(), "user:u");
}

TEST_F(AdmissionTest, ConcurrentStreamsAreLimitedAndReleased) {
  Admission a(db_.get(), DefaultPlans(), clock_.Fn());  // free: 4 streams
  const Principal u = User("u", "free");
  std::vector<Admission::StreamToken> open;
  for (int i = 0; i < 4; ++i) open.push_back(*a.OpenStream(u));
  EXPECT_EQ(a.OpenStream(u).status().code(), absl::StatusCode::kResourceExhausted);
  open.pop_back();
  EXPECT_TRUE(a.OpenStream(u).ok());
}

TEST(PlansTest, ConfigPlansReplaceTheDefaultsAndErrorsNameTheLine) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir.Join("ok.yaml"),
                          "listen: 127.0.0.1:0\n"
                          "plans:\n"
                          "  team:\n"
                          "    requests_per_second: 5\n"
                          "    rows_per_day: unlimited\n"
                          "    datasets: 2\n"
                          "    bytes_per_dataset: 4096\n"
                          "    features: [sample, query]\n");
  absl::StatusOr<Plans> plans = LoadPlans(dir.Join("ok.yaml"));
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_EQ(plans->size(), 1u);
  const Plan& team = plans->at("team");
  EXPECT_EQ(team.requests_per_second, 5);
  EXPECT_EQ(team.burst, 5);
  EXPECT_EQ(team.rows_per_day, kUnlimited);
  EXPECT_EQ(team.datasets, 2);
  EXPECT_EQ(team.bytes_per_dataset, 4096);
  EXPECT_EQ(team.rows_per_dataset, kUnlimited);
  EXPECT_TRUE(team.Has(kFeatureQuery));
  EXPECT_FALSE(team.Has(kFeatureWeights));
  EXPECT_EQ(LoadPlans("")->size(), 3u);

  testing::WriteFileOrDie(dir.Join("bad.yaml"), "plans:\n  team:\n    rows: 5\n");
  EXPECT_THAT(std::string(LoadPlans(dir.Join("bad.yaml")).status().message()),
              HasSubstr("bad.yaml:3: unknown plan key 'rows'"));
  testing::WriteFileOrDie(dir.Join("feat.yaml"), "plans:\n  t:\n    features: [sample, fly]\n");
  EXPECT_THAT(std::string(LoadPlans(dir.Join("feat.yaml")).status().message()),
              HasSubstr("feat.yaml:3: unknown feature 'fly'"));
  testing::WriteFileOrDie(dir.Join("neg.yaml"), "plans:\n  t:\n    datasets: -3\n");
  EXPECT_THAT(std::string(LoadPlans(dir.Join("neg.yaml")).status().message()),
              HasSubstr("neg.yaml:3: datasets must be a number >= 0 or 'unlimited'"));
}

// deploy/config/urnd.yaml (and the ConfigMap, which tests/deploy/manifests_test.py holds to it)
// spell out the README's plan table: every limit equals DefaultPlans(). Its pro capacity was once
// 10x smaller than documented.
TEST(PlansTest, TheShippedConfigGivesTheDocumentedDefaultPlans) {
  absl::StatusOr<Plans> shipped = LoadPlans(URN_SOURCE_DIR "/deploy/config/urnd.yaml");
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  const Plans defaults = DefaultPlans();
  ASSERT_EQ(shipped->size(), defaults.size());
  for (const auto& [name, want] : defaults) {
    ASSERT_EQ(shipped->count(name), 1u) << name;
    const Plan& got = shipped->at(name);
    EXPECT_EQ(got.requests_per_second, want.requests_per_second) << name;
    EXPECT_EQ(got.burst, want.burst) << name;
    EXPECT_EQ(got.rows_per_day, want.rows_per_day) << name;
    EXPECT_EQ(got.datasets, want.datasets) << name;
    EXPECT_EQ(got.rows_per_dataset, want.rows_per_dataset) << name;
    EXPECT_EQ(got.bytes_per_dataset, want.bytes_per_dataset) << name;
    EXPECT_EQ(got.weight_stores, want.weight_stores) << name;
    EXPECT_EQ(got.capacity_per_store, want.capacity_per_store) << name;
    EXPECT_EQ(got.concurrent_streams, want.concurrent_streams) << name;
    EXPECT_EQ(got.memory_bytes, want.memory_bytes) << name;
    EXPECT_EQ(got.features, want.features) << name;
  }
}

}  // namespace
}  // namespace urn::auth
