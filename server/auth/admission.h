// Admission: the plan checks every call passes after authentication, in this order:
//   1. the feature is in the caller's plan (else PERMISSION_DENIED, FEATURE_NOT_IN_PLAN);
//   2. the request rate: a token bucket per user (requests_per_second, burst);
//   3. daily units: rows or slots returned by Sample, Shuffle and SampleWeights, per UTC day;
//   4. resource limits (datasets, rows per dataset, weight stores, capacity, streams, and the
//      memory the user's datasets, stores and streamed samples hold in urnd).
// Admins (the admin role) pass every check: their plan never locks them out of their server.
// An exhausted limit is RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo details
// (status_details.h).
//
// Daily units are exact: Charge() grants at most what is left, under the user's lock, so no
// number of concurrent streams can take one row more than the plan allows, and a stream can
// send exactly up to the limit. They survive restarts: before granting rows beyond what is
// persisted, the counter "usage/<user>/<day>" is raised (synced) to the new use plus a lease
// of up to 1% of the daily limit (kUnlimitedLease rows on a plan without one), so the stored
// value never trails the rows granted. After a crash a user may therefore find up to one lease
// counted that was never sent; never the opposite. Unlimited plans refuse no rows but count
// them all the same, for GetUsage and for a later plan with a limit.
//
// Metrics: every grant of Charge() adds to urn_rows_sampled_total{plan}, every refusal by a
// plan limit to urn_quota_rejections_total{plan,reason} with the limit's plan key as reason
// (metrics/metrics.h); recording is a lock-free lookup and an atomic add.
//
// Cost: Admit() is a shared-lock lookup and one short per-user lock (well under 1 us,
// bench/admission_bench.cc). Thread safety: all methods may be called concurrently; SetPlans()
// applies to the next call.
#ifndef URN_SERVER_AUTH_ADMISSION_H_
#define URN_SERVER_AUTH_ADMISSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "auth/authenticator.h"
#include "auth/plans.h"
#include "metrics/metrics.h"
#include "storage/metadata_store.h"

namespace urn::auth {

struct Usage {
  std::string plan;
  std::string day;  // UTC, YYYY-MM-DD
  int64_t rows_today = 0;
  Plan limits;
};

class Admission {
 public:
  // The lease of a plan without a daily limit: one counter write per 2^20 rows.
  static constexpr int64_t kUnlimitedLease = int64_t{1} << 20;

  // REQUIRES: `db` and `metrics` (may be null: nothing is recorded) outlive this. `now` is the
  // clock (tests pass their own).
  Admission(
      storage::MetadataStore* db, Plans plans,
      std::function<absl::Time()> now = [] { return absl::Now(); },
      server::metrics::ServerMetrics* metrics = nullptr);

  // True when `plan` is defined.
  bool HasPlan(const std::string& plan) const;

  // Replaces the plans (a config reload); users on a plan that disappeared get no access.
  void SetPlans(Plans plans);

  // Feature (may be empty: no feature needed) and one token of the rate.
  absl::Status Admit(const Principal& who, std::string_view feature);
  // Admit without the rate: who.plan is defined and has `feature` (may be empty). For a call
  // that goes on after its entry (a stream) under a plan that may have changed since.
  absl::Status CheckFeature(const Principal& who, std::string_view feature) const;

  // Grants up to `want` rows of the caller's allowance for today and returns the grant (> 0).
  // With `all_or_nothing`, less than `want` is refused. RESOURCE_EXHAUSTED when nothing is
  // left (RetryInfo: the next UTC midnight).
  absl::StatusOr<int64_t> Charge(const Principal& who, int64_t want, bool all_or_nothing = false);

  // RESOURCE_EXHAUSTED, as Charge(who, asked) gives it, when nothing of today's rows is left;
  // grants nothing. Lets a call refuse before it does work whose rows it could not send.
  absl::Status RequireRowsLeft(const Principal& who, int64_t asked);

