// MemoryBudget: one limit on the memory that all users' datasets and weight stores hold
// together (urnd --memory-budget; 0: none), beside each plan's limits per user, so that no mix
// of tenants takes urnd past its container's memory (and, as everything is reloaded on start,
// into a loop of OOM kills).
//
// Check(more, what) passes while InUse() + more <= limit. InUse() sums the registries: every
// dataset's typed table (Table::MemoryBytes) and every weight store at kStoreBytesPerSlot a
// slot. It is checked before memory is taken: a weight store's capacity when it is created, an
// upload's bytes so far plus 8 per parsed cell at each chunk (what its parse holds). Not a
// reservation: requests running at once may each pass and together exceed the limit by what
// they add. Refusals are RESOURCE_EXHAUSTED naming the flag, without a plan's QuotaFailure.
//
// Cost: O(datasets + stores) per check. Thread safety: const and thread-safe.
#ifndef URN_SERVER_MEMORY_BUDGET_H_
#define URN_SERVER_MEMORY_BUDGET_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"

namespace urn::server {

class MemoryBudget {
 public:
  // Memory of a weight-store slot: the sum tree's ~9.4 bytes, the priority, key and slot maps.
  static constexpr int64_t kStoreBytesPerSlot = 26;

  // `limit` in bytes, 0 for none; `in_use` gives the bytes held now.
  MemoryBudget(int64_t limit, std::function<int64_t()> in_use)
      : limit_(limit), in_use_(std::move(in_use)) {}

  absl::Status Check(int64_t more, std::string_view what) const;
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  const std::function<int64_t()> in_use_;
};

}  // namespace urn::server

#endif  // URN_SERVER_MEMORY_BUDGET_H_
