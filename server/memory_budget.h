// MemoryBudget: limits on the memory that datasets, weight stores, cached alias tables and
// samples being streamed hold in urnd: one for all
// users together (urnd --memory-budget; 0: none), so that no mix of tenants takes urnd past its
// container's memory (and, as everything is reloaded on start, into a loop of OOM kills), and
// one per user (the plan's memory_bytes, checked by Admission::CheckMemory), so that no one user
// takes what the budget leaves for the others.
//
// Check(more, what) passes while InUse() + reserved + more <= limit. InUse() sums the
// registries: every dataset's typed table (Table::MemoryBytes) and every weight store at
// kStoreBytesPerSlot a slot plus its stored keys (WeightStore::KeyMemoryBytes), and the alias
// tables the sampling service keeps (AliasCache::MemoryBytes), deleted or dropped ones included
// while streams still hold them; a user's share sums the datasets and stores of the user's own.
// A cached alias table is in no one's share: the cache gives way when dropping what no draw holds
// makes room (its shed, AliasCache::Shed); a request the user's share refuses sheds nothing.
// Memory is reserved
// (Reservation, on behalf of a user) before it is taken, so that requests running at once count
// against each other, in the budget and in their user's share:
//  - a weight store's slots, from its create until it is registered, and each Insert
//    message's keys (less the keys they evict from a full ring) until they are stored;
//  - an upload's estimate (the text so far plus 8 bytes a parsed cell) while it runs, and its
//    typed table until it is registered;
//  - an alias table a sample builds (weighted draws with replacement, and a query's SAMPLE BY
//    ... REPLACE true), the build's peak (AliasCache::BuildBytes) from before it is built until
//    the sample's stream begins;
//  - a materialized sample (its row ids and weights), from when it is computed until its
//    stream ends, however slowly its reader reads (a refused one ends the stream).
// Between registering and the end of its reservation a store or table counts twice, so a
// request at that instant may be refused a little early. Two estimates can let a little past:
// inserts into one full ring at once each subtract the same keys they evict, and a query's
// build also holds its evaluation's columns. Refusals by the budget
// are RESOURCE_EXHAUSTED naming the flag, without a plan's QuotaFailure (the CLI exits 1); by a
// user's share, RESOURCE_EXHAUSTED with the QuotaFailure of plan key memory_bytes (exit 4).
//
// Cost: O(datasets + stores + retired entries + cached alias tables) per check. Thread safety:
// thread-safe (the functions given must be).
#ifndef URN_SERVER_MEMORY_BUDGET_H_
#define URN_SERVER_MEMORY_BUDGET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"

namespace urn::server {

class MemoryBudget {
 public:
  // Memory of a weight-store slot: the sum tree's ~9.4 bytes, the priority and the key pointer.
  static constexpr int64_t kStoreBytesPerSlot = 26;

  // `limit` in bytes, 0 for none; `in_use` gives the bytes held now.
  MemoryBudget(int64_t limit, std::function<int64_t()> in_use)
      : limit_(limit), in_use_(std::move(in_use)) {}

  // Each user's share, for reservations made on behalf of a user: `user_in_use(user)` gives what
  // the user's datasets and stores hold, and `user_check(who, more, what, held)` refuses `more`
  // bytes that do not fit beside `held()` (Admission::CheckMemory). Set once, before serving.
  using UserCheck =
      std::function<absl::Status(const auth::Principal& who, int64_t more, std::string_view what,
                                 const std::function<int64_t()>& held)>;
  void SetPerUser(std::function<int64_t(const std::string& user)> user_in_use,
                  UserCheck user_check) {
    user_in_use_ = std::move(user_in_use);
    user_check_ = std::move(user_check);
  }

  // What may be given back when the budget would refuse (AliasCache::Shed): shed(need, freed)
  // lets go of at least `need` bytes, or of nothing when it cannot, moving what it lets go of
  // into *freed (destroyed by the caller once the budget's lock is released). Called under the
  // budget's lock, then the budget is checked again. Set once, before serving.
  using Graveyard = std::vector<std::shared_ptr<const void>>;
  using Shed = std::function<void(int64_t need, Graveyard* freed)>;
  void SetShed(Shed shed) { shed_ = std::move(shed); }

  absl::Status Check(int64_t more, std::string_view what) const;
  int64_t limit() const { return limit_; }

  // Memory an operation holds while it runs (an upload), counted by every check until the
  // Reservation is destroyed. A null budget reserves nothing.
  class Reservation {
   public:
    // On behalf of `*who` (counted in its share; its plan as it is at each Resize), or of no one
    // (null). REQUIRES: *who outlives the reservation, and its user does not change.
    explicit Reservation(MemoryBudget* budget, const auth::Principal* who = nullptr)
        : budget_(budget), who_(who) {}
    ~Reservation();
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    // Sets the reservation to `bytes`. Less than now always succeeds; more only when the budget
    // and the user's share (counting the others' reservations, not this one's) can hold them,
    // checked and taken under the budget's lock: of two reservations growing at once, the
    // second sees the first. Otherwise RESOURCE_EXHAUSTED and the reservation is unchanged.
    absl::Status Resize(int64_t bytes, std::string_view what);
    // Ends the reservation now (as the destructor would).
    void Release() { (void)Resize(0, ""); }

   private:
    MemoryBudget* const budget_;
    const auth::Principal* const who_;
    int64_t bytes_ = 0;
  };

 private:
  // Whether `more` fits beside `others` reserved and what is held now, after a shed if needed;
  // RESOURCE_EXHAUSTED naming the flag when not. REQUIRES: mu_ held.
  absl::Status CheckLocked(int64_t others, int64_t more, std::string_view what,
                           Graveyard* freed) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t limit_;
  const std::function<int64_t()> in_use_;
  std::function<int64_t(const std::string&)> user_in_use_;
  UserCheck user_check_;
  Shed shed_;
  // Held while in_use_ is read and a reservation checked and taken. in_use_, user_in_use_ and
  // shed_ lock the registries and the AliasCache, and user_check_ the plans: none of them calls
  // the budget under its own lock.
  mutable absl::Mutex mu_;
  int64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  // Reservations by user (only users with some).
  absl::flat_hash_map<std::string, int64_t> reserved_by_user_ ABSL_GUARDED_BY(mu_);
};

}  // namespace urn::server

#endif  // URN_SERVER_MEMORY_BUDGET_H_
