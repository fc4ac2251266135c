#include "memory_budget.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace urn::server {

absl::Status MemoryBudget::Check(int64_t more, std::string_view what) const {
  if (limit_ <= 0) return absl::OkStatus();
  Graveyard freed;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  return CheckLocked(reserved_, more, what, &freed);
}

absl::Status MemoryBudget::CheckLocked(int64_t others, int64_t more, std::string_view what,
                                       Graveyard* freed) const {
  int64_t held = in_use_() + others;
  if (more > limit_ - held && shed_ != nullptr) {
    shed_(more - (limit_ - held), freed);
    held = in_use_() + others;
  }
  if (more <= limit_ - held) return absl::OkStatus();
  // The figures go to the log only: what all users hold together is not for one user to see.
  spdlog::warn("memory budget: refused {} ({} bytes): {} of --memory-budget {} bytes are held",
               std::string(what), more, held, limit_);
  return absl::ResourceExhaustedError(absl::StrCat(
      "urnd's memory budget, shared by all users, cannot hold ", std::string(what), " (", more,
      " bytes) now; delete datasets or weight stores you no longer need, or ask the operator for "
      "a larger --memory-budget"));
}

MemoryBudget::Reservation::~Reservation() { Release(); }

absl::Status MemoryBudget::Reservation::Resize(int64_t bytes, std::string_view what) {
  if (budget_ == nullptr) return absl::OkStatus();
  const bool global = budget_->limit_ > 0;
  const bool per_user = budget_->user_check_ != nullptr && who_ != nullptr;
  if (!global && !per_user) return absl::OkStatus();
  Graveyard freed;  // what a shed lets go of, destroyed after the lock is released
  absl::MutexLock lock(&budget_->mu_);
  int64_t* const mine = per_user ? &budget_->reserved_by_user_[who_->user] : nullptr;
  if (bytes > bytes_) {  // giving back always succeeds
    absl::Status s;
    // The user's share first: what it refuses anyway sheds nothing from the shared cache.
    if (per_user) {
      const int64_t others = *mine - bytes_;
      s = budget_->user_check_(*who_, bytes, what,
                               [&] { return budget_->user_in_use_(who_->user) + others; });
    }
    if (s.ok() && global) {
      s = budget_->CheckLocked(budget_->reserved_ - bytes_, bytes, what, &freed);
    }
    if (!s.ok()) {
      if (mine != nullptr && *mine == 0) budget_->reserved_by_user_.erase(who_->user);
      return s;
    }
  }
  budget_->reserved_ += bytes - bytes_;
  if (mine != nullptr) {
    *mine += bytes - bytes_;
    if (*mine == 0) budget_->reserved_by_user_.erase(who_->user);
  }
  bytes_ = bytes;
  return absl::OkStatus();
}

}  // namespace urn::server
