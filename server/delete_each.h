// DeleteEach: the loop both registries' DeleteOwner end with. Deletes each name with
// `remove(name)`; while that is ABORTED (another Delete of it is writing, and its outcome
// decides), waits until that write is done and tries again. NOT_FOUND (deleted meanwhile by
// another call) is skipped; any other error ends the loop.
#ifndef URN_SERVER_DELETE_EACH_H_
#define URN_SERVER_DELETE_EACH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace urn::server {

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
