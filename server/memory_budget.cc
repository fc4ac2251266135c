#include "memory_budget.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace urn::server {

absl::Status MemoryBudget::Check(int64_t more, std::string_view what) const {
  if (limit_ <= 0) return absl::OkStatus();
  const int64_t held = in_use_();
  if (more <= limit_ - held) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "urnd's memory budget (--memory-budget ", limit_, " bytes, for all users together) cannot ",
      "hold ", std::string(what), ": ", held, " bytes are held and ", more,
      " more were asked; delete datasets or weight stores, or ask the operator for a larger "
      "budget"));
}

}  // namespace urn::server
