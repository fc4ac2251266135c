#include "auth/admission.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "status_details.h"

namespace urn::auth {
namespace {

int64_t DayOf(absl::Time t) { return absl::ToUnixSeconds(t) / 86400; }

std::string DayName(int64_t day) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(day * 86400), absl::UTCTimeZone());
}

std::string UsageKey(const std::string& user, int64_t day) {
  return absl::StrCat("usage/", user, "/", DayName(day));
}

absl::Duration UntilMidnight(absl::Time now) {
  return absl::FromUnixSeconds((DayOf(now) + 1) * 86400) - now;
}

absl::Status UndefinedPlan(const Principal& who) {
  return absl::PermissionDeniedError(
      absl::StrCat("user '", who.user, "' is on plan '", who.plan,
                   "', which this server does not define (ask an admin to set another)"));
}

// Whether `plan` (who.plan, nullptr when undefined) admits a call needing `feature` (may be
// empty).
absl::Status PlanAdmits(const Plan* plan, const Principal& who, std::string_view feature) {
  if (plan == nullptr) return UndefinedPlan(who);
  if (!feature.empty() && !plan->Has(feature)) {
    return server::FeatureNotInPlan(std::string(feature), who.plan);
  }
  return absl::OkStatus();
}

}  // namespace

Admission::Admission(storage::MetadataStore* db, Plans plans, std::function<absl::Time()> now,
                     server::metrics::ServerMetrics* metrics)
    : db_(db), now_(std::move(now)), metrics_(metrics), plans_(std::move(plans)) {}

absl::Status Admission::Exceeded(const Principal& who, std::string_view limit,
                                 const std::string& description,
                                 std::optional<absl::Duration> retry_after) const {
  if (metrics_ != nullptr) metrics_->quota_rejections.With({who.plan, limit}).Increment();
  return server::QuotaExceeded(absl::StrCat("user:", who.user), description, retry_after);
}

void Admission::Granted(const Principal& who, int64_t rows) const {
  if (metrics_ != nullptr) metrics_->rows_sampled.With({who.plan}).Increment(rows);
}

bool Admission::HasPlan(const std::string& plan) const {
  absl::ReaderMutexLock lock(&plans_mu_);
  return plans_.count(plan) > 0;
}

void Admission::SetPlans(Plans plans) {
  absl::MutexLock lock(&plans_mu_);
  plans_ = std::move(plans);
}

const Plan* Admission::FindPlan(const Principal& who) const {
  // Admins pass every check, whatever their plan says: their plan never locks them out.
  static const Plan* const kAdmin = [] {
    auto* p = new Plan;
    p->features = {"all"};
    return p;
  }();
  if (who.admin) return kAdmin;
  auto it = plans_.find(who.plan);
  return it == plans_.end() ? nullptr : &it->second;
}

absl::StatusOr<Plan> Admission::PlanOf(const Principal& who) const {
  absl::ReaderMutexLock lock(&plans_mu_);
  const Plan* plan = FindPlan(who);
  if (plan == nullptr) return UndefinedPlan(who);
  return *plan;
}

absl::StatusOr<int64_t> Admission::LimitOf(const Principal& who, int64_t Plan::*limit) const {
  absl::ReaderMutexLock lock(&plans_mu_);
  const Plan* plan = FindPlan(who);
  if (plan == nullptr) return UndefinedPlan(who);
  return plan->*limit;
}

Admission::UserState& Admission::StateOf(const std::string& user) {
  {
    absl::ReaderMutexLock lock(&users_mu_);
    auto it = users_.find(user);
    if (it != users_.end()) return *it->second;
  }
  absl::MutexLock lock(&users_mu_);
  auto& slot = users_[user];
  if (slot == nullptr) slot = std::make_unique<UserState>();
  return *slot;
}

absl::Status Admission::CheckFeature(const Principal& who, std::string_view feature) const {
  absl::ReaderMutexLock lock(&plans_mu_);
  return PlanAdmits(FindPlan(who), who, feature);
}

