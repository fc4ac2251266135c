// What both registries' DeleteOwner rely on: the names whose record a Create or Delete is
// writing outside the registry's lock are marked in a set (PendingMark), which DeleteOwner waits
// on; DeleteEach is the loop DeleteOwner ends with. Deletes each name with `remove(name)`; while
// that is ABORTED (another Delete of it is writing, and its outcome decides), waits until that
// write is done and tries again. NOT_FOUND (deleted meanwhile by another call) is skipped; any
// other error ends the loop.
#ifndef URN_SERVER_DELETE_EACH_H_
#define URN_SERVER_DELETE_EACH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace urn::server {

// A key the caller inserted into `*marks` (a registry's set, guarded by `*mu`) while it writes
// outside the lock. The mark is erased on every way out, an error or a throw included (one left
// behind would keep DeleteOwner waiting for ever): by Clear(), which the caller calls holding
// `*mu` so that the erase and its own change are one critical section, or else on destruction,
// which takes `*mu`. Nothing here allocates, so nothing can throw between the insert and the
// mark. REQUIRES: `key` outlives the mark.
template <typename KeySet>
class PendingMark {
 public:
  PendingMark(absl::Mutex* mu, KeySet* marks, const typename KeySet::key_type& key)
      : mu_(mu), marks_(marks), key_(key) {}
  PendingMark(const PendingMark&) = delete;
  PendingMark& operator=(const PendingMark&) = delete;
  ~PendingMark() {
    if (marks_ == nullptr) return;
    absl::MutexLock lock(mu_);
    marks_->erase(key_);
  }

  // REQUIRES: `*mu` held.
  void Clear() {
    marks_->erase(key_);
    marks_ = nullptr;
  }

 private:
  absl::Mutex* const mu_;
  KeySet* marks_;  // null once cleared
  const typename KeySet::key_type& key_;
};

// Returns how many of `names` (stores or datasets of `owner`) this call deleted. `deleting` is
// the registry's set of keys whose Delete is writing, guarded by `mu`. REQUIRES: `mu` not held.
template <typename Remove, typename KeySet>
absl::StatusOr<int> DeleteEach(const std::string& owner, const std::vector<std::string>& names,
                               Remove remove, absl::Mutex* mu, const KeySet* deleting) {
  int deleted = 0;
  for (const std::string& name : names) {
    absl::Status s = remove(name);
    while (absl::IsAborted(s)) {
      {
        absl::MutexLock lock(mu);
        const typename KeySet::key_type key{owner, name};
        const auto written = [&] { return deleting->count(key) == 0; };
        mu->Await(absl::Condition(&written));
      }
      s = remove(name);
    }
    if (s.ok()) {
      ++deleted;
    } else if (!absl::IsNotFound(s)) {
      return s;
    }
  }
  return deleted;
}

}  // namespace urn::server

#endif  // URN_SERVER_DELETE_EACH_H_
