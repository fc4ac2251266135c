#include "memory_budget.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace urn::server {

absl::Status MemoryBudget::Check(int64_t more, std::string_view what) const {
  if (limit_ <= 0) return absl::OkStatus();
  return CheckHeld(in_use_() + reserved_.load(), more, what);
}

absl::Status MemoryBudget::CheckHeld(int64_t held, int64_t more, std::string_view what) const {
  if (more <= limit_ - held) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "urnd's memory budget (--memory-budget ", limit_, " bytes, for all users together) cannot ",
      "hold ", std::string(what), ": ", held, " bytes are held and ", more,
      " more were asked; delete datasets or weight stores, or ask the operator for a larger "
      "budget"));
}

MemoryBudget::Reservation::~Reservation() {
  if (budget_ != nullptr) budget_->reserved_ -= bytes_;
}

absl::Status MemoryBudget::Reservation::Resize(int64_t bytes, std::string_view what) {
  if (budget_ == nullptr || budget_->limit_ <= 0) return absl::OkStatus();
  // Taken only if the others' reservations, as they are at the exchange, leave room: of two
  // requests at once, the first to exchange gets it and the other sees it.
  const int64_t delta = bytes - bytes_;
  if (delta <= 0) {  // giving back always succeeds
    budget_->reserved_ += delta;
    bytes_ = bytes;
    return absl::OkStatus();
  }
  int64_t reserved = budget_->reserved_.load();
  const int64_t in_use = budget_->in_use_();
  do {
    if (absl::Status s = budget_->CheckHeld(in_use + reserved - bytes_, bytes, what); !s.ok()) {
      return s;
    }
  } while (!budget_->reserved_.compare_exchange_weak(reserved, reserved + delta));
  bytes_ = bytes;
  return absl::OkStatus();
}

}  // namespace urn::server