absl::Status Admission::Admit(const Principal& who, std::string_view feature) {
  double rate = 0, burst = 0;
  {
    absl::ReaderMutexLock lock(&plans_mu_);
    const Plan* plan = FindPlan(who);
    if (absl::Status s = PlanAdmits(plan, who, feature); !s.ok()) return s;
    rate = plan->requests_per_second;
    burst = plan->burst;
  }
  if (rate < 0) return absl::OkStatus();
  if (rate == 0) {
    return Exceeded(who, "requests_per_second",
                    absl::StrFormat("plan '%s' allows no requests", who.plan), std::nullopt);
  }
  // GCRA, the token bucket in exact time arithmetic: a request is due every `interval`, and
  // up to burst - 1 of them may come early.
  const absl::Duration interval = absl::Seconds(1) / rate;
  const absl::Duration tolerance = interval * (std::max(1.0, burst) - 1);
  UserState& state = StateOf(who.user);
  const absl::Time now = now_();
  absl::MutexLock lock(&state.mu);
  const absl::Time tat = std::max(state.tat, now);
  if (now >= tat - tolerance) {
    state.tat = tat + interval;
    return absl::OkStatus();
  }
  const absl::Duration wait = tat - tolerance - now;
  return Exceeded(who, "requests_per_second",
                  absl::StrFormat("request rate above plan '%s': %g requests/s, burst %g", who.plan,
                                  rate, burst),
                  wait);
}

