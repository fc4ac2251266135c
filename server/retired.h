// Retired: entries a registry has removed (deleted datasets and weight stores) that calls still
// hold, such as a stream that has stopped reading. Their memory is held until the last such call
// ends, so the registries count it in MemoryBytes() (the memory budget and each user's share)
// until then; otherwise a user could delete and upload again under an idle stream, and hold more
// than the plan allows.
//
// Cost: Add is O(entries held or expired since the last Add); ForEachHeld O(entries).
// Thread safety: none of its own; the registry's lock guards it (shared for ForEachHeld).
#ifndef URN_SERVER_RETIRED_H_
#define URN_SERVER_RETIRED_H_

#include <memory>
#include <vector>

namespace urn::server {

template <typename Entry>
class Retired {
 public:
  // Keeps track of `entry` for as long as anyone else holds it. Forgets expired ones.
  void Add(const std::shared_ptr<Entry>& entry) {
    std::erase_if(held_, [](const std::weak_ptr<Entry>& w) { return w.expired(); });
    held_.push_back(entry);
  }
  // Calls fn(entry) for each retired entry still held somewhere.
  template <typename Fn>
  void ForEachHeld(Fn fn) const {
    for (const std::weak_ptr<Entry>& w : held_) {
      if (const std::shared_ptr<Entry> entry = w.lock()) fn(*entry);
    }
  }

 private:
  std::vector<std::weak_ptr<Entry>> held_;
};

}  // namespace urn::server

#endif  // URN_SERVER_RETIRED_H_
