// Retired: entries a registry or cache has let go of (deleted datasets and weight stores, alias
// tables dropped from the cache) that calls still hold, such as a stream that has stopped
// reading. Their memory is held until the last such call ends, so the registries count it in
// MemoryBytes() (the memory budget and each user's share) until then; otherwise a user could
// delete and upload again under an idle stream, and hold more than the plan allows.
//
// Each entry's owner and bytes are taken when it is retired (tables and alias tables are
// immutable; a deleted store takes no more keys), and counting never locks an entry: a count
// that took the last reference would destroy it (gigabytes, for a large store) under the
// caller's locks.
//
// Cost: Add is O(entries held or expired since the last Add); Bytes O(entries).
// Thread safety: none of its own; the owner's lock guards it (a shared lock suffices for Bytes).
#ifndef URN_SERVER_RETIRED_H_
#define URN_SERVER_RETIRED_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace urn::server {

template <typename Entry>
class Retired {
 public:
  // Counts `bytes` of `owner` for as long as anyone else holds `entry`. Forgets expired ones.
  void Add(const std::shared_ptr<Entry>& entry, std::string owner, int64_t bytes) {
    std::erase_if(held_, [](const Held& h) { return h.entry.expired(); });
    held_.push_back({entry, std::move(owner), bytes});
  }
  // Bytes of the entries still held somewhere: all of them, or `owner`'s.
  int64_t Bytes() const {
    int64_t bytes = 0;
    for (const Held& h : held_) bytes += h.entry.expired() ? 0 : h.bytes;
    return bytes;
  }
  int64_t Bytes(const std::string& owner) const {
    int64_t bytes = 0;
    for (const Held& h : held_) bytes += h.owner != owner || h.entry.expired() ? 0 : h.bytes;
    return bytes;
  }

 private:
  struct Held {
    std::weak_ptr<Entry> entry;
    std::string owner;
    int64_t bytes = 0;
  };
  std::vector<Held> held_;
};

}  // namespace urn::server

#endif  // URN_SERVER_RETIRED_H_
