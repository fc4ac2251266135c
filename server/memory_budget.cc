#include "memory_budget.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace urn::server {

absl::Status MemoryBudget::Check(int64_t more, std::string_view what) const {
  if (limit_ <= 0) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  return CheckHeld(in_use_() + reserved_, more, what);
}

absl::Status MemoryBudget::CheckHeld(int64_t held, int64_t more, std::string_view what) const {
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
  if (budget_ == nullptr || budget_->limit_ <= 0) return absl::OkStatus();
  absl::MutexLock lock(&budget_->mu_);
  if (bytes > bytes_) {  // giving back always succeeds
    const int64_t others = budget_->reserved_ - bytes_;
    if (absl::Status s = budget_->CheckHeld(budget_->in_use_() + others, bytes, what); !s.ok()) {
      return s;
    }
  }
  budget_->reserved_ += bytes - bytes_;
  bytes_ = bytes;
  return absl::OkStatus();
}

}  // namespace urn::server