  // RESOURCE_EXHAUSTED when `amount` exceeds the plan's limit named `limit` (a Plan field name:
  // datasets, rows_per_dataset, bytes_per_dataset, weight_stores, capacity_per_store).
  absl::Status CheckLimit(const Principal& who, std::string_view limit, int64_t amount) const;

  // RESOURCE_EXHAUSTED (plan key memory_bytes) unless `more` bytes for `what` fit in the plan's
  // memory_bytes beside the `held()` bytes `who` holds already; held() is called only when the
  // plan has such a limit.
  absl::Status CheckMemory(const Principal& who, int64_t more, std::string_view what,
                           const std::function<int64_t()>& held) const;

  // A stream holds one of the plan's concurrent streams until the returned token is destroyed.
  class StreamToken {
   public:
    StreamToken() = default;
    StreamToken(StreamToken&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), user_(std::move(o.user_)) {}
    StreamToken& operator=(StreamToken&&) = delete;
    ~StreamToken() { Release(); }
    // Gives the stream's slot back now (a stream does so before its client sees it end, so
    // that the client's next stream finds it free); later calls do nothing.
    void Release();

   private:
    friend class Admission;
    Admission* owner_ = nullptr;
    std::string user_;
  };
  absl::StatusOr<StreamToken> OpenStream(const Principal& who);

  absl::StatusOr<Usage> GetUsage(const Principal& who);

  // Forgets a deleted user's usage: the stored daily counters and the rate state, so that a
  // new user of the same name starts from nothing. Streams still open keep their slots.
  absl::Status ForgetUser(const std::string& user);

 private:
  struct UserState {
    absl::Mutex mu;
    absl::Time tat ABSL_GUARDED_BY(mu) = absl::InfinitePast();  // GCRA's next due time
    int64_t day ABSL_GUARDED_BY(mu) = -1;                       // days since the epoch (UTC)
    int64_t used ABSL_GUARDED_BY(mu) = 0;
    int64_t persisted ABSL_GUARDED_BY(mu) = 0;
    int64_t streams ABSL_GUARDED_BY(mu) = 0;
  };

  UserState& StateOf(const std::string& user);
  // Loads today's persisted counter when the day changed. REQUIRES: state.mu held.
  absl::Status RollDay(const std::string& user, UserState& state, int64_t day)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu);
  // The plan that applies to `who` (unlimited for an admin), or null when it is not defined.
  const Plan* FindPlan(const Principal& who) const ABSL_SHARED_LOCKS_REQUIRED(plans_mu_);
  // The plan of `who` (a copy), or PERMISSION_DENIED when it is not defined.
  absl::StatusOr<Plan> PlanOf(const Principal& who) const;
  // One limit of that plan, without copying it (the per-batch path).
  absl::StatusOr<int64_t> LimitOf(const Principal& who, int64_t Plan::*limit) const;
  // RESOURCE_EXHAUSTED for the limit with plan key `limit` (QuotaFailure on the user,
  // RetryInfo `retry_after` when waiting lifts it), counted in urn_quota_rejections_total.
  absl::Status Exceeded(const Principal& who, std::string_view limit,
                        const std::string& description,
                        std::optional<absl::Duration> retry_after) const;
  // Charge() when `take`; otherwise the same answer without granting anything.
  absl::StatusOr<int64_t> Grant(const Principal& who, int64_t want, bool all_or_nothing, bool take);
  // `rows` granted to `who`, counted in urn_rows_sampled_total.
  void Granted(const Principal& who, int64_t rows) const;

  storage::MetadataStore* const db_;
  const std::function<absl::Time()> now_;
  server::metrics::ServerMetrics* const metrics_;
  mutable absl::Mutex plans_mu_;
  Plans plans_ ABSL_GUARDED_BY(plans_mu_);
  absl::Mutex users_mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<UserState>> users_ ABSL_GUARDED_BY(users_mu_);
};

}  // namespace urn::auth

#endif  // URN_SERVER_AUTH_ADMISSION_H_
