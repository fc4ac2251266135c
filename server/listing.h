// Paging of List RPCs over resources kept in (owner, name) order: a user sees their own, an
// admin everyone's. The page token is where the previous page ended, "owner/name".
#ifndef URN_SERVER_LISTING_H_
#define URN_SERVER_LISTING_H_

#include <cstddef>
#include <cstdint>
#include <string>

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

// Calls fn(entry) for each entry of `owner` in a map keyed by (owner, name), in name order.
template <typename Map, typename Fn>
void ForEachOwnedBy(Map& map, const std::string& owner, Fn fn) {
  for (auto it = map.lower_bound({owner, std::string()});
       it != map.end() && it->first.first == owner; ++it) {
    fn(*it);
  }
}

// Number of entries of `owner` in such a map.
template <typename Map>
int64_t CountOwnedBy(const Map& map, const std::string& owner) {
  int64_t n = 0;
  ForEachOwnedBy(map, owner, [&](const auto&) { ++n; });
  return n;
}

}  // namespace urn::server

#endif  // URN_SERVER_LISTING_H_
