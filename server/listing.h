// Paging of List RPCs over resources kept in (owner, name) order: a user sees their own, an
// admin everyone's. The page token is where the previous page ended, "owner/name".
#ifndef URN_SERVER_LISTING_H_
#define URN_SERVER_LISTING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"

namespace urn::server {

struct ListPage {
  std::string owner;  // "" for every owner (an admin)
  std::string after_owner, after_name;
  size_t size = 0;
};

// INVALID_ARGUMENT naming page_size (0..1000; 0 means 100) or page_token (not from this
// listing).
absl::StatusOr<ListPage> ParseListPage(const auth::Principal& who, int32_t page_size,
                                       const std::string& page_token);

inline std::string PageToken(const std::string& owner, const std::string& name) {
  return owner + "/" + name;
}

// The owner of an entry of a map keyed by (owner, name), or of a set of such keys.
inline const std::string& OwnerOf(const std::pair<std::string, std::string>& key) {
  return key.first;
}
template <typename Value>
const std::string& OwnerOf(const std::pair<const std::pair<std::string, std::string>, Value>& e) {
  return e.first.first;
}

// Calls fn(entry) for each entry of `owner` in a map keyed by (owner, name), or a set of such
// keys, in name order.
template <typename Map, typename Fn>
void ForEachOwnedBy(Map& map, const std::string& owner, Fn fn) {
  for (auto it = map.lower_bound({owner, std::string()}); it != map.end() && OwnerOf(*it) == owner;
       ++it) {
    fn(*it);
  }
}

// Number of entries of `owner` in such a map or set.
template <typename Map>
int64_t CountOwnedBy(const Map& map, const std::string& owner) {
  int64_t n = 0;
  ForEachOwnedBy(map, owner, [&](const auto&) { ++n; });
  return n;
}

}  // namespace urn::server

#endif  // URN_SERVER_LISTING_H_