absl::Status Admission::RollDay(const std::string& user, UserState& state, int64_t day) {
  if (state.day == day) return absl::OkStatus();
  absl::StatusOr<std::optional<std::string>> stored = db_->Get(UsageKey(user, day));
  if (!stored.ok()) return stored.status();
  int64_t used = 0;
  if (stored->has_value() && !absl::SimpleAtoi(**stored, &used)) {
    return absl::DataLossError(absl::StrCat("usage counter ", UsageKey(user, day), " is damaged"));
  }
  state.day = day;
  state.used = used;
  state.persisted = used;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Admission::Charge(const Principal& who, int64_t want, bool all_or_nothing) {
  return Grant(who, want, all_or_nothing, /*take=*/true);
}

absl::Status Admission::RequireRowsLeft(const Principal& who, int64_t asked) {
  return Grant(who, asked, /*all_or_nothing=*/false, /*take=*/false).status();
}

absl::StatusOr<int64_t> Admission::Grant(const Principal& who, int64_t want, bool all_or_nothing,
                                         bool take) {
  if (want <= 0) return int64_t{0};
  absl::StatusOr<int64_t> rows_per_day = LimitOf(who, &Plan::rows_per_day);
  if (!rows_per_day.ok()) return rows_per_day.status();
  const int64_t limit = *rows_per_day;
  const bool unlimited = limit < 0;
  // An unlimited plan refuses nothing, but its rows are counted all the same: GetUsage reports
  // them, and a later plan with a limit counts today's rows already used.
  if (unlimited && !take) return want;
  UserState& state = StateOf(who.user);
  const absl::Time now = now_();
  absl::MutexLock lock(&state.mu);
  if (absl::Status s = RollDay(who.user, state, DayOf(now)); !s.ok()) return s;
  const int64_t left = unlimited ? want : std::max<int64_t>(0, limit - state.used);
  int64_t grant = std::min(want, left);
  if (grant == 0 || (all_or_nothing && grant < want)) {
    return Exceeded(
        who, "rows_per_day",
        absl::StrFormat("daily rows of plan '%s' used up: %d of %d today (UTC), %d asked", who.plan,
                        state.used, limit, want),
        UntilMidnight(now));
  }
  if (!take) return grant;
  if (state.used + grant > state.persisted) {
    // Persist before granting: the stored counter never trails what was granted.
    const int64_t lease = unlimited ? kUnlimitedLease : std::max<int64_t>(1, limit / 100);
    const int64_t target =
        unlimited ? state.used + grant + lease : std::min(limit, state.used + grant + lease);
    if (absl::Status s = db_->Put(UsageKey(who.user, state.day), absl::StrCat(target)); !s.ok()) {
      return s;
    }
    state.persisted = target;
  }
  state.used += grant;
  Granted(who, grant);
  return grant;
}

absl::Status Admission::CheckLimit(const Principal& who, std::string_view limit,
                                   int64_t amount) const {
  int64_t Plan::*field = limit == "datasets"             ? &Plan::datasets
                         : limit == "rows_per_dataset"   ? &Plan::rows_per_dataset
                         : limit == "bytes_per_dataset"  ? &Plan::bytes_per_dataset
                         : limit == "weight_stores"      ? &Plan::weight_stores
                         : limit == "capacity_per_store" ? &Plan::capacity_per_store
                                                         : nullptr;
  if (field == nullptr) return absl::OkStatus();
  absl::StatusOr<int64_t> max = LimitOf(who, field);
  if (!max.ok()) return max.status();
  if (*max < 0 || amount <= *max) return absl::OkStatus();
  return Exceeded(who, limit,
                  absl::StrFormat("%s: %d is above plan '%s''s limit of %d", std::string(limit),
                                  amount, who.plan, *max),
                  std::nullopt);  // resources held: no wait lifts it
}

absl::Status Admission::CheckMemory(const Principal& who, int64_t more, std::string_view what,
                                    const std::function<int64_t()>& held) const {
  absl::StatusOr<int64_t> max = LimitOf(who, &Plan::memory_bytes);
  if (!max.ok()) return max.status();
  if (*max < 0) return absl::OkStatus();
  const int64_t now = held();
  if (more <= *max - now) return absl::OkStatus();
  return Exceeded(who, "memory_bytes",
                  absl::StrFormat("memory_bytes: %s (%d bytes) does not fit beside the %d bytes "
                                  "your datasets, weight stores, uploads and streams hold, within "
                                  "plan '%s''s limit of %d; delete what you no longer need, or let "
                                  "your uploads and streams end",
                                  std::string(what), more, now, who.plan, *max),
                  std::nullopt);  // resources held: no wait lifts it
}

void Admission::StreamToken::Release() {
  if (owner_ == nullptr) return;
  UserState& state = std::exchange(owner_, nullptr)->StateOf(user_);
  absl::MutexLock lock(&state.mu);
  --state.streams;
}

absl::StatusOr<Admission::StreamToken> Admission::OpenStream(const Principal& who) {
  absl::StatusOr<int64_t> max_streams = LimitOf(who, &Plan::concurrent_streams);
  if (!max_streams.ok()) return max_streams.status();
  UserState& state = StateOf(who.user);
  absl::MutexLock lock(&state.mu);
  if (*max_streams >= 0 && state.streams >= *max_streams) {
    return Exceeded(who, "concurrent_streams",
                    absl::StrFormat("concurrent streams of plan '%s': %d open, limit %d", who.plan,
                                    state.streams, *max_streams),
                    absl::Seconds(1));
  }
  ++state.streams;
  StreamToken token;
  token.owner_ = this;
  token.user_ = who.user;
  return token;
}

absl::StatusOr<Usage> Admission::GetUsage(const Principal& who) {
  absl::StatusOr<Plan> plan = PlanOf(who);
  if (!plan.ok()) return plan.status();
  UserState& state = StateOf(who.user);
  const absl::Time now = now_();
  absl::MutexLock lock(&state.mu);
  if (absl::Status s = RollDay(who.user, state, DayOf(now)); !s.ok()) return s;
  Usage u;
  u.plan = who.plan;
  u.day = DayName(state.day);
  u.rows_today = state.used;
  u.limits = *plan;
  return u;
}

absl::Status Admission::ForgetUser(const std::string& user) {
  UserState& state = StateOf(user);
  absl::MutexLock lock(&state.mu);  // no charge of this user's runs meanwhile
  std::vector<std::pair<std::string, std::optional<std::string>>> deletes;
  absl::Status s =
      db_->Scan(absl::StrCat("usage/", user, "/"), [&](std::string_view key, std::string_view) {
        deletes.emplace_back(std::string(key), std::nullopt);
        return true;
      });
  if (s.ok() && !deletes.empty()) s = db_->Write(deletes);
  if (!s.ok()) return s;
  state.tat = absl::InfinitePast();
  state.day = -1;  // read again (now 0) on the next charge
  state.used = 0;
  state.persisted = 0;
  return absl::OkStatus();
}

}  // namespace urn::auth
